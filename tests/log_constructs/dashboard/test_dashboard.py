"""LoggingDashboard: one CloudWatch dashboard from the constructs' IMonitorable sections, any subset, any order."""
from __future__ import annotations

import json
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk.assertions import Template
from constructs import Construct

from log_constructs import (AuditTrail, DashboardRow, IMonitorable, LogAlerts, LogGroupGovernor, LoggingDashboard,
                            LogPipeline, PropError)


# --- a construct of the user's own ---------------------------------------------------------------
class Shop(Construct):
    """A user's construct: one metric and no alarms, shown through the IMonitorable protocol."""

    def __init__(self, scope: Construct, id: str) -> None:
        super().__init__(scope, id)
        self.alarms: list[cloudwatch.Alarm] = []

    @property
    def dashboard_title(self) -> str:
        return f"Shop ({self.node.path})"

    def dashboard_widgets(self, *, period: cdk.Duration) -> list[DashboardRow]:
        sold = cloudwatch.Metric(namespace="Shop", metric_name="WidgetsSold", period=period)
        return [DashboardRow("Metrics", [cloudwatch.GraphWidget(title="Widgets sold", left=[sold])])]


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
    # The dashboard comes first: constructs are added as they are built, in any order.
    dashboard = LoggingDashboard(stack, "Dashboard", dashboard_name="logging-platform", period=cdk.Duration.minutes(1),
                                 applications_overview=False)
    pipeline = LogPipeline(stack, "Logs")
    dashboard.add(pipeline)
    dashboard.add(LogAlerts(stack, "Alerts", markers=["CRITICAL", "PAYMENT_FAILED"]))
    dashboard.add(LogGroupGovernor(stack, "Governor", ship_to=pipeline))
    dashboard.add(AuditTrail(stack, "Audit"))
    return _body(Template.from_stack(stack)), dashboard


def _only(*constructs: type) -> tuple[dict, LoggingDashboard]:
    stack = cdk.Stack(cdk.App(), "Small")
    built = [cls(stack, cls.__name__.removeprefix("Log").removeprefix("Group")) for cls in constructs]
    dashboard = LoggingDashboard(stack, "Dashboard", sources=built, applications_overview=False)
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
            "**Alerts per marker**", "**Slack**", "**Events per audit filter**"} <= set(_texts(body))


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
    assert [m[1] for m in sweeps["properties"]["metrics"]] == ["GroupsScanned", "RetentionSet", "Subscribed",
                                                               "SkippedNoSlot", "Failed"]
    assert ("CISBenchmark", "RootUsage") in _metrics(body)
    alarm_widgets = [w for w in body["widgets"] if w["type"] == "alarm"]
    alarm_arns = [arn for w in alarm_widgets for arn in w["properties"]["alarms"]]
    assert sum("AuditRootUsageAlarm" in arn for arn in alarm_arns) == 1
    assert sum("LogsDeadLetterAlarm" in arn for arn in alarm_arns) == 1  # the pipeline's own alarms too
    assert len(alarm_widgets) == 4  # pipeline, alerts, governor, audit


def test_graphs_use_the_dashboard_period(full):
    body, _ = full
    periods = {m[-1].get("period") for w in body["widgets"] for m in w.get("properties", {}).get("metrics", [])}
    assert periods == {60}
    assert body["start"] == "-PT12H"


def test_a_subset_shows_only_its_sections():
    # GIVEN only a governor WHEN the dashboard is built THEN only its section exists
    body, dashboard = _only(LogGroupGovernor)
    assert [t for t in _texts(body) if t.startswith("## ")] == ["## Log group governor (Small/Governor)"]
    assert {("LogConstructs", "GroupsScanned"), ("AWS/Lambda", "Invocations")} <= _metrics(body)
    assert not any(ns in {"AWS/Firehose", "AWS/ES"} for ns, _ in _metrics(body))


def test_a_construct_of_your_own_gets_its_section_through_the_protocol():
    # GIVEN a user's IMonitorable with one metric and no alarms
    body, dashboard = _only(Shop)
    # THEN its section has that one graph and no alarm row
    assert isinstance(Shop(cdk.Stack(cdk.App(), "S"), "Shop"), IMonitorable)
    assert _metrics(body) == {("Shop", "WidgetsSold")}
    assert dashboard.sections == ["Shop (Small/Shop)"]
    assert "**Alarms**" not in _texts(body)


def test_a_dashboard_may_start_empty_but_not_synthesize_empty_and_a_non_monitorable_is_refused():
    # GIVEN a dashboard built without sources (and without its Applications section)
    app = cdk.App()
    stack = cdk.Stack(app, "Empty")
    dashboard = LoggingDashboard(stack, "Dashboard", applications_overview=False)
    assert dashboard.sections == []
    # THEN a non-monitorable is refused at once
    with pytest.raises(PropError, match=r"^LoggingDashboard: sources must be IMonitorable .*got str$"):
        dashboard.add("pipeline")
    # AND synthesis fails while it still has no section, naming the construct
    with pytest.raises(RuntimeError, match=r"LoggingDashboard: sources must name at least one construct .* "
                                           r"got none at Empty/Dashboard"):
        app.synth()


@pytest.mark.parametrize("props, message", [
    ({"dashboard_name": "has space"}, "LoggingDashboard: dashboard_name may hold only letters"),
    ({"period": cdk.Duration.seconds(90)}, "LoggingDashboard: period must be whole minutes"),
    ({"start": "12 hours"}, "LoggingDashboard: start must be a relative ISO 8601 duration"),
])
def test_invalid_props_name_the_prop(props, message):
    stack = cdk.Stack(cdk.App(), "Bad")
    with pytest.raises(PropError) as raised:
        LoggingDashboard(stack, "Dashboard", **props)
    assert str(raised.value).startswith(message)


def test_the_applications_section_searches_every_application_and_names_no_stack():
    # GIVEN a platform dashboard with its default Applications section
    stack = cdk.Stack(cdk.App(), "Platform", env=cdk.Environment(account="111122223333", region="eu-west-1"))
    dashboard = LoggingDashboard(stack, "Dashboard", period=cdk.Duration.minutes(1))
    body = _body(Template.from_stack(stack))
    # THEN it is the first section, and its graphs are metric search expressions over the account and region
    assert dashboard.sections == ["Applications"]
    expressions = [m[0]["expression"] for w in body["widgets"] if w["type"] == "metric"
                   for m in w["properties"]["metrics"]]
    assert expressions == [
        "SEARCH('{AWS/Logs,LogGroupName} MetricName=\"IncomingLogEvents\" applications', 'Sum', 60)",
        "SEARCH('{AWS/Lambda,FunctionName} MetricName=\"Errors\"', 'Sum', 60)",
    ]


def test_a_source_of_another_stack_is_refused_with_what_to_do_instead():
    # GIVEN a platform dashboard and an application construct in another stack
    app = cdk.App()
    platform, orders = cdk.Stack(app, "Platform"), cdk.Stack(app, "Orders")
    dashboard = LoggingDashboard(platform, "Dashboard")
    shop = Shop(orders, "Shop")
    # WHEN it is added THEN it is refused (the platform would depend on the application), naming both stacks
    with pytest.raises(PropError, match=r"^LoggingDashboard: sources must be in the dashboard's stack 'Platform'; "
                       r"Orders/Shop is in 'Orders', .* Give that stack a LoggingDashboard of its own"):
        dashboard.add(shop)
    # AND a dashboard in the application's stack takes it
    LoggingDashboard(orders, "Dashboard", sources=[shop], applications_overview=False)
    assert [d.id for d in app.synth().get_stack_by_name("Platform").dependencies if not d.id.endswith(".assets")] == []
