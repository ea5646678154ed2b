"""The public API: exports, Protocols, destination adapters, and PropError messages."""
from __future__ import annotations

import inspect
import re

import aws_cdk as cdk
import pytest
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_kinesisfirehose as firehose
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk.assertions import Match, Template

import log_constructs
from log_constructs import (
    ApplicationLogging,
    CrossAccountLogDestination,
    FirehoseLogDestination,
    ILogDestination,
    IMonitorable,
    KinesisLogDestination,
    LambdaLogDestination,
    LogAlerts,
    LogGroupGovernor,
    LogPipeline,
    PropError,
)


def _function(scope: cdk.Stack, id: str = "Fn") -> lambda_.Function:
    return lambda_.Function(scope, id, runtime=lambda_.Runtime.PYTHON_3_13, handler="index.handler",
                            code=lambda_.Code.from_inline("def handler(e, c): pass"))


def test_every_exported_name_exists_and_prop_error_is_a_value_error():
    assert all(hasattr(log_constructs, name) for name in log_constructs.__all__)
    assert issubclass(PropError, ValueError)
    assert {"RegionalLogDestination", "DEFAULT_DESTINATION_NAME", "destination_arn"} <= set(log_constructs.__all__)


def _public_constructs() -> list[type]:
    from constructs import Construct
    return [obj for obj in (getattr(log_constructs, name) for name in log_constructs.__all__)
            if inspect.isclass(obj) and issubclass(obj, Construct)]


def test_every_public_construct_documents_every_prop_in_its_class_docstring():
    # GIVEN every construct the package exports
    constructs = _public_constructs()
    assert {"AuditTrail", "LogAlerts", "LogPipeline"} <= {c.__name__ for c in constructs}
    for construct in constructs:
        props = [p.name for p in inspect.signature(construct.__init__).parameters.values() if p.kind is p.KEYWORD_ONLY]
        doc = inspect.getdoc(construct) or ""
        # THEN each keyword prop has its ":param x: ... Default: ..." line in the class docstring (what help() shows), with its default (or "Required")
        assert [p for p in props if f":param {p}:" not in doc] == [], construct.__name__
        params = re.split(r"^:param ", doc, flags=re.M)[1:]
        assert [p.split(":")[0] for p in params if "Default" not in p and "Required" not in p] == [], construct.__name__


def test_each_public_construct_is_defined_once_in_its_module():
    for construct in _public_constructs():
        source = inspect.getsource(inspect.getmodule(construct))
        assert len(re.findall(rf"^class {construct.__name__}\b", source, re.M)) == 1, construct.__name__


def test_the_constructs_implement_the_protocols():
    stack = cdk.Stack(cdk.App(), "Api")
    alerts = LogAlerts(stack, "Alerts")
    governor = LogGroupGovernor(stack, "Governor")
    logging = ApplicationLogging(stack, "Logging")
    assert isinstance(alerts, ILogDestination) and isinstance(alerts, IMonitorable)
    assert isinstance(governor, IMonitorable) and isinstance(logging, IMonitorable)
    assert not isinstance(governor, ILogDestination)
    assert governor.alarms and logging.alarms == []


@pytest.mark.parametrize("make", [
    lambda s: LambdaLogDestination(_function(s)),
    lambda s: FirehoseLogDestination(firehose.CfnDeliveryStream(s, "Delivery", delivery_stream_type="DirectPut")),
    lambda s: KinesisLogDestination(kinesis.Stream(s, "Stream")),
])
def test_adapters_subscribe_log_groups_and_serve_as_the_governors_destination(make):
    # GIVEN an adapter around a function or a stream
    stack = cdk.Stack(cdk.App(), "Adapters", env=cdk.Environment(account="111122223333", region="eu-west-1"))
    destination = make(stack)
    assert isinstance(destination, ILogDestination)
    group = logs.LogGroup(stack, "Orders")
    # WHEN a log group is subscribed and the governor ships to it
    destination.add_log_group(group, filter_pattern=logs.FilterPattern.literal("ERROR"))
    governor = LogGroupGovernor(stack, "Governor", ship_to=destination)
    template = Template.from_stack(stack)
    # THEN the log group has a filter with that pattern, and the governor knows the destination
    template.has_resource_properties("AWS::Logs::SubscriptionFilter", {"FilterPattern": "ERROR"})
    config = destination.bind_log_destination(governor)
    # (a function needs no role; a stream's role is created once, beside the stream)
    assert (config.function is not None) != (config.role is not None)
    template.has_resource_properties("AWS::Lambda::Function", {"Environment": {"Variables": Match.object_like(
        {"FILTER_NAME": "log-constructs-governor"})}})


def test_alerts_as_the_governors_destination_keep_their_marker_pattern_and_filter_name():
    stack = cdk.Stack(cdk.App(), "AlertsDestination", env=cdk.Environment(account="111122223333", region="eu-west-1"))
    alerts = LogAlerts(stack, "Alerts")
    governor = LogGroupGovernor(stack, "Governor", ship_to=alerts)
    env = Template.from_stack(stack).find_resources("AWS::Lambda::Function", {"Properties": {"Environment": {
        "Variables": Match.object_like({"FILTER_NAME": "log-constructs-alerts"})}}})
    assert len(env) == 1
    (resource,) = env.values()
    variables = resource["Properties"]["Environment"]["Variables"]
    assert variables["FILTER_PATTERN"] == alerts.filter_pattern.log_pattern_string
    assert governor.filter_name == "log-constructs-alerts"


@pytest.mark.parametrize("build, message", [
    (lambda s: LogPipeline(s, "P", buffer_mib=500), "LogPipeline: buffer_mib must be between 1 and 100 MiB, got 500 MiB"),
    (lambda s: LogAlerts(s, "A", retention_days=0), "LogAlerts: retention_days must be between 1 and 3650 days, got 0 days"),
    (lambda s: LogGroupGovernor(s, "G", retention_mode="often"),
     "LogGroupGovernor: retention_mode must be one of 'missing', 'max', got 'often'"),
    (lambda s: ApplicationLogging(s, "L", alerts=42), "ApplicationLogging: alerts must be a LogAlerts (an ILogDestination), got int"),
])
def test_bad_props_name_the_construct_the_prop_the_value_and_what_is_valid(build, message):
    with pytest.raises(log_constructs.PropError) as raised:
        build(cdk.Stack(cdk.App(), "Bad"))
    assert str(raised.value) == message
