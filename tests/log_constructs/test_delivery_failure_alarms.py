"""Every on-failure destination has an alarm on the records Lambda could not deliver to it.

A record Lambda cannot send to an on-failure destination (queue deleted, key denied, ...) is lost.
The example app (every construct) plus the paths it does not take (a governor shipping to Kinesis,
an audit trail, a stream's event source mapping with an on-failure destination) are synthesized;
every ``AWS::Lambda::EventInvokeConfig`` with ``DestinationConfig.OnFailure`` and every
``AWS::Lambda::EventSourceMapping`` with ``DestinationConfig.OnFailure`` is walked: its function
must have an ``AWS/Lambda`` ``DestinationDeliveryFailures`` alarm (Sum >= 1 over 5 minutes,
missing data not breaching).
"""
from __future__ import annotations

from typing import Any, Iterator

import aws_cdk as cdk
import pytest
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_sqs as sqs
from aws_cdk.assertions import Template

from log_constructs import AuditTrail, KinesisLogDestination, LogAlerts, LogGroupGovernor, LogPipeline
from log_constructs._private.metrics import delivery_failures_alarm
from tests.support.example_app import ENV, example_app


def _stream_consumer(stack: cdk.Stack, id: str, *, alarmed: bool) -> lambda_.Function:
    """A function reading a Kinesis stream whose failed batches go to a queue (event source mapping)."""
    function = lambda_.Function(stack, id, runtime=lambda_.Runtime.PYTHON_3_13, handler="index.handler",
                                code=lambda_.Code.from_inline("def handler(event, context):\n    return None\n"))
    stream = kinesis.Stream(stack, f"{id}Stream", encryption=kinesis.StreamEncryption.MANAGED)
    function.add_event_source(sources.KinesisEventSource(
        stream, starting_position=lambda_.StartingPosition.TRIM_HORIZON,
        on_failure=sources.SqsDlq(sqs.Queue(stack, f"{id}Failures"))))
    if alarmed:
        delivery_failures_alarm(function)
    return function


def _templates() -> list[Template]:
    app, stacks = example_app()
    extra = cdk.Stack(app, "Extra", env=ENV)
    stream = kinesis.Stream(extra, "Stream", encryption=kinesis.StreamEncryption.MANAGED)
    LogGroupGovernor(extra, "Governor", ship_to=KinesisLogDestination(stream), sweep_at_deploy=False)
    AuditTrail(extra, "Audit", break_glass_role=iam.Role(extra, "BreakGlass", assumed_by=iam.AccountRootPrincipal()))
    _stream_consumer(extra, "Consumer", alarmed=True)
    return [Template.from_stack(stack) for stack in (*stacks, extra)]


@pytest.fixture(scope="module")
def templates() -> list[Template]:
    return _templates()


def _function_ref(value: Any) -> str:
    """The logical ID of the function a FunctionName property names (Ref, or a GetAtt / Join of it)."""
    if isinstance(value, dict):
        if "Ref" in value:
            return value["Ref"]
        if "Fn::GetAtt" in value:
            return value["Fn::GetAtt"][0]
        if "Fn::Join" in value:
            return "".join(_function_ref(part) for part in value["Fn::Join"][1] if isinstance(part, dict))
    raise AssertionError(f"unexpected FunctionName {value!r}")


def on_failure_functions(template: Template) -> Iterator[tuple[str, str]]:
    """(resource logical ID, function logical ID) of every on-failure destination."""
    for logical_id, resource in template.to_json()["Resources"].items():
        props = resource.get("Properties", {})
        if resource["Type"] == "AWS::Lambda::EventInvokeConfig" and "OnFailure" in props.get("DestinationConfig", {}):
            yield logical_id, _function_ref(props["FunctionName"])
        if resource["Type"] == "AWS::Lambda::EventSourceMapping" and "OnFailure" in props.get("DestinationConfig",
                                                                                                  {}):
            yield logical_id, _function_ref(props["FunctionName"])


def alarmed_functions(template: Template) -> set[str]:
    """Functions with a DestinationDeliveryFailures alarm as specified (Sum >= 1 over 300 s, not breaching)."""
    alarmed = set()
    for resource in template.find_resources("AWS::CloudWatch::Alarm").values():
        props = resource["Properties"]
        dimensions = props.get("Dimensions", [])
        if (props.get("Namespace") == "AWS/Lambda" and props.get("MetricName") == "DestinationDeliveryFailures"
                and props["Statistic"] == "Sum" and props["Period"] == 300 and props["Threshold"] == 1
                and props["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
                and props["TreatMissingData"] == "notBreaching" and len(dimensions) == 1
                and dimensions[0]["Name"] == "FunctionName"):
            alarmed.add(_function_ref(dimensions[0]["Value"]))
    return alarmed


def unalarmed(templates: list[Template]) -> list[tuple[str, str]]:
    return [(resource, function) for template in templates for resource, function in on_failure_functions(template)
            if function not in alarmed_functions(template)]


def test_every_on_failure_destination_of_every_construct_has_a_delivery_failures_alarm(templates):
    # GIVEN every construct, the example app's functions and a stream consumer with an on-failure destination
    # WHEN every EventInvokeConfig and EventSourceMapping with an on-failure destination is walked
    destinations = [found for template in templates for found in on_failure_functions(template)]
    # THEN there are some of both kinds, and each function has its alarm
    kinds = {resource.rstrip("0123456789ABCDEF") for resource, _ in destinations}
    assert any("EventInvokeConfig" in kind for kind in kinds) and any("Kinesis" in kind for kind in kinds), kinds
    assert len(destinations) >= 5
    assert unalarmed(templates) == []


def test_the_walk_finds_an_event_source_mapping_without_its_alarm():
    # GIVEN a stream consumer whose on-failure destination was given no alarm
    stack = cdk.Stack(cdk.App(), "Bare", env=ENV)
    _stream_consumer(stack, "Consumer", alarmed=False)
    # WHEN the walk runs
    missing = unalarmed([Template.from_stack(stack)])
    # THEN it names that mapping and its function
    assert len(missing) == 1 and missing[0][1].startswith("Consumer")


@pytest.mark.parametrize("build", [
    lambda stack, topic: LogPipeline(stack, "Pipeline", alarm_actions=[topic]),
    lambda stack, topic: LogAlerts(stack, "Alerts", channel="#alerts", alarm_actions=[topic]),
    lambda stack, topic: LogGroupGovernor(stack, "Governor", sweep_at_deploy=False, alarm_actions=[topic]),
], ids=["pipeline", "alerts", "governor"])
def test_the_alarm_is_in_the_constructs_alarms_with_its_alarm_actions(build):
    # GIVEN a construct with an alarm action
    stack = cdk.Stack(cdk.App(), "Stack", env=ENV)
    topic = cdk.aws_cloudwatch_actions.SnsAction(cdk.aws_sns.Topic(stack, "Topic"))
    construct = build(stack, topic)
    # WHEN its alarms are listed
    delivery = [alarm for alarm in construct.alarms
                if isinstance(alarm.metric, cloudwatch.Metric) and alarm.metric.metric_name == "DestinationDeliveryFailures"]
    # THEN the delivery-failure alarm is one of them, exactly once, with the construct's action
    assert len(delivery) == 1
    template = Template.from_stack(stack)
    alarm = template.to_json()["Resources"][stack.get_logical_id(delivery[0].node.default_child)]
    assert alarm["Properties"]["MetricName"] == "DestinationDeliveryFailures"
    assert len(alarm["Properties"]["AlarmActions"]) == 1
