"""The recursion guard across placements: no library function's own log group is ever a source of that function.

A property-style matrix: the pipeline, the alerts and the governors in one stack, in separate stacks of
one app, and in separate apps attached by name; both subscription modes; governors shipping to the
pipeline and to the alerts. Each consumer's template is read as CloudFormation would deploy it.
"""
from __future__ import annotations

import itertools
import json
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_logs as logs

from log_constructs import AuditTrail, LogAlerts, LogGroupGovernor, LogPipeline, PropError
from log_constructs.destinations import KinesisLogDestination
from log_group_governor import contract, planning

ENV = cdk.Environment(account="111122223333", region="eu-west-1")
PLACEMENTS = ("one stack", "stacks of one app", "apps by name")
MODES = ("per-group", "account-policy")
HANDLERS = {"log_shipper.handler.handler": "pipeline", "log_alerts.handler.handler": "alerts"}


def _build(placement: str, mode: str) -> list[dict]:
    """Every template of the placement: the platform's and the consumers'."""
    platform_app = cdk.App()
    platform = cdk.Stack(platform_app, "Platform", env=ENV)
    pipeline = LogPipeline(platform, "Logs", name="central")
    alerts = LogAlerts(platform, "Alerts", name="central")
    if placement == "one stack":
        governance, ship = platform, (pipeline, alerts)
    elif placement == "stacks of one app":
        governance, ship = cdk.Stack(platform_app, "Governance", env=ENV), (pipeline, alerts)
    else:
        team_app = cdk.App()
        governance = cdk.Stack(team_app, "Governance", env=ENV)
        ship = (LogPipeline.from_name(governance, "Pipeline", name="central"),
                LogAlerts.from_name(governance, "Alerts", name="central"))
    LogGroupGovernor(governance, "ToPipeline", ship_to=ship[0], subscription_mode=mode, sweep_at_deploy=False)
    LogGroupGovernor(governance, "ToAlerts", ship_to=ship[1], subscription_mode=mode, sweep_at_deploy=False)
    for destination in ship:  # and a log group subscribed directly, in the consumer's stack
        destination.add_log_group(logs.LogGroup(governance, f"Direct{type(destination).__name__}",
                                                retention=logs.RetentionDays.ONE_WEEK))
    apps = {platform_app, governance.node.root}
    return [s.template for app in apps for s in app.synth().stacks]


def _resolve(value: Any, template: dict) -> Any:
    """Ref to a log group of the same template -> its name; joins joined; other references kept as text."""
    if isinstance(value, dict) and set(value) == {"Ref"}:
        resource = template["Resources"].get(value["Ref"])
        if resource and resource["Type"] == "AWS::Logs::LogGroup" and "LogGroupName" in resource["Properties"]:
            return resource["Properties"]["LogGroupName"]
        return f"<{value['Ref']}>"
    if isinstance(value, dict) and set(value) == {"Fn::Join"}:
        delimiter, parts = value["Fn::Join"]
        return delimiter.join(str(_resolve(p, template)) for p in parts)
    return value if isinstance(value, str) else json.dumps(value)


def _own_log_groups(templates: list[dict]) -> dict[str, set[str]]:
    """kind ('pipeline' / 'alerts') -> the names of the log groups its function writes to."""
    own: dict[str, set[str]] = {}
    for template in templates:
        for resource in template["Resources"].values():
            props = resource.get("Properties", {})
            if resource["Type"] == "AWS::Lambda::Function" and props.get("Handler") in HANDLERS:
                name = _resolve(props["LoggingConfig"]["LogGroup"], template)
                own.setdefault(HANDLERS[props["Handler"]], set()).add(name)
    return own


def _sources(templates: list[dict], kind: str) -> tuple[list[str], list[planning.Config], list[str]]:
    """What may feed ``kind``'s function: subscribed log groups, the per-group governor's policy, the account
    policy's selection criteria (the governor shipping to ``kind`` is ``To<Kind>``)."""
    governor = {"pipeline": "ToPipeline", "alerts": "ToAlerts"}[kind]
    subscribed, governors, criteria = [], [], []
    for template in templates:
        for logical_id, resource in template["Resources"].items():
            props = resource.get("Properties", {})
            if resource["Type"] == "AWS::Logs::SubscriptionFilter" and props["FilterName"] == f"log-constructs-{kind}":
                subscribed.append(_resolve(props["LogGroupName"], template))
            elif not logical_id.startswith(governor):
                continue
            elif resource["Type"] == "AWS::Lambda::Function" and "log_group_governor" in props.get("Handler", ""):
                env = {k: str(_resolve(v, template)) for k, v in props["Environment"]["Variables"].items()}
                governors.append(planning.Config.from_contract(contract.GovernorConfig.from_environment(env)))
            elif resource["Type"] == "AWS::Logs::AccountPolicy":
                criteria.append(str(_resolve(props["SelectionCriteria"], template)))
    return subscribed, governors, criteria


@pytest.mark.parametrize("placement,mode", list(itertools.product(PLACEMENTS, MODES)))
def test_no_library_function_is_ever_a_source_of_itself(placement: str, mode: str) -> None:
    # GIVEN the pipeline, the alerts and two governors placed as the case says
    templates = _build(placement, mode)
    own = _own_log_groups(templates)
    assert set(own) == {"pipeline", "alerts"}
    for kind, names in own.items():
        # THEN each function's own log group has a name known from the construct's name alone
        assert all(name.startswith(f"/log-constructs/{kind}/central/") for name in names), names
        subscribed, governors, criteria = _sources(templates, kind)
        # AND no subscription filter selects it
        assert not names & set(subscribed), (kind, subscribed)
        # AND the governor shipping to it leaves it alone
        assert len(governors) == 1
        for config in governors:
            assert all(planning.exclusion_reason(name, config) for name in names), (kind, config)
        # AND every account policy towards it lists it in NOT IN
        if mode == "account-policy":
            assert criteria, f"no account policy found for {kind}"
        for text in criteria:
            assert all(f'"{name}"' in text for name in names), (kind, text)


def test_a_destination_whose_log_groups_cannot_be_named_is_refused_in_account_policy_mode() -> None:
    from aws_cdk import aws_kinesis as kinesis
    app = cdk.App()
    stack = cdk.Stack(app, "S", env=ENV)
    stream = kinesis.Stream(stack, "Stream")
    with pytest.raises(PropError, match=r"^LogGroupGovernor: subscription_mode 'account-policy' cannot be used with "
                       r"ship_to=KinesisLogDestination: an account policy selects every log group except exact names"):
        LogGroupGovernor(stack, "G", ship_to=KinesisLogDestination(stream), subscription_mode="account-policy")


def test_library_log_groups_of_other_stacks_with_generated_names_are_warned_about() -> None:
    # GIVEN an audit trail (its log group's name is generated) in one stack, a governor in another
    app = cdk.App()
    audit = cdk.Stack(app, "Audit", env=ENV)
    AuditTrail(audit, "Trail")
    governance = cdk.Stack(app, "Governance", env=ENV)
    pipeline = LogPipeline.from_name(governance, "Pipeline", name="central")
    governor = LogGroupGovernor(governance, "Governor", ship_to=pipeline, subscription_mode="account-policy",
                                sweep_at_deploy=False)
    # WHEN the app synthesizes THEN the governor warns, naming the log group it cannot list
    assembly = app.synth()
    messages = [m.entry.data for m in assembly.get_stack_by_name("Governance").messages
                if "governor-unreachable-log-groups" in str(m.entry.data)]
    assert messages and "Audit/Trail" in str(messages[0]), messages
    assert governor.account_policy is not None
