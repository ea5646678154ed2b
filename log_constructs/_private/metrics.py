"""Metrics, alarms and dashboard widgets built the same way by every construct."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Optional, Sequence

from aws_cdk import Annotations, Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from ..protocols import DashboardRow

GRAPH_WIDTH = 6
GRAPH_HEIGHT = 6
FIVE_MINUTES = Duration.minutes(5)


def metric(namespace: str, metric_name: str, dimensions: Mapping[str, str], *, period: Optional[Duration],
           statistic: Optional[str], label: Optional[str], default_statistic: str = "Sum",
           default_period: Duration = FIVE_MINUTES) -> cloudwatch.Metric:
    """A metric with the construct's dimensions; ``None`` options take the construct's defaults."""
    return cloudwatch.Metric(namespace=namespace, metric_name=metric_name, dimensions_map=dict(dimensions),
                             period=period or default_period, statistic=statistic or default_statistic, label=label)


def queue_depth(queue: sqs.IQueue, *, period: Optional[Duration], statistic: Optional[str],
                label: Optional[str]) -> cloudwatch.Metric:
    """Messages waiting in ``queue``. Default: Maximum over 5 minutes."""
    return queue.metric_approximate_number_of_messages_visible(
        period=period or FIVE_MINUTES, statistic=statistic or "Maximum", label=label)


@dataclass(frozen=True)
class AlarmSpec:
    """One alarm of a construct: ``metric`` compared with ``threshold`` over one period."""

    id: str
    metric: cloudwatch.IMetric
    description: str
    threshold: float = 1
    comparison: cloudwatch.ComparisonOperator = cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD


def _alarm(scope: Construct, id: str, metric: cloudwatch.IMetric, description: str, threshold: float,
           comparison: cloudwatch.ComparisonOperator) -> cloudwatch.Alarm:
    return cloudwatch.Alarm(scope, id, metric=metric, threshold=threshold, evaluation_periods=1,
                            comparison_operator=comparison, alarm_description=description,
                            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING)


# Set on a function by ``delivery_failures_alarm``: its alarm, and whether a construct's alarms took it in.
_DELIVERY_ALARM = "_log_constructs_delivery_failures_alarm"
_ADOPTED = "_log_constructs_delivery_failures_adopted"


def destination_delivery_failures(function: lambda_.IFunction, *, period: Optional[Duration] = None,
                                  statistic: Optional[str] = None,
                                  label: Optional[str] = None) -> cloudwatch.Metric:
    """Records Lambda could not send to ``function``'s on-failure destination (lost). Default: Sum, 5 minutes."""
    return function.metric("DestinationDeliveryFailures", period=period or FIVE_MINUTES,
                           statistic=statistic or "Sum", label=label)


def delivery_failures_alarm(function: lambda_.Function) -> cloudwatch.Alarm:
    """The alarm on ``AWS/Lambda`` ``DestinationDeliveryFailures`` of ``function`` (Sum >= 1 in 5 minutes).

    Call it wherever a function gets an on-failure destination: ``failures.send_failures_to`` does for
    asynchronous invocations; for an event source mapping with ``on_failure=`` call it right after
    ``function.add_event_source(...)``. The alarm is a child of the function (one per function, however
    often this is called); ``create_alarms`` of the construct that owns the function takes it into that
    construct's ``alarms`` with its ``alarm_actions``.
    """
    alarm: Optional[cloudwatch.Alarm] = function.__dict__.get(_DELIVERY_ALARM)
    if alarm is None:
        alarm = function.__dict__[_DELIVERY_ALARM] = _alarm(
            function, "DestinationDeliveryFailuresAlarm", destination_delivery_failures(function),
            "Lambda could not deliver a failed invocation's record to the on-failure destination: that event is "
            "lost (check the destination's permissions, key and existence)", 1,
            cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD)
    return alarm


def create_alarms(scope: Construct, specs: Sequence[AlarmSpec],
                  actions: Optional[Sequence[cloudwatch.IAlarmAction]]) -> list[cloudwatch.Alarm]:
    """The alarms of ``specs`` (missing data is not breaching), each with every action of ``actions``.

    The delivery-failure alarm of every function under ``scope`` with an on-failure destination
    (``delivery_failures_alarm``) joins them, so no construct can leave it out.
    """
    alarms = [_alarm(scope, spec.id, spec.metric, spec.description, spec.threshold, spec.comparison)
              for spec in specs]
    for child in scope.node.find_all():
        alarm = child.__dict__.get(_DELIVERY_ALARM)
        if alarm is not None and not child.__dict__.get(_ADOPTED):
            child.__dict__[_ADOPTED] = True
            alarms.append(alarm)
    for alarm in alarms:
        for action in actions or ():
            alarm.add_alarm_action(action)
    if not actions:
        warn_without_alarm_actions(scope, len(alarms))
    return alarms


NO_ALARM_ACTIONS = "log-constructs:no-alarm-actions"


def warn_without_alarm_actions(scope: Construct, count: int) -> None:
    """A warning at synth on ``scope``: its ``count`` alarms notify no one (acknowledge it by its id)."""
    if count:
        Annotations.of(scope).add_warning_v2(
            NO_ALARM_ACTIONS,
            f"{type(scope).__name__} {scope.node.path}: no alarm_actions, so its {count} alarm(s) notify no one; "
            "pass alarm_actions=[cw_actions.SnsAction(topic)] (a topic your on-call tool subscribes to)")


def graph(title: str, metrics: Sequence[cloudwatch.IMetric], *, width: int = GRAPH_WIDTH) -> cloudwatch.GraphWidget:
    return cloudwatch.GraphWidget(title=title, left=list(metrics), width=width, height=GRAPH_HEIGHT)


def graph_row(title: str, graphs: Sequence[tuple[str, Sequence[cloudwatch.IMetric]]]) -> DashboardRow:
    """A row of graphs, one per ``(title, metrics)``."""
    return DashboardRow(title, [graph(graph_title, metrics) for graph_title, metrics in graphs])


def function_row(functions: Sequence[tuple[str, lambda_.IFunction]], period: Duration) -> DashboardRow:
    """Invocations, errors, throttles and duration of each function."""
    widgets: list[cloudwatch.IWidget] = []
    for label, function in functions:
        widgets += [
            graph(f"{label}: invocations, errors, throttles", [
                function.metric_invocations(statistic="Sum", label="Invocations", period=period),
                function.metric_errors(statistic="Sum", label="Errors", period=period),
                function.metric_throttles(statistic="Sum", label="Throttles", period=period),
            ], width=12),
            graph(f"{label}: duration (ms)", [
                function.metric_duration(statistic="Average", label="Average", period=period),
                function.metric_duration(statistic="p99", label="p99", period=period),
            ], width=12),
        ]
    return DashboardRow("Functions", widgets)


def queue_row(queues: Sequence[tuple[str, sqs.IQueue]], period: Duration) -> DashboardRow:
    """Depth and age of the oldest message of each queue."""
    return DashboardRow("Queues", [
        cloudwatch.GraphWidget(
            title=f"{label}: depth", width=12, height=GRAPH_HEIGHT,
            left=[queue.metric_approximate_number_of_messages_visible(statistic="Maximum", label="Messages",
                                                                      period=period)],
            right=[queue.metric_approximate_age_of_oldest_message(statistic="Maximum", label="Oldest (s)",
                                                                  period=period)],
        )
        for label, queue in queues
    ])
