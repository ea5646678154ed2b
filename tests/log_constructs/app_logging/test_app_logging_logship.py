"""ApplicationLogging(ships_with_logship=True): the governor's opt-out tag, and logship in every function."""
from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk.assertions import Annotations, Match, Template

from log_constructs import ApplicationLogging, LogAlerts, LogGroupGovernor, LogPipeline, PropError

ENV = cdk.Environment(account="111122223333", region="eu-west-1")
TAG = {"Key": "log-constructs:ship", "Value": "false"}


def _function(stack: cdk.Stack, id: str = "Fn") -> lambda_.Function:
    return lambda_.Function(stack, id, runtime=lambda_.Runtime.PYTHON_3_13, handler="index.handler",
                            code=lambda_.Code.from_inline("def handler(event, context): pass"))


def test_the_log_group_is_tagged_and_functions_get_logship_instead_of_a_subscription() -> None:
    # GIVEN an application of another app that ships with logship into the platform's pipeline
    stack = cdk.Stack(cdk.App(), "Team", env=ENV)
    pipeline = LogPipeline.from_name(stack, "Pipeline", name="default")
    ApplicationLogging(stack, "Logging", functions=[_function(stack)], ship_to=pipeline, ships_with_logship=True)
    template = Template.from_stack(stack)
    # THEN its log group carries the opt-out tag and is not subscribed (lines would arrive twice)
    template.has_resource_properties("AWS::Logs::LogGroup", {"Tags": Match.array_with([TAG])})
    template.resource_count_is("AWS::Logs::SubscriptionFilter", 0)
    # AND the function has the layer, the stream name and the right to put records
    (function,) = template.find_resources("AWS::Lambda::Function").values()
    properties = function["Properties"]
    assert "logship-layer-name" in str(properties["Layers"]) or len(properties["Layers"]) == 2
    assert "LOGSHIP_FIREHOSE_STREAM" in properties["Environment"]["Variables"]
    template.has_resource_properties("AWS::IAM::Policy", {"PolicyDocument": {"Statement": Match.array_with([
        Match.object_like({"Action": ["firehose:PutRecord", "firehose:PutRecordBatch"]})])}})


def test_by_default_the_log_group_is_shipped_by_subscription_and_untagged() -> None:
    stack = cdk.Stack(cdk.App(), "Team", env=ENV)
    ApplicationLogging(stack, "Logging", functions=[_function(stack)],
                       ship_to=LogPipeline.from_name(stack, "Pipeline", name="default"))
    template = Template.from_stack(stack)
    template.resource_count_is("AWS::Logs::SubscriptionFilter", 1)
    (group,) = template.find_resources("AWS::Logs::LogGroup").values()
    assert TAG not in group["Properties"].get("Tags", [])


def test_without_ship_to_the_group_is_only_tagged() -> None:
    stack = cdk.Stack(cdk.App(), "Team", env=ENV)
    ApplicationLogging(stack, "Logging", functions=[_function(stack)], ships_with_logship=True)
    template = Template.from_stack(stack)
    template.has_resource_properties("AWS::Logs::LogGroup", {"Tags": Match.array_with([TAG])})
    assert "LOGSHIP_FIREHOSE_STREAM" not in str(template.to_json())


def test_logship_needs_a_pipeline_to_ship_to() -> None:
    stack = cdk.Stack(cdk.App(), "Team", env=ENV)
    alerts = LogAlerts.from_name(stack, "Alerts", name="default")
    with pytest.raises(PropError, match=r"^ApplicationLogging: ships_with_logship=True needs ship_to to be a "
                                        r"LogPipeline .* got ImportedLogAlerts"):
        ApplicationLogging(stack, "Logging", ship_to=alerts, ships_with_logship=True)


def test_the_governor_may_read_tags_and_warns_where_it_cannot() -> None:
    # GIVEN a per-group governor and an account-policy governor
    stack = cdk.Stack(cdk.App(), "Platform", env=ENV)
    pipeline = LogPipeline(stack, "Logs", name="default")
    LogGroupGovernor(stack, "PerGroup", ship_to=pipeline, sweep_at_deploy=False)
    LogGroupGovernor(stack, "AccountWide", ship_to=pipeline, subscription_mode="account-policy",
                     sweep_at_deploy=False)
    template = Template.from_stack(stack)
    # THEN the per-group one may list a group's tags (to honour the opt-out) ...
    assert "logs:ListTagsForResource" in str(template.find_resources("AWS::IAM::ManagedPolicy"))
    # ... and only the account-policy one warns that it cannot honour the tag
    warnings = Annotations.from_stack(stack).find_warning("*", Match.string_like_regexp("log-constructs:ship=false"))
    assert [w.id for w in warnings] == ["/Platform/AccountWide"]
    assert "List every opted-out application log group by its exact name in exclude=" in str(warnings[0].entry.data)
