"""LogGroupGovernor construct: always-excluded groups, EventBridge pattern, IAM, account policy, prop errors."""
from __future__ import annotations

import json
import dataclasses
from types import SimpleNamespace
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_events as events
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_kinesisfirehose as firehose
from aws_cdk import aws_logs as logs
from aws_cdk.assertions import Match, Template
from cdk_nag import AwsSolutionsChecks

from log_constructs import FirehoseLogDestination, KinesisLogDestination, LambdaLogDestination, LogGroupGovernor
from log_constructs import LogDestinationConfig
from log_constructs.governor import construct as governor_module
from log_constructs._private.functions import library_function
from log_constructs._private.log_groups import LIBRARY_LOG_GROUP_PREFIX
from log_constructs._private.subscriptions import GOVERNOR_FILTER_NAME, PIPELINE_FILTER_NAME
from log_constructs import PropError
from tests.support.iam import POLICY_TYPES
from log_group_governor import planning


class PipelineStandIn(LambdaLogDestination):
    """Stands in for a LogPipeline: its shipper function, under the pipeline's filter name."""

    def bind_log_destination(self, scope: Any) -> LogDestinationConfig:
        return dataclasses.replace(super().bind_log_destination(scope), filter_name=PIPELINE_FILTER_NAME)


ENV = cdk.Environment(account="123456789012", region="eu-west-1")


@pytest.fixture(scope="module")
def built() -> SimpleNamespace:
    app = cdk.App()
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    stack = cdk.Stack(app, "GovernorTest", env=ENV)
    shipper = library_function(stack, "Shipper", handler="log_shipper.handler.handler",
                               description="stand-in for the LogPipeline shipper", service="shipper")
    pipeline = PipelineStandIn(shipper)
    per_group = LogGroupGovernor(stack, "Governor", ship_to=pipeline, exclude=["/aws/sandbox/", "/aws/lambda/tmp-*"],
                                 rate_limits={"PutRetentionPolicy": 2})
    stream = kinesis.Stream(stack, "Stream", encryption=kinesis.StreamEncryption.MANAGED)
    to_kinesis = LogGroupGovernor(stack, "KinesisGovernor", ship_to=KinesisLogDestination(stream), retention=logs.RetentionDays.ONE_WEEK,
                                  retention_mode="max", sweep_at_deploy=False,
                                  sweep_schedule=events.Schedule.rate(cdk.Duration.hours(6)))
    delivery = firehose.CfnDeliveryStream(
        stack, "Delivery", delivery_stream_type="DirectPut",
        delivery_stream_encryption_configuration_input=firehose.CfnDeliveryStream.DeliveryStreamEncryptionConfigurationInputProperty(
            key_type="AWS_OWNED_CMK"))
    account = LogGroupGovernor(stack, "AccountGovernor", ship_to=FirehoseLogDestination(delivery), subscription_mode="account-policy",
                               exclude=["/aws/lambda/noisy"], dry_run=True)
    template = Template.from_stack(stack)
    return SimpleNamespace(stack=stack, template=template, per_group=per_group, to_kinesis=to_kinesis,
                           account=account, shipper=shipper, stream=stream, delivery=delivery)


def logical_id(built: SimpleNamespace, construct: Any) -> str:
    return built.stack.resolve(built.stack.get_logical_id(construct.node.default_child))


def environment(built: SimpleNamespace, governor: LogGroupGovernor) -> dict[str, Any]:
    resource = built.template.to_json()["Resources"][logical_id(built, governor.function)]
    return resource["Properties"]["Environment"]["Variables"]


def role_statements(built: SimpleNamespace, governor: LogGroupGovernor) -> list[dict[str, Any]]:
    role_id = logical_id(built, governor.function.role)
    statements = []
    # Library roles keep their statements in customer-managed policies (log_constructs._private.roles).
    for resource in [r for kind in POLICY_TYPES for r in built.template.find_resources(kind).values()]:
        if {"Ref": role_id} in resource["Properties"].get("Roles", []):
            statements += resource["Properties"]["PolicyDocument"]["Statement"]
    return statements


def test_the_runtime_excludes_the_same_library_prefix_as_the_constructs() -> None:
    # GIVEN / WHEN / THEN the Lambda code (which cannot import CDK) and the library agree on the prefix
    assert planning.LIBRARY_LOG_GROUP_PREFIX == LIBRARY_LOG_GROUP_PREFIX


def test_the_construct_knows_the_metric_names_the_function_emits() -> None:
    assert set(governor_module.METRIC_NAMES) == set(planning.METRIC_NAMES.values()) | {"ThrottledRetries"}


def test_own_and_destination_log_groups_are_always_excluded(built: SimpleNamespace) -> None:
    # GIVEN the governor shipping to a pipeline's shipper
    env = environment(built, built.per_group)
    # THEN the function excludes its own log group and the shipper's, whatever include/exclude say
    always = json.dumps(env["ALWAYS_EXCLUDE"])
    assert logical_id(built, built.per_group.function.log_group) in always
    assert logical_id(built, built.shipper) in always and "/aws/lambda/" in always
    assert env["EXCLUDE"] == "/aws/sandbox/,/aws/lambda/tmp-*"
    # AND it reuses the pipeline's filter name (one slot per destination)
    assert env["FILTER_NAME"] == PIPELINE_FILTER_NAME
    assert environment(built, built.to_kinesis)["FILTER_NAME"] == GOVERNOR_FILTER_NAME
    assert env["RETENTION_DAYS"] == "30" and env["RETENTION_MODE"] == "missing"
    assert "PutRetentionPolicy=2" in env["RATE_LIMITS"] and "DescribeLogGroups=5" in env["RATE_LIMITS"]
    assert environment(built, built.to_kinesis)["RETENTION_DAYS"] == "7"


def test_create_log_group_rule_matches_cloudtrail_create_log_group_with_a_dead_letter_queue(built: SimpleNamespace) -> None:
    rules = built.template.find_resources("AWS::Events::Rule", {"Properties": {"EventPattern": Match.any_value()}})
    patterns = [r["Properties"]["EventPattern"] for r in rules.values()]
    assert patterns and all(p == {
        "source": ["aws.logs"],
        "detail-type": ["AWS API Call via CloudTrail"],
        "detail": {"eventSource": ["logs.amazonaws.com"], "eventName": ["CreateLogGroup"]},
    } for p in patterns)
    for rule in rules.values():
        assert "DeadLetterConfig" in rule["Properties"]["Targets"][0]


def test_sweep_runs_daily_by_default_on_schedule_and_once_at_deploy_asynchronously(built: SimpleNamespace) -> None:
    schedules = sorted(r["Properties"]["ScheduleExpression"] for r in built.template.find_resources(
        "AWS::Events::Rule", {"Properties": {"ScheduleExpression": Match.any_value()}}).values())
    assert schedules == ["rate(1 day)", "rate(1 day)", "rate(6 hours)"]
    built.template.has_resource_properties("AWS::Events::Rule", {
        "ScheduleExpression": "rate(1 day)",
        "Targets": [Match.object_like({"Input": json.dumps({"action": "sweep"}, separators=(",", ":"))})]})
    triggers = built.template.find_resources("Custom::Trigger")
    assert len(triggers) == 2  # the kinesis governor has sweep_at_deploy=False
    assert all(t["Properties"]["InvocationType"] == "Event" for t in triggers.values())


def test_dead_letter_queue_is_kms_encrypted_and_tls_only(built: SimpleNamespace) -> None:
    queue = built.template.to_json()["Resources"][logical_id(built, built.per_group.dead_letter_queue)]
    assert "KmsMasterKeyId" in queue["Properties"]
    built.template.has_resource_properties("AWS::SQS::QueuePolicy", {"PolicyDocument": {"Statement": Match.array_with([
        Match.object_like({"Effect": "Deny", "Condition": {"Bool": {"aws:SecureTransport": "false"}}})])}})


def test_function_role_has_only_the_logs_actions_it_uses_scoped_to_log_groups(built: SimpleNamespace) -> None:
    # GIVEN the per-group governor's role WHEN its statements are read THEN every logs: action is one it uses
    statements = role_statements(built, built.per_group)
    logs_actions: dict[str, Any] = {}
    for s in statements:
        for action in [s["Action"]] if isinstance(s["Action"], str) else s["Action"]:
            if action.startswith("logs:"):
                logs_actions[action] = s["Resource"]
    own_log_group = {"Fn::GetAtt": [logical_id(built, built.per_group.function.log_group), "Arn"]}
    assert logs_actions == {
        "logs:CreateLogStream": own_log_group,  # its own logs only
        "logs:PutLogEvents": own_log_group,
        "logs:DescribeLogGroups": "*",  # no resource-level permissions (acknowledged with that reason)
        "logs:PutRetentionPolicy": logs_actions["logs:DescribeSubscriptionFilters"],
        "logs:DescribeSubscriptionFilters": logs_actions["logs:PutRetentionPolicy"],
        "logs:PutSubscriptionFilter": logs_actions["logs:PutRetentionPolicy"],
        # the log-constructs:ship=false opt-out of a group about to be subscribed
        "logs:ListTagsForResource": logs_actions["logs:PutRetentionPolicy"],
    }
    assert json.dumps(logs_actions["logs:PutRetentionPolicy"]).endswith(':logs:eu-west-1:123456789012:log-group:*"]]}')
    assert not any("iam:PassRole" in json.dumps(s["Action"]) for s in statements)  # Lambda destination: none
    # AND a retention-only governor (account-policy mode) cannot touch subscription filters
    account_actions = json.dumps([s["Action"] for s in role_statements(built, built.account)])
    assert "PutSubscriptionFilter" not in account_actions and "DescribeSubscriptionFilters" not in account_actions
    assert "ListTagsForResource" not in account_actions


def test_lambda_destination_gets_one_account_wide_permission_for_cloudwatch_logs(built: SimpleNamespace) -> None:
    built.template.has_resource_properties("AWS::Lambda::Permission", {
        "Action": "lambda:InvokeFunction",
        "FunctionName": {"Fn::GetAtt": [logical_id(built, built.shipper), "Arn"]},
        "Principal": "logs.amazonaws.com",
        "SourceAccount": "123456789012",
        "SourceArn": {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":logs:eu-west-1:123456789012:log-group:*"]]},
    })


def test_stream_destination_passes_exactly_the_cloudwatch_logs_role(built: SimpleNamespace) -> None:
    statements = role_statements(built, built.to_kinesis)
    pass_role = [s for s in statements if s["Action"] == "iam:PassRole"]
    assert pass_role == [{
        "Sid": "PassRoleToCloudWatchLogs", "Action": "iam:PassRole", "Effect": "Allow",
        "Resource": {"Fn::GetAtt": [logical_id(built, built.to_kinesis.destination_role), "Arn"]},
        "Condition": {"StringEquals": {"iam:PassedToService": "logs.amazonaws.com"}},
    }]
    role = built.template.to_json()["Resources"][logical_id(built, built.to_kinesis.destination_role)]
    assert role["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {"Service": "logs.amazonaws.com"}
    assert environment(built, built.to_kinesis)["RETENTION_MODE"] == "max"


def test_account_policy_mode_excludes_loop_prone_groups_by_name(built: SimpleNamespace) -> None:
    policy = next(iter(built.template.find_resources("AWS::Logs::AccountPolicy").values()))["Properties"]
    assert policy["PolicyType"] == "SUBSCRIPTION_FILTER_POLICY" and policy["Scope"] == "ALL"
    criteria = json.dumps(built.stack.resolve(policy["SelectionCriteria"]))
    assert criteria.startswith('{"Fn::Join"') or criteria.startswith('"LogGroupName NOT IN [')
    assert "LogGroupName NOT IN [" in criteria
    library_groups = [g.node.default_child.log_group_name
                      for g in (built.per_group.function.log_group, built.shipper.log_group)]
    assert all(name.startswith("/log-constructs/") for name in library_groups)
    for name in [*library_groups, "/aws/lambda/noisy"]:
        assert name in criteria
    assert "/aws/kinesisfirehose/" in criteria  # the destination's own log group
    # AND the function then governs retention only (no per-group filters)
    env = environment(built, built.account)
    assert "DESTINATION_ARN" not in env and env["DRY_RUN"] == "true"


def test_nag_finds_nothing_unacknowledged(built: SimpleNamespace) -> None:
    # GIVEN the AwsSolutions pack on the app WHEN it is synthesized THEN no finding is left
    built.stack.node.root.synth()


def stack() -> cdk.Stack:
    return cdk.Stack(cdk.App(), "Invalid")


@pytest.mark.parametrize("props, message", [
    ({"retention_mode": "sometimes"}, "LogGroupGovernor: retention_mode must be one of 'missing', 'max', got 'sometimes'"),
    ({"subscription_mode": "global"}, "LogGroupGovernor: subscription_mode must be one of 'per-group', 'account-policy', got 'global'"),
    ({"subscription_mode": "account-policy"}, "LogGroupGovernor: subscription_mode 'account-policy' needs ship_to"),
    ({"retention": logs.RetentionDays.INFINITE}, "LogGroupGovernor: retention must be a number of days"),
    ({"include": ["/aws/lambda/ bad"]}, "LogGroupGovernor: include entries must be log group name prefixes or globs"),
    ({"exclude": [""]}, "LogGroupGovernor: exclude entries must be"),
    ({"rate_limits": {"DeleteLogGroup": 1}}, "LogGroupGovernor: rate_limits must be one of"),
    ({"rate_limits": {"PutRetentionPolicy": 0}}, "LogGroupGovernor: rate_limits['PutRetentionPolicy'] must be between 0.1 and 100 calls/s, got 0 calls/s"),
    ({"timeout": cdk.Duration.seconds(10)}, "LogGroupGovernor: timeout must be between 60 and 900 s, got 10 s"),
    ({"ship_to": "arn:aws:lambda:eu-west-1:123456789012:function:x"}, "LogGroupGovernor: ship_to must be an ILogDestination (a LogPipeline, a LogAlerts, or a LambdaLogDestination, FirehoseLogDestination or KinesisLogDestination around your function or stream, or a CloudWatch Logs destination ARN), got str"),
])
def test_invalid_props_fail_at_synth_naming_the_prop(props: dict[str, Any], message: str) -> None:
    with pytest.raises(PropError) as error:
        LogGroupGovernor(stack(), "Governor", **props)
    assert str(error.value).startswith(message)


def test_account_policy_mode_rejects_include_and_glob_excludes() -> None:
    s = stack()
    delivery = firehose.CfnDeliveryStream(s, "Delivery", delivery_stream_type="DirectPut")
    with pytest.raises(PropError, match=r"^LogGroupGovernor: include is not supported with subscription_mode='account-policy'"):
        LogGroupGovernor(s, "A", ship_to=FirehoseLogDestination(delivery), subscription_mode="account-policy", include=["/aws/"])
    with pytest.raises(PropError, match=r"^LogGroupGovernor: exclude entries must be exact log group names"):
        LogGroupGovernor(s, "B", ship_to=FirehoseLogDestination(delivery), subscription_mode="account-policy", exclude=["/aws/lambda/*"])


def test_dead_letter_key_lets_eventbridge_in_only_for_the_governors_own_rules(built):
    # GIVEN each governor's dead-letter key
    for governor in (built.per_group, built.to_kinesis, built.account):
        key = built.template.to_json()["Resources"][logical_id(built, governor.dead_letter_key)]
        statement = next(s for s in key["Properties"]["KeyPolicy"]["Statement"]
                         if s.get("Sid") == "AllowEventBridgeToDeadLetter")
        names = [built.template.to_json()["Resources"][logical_id(built, rule)]["Properties"]["Name"]
                 for rule in (governor.create_rule, governor.sweep_rule)]
        rule_arns = [built.stack.resolve(built.stack.format_arn(service="events", resource="rule", resource_name=name))
                     for name in names]
        # THEN EventBridge may use it only from this account and only for this governor's two rules
        assert statement["Condition"] == {
            "StringEquals": {"aws:SourceAccount": ENV.account},
            "ArnEquals": {"aws:SourceArn": rule_arns},
        }
        # AND the rules have fixed names of at most 64 characters, distinct per governor
        assert all(isinstance(name, str) and len(name) <= 64 for name in names) and names[0] != names[1]


@pytest.fixture(scope="module")
def platform() -> SimpleNamespace:
    from log_constructs import AuditTrail, LogPipeline
    app = cdk.App()
    stack = cdk.Stack(app, "Platform", env=ENV)
    pipeline = LogPipeline(stack, "Logs")
    audit = AuditTrail(stack, "Audit")
    governor = LogGroupGovernor(stack, "Governor", ship_to=pipeline, retention_mode="max")
    other = cdk.Stack(app, "OtherAccount", env=cdk.Environment(account="210987654321", region="eu-west-1"))
    LogPipeline(other, "Logs")
    template = Template.from_stack(stack)
    variables = template.to_json()["Resources"][stack.resolve(stack.get_logical_id(
        governor.function.node.default_child))]["Properties"]["Environment"]["Variables"]
    return SimpleNamespace(stack=stack, template=template, pipeline=pipeline, audit=audit, governor=governor,
                           always=json.dumps(variables["ALWAYS_EXCLUDE"]))


def test_every_library_log_group_with_a_generated_name_is_in_the_governors_exclusions(platform) -> None:
    # GIVEN a pipeline (with its Firehose-error and domain log groups), an audit trail and a governor
    # in retention_mode="max", one stack
    log_groups = platform.template.find_resources("AWS::Logs::LogGroup")
    generated = [lid for lid, r in log_groups.items() if "LogGroupName" not in r["Properties"]]
    # WHEN the app is synthesized
    # THEN the pipeline's log groups are named from its name (under /log-constructs/, excluded by prefix)
    names = {r["Properties"].get("LogGroupName") for r in log_groups.values()}
    pipeline = f"/log-constructs/pipeline/{platform.pipeline.name}/"
    assert {f"{pipeline}{part}" for part in ("shipper", "delivery", "domain-application", "domain-audit")} <= names
    # AND every library log group CloudFormation names is referenced in ALWAYS_EXCLUDE
    trail = platform.stack.resolve(platform.stack.get_logical_id(platform.audit.log_group.node.default_child))
    assert trail in generated
    for lid in generated:
        assert json.dumps({"Ref": lid}) in platform.always, lid
    # AND every library log group is tagged as such
    for resource in log_groups.values():
        assert {"Key": "log-constructs:managed", "Value": "true"} in resource["Properties"]["Tags"]


def test_library_log_groups_of_another_account_are_not_listed(platform) -> None:
    # GIVEN / WHEN the same app holds a pipeline in another account
    # THEN the governor lists no cross-stack reference (only this stack's log groups, by Ref)
    assert "Fn::ImportValue" not in platform.always and "OtherAccount" not in platform.always


def test_an_environment_over_lambdas_4_kb_fails_synthesis_with_a_clear_error() -> None:
    # GIVEN a governor in a stack with a hundred library log groups with generated names
    from log_constructs._private.log_groups import secure_log_group
    app = cdk.App()
    stack = cdk.Stack(app, "Crowded", env=ENV)
    LogGroupGovernor(stack, "Governor")
    for i in range(100):
        secure_log_group(stack, f"SomeLibraryLogGroupWithAGeneratedName{i}", retention=logs.RetentionDays.ONE_DAY)
    # WHEN it is synthesized THEN it fails, saying why and what to do
    with pytest.raises(Exception, match=r"over Lambda's 4096 \(4 KB\): ALWAYS_EXCLUDE lists 10\d library log groups"):
        app.synth()


def test_a_key_of_your_own_encrypts_the_dead_letter_queue_and_the_environment() -> None:
    from aws_cdk import aws_kms as kms
    # GIVEN a governor with a key of the app
    stack = cdk.Stack(cdk.App(), "OwnKey", env=ENV)
    key = kms.Key(stack, "TeamKey", enable_key_rotation=True)
    governor = LogGroupGovernor(stack, "Governor", encryption_key=key)
    template = Template.from_stack(stack)
    key_id = stack.resolve(stack.get_logical_id(key.node.default_child))
    # THEN no key of its own is made, and the queue and the function use that key
    assert governor.dead_letter_key is key and len(template.find_resources("AWS::KMS::Key")) == 2  # + logs key
    template.has_resource_properties("AWS::SQS::Queue", {"KmsMasterKeyId": {"Fn::GetAtt": [key_id, "Arn"]}})
    template.has_resource_properties("AWS::Lambda::Function", {
        "Handler": "log_group_governor.handler.handler", "KmsKeyArn": {"Fn::GetAtt": [key_id, "Arn"]}})
    # AND EventBridge may use it for this governor's rules only
    statements = template.to_json()["Resources"][key_id]["Properties"]["KeyPolicy"]["Statement"]
    assert any(s.get("Sid") == "AllowEventBridgeToDeadLetter" for s in statements)
