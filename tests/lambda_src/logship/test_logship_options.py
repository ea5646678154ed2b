"""Handler options: a bad value fails at construction, naming the option, the value and what is valid."""
from __future__ import annotations

import pytest

from logship import CloudWatchLogsHandler, FirehoseHandler


@pytest.mark.parametrize(("option", "value", "valid"), [
    ("max_queue_bytes", 0, ">= 1"), ("max_queue_records", -5, ">= 1"), ("batch_records", 0, ">= 1"),
    ("max_concurrent_calls", 0, ">= 1"), ("flush_seconds", 0, ">= 0.001"), ("block_ms", -1, ">= 0"),
    ("overflow", "wait", "'drop' or 'block'"),
])
@pytest.mark.parametrize("kind", [FirehoseHandler, CloudWatchLogsHandler])
def test_a_bad_option_is_refused_with_its_name_value_and_what_is_valid(kind, option, value, valid):
    # GIVEN an option out of range / WHEN the handler is built / THEN it refuses, saying what is wrong
    with pytest.raises(ValueError) as error:
        kind("app-logs", client=object(), **{option: value})
    assert str(error.value) == f"{kind.__name__}: {option} must be {valid}, got {value!r}"



@pytest.mark.parametrize("kind", [FirehoseHandler, CloudWatchLogsHandler])
def test_without_a_region_the_handler_says_what_to_set(kind, monkeypatch, tmp_path):
    # GIVEN an environment with no region anywhere (variables, config file, profile)
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    (tmp_path / "config").write_text("")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    # WHEN a handler builds its own client THEN it refuses, naming the option and the variable
    with pytest.raises(ValueError, match=r"^logship: no AWS region for the (firehose|logs) client: pass region_name="
                                         r".* or set AWS_REGION"):
        kind("app-logs")
    # AND a region given to the handler is enough
    kind("app-logs", region_name="eu-west-1").close()
