"""LoggingDashboard: one CloudWatch dashboard from the constructs' own metric methods, any subset.

The pipeline is the real LogPipeline; alerts, governor and audit are small stand-ins exposing
``metric_*`` methods, a function, a queue and alarms the way those constructs do (they are built
in parallel, and the dashboard is duck-typed on purpose).
"""
from __future__ import annotations

import json
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs
from aws_cdk.assertions import Template
from constructs import Construct

from log_constructs import LoggingDashboard, LogPipeline
from log_constructs._private.validation import PropError


# --- stand-ins -----------------------------------------------------------------------------------
def _function(scope: Construct) -> lambda_.Function:
    return lambda_.Function(scope, "Function", runtime=lambda_.Runtime.PYTHON_3_13, handler="index.handler",
                            code=lambda_.Code.from_inline("def handler(event, context):\n    return None\n"))


def _alarm(scope: Construct, id: str, metric: cloudwatch.Metric) -> cloudwatch.Alarm:
    return metric.create_alarm(scope, id, threshold=1, evaluation_periods=1)


class FakeAlerts(Construct):
    def __init__(self, scope: Construct, id: str) -> None:
        super().__init__(scope, id)
        self.markers = ("CRITICAL", "PAYMENT_FAILED")
        self.function = _function(self)
        self.dead_letter_queue = sqs.Queue(self, "DeadLetters")
        self.alarms = [_alarm(self, "DeliveryFailuresAlarm", self.metric_delivery_failures())]

    def metric(self, name: str, *, dimensions: dict | None = None, **options: Any) -> cloudwatch.Metric:
        return cloudwatch.Metric(namespace="LogConstructs", metric_name=name,
                                 dimensions_map={"service": "alerts", **(dimensions or {})}, **options)

    def metric_alerts(self, marker: str, **options: Any) -> cloudwatch.Metric:
        return self.metric("Alerts", dimensions={"marker": marker}, **options)

    def metric_slack_messages(self, **options: Any) -> cloudwatch.Metric:
        return self.metric("SlackMessages", **options)

    def metric_delivery_failures(self, **options: Any) -> cloudwatch.Metric:
        return self.metric("DeliveryFailures", **options)

    def metric_errors(self, **options: Any) -> cloudwatch.Metric:
        return self.function.metric_errors(**options)


class FakeGovernor(Construct):
    def __init__(self, scope: Construct, id: str) -> None:
        super().__init__(scope, id)
        self.function = _function(self)

    def metric(self, name: str, **options: Any) -> cloudwatch.Metric:
        return cloudwatch.Metric(namespace="LogConstructs", metric_name=name,
                                 dimensions_map={"service": "governor"}, **options)

    # The names LogGroupGovernor uses for its sweep results ...
    def metric_groups_scanned(self, **options: Any) -> cloudwatch.Metric:
        return self.metric("GroupsScanned", **options)

    def metric_retention_set(self, **options: Any) -> cloudwatch.Metric:
        return self.metric("RetentionSet", **options)

    def metric_failed(self, **options: Any) -> cloudwatch.Metric:
        return self.metric("Failed", **options)

    # ... and one the dashboard knows nothing about.
    def metric_log_groups_fixed(self, **options: Any) -> cloudwatch.Metric:
        return self.metric("LogGroupsFixed", **options)


class FakeAudit(Construct):
    def __init__(self, scope: Construct, id: str) -> None:
        super().__init__(scope, id)
        self.metric_filters = {"RootUsage": None, "IamPolicyChanges": None}
        self.alarms = {key: _alarm(self, f"{key}Alarm", self.metric(key)) for key in self.metric_filters}

    def metric(self, key: str, *, period: cdk.Duration | None = None) -> cloudwatch.Metric:
        return cloudwatch.Metric(namespace="CloudTrailMetrics", metric_name=key, statistic="Sum",
                                 period=period or cdk.Duration.minutes(5))


class OnlyOneMetric(Construct):
    """A construct of the user's own: one metric method, one that needs an argument, nothing else."""

    def metric_widgets_sold(self, **options: Any) -> cloudwatch.Metric:
        return cloudwatch.Metric(namespace="Shop", metric_name="WidgetsSold", **options)

    def metric_by_region(self, region: str) -> cloudwatch.Metric:
        return cloudwatch.Metric(namespace="Shop", metric_name="ByRegion", dimensions_map={"region": region})


# --- rendering the dashboard body ------------------------------------------------------------------
def _render(part: Any) -> str:
    if isinstance(part, str):
        return part
    (fn, arg), = part.items()
    return f"<{arg}>" if fn == "Ref" else f"<{arg[0]}.{arg[1]}>" if fn == "Fn::GetAtt" else f"<{fn}>"


def _body(template: Template) -> dict:
    (dashboard,) = template.find_resources("AWS::CloudWatch::Dashboard").values()
    body = dashboard["Properties"]["DashboardBody"]
    text = body if isinstance(body, str) else "".join(_render(p) for p in body["Fn::Join"][1])
    return json.loads(text)


def _texts(body: dict) -> list[str]:
    return [w["properties"]["markdown"] for w in body["widgets"] if w["type"] == "text"]


def _metrics(body: dict) -> set[tuple[str, str]]:
    found = set()
    for widget in body["widgets"]:
        for metric in widget.get("properties", {}).get("metrics", []):
            names = [m for m in metric if isinstance(m, str)]
            found.add((names[0], names[1]))
    return found


def _titles(body: dict) -> list[str]:
    return [w["properties"].get("title", "") for w in body["widgets"] if w["type"] != "text"]


@pytest.fixture(scope="module")
def full() -> tuple[dict, LoggingDashboard]:
    stack = cdk.Stack(cdk.App(), "Test", env=cdk.Environment(account="111122223333", region="eu-west-1"))
    pipeline = LogPipeline(stack, "Logs")
    dashboard = LoggingDashboard(stack, "Dashboard", pipeline=pipeline, alerts=FakeAlerts(stack, "Alerts"),
                                 governor=FakeGovernor(stack, "Governor"), audit=FakeAudit(stack, "Audit"),
                                 dashboard_name="logging-platform", period=cdk.Duration.minutes(1))
    return _body(Template.from_stack(stack)), dashboard


def _only(**constructs: Any) -> tuple[dict, LoggingDashboard]:
    stack = cdk.Stack(cdk.App(), "Small")
    built = {key: cls(stack, key.capitalize()) for key, cls in constructs.items()}
    dashboard = LoggingDashboard(stack, "Dashboard", **built)
    return _body(Template.from_stack(stack)), dashboard


# --- tests ---------------------------------------------------------------------------------------
def test_every_construct_gets_a_titled_section_in_order(full):
    # GIVEN all four constructs / WHEN the dashboard is synthesized
    body, dashboard = full
    # THEN there is one section per construct, each with titled rows
    headers = [t for t in _texts(body) if t.startswith("## ")]
    assert headers == ["## Log pipeline (Test/Logs)", "## Log alerts (Test/Alerts)",
                       "## Log group governor (Test/Governor)", "## Audit trail (Test/Audit)"]
    assert dashboard.sections == [h[3:] for h in headers]
    assert {"**Firehose**", "**OpenSearch**", "**Functions**", "**Queues**", "**Alarms**", "**Sweeps**",
            "**Alerts per marker**", "**Slack**", "**Metrics**", "**Events per audit filter**"} <= set(_texts(body))


def test_pipeline_section_shows_firehose_opensearch_shipper_and_queue(full):
    body, _ = full
    metrics = _metrics(body)
    firehose = {"IncomingRecords", "IncomingBytes", "DeliveryToAmazonOpenSearchService.Records",
                "DeliveryToAmazonOpenSearchService.Bytes", "DeliveryToAmazonOpenSearchService.Success",
                "DeliveryToAmazonOpenSearchService.DataFreshness"}
    assert {("AWS/Firehose", name) for name in firehose} <= metrics
    assert {("AWS/ES", name) for name in ("ClusterStatus.red", "ClusterStatus.yellow", "FreeStorageSpace",
                                          "JVMMemoryPressure", "IndexingRate", "IndexingLatency")} <= metrics
    assert {("AWS/Lambda", name) for name in ("Invocations", "Errors", "Throttles", "Duration")} <= metrics
    assert {("AWS/SQS", "ApproximateNumberOfMessagesVisible"), ("AWS/SQS", "ApproximateAgeOfOldestMessage")} <= metrics
    titles = _titles(body)
    # The deploy-time set-up function is not an operational function; shipper errors are not shown twice.
    assert "Logs shipper: invocations, errors, throttles" in titles
    assert "Alerts dead letter queue: depth" in titles
    assert not any("setup" in t for t in titles)
    assert "Shipper errors" not in titles and "Dead letter messages" not in titles


def test_alerts_per_marker_governor_sweeps_and_audit_alarm_states(full):
    body, _ = full
    marker_graph = next(w for w in body["widgets"] if w["properties"].get("title") == "Alerts per marker")
    labels = {m[-1]["label"] for m in marker_graph["properties"]["metrics"]}
    assert labels == {"CRITICAL", "PAYMENT_FAILED"}
    sweeps = next(w for w in body["widgets"] if w["properties"].get("title") == "Sweep results (log groups)")
    assert [m[1] for m in sweeps["properties"]["metrics"]] == ["GroupsScanned", "RetentionSet", "Failed"]
    assert "Log groups fixed" in _titles(body)  # an unknown metric method still gets its graph
    assert ("CloudTrailMetrics", "RootUsage") in _metrics(body)
    alarm_widgets = [w for w in body["widgets"] if w["type"] == "alarm"]
    alarm_arns = [arn for w in alarm_widgets for arn in w["properties"]["alarms"]]
    assert sum("AuditRootUsageAlarm" in arn for arn in alarm_arns) == 1
    assert sum("LogsDeadLetterAlarm" in arn for arn in alarm_arns) == 1  # the pipeline's own alarms too
    assert len(alarm_widgets) == 3  # pipeline, alerts, audit (the governor stand-in has none)


def test_graphs_use_the_dashboard_period(full):
    body, _ = full
    periods = {m[-1].get("period") for w in body["widgets"] for m in w.get("properties", {}).get("metrics", [])}
    assert periods == {60}
    assert body["start"] == "-PT12H"


def test_a_subset_shows_only_its_sections():
    # GIVEN only a governor WHEN the dashboard is built THEN only its section exists
    body, dashboard = _only(governor=FakeGovernor)
    assert [t for t in _texts(body) if t.startswith("## ")] == ["## Log group governor (Small/Governor)"]
    assert {("LogConstructs", "LogGroupsFixed"), ("AWS/Lambda", "Invocations")} <= _metrics(body)
    assert not any(ns in {"AWS/Firehose", "AWS/ES"} for ns, _ in _metrics(body))


def test_missing_methods_are_skipped_and_argument_methods_ignored():
    # GIVEN a construct with one metric method and one that needs an argument
    body, dashboard = _only(pipeline=OnlyOneMetric)
    # THEN its section has that one graph and no Firehose/OpenSearch rows
    assert _metrics(body) == {("Shop", "WidgetsSold")}
    assert "**Firehose**" not in _texts(body)


@pytest.mark.parametrize("props, message", [
    ({}, "LoggingDashboard: pipeline (or alerts, governor, audit): at least one construct is needed"),
    ({"governor": "G", "dashboard_name": "has space"}, "LoggingDashboard: dashboard_name may hold only letters"),
    ({"governor": "G", "period": cdk.Duration.seconds(90)}, "LoggingDashboard: period must be whole minutes"),
    ({"governor": "G", "start": "12 hours"}, "LoggingDashboard: start must be a relative ISO 8601 duration"),
])
def test_invalid_props_name_the_prop(props, message):
    stack = cdk.Stack(cdk.App(), "Bad")
    if props.get("governor") == "G":
        props["governor"] = FakeGovernor(stack, "Governor")
    with pytest.raises(PropError) as raised:
        LoggingDashboard(stack, "Dashboard", **props)
    assert str(raised.value).startswith(message)
