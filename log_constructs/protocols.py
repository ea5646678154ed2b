"""The public Protocols of the library: what a log destination is, what a monitorable construct offers.

Any class with these members works (structural typing); the constructs of this library implement
them, and so can a construct of your own.

- :class:`ILogDestination` is what ``add_log_group`` targets and ``ship_to=`` / ``alerts=`` accept:
  ``LogPipeline``, ``LogAlerts``, and the adapters of :mod:`log_constructs.destinations` for a plain
  Lambda function, a Firehose delivery stream or a Kinesis stream.
- :class:`IMonitorable` is what ``LoggingDashboard`` shows: a section title, rows of widgets and
  the construct's alarms.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Optional, Protocol, Sequence, runtime_checkable

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct


@dataclass(frozen=True)
class LogDestinationConfig:
    """How CloudWatch Logs subscriptions reach a destination (what ``LogGroupGovernor`` needs).

    :param destination_arn: ARN a subscription filter delivers to.
    :param function: the Lambda function behind ``destination_arn`` (its own log groups are never
        subscribed; CloudWatch Logs of its account and region may invoke it). Default: - not known here (a
        destination attached by name has its permission in place already)
    :param role: the role CloudWatch Logs assumes to deliver (a stream's), created by the destination.
        Default: - none
    :param grant_write: grants a role the subscriber creates the right to deliver (a destination of
        another account: the sender's role). Default: - the destination needs no sender role
    :param filter_name: the subscription filter name the destination uses for its own subscriptions
        (shared with the governor, so a log group is never subscribed twice). Default: - the governor's own name
    :param filter_pattern: the pattern the destination wants when the user gives none. Default: - every event
    :param own_log_group_names: log groups that must never be subscribed to it (they would loop).
        Default: - none
    """

    destination_arn: str
    function: Optional[lambda_.IFunction] = None
    role: Optional[iam.IRole] = None
    grant_write: Optional[Callable[[iam.IGrantable], object]] = None
    filter_name: Optional[str] = None
    filter_pattern: Optional[logs.IFilterPattern] = None
    own_log_group_names: Sequence[str] = field(default_factory=tuple)


@runtime_checkable
class ILogDestination(Protocol):
    """Something log groups can be subscribed to."""

    def add_log_group(self, log_group: logs.ILogGroup, *,
                      filter_pattern: Optional[logs.IFilterPattern] = None) -> logs.SubscriptionFilter:
        """Subscribe ``log_group`` (a subscription filter with ``filter_pattern``, or the destination's default)."""
        ...

    def bind_log_destination(self, scope: Construct) -> LogDestinationConfig:
        """What a construct in ``scope`` needs to subscribe log groups itself (the governor)."""
        ...


@dataclass(frozen=True)
class DashboardRow:
    """A titled row of dashboard widgets.

    :param title: the row's heading.
    :param widgets: the row's widgets, left to right (a row wraps after 24 units of width).
    """

    title: str
    widgets: Sequence[cloudwatch.IWidget]


@runtime_checkable
class IMonitorable(Protocol):
    """Something ``LoggingDashboard`` can show: one section with rows of widgets and an alarm row."""

    @property
    def alarms(self) -> Sequence[cloudwatch.IAlarm]:
        """The construct's alarms (possibly none); the dashboard shows their states."""
        ...

    @property
    def dashboard_title(self) -> str:
        """The heading of the construct's dashboard section."""
        ...

    def dashboard_widgets(self, *, period: Duration) -> Sequence[DashboardRow]:
        """The rows of the construct's section, every graph over ``period``."""
        ...
