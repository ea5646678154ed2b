"""LogForwarder: the account policy (selection criteria, 25 KB), the region check, per-group wiring, bad input."""
from __future__ import annotations

import json
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_logs as logs
from aws_cdk.assertions import Template
from cdk_nag import AwsSolutionsChecks, HIPAASecurityChecks, NIST80053R5Checks, PCIDSS321Checks, ServerlessChecks

from log_constructs import ApplicationLogging, LogForwarder, LogGroupGovernor, PropError
from log_constructs.secure import alarm_topic
from log_constructs.governor.account_policy import SELECTION_CRITERIA_LIMIT, selection_criteria

MEMBER = cdk.Environment(account="222222222222", region="eu-west-1")
ARN = "arn:aws:logs:eu-west-1:111111111111:destination:log-constructs-central"


def member_stack(env: Any = MEMBER) -> cdk.Stack:
    return cdk.Stack(cdk.App(), "Member", env=env)


def policy_of(stack: cdk.Stack) -> dict[str, Any]:
    (policy,) = Template.from_stack(stack).find_resources("AWS::Logs::AccountPolicy").values()
    return policy["Properties"]


def test_account_mode_subscribes_every_log_group_to_the_destination_but_the_librarys_own():
    # GIVEN a member stack with a library construct of its own (a governor for retention) and a forwarder
    stack = member_stack()
    governor = LogGroupGovernor(stack, "Retention")
    LogForwarder(stack, "Forwarder", destination_arn=ARN, exclude_log_groups=["/aws/lambda/noisy"])
    logging = ApplicationLogging(stack, "AppLogging")  # created after the forwarder: still excluded
    # WHEN synthesized
    props = policy_of(stack)
    # THEN one account-wide subscription filter policy to the destination, with a sender role
    assert props["PolicyType"] == "SUBSCRIPTION_FILTER_POLICY" and props["Scope"] == "ALL"
    document = json.loads(json.dumps(stack.resolve(props["PolicyDocument"])))
    rendered = json.dumps(document)
    assert ARN in rendered and '\\"Distribution\\":\\"Random\\"' in rendered and "RoleArn" in rendered
    # AND the selection criteria exclude the user's names and the library's own log groups by exact name
    criteria = json.dumps(stack.resolve(props["SelectionCriteria"]))
    assert "LogGroupName NOT IN [" in criteria and '/aws/lambda/noisy' in criteria
    own = governor.function.log_group.node.default_child.log_group_name
    assert own.startswith("/log-constructs/") and own in criteria
    # (the application's group is named at deploy time: excluded by its Ref, which is its name)
    groups = [g for g in logging.node.find_all() if isinstance(g, logs.CfnLogGroup)]
    assert groups and all(json.dumps(stack.resolve(g.ref)) in criteria for g in groups)


def test_the_sender_role_trusts_cloudwatch_logs_of_this_account_only_and_may_only_put_log_events():
    stack = member_stack()
    LogForwarder(stack, "Forwarder", destination_arn=ARN)
    template = Template.from_stack(stack)
    (role,) = template.find_resources("AWS::IAM::Role").values()
    trust = role["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]
    assert trust["Principal"] == {"Service": "logs.amazonaws.com"}
    assert "222222222222" in json.dumps(stack.resolve(trust["Condition"]))
    (policy,) = template.find_resources("AWS::IAM::ManagedPolicy").values()
    (statement,) = policy["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Action"] == "logs:PutLogEvents"


def test_a_plain_member_stack_passes_the_five_nag_packs():
    app = cdk.App()
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app), NIST80053R5Checks(app), HIPAASecurityChecks(app),
                                        PCIDSS321Checks(app), ServerlessChecks(app))
    for mode in ("account", "per-group"):
        stack = cdk.Stack(app, f"Member-{mode}", env=MEMBER)
        actions = [cw_actions.SnsAction(alarm_topic(stack, "Alarms"))] if mode == "per-group" else None
        LogForwarder(stack, "Forwarder", destination_arn=ARN, mode=mode, alarm_actions=actions)
    app.synth()  # raises on an unacknowledged finding


def test_to_central_builds_the_arn_of_the_stacks_region_and_aws_region_when_env_agnostic():
    # GIVEN a stack of one region and an env-agnostic one (a StackSet template)
    fixed, agnostic = member_stack(), cdk.Stack(cdk.App(), "Agnostic")
    # WHEN forwarders go to the central account's destination
    a = LogForwarder.to_central(fixed, "F", central_account="111111111111", destination_name="log-constructs-central")
    b = LogForwarder.to_central(agnostic, "F", central_account="111111111111")
    # THEN the ARN names the stack's region, or ${AWS::Region}
    assert ":logs:eu-west-1:111111111111:destination:log-constructs-central" in json.dumps(fixed.resolve(a.destination_arn))
    rendered = json.dumps(agnostic.resolve(b.destination_arn))
    assert '{"Ref": "AWS::Region"}' in rendered and "111111111111:destination:log-constructs-central" in rendered


def test_per_group_mode_has_the_governor_subscribe_each_group_to_the_destination_arn():
    # GIVEN a forwarder for an account whose account policy is taken
    stack = member_stack()
    forwarder = LogForwarder(stack, "Forwarder", destination_arn=ARN, mode="per-group",
                             exclude_log_groups=["/aws/sandbox/"])
    template = Template.from_stack(stack)
    # THEN no account policy; the governor's function subscribes to the ARN through a passed role
    assert template.find_resources("AWS::Logs::AccountPolicy") == {}
    assert forwarder.governor is not None and forwarder.alarms == forwarder.governor.alarms
    (fn,) = [r for r in template.find_resources("AWS::Lambda::Function").values()
             if "DESTINATION_ARN" in r["Properties"].get("Environment", {}).get("Variables", {})]
    variables = fn["Properties"]["Environment"]["Variables"]
    assert variables["DESTINATION_ARN"] == ARN and "DESTINATION_ROLE_ARN" in variables
    assert variables["EXCLUDE"] == "/aws/sandbox/"
    # AND the function may put a subscription filter to that destination (cross-account evaluation)
    statements = [s for p in template.find_resources("AWS::IAM::ManagedPolicy").values()
                  for s in p["Properties"]["PolicyDocument"]["Statement"]]
    assert any(s.get("Sid") == "SubscribeToDestination" and s["Resource"] == ARN for s in statements)


@pytest.mark.parametrize("props, message", [
    ({"destination_arn": "arn:aws:logs:us-east-1:111111111111:destination:log-constructs-central"},
     "LogForwarder: destination_arn must be a destination in the stack's region eu-west-1 (a CloudWatch Logs "
     "destination only takes log groups of its own region), got one in us-east-1"),
    ({"destination_arn": "arn:aws:kinesis:eu-west-1:111111111111:stream/central"},
     "LogForwarder: destination_arn must be a CloudWatch Logs destination ARN"),
    ({}, "LogForwarder: destination_arn is required"),
    ({"destination_arn": ARN, "mode": "org"}, "LogForwarder: mode must be one of 'account', 'per-group', got 'org'"),
    ({"destination_arn": ARN, "exclude_log_groups": ["/aws/lambda/*"]},
     "LogForwarder: exclude_log_groups entries must be exact log group names with mode='account'"),
])
def test_bad_props_fail_at_synth_naming_the_prop(props: dict[str, Any], message: str):
    with pytest.raises(PropError) as error:
        LogForwarder(member_stack(), "Forwarder", **props)
    assert str(error.value).startswith(message)


def test_a_central_account_id_that_is_not_12_digits_is_refused():
    with pytest.raises(PropError, match=r"account must be 12-digit AWS account ids, got '1111'"):
        LogForwarder.to_central(member_stack(), "F", central_account="1111")


def test_more_exclusions_than_fit_in_25_kb_fail_with_the_limit_named():
    # GIVEN more log group names than 25 KB of selection criteria hold
    names = [f"/aws/lambda/service-{i:05d}-{'x' * 40}" for i in range(SELECTION_CRITERIA_LIMIT // 60 + 10)]
    # WHEN a forwarder excludes them THEN it fails, naming the prop and the limit
    with pytest.raises(PropError, match=r"^LogForwarder: exclude_log_groups do not fit in the account policy's "
                                        r"selection criteria: .* over CloudWatch Logs' 25 KB"):
        LogForwarder(member_stack(), "Forwarder", destination_arn=ARN, exclude_log_groups=names)


def test_names_that_fit_alone_but_not_with_the_librarys_own_fail_at_synthesis():
    # GIVEN exclusions just under the limit, and library log groups that push it over
    stack = member_stack()
    names: list[str] = []
    while len(selection_criteria([*names, "/aws/lambda/one-more"])) < SELECTION_CRITERIA_LIMIT - 60:
        names.append(f"/aws/lambda/service-{len(names):05d}")
    LogForwarder(stack, "Forwarder", destination_arn=ARN, exclude_log_groups=names)
    for i in range(3):
        LogGroupGovernor(stack, f"Retention{i}")
    # WHEN synthesized THEN the error (raised in an aspect, so through jsii) says the library's own groups count too
    with pytest.raises(RuntimeError, match=r"^LogForwarder: exclude_log_groups and the library's own log groups do not fit"):
        Template.from_stack(stack)
