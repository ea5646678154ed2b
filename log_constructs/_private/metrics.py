"""Metrics, alarms and dashboard widgets built the same way by every construct."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Optional, Sequence

from aws_cdk import Duration
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


def create_alarms(scope: Construct, specs: Sequence[AlarmSpec],
                  actions: Optional[Sequence[cloudwatch.IAlarmAction]]) -> list[cloudwatch.Alarm]:
    """The alarms of ``specs`` (missing data is not breaching), each with every action of ``actions``."""
    alarms = []
    for spec in specs:
        alarm = cloudwatch.Alarm(
            scope, spec.id, metric=spec.metric, threshold=spec.threshold, evaluation_periods=1,
            comparison_operator=spec.comparison, alarm_description=spec.description,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING)
        for action in actions or ():
            alarm.add_alarm_action(action)
        alarms.append(alarm)
    return alarms


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
