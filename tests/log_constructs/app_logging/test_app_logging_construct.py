"""ApplicationLogging: template assertions on one synthesized app (with the cdk-nag gate)."""
from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk.assertions import Annotations, Match, Template
from cdk_nag import AwsSolutionsChecks
from constructs import Construct

from log_constructs import ApplicationLogging, LogDestinationConfig
from log_constructs._private import nag
from log_constructs._private.functions import POWERTOOLS_VERSION, library_function
from log_constructs import PropError


class FakeDestination:
    """Stands in for LogPipeline / LogAlerts: records what it was asked to subscribe."""

    def __init__(self) -> None:
        self.log_groups: list[logs.ILogGroup] = []

    def add_log_group(self, log_group: logs.ILogGroup, *, filter_pattern: Any = None) -> None:
        self.log_groups.append(log_group)

    def bind_log_destination(self, scope: Construct) -> LogDestinationConfig:
        return LogDestinationConfig(destination_arn="arn:aws:lambda:eu-west-1:111111111111:function:fake")


def make_function(scope: Construct, id: str, *, runtime: lambda_.Runtime = lambda_.Runtime.PYTHON_3_13,
                  architecture: lambda_.Architecture = lambda_.Architecture.ARM_64, **props: Any) -> lambda_.Function:
    role = iam.Role(scope, f"{id}Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    fn = lambda_.Function(scope, id, runtime=runtime, architecture=architecture, role=role,
                          handler="index.handler", code=lambda_.Code.from_inline("def handler(e, c): pass"), **props)
    nag.acknowledge(fn, "L1", "Test functions pin older runtimes on purpose (layer ARN per runtime).")
    return fn


class Built:
    def __init__(self) -> None:
        self.app = cdk.App()
        cdk.Validations.of(self.app).add_plugins(AwsSolutionsChecks(self.app))
        # An environment-agnostic stack: region and partition stay tokens.
        stack = cdk.Stack(self.app, "Shop")
        self.stack = stack
        services = Construct(stack, "Services")
        self.checkout = make_function(services, "Checkout")
        self.legacy = make_function(services, "Legacy", runtime=lambda_.Runtime.PYTHON_3_12,
                                    architecture=lambda_.Architecture.X86_64)
        own_group = logs.LogGroup(services, "ReportsLogGroup", retention=logs.RetentionDays.ONE_DAY,
                                  removal_policy=cdk.RemovalPolicy.DESTROY)
        self.reports = make_function(services, "Reports", log_group=own_group)
        self.node_fn = make_function(services, "Frontend", runtime=lambda_.Runtime.NODEJS_22_X)
        audit_group = logs.LogGroup(services, "AuditLogGroup", retention=logs.RetentionDays.ONE_DAY,
                                    removal_policy=cdk.RemovalPolicy.DESTROY)
        self.audited = make_function(services, "Audited", log_group=audit_group)
        cdk.Annotations.of(self.audited).acknowledge_warning(
            "log-constructs:own-log-group", "Audit events stay in their own group by design")
        self.library_fn = library_function(services, "Shipper", handler="log_shipper.handler.handler",
                                           description="a library function", service="shipper")
        self.explicit = make_function(stack, "Payments")  # outside the scope, passed explicitly
        self.outside = make_function(stack, "Unrelated")  # neither in the scope nor passed
        self.pipeline = FakeDestination()
        self.alerts = FakeDestination()
        self.logging = ApplicationLogging(
            stack, "ShopLogging",
            application_name="shop",
            log_retention=logs.RetentionDays.TWO_WEEKS,
            application_log_level="DEBUG",
            system_log_level=lambda_.SystemLogLevel.INFO,
            functions=[self.explicit],
            scopes=[services],
            ship_to=self.pipeline,
            alerts=self.alerts,
        )
        # Stacks in a known region of each partition: the layer ARN is per region and partition.
        self.regional: dict[str, Template] = {}
        for region in ("eu-west-1", "cn-north-1"):
            regional = cdk.Stack(self.app, f"Shop-{region}", env=cdk.Environment(region=region, account="111111111111"))
            fn = make_function(regional, "Worker", architecture=lambda_.Architecture.X86_64)
            ApplicationLogging(regional, "Logging", functions=[fn])
            self.regional[region] = regional
        self.app.synth()  # with the nag plugin: raises on any unacknowledged finding
        self.template = Template.from_stack(stack)
        self.annotations = Annotations.from_stack(stack)


@pytest.fixture(scope="module")
def built() -> Built:
    return Built()


def function_props(built: Built, fn: lambda_.Function) -> dict[str, Any]:
    logical_id = built.stack.get_logical_id(fn.node.default_child)
    return built.template.to_json()["Resources"][logical_id]["Properties"]


def test_one_encrypted_retained_log_group_for_the_application(built: Built) -> None:
    # GIVEN the app WHEN synthesized THEN the application has one KMS log group, kept on delete
    groups = built.template.find_resources("AWS::Logs::LogGroup", {"Properties": {"LogGroupName": {"Fn::Join": [
        "", ["/applications/shop/", {"Fn::Select": [0, {"Fn::Split": ["-", {"Fn::Select": [2, {"Fn::Split": [
            "/", {"Ref": "AWS::StackId"}]}]}]}]}]]}}})
    assert len(groups) == 1
    (group,) = groups.values()
    assert group["Properties"]["RetentionInDays"] == 14
    assert "KmsKeyId" in group["Properties"]
    assert group["DeletionPolicy"] == "Retain"


def test_a_retained_group_never_blocks_the_stack_created_again() -> None:
    # GIVEN the default name, resolved for two creations of one stack (two stack ids)
    app = cdk.App()
    stack = cdk.Stack(app, "Shop")
    logging = ApplicationLogging(stack, "Logging", application_name="shop")
    name = stack.resolve(logging.log_group.node.default_child.log_group_name)
    # WHEN CloudFormation evaluates it with each creation's stack id
    (prefix, select) = name["Fn::Join"][1]

    def evaluate(stack_id: str) -> str:
        uuid = stack_id.split("/")[2]
        return prefix + uuid.split("-")[0]
    first = evaluate("arn:aws:cloudformation:eu-west-1:111111111111:stack/Shop/3b5c5e60-1c1a-11ee-9f2a-0a1b2c3d4e5f")
    second = evaluate("arn:aws:cloudformation:eu-west-1:111111111111:stack/Shop/7d0e9a10-94f2-11f0-8c3e-06f1e2d3c4b5")
    # THEN each creation gets its own group under /applications/shop/, so the retained one is no obstacle
    assert (first, second) == ("/applications/shop/3b5c5e60", "/applications/shop/7d0e9a10")
    assert select == {"Fn::Select": [0, {"Fn::Split": ["-", {"Fn::Select": [2, {"Fn::Split": ["/", {
        "Ref": "AWS::StackId"}]}]}]}]}


def test_functions_log_json_at_the_levels_into_the_shared_group(built: Built) -> None:
    # GIVEN functions in the scope and one passed explicitly
    group_ref = {"Ref": built.stack.get_logical_id(built.logging.log_group.node.default_child)}
    for fn in (built.checkout, built.legacy, built.explicit, built.node_fn):
        # THEN each logs JSON at the configured levels into the application's group
        props = function_props(built, fn)
        assert props["LoggingConfig"] == {"LogFormat": "JSON", "ApplicationLogLevel": "DEBUG",
                                          "SystemLogLevel": "INFO", "LogGroup": group_ref}
        assert props["TracingConfig"] == {"Mode": "Active"}
    assert {f.node.path for f in built.logging.functions} == {
        f.node.path for f in (built.checkout, built.legacy, built.explicit, built.node_fn)}
    # AND a function neither in the scope nor passed is untouched
    assert "LoggingConfig" not in function_props(built, built.outside)


def test_powertools_environment(built: Built) -> None:
    env = function_props(built, built.checkout)["Environment"]["Variables"]
    assert env == {"POWERTOOLS_SERVICE_NAME": "shop", "POWERTOOLS_METRICS_NAMESPACE": "shop",
                   "POWERTOOLS_LOG_LEVEL": "DEBUG"}


def test_roles_may_write_to_the_shared_group_and_trace(built: Built) -> None:
    # THEN the role of each function can create streams and put events into the group
    role_id = built.stack.get_logical_id(built.checkout.role.node.default_child)
    group_arn = {"Fn::GetAtt": [built.stack.get_logical_id(built.logging.log_group.node.default_child), "Arn"]}
    policies = built.template.find_resources("AWS::IAM::Policy", {"Properties": {"Roles": [{"Ref": role_id}]}})
    statements = [s for p in policies.values() for s in p["Properties"]["PolicyDocument"]["Statement"]]
    writes = [s for s in statements if s["Resource"] == group_arn]
    assert writes and set(writes[0]["Action"]) == {"logs:CreateLogStream", "logs:PutLogEvents"}
    traces = [s for s in statements if s["Resource"] == "*"]
    assert traces and set(traces[0]["Action"]) == {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}


def layer_arn(built: Built, template: Template, fn_logical_prefix: str) -> Any:
    resources = template.find_resources("AWS::Lambda::Function")
    (props,) = [r["Properties"] for k, r in resources.items() if k.startswith(fn_logical_prefix)]
    (layer,) = props["Layers"]
    return layer


def test_powertools_layer_per_runtime_and_architecture_by_release(built: Built) -> None:
    # THEN python3.13 on arm64 and python3.12 on x86_64 get their own layer of the pinned release,
    # resolved in the stack's region from Powertools' public SSM parameter
    for fn, arch, python in ((built.checkout, "arm64", "python3.13"), (built.legacy, "x86_64", "python3.12")):
        (layer,) = function_props(built, fn)["Layers"]
        assert layer == f"{{{{resolve:ssm:/aws/service/powertools/python/{arch}/{python}/{POWERTOOLS_VERSION}}}}}"
    assert "Mappings" not in built.template.to_json()
    # AND a Node.js function gets no Python layer
    assert "Layers" not in function_props(built, built.node_fn)


@pytest.mark.parametrize("region", ["eu-west-1", "cn-north-1"])
def test_layer_in_any_region_is_the_regional_ssm_parameter(built: Built, region: str) -> None:
    # GIVEN a stack in a known region (and partition)
    (fn,) = Template.from_stack(built.regional[region]).find_resources("AWS::Lambda::Function").values()
    # THEN its layer is the pinned release's public parameter, which CloudFormation resolves in that region
    assert fn["Properties"]["Layers"] == [
        f"{{{{resolve:ssm:/aws/service/powertools/python/x86_64/python3.13/{POWERTOOLS_VERSION}}}}}"]


def test_function_with_its_own_log_group_is_warned_not_overridden(built: Built) -> None:
    # THEN the function that sets its own group keeps it, and a warning with an id names it
    group_id = built.stack.get_logical_id(built.reports.node.scope.node.find_child("ReportsLogGroup").node.default_child)
    assert function_props(built, built.reports)["LoggingConfig"] == {"LogGroup": {"Ref": group_id}}
    assert "Layers" not in function_props(built, built.reports)
    built.annotations.has_warning(
        f"/{built.reports.node.path}",
        Match.string_like_regexp(r"already sets its own log group.*\[ack: log-constructs:own-log-group\]"),
    )
    # AND the warning can be acknowledged by its id: the acknowledged function is not reported
    warned = built.annotations.find_warning("*", Match.string_like_regexp("own-log-group"))
    assert [w.id for w in warned] == [f"/{built.reports.node.path}"]
    assert "LoggingConfig" in function_props(built, built.audited)  # its own, untouched
    assert function_props(built, built.audited)["LoggingConfig"]["LogGroup"] != function_props(
        built, built.checkout)["LoggingConfig"]["LogGroup"]


def test_library_functions_in_the_scope_are_skipped_silently(built: Built) -> None:
    # GIVEN one of the library's own functions (its group under /log-constructs/) inside the scope
    # THEN it keeps its group and gets no warning
    props = function_props(built, built.library_fn)
    assert props["LoggingConfig"]["LogGroup"]["Ref"].startswith("ServicesShipperLogGroup")
    assert not built.annotations.find_warning(f"/{built.library_fn.node.path}", Match.any_value())
    assert built.library_fn not in built.logging.functions


def test_subscribed_to_pipeline_and_alerts(built: Built) -> None:
    assert built.pipeline.log_groups == [built.logging.log_group]
    assert built.alerts.log_groups == [built.logging.log_group]


def test_metrics_and_grants(built: Built) -> None:
    # THEN the metrics are those CloudWatch Logs publishes for this log group
    metric = built.logging.metric_incoming_log_events()
    assert metric.namespace == "AWS/Logs" and metric.metric_name == "IncomingLogEvents"
    assert metric.statistic == "Sum"
    assert built.stack.resolve(metric.dimensions) == {"LogGroupName": {"Ref": built.stack.get_logical_id(
        built.logging.log_group.node.default_child)}}
    assert built.logging.metric_incoming_bytes().metric_name == "IncomingBytes"
    # AND grant_read lets a principal read the group
    reader = iam.Role(built.stack, "Reader", assumed_by=iam.AccountRootPrincipal())
    grant = built.logging.grant_read(reader)
    assert grant.success


@pytest.mark.parametrize("props, message", [
    ({"application_log_level": "VERBOSE"},
     "ApplicationLogging: application_log_level must be one of 'TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', "
     "'FATAL', got 'VERBOSE'"),
    ({"system_log_level": "ERROR"},
     "ApplicationLogging: system_log_level must be one of 'DEBUG', 'INFO', 'WARN', got 'ERROR'"),
    ({"application_name": "my shop"},
     "ApplicationLogging: application_name must be 1-100 letters, digits, '.', '_' or '-' starting with a "
     "letter or digit, got 'my shop'"),
    ({"log_group_name": "/apps/shop:prod"},
     "ApplicationLogging: log_group_name must be 1-512 characters of a-z, A-Z, 0-9, '.', '-', '_', '/', '#', "
     "got '/apps/shop:prod'"),
    ({"ship_to": "arn:aws:firehose:eu-west-1:111111111111:deliverystream/x"},
     "ApplicationLogging: ship_to must be a LogPipeline (an ILogDestination), got str"),
])
def test_wrong_props_fail_at_synth_naming_the_prop(props: dict[str, Any], message: str) -> None:
    # GIVEN a wrong prop WHEN the construct is built THEN a PropError names it and why
    stack = cdk.Stack(cdk.App(), "Bad")
    with pytest.raises(PropError) as error:
        ApplicationLogging(stack, "Logging", **props)
    assert str(error.value) == message
