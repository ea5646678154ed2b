"""A log group tagged log-constructs:ship=false is governed for retention but never subscribed (emulator)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from log_group_governor import handler as governor
from tests.lambda_src.log_group_governor.test_governor import env, logged  # noqa: F401  (fixtures)
from tests.support.governor_fixtures import TARGET_RETENTION, FakeContext, create_lambda_destination, snapshot

OPTED_OUT = "/applications/inventory/1a2b3c4d"
SHIPPED = "/aws/lambda/orders-api"
REASON = ("opted out of shipping: tagged log-constructs:ship=false by its owner (its application ships its logs "
          "itself)")


def _groups(aws: Any) -> None:
    logs = aws.client("logs", direct=True)
    logs.create_log_group(logGroupName=OPTED_OUT, tags={"log-constructs:ship": "false", "team": "inventory"})
    logs.create_log_group(logGroupName=SHIPPED, tags={"log-constructs:ship": "true"})


def test_the_sweep_skips_a_tagged_group_and_says_why(aws: Any, env: Any, logged: Any, monkeypatch: Any) -> None:
    # GIVEN a destination, a group its application opted out with the tag, and one that ships
    ours = create_lambda_destination(aws, "shipper")
    monkeypatch.setenv("DESTINATION_ARN", ours)
    _groups(aws)
    aws.proxy.clear()
    # WHEN a sweep runs
    result = governor.handler({"action": "sweep"}, FakeContext())
    # THEN the tagged group gets its retention but no subscription, the other both
    after = snapshot(aws)
    assert after[OPTED_OUT] == {"retention": TARGET_RETENTION, "filters": {}}
    assert after[SHIPPED] == {"retention": TARGET_RETENTION, "filters": {"log-constructs-governor": ours}}
    total = result["summary"]["sweep_total"]
    assert (total["opted_out"], total["subscribed"], total["retention_set"]) == (1, 1, 2)
    # AND the skip is logged with its group and reason
    (record,) = [r for r in logged.records if r.getMessage().startswith("skipped: opted out")]
    assert record.getMessage() == f"skipped: {REASON}"
    assert (record.log_group, record.outcome, record.reason) == (OPTED_OUT, "opted_out", REASON)
    # AND the tags were read only for the groups about to be subscribed
    assert aws.proxy.calls["ListTagsForResource"] == 2


def test_the_create_log_group_event_of_a_tagged_group_subscribes_nothing(aws: Any, env: Any, logged: Any,
                                                                          monkeypatch: Any, events_dir: Path) -> None:
    ours = create_lambda_destination(aws, "shipper")
    monkeypatch.setenv("DESTINATION_ARN", ours)
    aws.client("logs", direct=True).create_log_group(logGroupName=SHIPPED, tags={"log-constructs:ship": " FALSE "})
    aws.proxy.clear()
    # WHEN its CloudTrail CreateLogGroup event arrives
    event = json.loads((events_dir / "governor_create_log_group.json").read_text())
    assert event["detail"]["requestParameters"]["logGroupName"] == SHIPPED
    result = governor.handler(event, FakeContext())
    # THEN retention only
    assert snapshot(aws)[SHIPPED] == {"retention": TARGET_RETENTION, "filters": {}}
    assert result["summary"]["this_invocation"]["opted_out"] == 1
    assert aws.proxy.calls["PutSubscriptionFilter"] == 0


def test_without_a_destination_no_tag_is_read(aws: Any, env: Any) -> None:
    # GIVEN a retention-only governor
    _groups(aws)
    aws.proxy.clear()
    governor.handler({"action": "sweep"}, FakeContext())
    # THEN it never asks for tags
    assert aws.proxy.calls["ListTagsForResource"] == 0
