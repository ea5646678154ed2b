"""The messages the application guide quotes are the ones the code gives, word for word."""
from __future__ import annotations

import re
from pathlib import Path

import aws_cdk as cdk
import pytest

from log_constructs import LogPipeline, PropError
from tests.log_constructs.test_from_name_checks import DEPLOY_MESSAGE

ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "docs" / "application-guide.md"


def quoted_messages() -> list[str]:
    """The ```text blocks of the guide's "A misspelled name" section, in page order."""
    text = GUIDE.read_text()
    section = text[text.index("### A misspelled name"):text.index("## 5. ")]
    return [block.strip() for block in re.findall(r"^ *```text\n(.*?)^ *```", section, re.S | re.M)]


def refusal(stack: cdk.Stack, name: str) -> str:
    with pytest.raises(PropError) as raised:
        LogPipeline.from_name(stack, "Pipeline", name=name)
    return str(raised.value)


def test_the_guide_quotes_the_synth_time_refusals_and_the_deploy_message() -> None:
    # GIVEN the two refusals as the guide's block provokes them
    app = cdk.App()
    env = cdk.Environment(account="111122223333", region="eu-west-1")
    malformed = refusal(cdk.Stack(app, "Team", env=env), "team/orders")
    no_env = refusal(cdk.Stack(app, "Orders"), "default")
    # THEN the page quotes them, and the deploy-time message the rehearsal captured, as they are
    assert quoted_messages() == [malformed, no_env, DEPLOY_MESSAGE]
