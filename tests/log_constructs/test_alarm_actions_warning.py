"""A construct whose alarms notify no one says so at synth, with a warning naming the construct."""
from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Annotations, Match

from log_constructs import ApplicationLogging, AuditTrail, LogAlerts, LogGroupGovernor
from log_constructs._private.metrics import NO_ALARM_ACTIONS

ENV = cdk.Environment(account="111122223333", region="eu-west-1")


@pytest.fixture(scope="module")
def annotations() -> Annotations:
    # GIVEN one stack with constructs with and without alarm actions
    stack = cdk.Stack(cdk.App(), "Alarms", env=ENV)
    action = cw_actions.SnsAction(sns.Topic(stack, "OnCall"))
    LogAlerts(stack, "QuietAlerts")
    LogGroupGovernor(stack, "ToldGovernor", alarm_actions=[action], sweep_at_deploy=False)
    AuditTrail(stack, "QuietAudit", alarm_actions=[])
    AuditTrail(stack, "DefaultAudit")  # its own topic
    ApplicationLogging(stack, "Logging")  # no alarms of its own
    return Annotations.from_stack(stack)


def _warned(annotations: Annotations) -> dict[str, str]:
    found = annotations.find_warning("*", Match.string_like_regexp(f"no alarm_actions.*{NO_ALARM_ACTIONS}"))
    return {entry.id: entry.entry.data for entry in found}


def test_constructs_without_alarm_actions_are_named_in_a_warning(annotations):
    # THEN exactly the constructs whose alarms have no action are warned about, each by its path
    warned = _warned(annotations)
    assert sorted(warned) == ["/Alarms/QuietAlerts", "/Alarms/QuietAudit"]
    assert warned["/Alarms/QuietAlerts"].startswith("LogAlerts Alarms/QuietAlerts: no alarm_actions, so its ")
    assert "16 alarm(s) notify no one" in warned["/Alarms/QuietAudit"]  # 14 CIS filters, the key policy, the attach points
    assert "alarm_actions=[cw_actions.SnsAction(topic)]" in warned["/Alarms/QuietAudit"]


def test_the_warning_can_be_acknowledged_by_its_id():
    # GIVEN a construct without alarm actions whose warning is acknowledged
    stack = cdk.Stack(cdk.App(), "Acknowledged", env=ENV)
    alerts = LogAlerts(stack, "Alerts")
    cdk.Annotations.of(alerts).acknowledge_warning(NO_ALARM_ACTIONS, "a trial stack, nobody on call")
    # THEN it is not reported
    assert _warned(Annotations.from_stack(stack)) == {}
