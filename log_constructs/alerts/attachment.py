"""How applications attach to LogAlerts: in its stack directly, from other stacks and other CDK apps
through the alerts' published attach points (``LogAlerts.from_name``)."""
from __future__ import annotations

from typing import Optional, Sequence

from aws_cdk import ArnFormat
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from .._private import attach
from .._private.subscriptions import ALERTS_FILTER_NAME, subscribe_function
from ..protocols import LogDestinationConfig
from .props import DEFAULT_MARKERS, NAME, marker_filter_pattern

KIND = "alerts"
FUNCTION_NAME = "function-name"
ATTACH_POINTS = (FUNCTION_NAME,)
# Published beside the name for one minor version, for applications built with the previous release
# (which read the ARN and the pattern); no consumer of this release reads them.
FUNCTION_ARN = "function-arn"
FILTER_PATTERN = "filter-pattern"
LEGACY_ATTACH_POINTS = (FUNCTION_ARN, FILTER_PATTERN)
# The alerts' log groups (construct id below LogAlerts -> part of /log-constructs/alerts/<name>/<part>).
LOG_GROUP_PARTS = {"FunctionLogGroup": "function"}


def alerts_log_group_names(name: str) -> list[str]:
    """Every log group LogAlerts named ``name`` owns (never to be subscribed to its function)."""
    return [attach.library_log_group_name(KIND, name, part) for part in dict.fromkeys(LOG_GROUP_PARTS.values())]


class AlertsAttachment:
    """``add_log_group`` and ``bind_log_destination`` of LogAlerts, wherever the log group is.

    A log group or governor in another stack is served by the alerts' view in that stack (its attach
    points read from SSM), so nothing of the caller enters the alerts' stack.
    """

    name: str
    markers: tuple[str, ...]
    function_arn: str
    filter_pattern: logs.IFilterPattern
    subscriptions: list[logs.SubscriptionFilter]

    def _alerts_function(self) -> Optional[lambda_.IFunction]:
        return None

    def _view(self, scope: Construct, id: str) -> "ImportedLogAlerts":
        view = ImportedLogAlerts(scope, id, name=self.name, markers=self.markers)
        view._pattern = self.filter_pattern  # known in this app: the construct's own, never a parameter
        return view

    def _local(self, target: object) -> "AlertsAttachment":
        assert isinstance(self, Construct)
        view = attach.view_in(self, target, construct=NAME, kind=KIND, name=self.name,
                              factory=self._view,
                              depend=not isinstance(self, ImportedLogAlerts))
        return view or self

    def add_log_group(self, log_group: logs.ILogGroup, *,
                      filter_pattern: Optional[logs.IFilterPattern] = None) -> logs.SubscriptionFilter:
        """Subscribe ``log_group``; its filter, named ``log-constructs-alerts`` (one of its two slots), is
        created in the log group's stack.

        :param filter_pattern: the events to send to the function. Default: - the alerts' ``filter_pattern``
        """
        local = self._local(log_group)
        assert isinstance(local, Construct)
        subscription = subscribe_function(
            local, f"Subscription{log_group.node.addr[:12]}", construct_name=NAME, log_group=log_group,
            function_arn=local.function_arn, function=local._alerts_function(), filter_name=ALERTS_FILTER_NAME,
            filter_pattern=filter_pattern or local.filter_pattern)
        local.subscriptions.append(subscription)
        return subscription

    def bind_log_destination(self, scope: Construct) -> LogDestinationConfig:
        """The alerts function as a subscription destination with the marker filter pattern, as seen
        from ``scope``'s stack."""
        local = self._local(scope)
        return LogDestinationConfig(destination_arn=local.function_arn, function=local._alerts_function(),
                                    filter_name=ALERTS_FILTER_NAME, filter_pattern=local.filter_pattern,
                                    own_log_group_names=alerts_log_group_names(self.name))


class ImportedLogAlerts(AlertsAttachment, Construct):
    """A ``LogAlerts`` of another stack or CDK app, attached by name (``LogAlerts.from_name``).

    It works wherever alerts are accepted: ``alerts=``, ``ship_to=``, ``add_log_group``. The function's
    name is an SSM parameter value resolved when the stack deploys (its ARN is this stack's account and
    region around that name); the alerts' stack must be deployed first, in the same account and region.
    The filter pattern is built here from ``markers``, never read from a parameter.

    :param name: the alerts' ``name``. Required
    :param markers: the markers the alerts were configured with, to build the subscription filter
        pattern. Default: ``DEFAULT_MARKERS`` (``("CRITICAL", "ALERT")``)
    """

    def __init__(self, scope: Construct, id: str, *, name: str, markers: Optional[Sequence[str]] = None) -> None:
        super().__init__(scope, id)
        self.name = name
        self.markers = tuple(markers) if markers is not None else DEFAULT_MARKERS
        self._pattern: Optional[logs.IFilterPattern] = None
        self.subscriptions: list[logs.SubscriptionFilter] = []

    # Each read adds an SSM parameter type to the stack: only the attach points in use are read.
    @property
    def function_arn(self) -> str:  # type: ignore[override]
        """The alerts function's ARN: a function of this stack's account and region, named by the attach point."""
        return attach.read_arn(self, KIND, self.name, FUNCTION_NAME, service="lambda", resource="function",
                               arn_format=ArnFormat.COLON_RESOURCE_NAME)

    @property
    def filter_pattern(self) -> logs.IFilterPattern:  # type: ignore[override]
        """The subscription filter pattern for ``markers``, built from the library's marker rules."""
        return self._pattern or marker_filter_pattern(self.markers)
