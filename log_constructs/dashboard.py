"""LoggingDashboard: one CloudWatch dashboard for the whole logging platform.

Built only from what the constructs expose — their ``metric_*`` methods, their functions and
queues, their alarms — and duck-typed, so any subset of the constructs (or a construct of your own
with ``metric_*`` methods) can be shown. Each construct gets a titled section of rows.
"""
from __future__ import annotations

import inspect
import re
from typing import Any, Iterable, Mapping, Optional, Sequence

from aws_cdk import Duration, Token
from aws_cdk import aws_cloudwatch as cloudwatch
from constructs import Construct

from ._private.validation import check

NAME = "LoggingDashboard"

# Rows of named graphs per kind of construct: (row title, [(graph title, [metric method, ...]), ...]).
# A method a construct does not have is skipped; a graph without any metric is left out.
Layout = Sequence[tuple[str, Sequence[tuple[str, Sequence[str]]]]]
PIPELINE_LAYOUT: Layout = (
    ("Firehose", (
        ("Records in / delivered", ("metric_incoming_records", "metric_delivered_records")),
        ("Bytes in / delivered", ("metric_incoming_bytes", "metric_delivered_bytes")),
        ("Delivery success (ratio)", ("metric_delivery_success",)),
        ("Data freshness (s)", ("metric_data_freshness",)),
    )),
    ("OpenSearch", (
        ("Cluster status red / yellow", ("metric_cluster_status_red", "metric_cluster_status_yellow")),
        ("Free storage (MiB, min)", ("metric_free_storage_space",)),
        ("JVM memory pressure (%)", ("metric_jvm_memory_pressure",)),
        ("Indexing rate", ("metric_indexing_rate",)),
        ("Indexing latency (ms)", ("metric_indexing_latency",)),
    )),
)
ALERTS_LAYOUT: Layout = (
    ("Slack", (
        ("Slack messages / delivery failures", ("metric_slack_messages", "metric_delivery_failures")),
        ("Redactions / invalid events", ("metric_redactions", "metric_invalid_events")),
    )),
)
GOVERNOR_LAYOUT: Layout = (
    ("Sweeps", (
        ("Sweep results (log groups)", ("metric_groups_scanned", "metric_retention_set", "metric_subscribed",
                                        "metric_skipped_no_slot", "metric_failed")),
    )),
)
# Methods that only repeat what the function and queue rows show.
FUNCTION_METHODS = {"metric_invocations", "metric_errors", "metric_throttles", "metric_duration",
                    "metric_shipper_errors"}
QUEUE_METHODS = {"metric_dead_letters", "metric_dead_letter_messages"}
FUNCTION_SIGNATURE = ("metric_invocations", "metric_errors", "metric_throttles", "metric_duration")
QUEUE_SIGNATURE = ("metric_approximate_number_of_messages_visible", "metric_approximate_age_of_oldest_message")
GRAPH_WIDTH = 6
GRAPH_HEIGHT = 6


class LoggingDashboard(Construct):
    """One CloudWatch dashboard for the pipeline, the alerts, the governor and the audit trail.

    :param pipeline: A ``LogPipeline`` (Firehose, OpenSearch, shipper, dead-letter queue, alarms).
        Default: - no pipeline section
    :param alerts: A ``LogAlerts`` (alerts per marker, Slack delivery, function, queue, alarms).
        Default: - no alerts section
    :param governor: A ``LogGroupGovernor`` (sweep results, function, queue, alarms). Default: - no governor section
    :param audit: An ``AuditTrail`` (CIS event counts, alarm states). Default: - no audit section
    :param dashboard_name: Name of the dashboard (letters, digits, ``-``, ``_``; at most 255).
        Default: - a name CloudFormation generates
    :param period: Period of every graph, 1 minute to 1 day. Default: 5 minutes
    :param start: Default time range shown, relative (``-PT12H``, ``-P7D``). Default: ``-PT12H``

    At least one of ``pipeline``, ``alerts``, ``governor``, ``audit`` is required. Any object with
    ``metric_*`` methods works: they are duck-typed, and what a construct lacks is left out.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        pipeline: Optional[Any] = None,
        alerts: Optional[Any] = None,
        governor: Optional[Any] = None,
        audit: Optional[Any] = None,
        dashboard_name: Optional[str] = None,
        period: Optional[Duration] = None,
        start: Optional[str] = None,
    ) -> None:
        super().__init__(scope, id)
        sources = {"pipeline": pipeline, "alerts": alerts, "governor": governor, "audit": audit}
        check(NAME, "pipeline", any(v is not None for v in sources.values()),
              "(or alerts, governor, audit): at least one construct is needed to build a dashboard")
        if dashboard_name is not None and not Token.is_unresolved(dashboard_name):
            check(NAME, "dashboard_name", bool(re.fullmatch(r"[A-Za-z0-9_-]{1,255}", dashboard_name)),
                  f"may hold only letters, digits, '-' and '_' (at most 255), got {dashboard_name!r}")
        self.period = period or Duration.minutes(5)
        if not Token.is_unresolved(self.period.to_seconds()):
            seconds = self.period.to_seconds()
            check(NAME, "period", 60 <= seconds <= 86400 and seconds % 60 == 0,
                  f"must be whole minutes between 1 minute and 1 day, got {seconds} s")
        self.start = start or "-PT12H"
        check(NAME, "start", bool(re.fullmatch(r"-P(?=\d|T\d)(\d+[WD])?(T(\d+[HMS])+)?", self.start)),
              f"must be a relative ISO 8601 duration such as -PT12H or -P7D, got {self.start!r}")

        self.dashboard = cloudwatch.Dashboard(
            self, "Resource", dashboard_name=dashboard_name, start=self.start,
            period_override=cloudwatch.PeriodOverride.INHERIT,
        )
        self.sections: list[str] = []
        layouts: dict[str, tuple[str, Layout]] = {
            "pipeline": ("Log pipeline", PIPELINE_LAYOUT),
            "alerts": ("Log alerts", ALERTS_LAYOUT),
            "governor": ("Log group governor", GOVERNOR_LAYOUT),
            "audit": ("Audit trail", ()),
        }
        for key, source in sources.items():
            if source is not None:
                title, layout = layouts[key]
                self._section(f"{title} ({_node_path(source)})", source, layout)

    # --- sections -------------------------------------------------------------------------------
    def _section(self, title: str, source: Any, layout: Layout) -> None:
        rows: list[tuple[str, list[cloudwatch.IWidget]]] = []
        used: set[str] = set()
        for row_title, graphs in layout:
            widgets = []
            for graph_title, methods in graphs:
                metrics = [m for m in (self._call(source, name) for name in methods) if m is not None]
                used.update(methods)
                if metrics:
                    widgets.append(_graph(graph_title, metrics))
            if widgets:
                rows.append((row_title, widgets))

        keyed = self._keyed_metrics(source)
        if keyed:
            rows.append(keyed)
            used.add("metric_alerts")

        owner = getattr(getattr(source, "node", None), "id", "")
        functions = [(f"{owner} {label}".strip(), fn) for label, fn in _members(source, FUNCTION_SIGNATURE,
                                                                                 exclude=("setup",))]
        if functions:
            rows.append(("Functions", [w for label, fn in functions for w in self._function_widgets(label, fn)]))
            used.update(FUNCTION_METHODS)
        queues = [(f"{owner} {label}".strip(), queue) for label, queue in _members(source, QUEUE_SIGNATURE)]
        if queues:
            rows.append(("Queues", [self._queue_widget(label, queue) for label, queue in queues]))
            used.update(QUEUE_METHODS)

        other = [
            _graph(_humanize(name), [metric])
            for name in _metric_methods(source) if name not in used
            for metric in [self._call(source, name)] if metric is not None
        ]
        if other:
            rows.append(("Metrics", other))

        alarms = _alarms(source)
        if alarms:
            rows.append(("Alarms", [cloudwatch.AlarmStatusWidget(
                title="Alarm states", alarms=alarms, width=24,
                height=2 + (len(alarms) + 3) // 4,
                sort_by=cloudwatch.AlarmStatusWidgetSortBy.STATE_UPDATED_TIMESTAMP)]))

        if not rows:
            return
        self.sections.append(title)
        self.dashboard.add_widgets(cloudwatch.TextWidget(markdown=f"## {title}", width=24, height=1))
        for row_title, widgets in rows:
            self.dashboard.add_widgets(cloudwatch.TextWidget(markdown=f"**{row_title}**", width=24, height=1))
            self.dashboard.add_widgets(*widgets)

    def _keyed_metrics(self, source: Any) -> Optional[tuple[str, list[cloudwatch.IWidget]]]:
        """Metrics that take a key: alerts per marker (``metric_alerts``), audit events per filter (``metric``)."""
        markers = getattr(source, "markers", None)
        if callable(getattr(source, "metric_alerts", None)) and markers:
            metrics = [self._with_label(self._call(source, "metric_alerts", m), m) for m in markers]
            return "Alerts per marker", [_graph("Alerts per marker", [m for m in metrics if m is not None], width=24)]
        filters = getattr(source, "metric_filters", None)
        if callable(getattr(source, "metric", None)) and isinstance(filters, Mapping) and filters:
            metrics = [self._with_label(self._call(source, "metric", key), key) for key in sorted(filters)]
            return "Events per audit filter", [_graph("Events per audit filter", [m for m in metrics if m is not None],
                                                      width=24)]
        return None

    def _function_widgets(self, label: str, function: Any) -> list[cloudwatch.IWidget]:
        period = {"period": self.period}
        return [
            _graph(f"{label}: invocations, errors, throttles", [
                function.metric_invocations(statistic="Sum", label="Invocations", **period),
                function.metric_errors(statistic="Sum", label="Errors", **period),
                function.metric_throttles(statistic="Sum", label="Throttles", **period),
            ], width=12),
            _graph(f"{label}: duration (ms)", [
                function.metric_duration(statistic="Average", label="Average", **period),
                function.metric_duration(statistic="p99", label="p99", **period),
            ], width=12),
        ]

    def _queue_widget(self, label: str, queue: Any) -> cloudwatch.IWidget:
        return cloudwatch.GraphWidget(
            title=f"{label}: depth", width=12, height=GRAPH_HEIGHT,
            left=[queue.metric_approximate_number_of_messages_visible(statistic="Maximum", label="Messages",
                                                                      period=self.period)],
            right=[queue.metric_approximate_age_of_oldest_message(statistic="Maximum", label="Oldest (s)",
                                                                  period=self.period)],
        )

    # --- calling duck-typed methods ---------------------------------------------------------------
    def _call(self, source: Any, name: str, *args: Any) -> Optional[cloudwatch.IMetric]:
        method = getattr(source, name, None)
        if not callable(method):
            return None
        try:
            metric = method(*args, period=self.period)
        except TypeError:  # a method without a period option
            metric = method(*args)
        return metric if isinstance(metric, (cloudwatch.Metric, cloudwatch.MathExpression)) else None

    @staticmethod
    def _with_label(metric: Optional[Any], label: str) -> Optional[Any]:
        return None if metric is None else metric.with_(label=label)


# --- helpers -------------------------------------------------------------------------------------
def _graph(title: str, metrics: list, *, width: int = GRAPH_WIDTH) -> cloudwatch.GraphWidget:
    return cloudwatch.GraphWidget(title=title, left=metrics, width=width, height=GRAPH_HEIGHT)


def _node_path(source: Any) -> str:
    node = getattr(source, "node", None)
    return node.path if node is not None else type(source).__name__


def _humanize(method: str) -> str:
    return method.removeprefix("metric_").replace("_", " ").capitalize()


def _metric_methods(source: Any) -> list[str]:
    """Public ``metric_*`` methods that need no argument, alphabetically."""
    names = []
    for name in dir(type(source)):
        if not name.startswith("metric_"):
            continue
        method = getattr(source, name, None)
        if not callable(method):
            continue
        try:
            parameters = inspect.signature(method).parameters.values()
        except (TypeError, ValueError):
            continue
        if all(p.kind in (p.VAR_KEYWORD, p.VAR_POSITIONAL) or p.default is not p.empty for p in parameters):
            names.append(name)
    return names


def _members(source: Any, signature: Iterable[str], *, exclude: Iterable[str] = ()) -> list[tuple[str, Any]]:
    """Public attributes whose value has every method of ``signature`` (functions, queues)."""
    found: list[tuple[str, Any]] = []
    seen: set[int] = set()
    for name, value in vars(source).items() if hasattr(source, "__dict__") else ():
        if name.startswith("_") or any(word in name for word in exclude) or id(value) in seen:
            continue
        if all(callable(getattr(value, method, None)) for method in signature):
            seen.add(id(value))
            found.append((name.replace("_", " "), value))
    return found


def _alarms(source: Any) -> list[cloudwatch.IAlarm]:
    alarms = getattr(source, "alarms", None)
    if isinstance(alarms, Mapping):
        alarms = list(alarms.values())
    if not isinstance(alarms, (list, tuple)):
        return []
    return [a for a in alarms if callable(getattr(a, "render_alarm_rule", None)) or hasattr(a, "alarm_arn")]

