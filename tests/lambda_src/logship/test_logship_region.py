"""logship's clients find their region as boto3 users expect: the argument, AWS_REGION, AWS_DEFAULT_REGION,
then the profile in the AWS config file."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import pytest

from logship import FirehoseHandler
from logship.region import resolve_region

CONFIG = """\
[default]
region = ap-south-1

[profile other]
region = sa-east-1
"""


@pytest.fixture
def outside_lambda(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No region anywhere: both variables unset, an empty config file, no profile."""
    for variable in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
        monkeypatch.delenv(variable, raising=False)
    config = tmp_path / "config"
    config.write_text("")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    return config


def handler_region(**options: str) -> Optional[str]:
    handler = FirehoseHandler("app-stream", **options)
    try:
        return handler.client.meta.region_name
    finally:
        handler.close()


def test_aws_region_alone_is_enough_outside_lambda(outside_lambda: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN only AWS_REGION (what the AWS CLI v2 and most SDKs read), as the trial had it
    monkeypatch.setenv("AWS_REGION", "eu-central-1")
    # WHEN a handler builds its client THEN it is in that region (it used to raise "no AWS region")
    assert handler_region() == "eu-central-1"


def test_aws_default_region_when_aws_region_is_unset(outside_lambda: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-west-2")
    assert handler_region() == "us-west-2"


def test_aws_region_wins_over_aws_default_region_and_the_profile(outside_lambda: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    outside_lambda.write_text(CONFIG)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-west-2")
    monkeypatch.setenv("AWS_REGION", "eu-central-1")
    assert handler_region() == "eu-central-1"
    monkeypatch.delenv("AWS_REGION")
    assert handler_region() == "us-west-2"


def test_the_profile_region_when_no_variable_is_set(outside_lambda: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN a config file with a default and a named profile
    outside_lambda.write_text(CONFIG)
    # THEN the default profile's region, or AWS_PROFILE's
    assert handler_region() == "ap-south-1"
    monkeypatch.setenv("AWS_PROFILE", "other")
    assert handler_region() == "sa-east-1"


def test_the_argument_wins_over_everything(outside_lambda: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    outside_lambda.write_text(CONFIG)
    monkeypatch.setenv("AWS_REGION", "eu-central-1")
    assert handler_region(region_name="eu-north-1") == "eu-north-1"
    assert resolve_region("eu-north-1") == "eu-north-1"


def test_no_region_anywhere_says_every_way_to_give_one(outside_lambda: Path) -> None:
    assert resolve_region() is None
    with pytest.raises(ValueError) as raised:
        FirehoseHandler("app-stream")
    assert str(raised.value) == (
        "logship: no AWS region for the firehose client: pass region_name='eu-west-1' (or your region) to the "
        "handler, or set AWS_REGION or AWS_DEFAULT_REGION, or a region in the AWS config profile")
