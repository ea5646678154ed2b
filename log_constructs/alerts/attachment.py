"""How applications attach to LogAlerts: in its stack directly, from other stacks and other CDK apps
through the alerts' published attach points (``LogAlerts.from_name``)."""
from __future__ import annotations

from typing import Optional

from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from .._private import attach
from .._private.log_groups import function_log_group_names
from .._private.subscriptions import ALERTS_FILTER_NAME, subscribe_function
from ..protocols import LogDestinationConfig
from .props import NAME

KIND = "alerts"
FUNCTION_ARN = "function-arn"
FILTER_PATTERN = "filter-pattern"
ATTACH_POINTS = (FUNCTION_ARN, FILTER_PATTERN)


class AlertsAttachment:
    """``add_log_group`` and ``bind_log_destination`` of LogAlerts, wherever the log group is.

    A log group or governor in another stack is served by the alerts' view in that stack (its attach
    points read from SSM), so nothing of the caller enters the alerts' stack.
    """

    name: str
    function_arn: str
    filter_pattern: logs.IFilterPattern
    subscriptions: list[logs.SubscriptionFilter]

    def _alerts_function(self) -> Optional[lambda_.IFunction]:
        return None

    def _local(self, target: object) -> "AlertsAttachment":
        assert isinstance(self, Construct)
        view = attach.view_in(self, target, construct=NAME, kind=KIND, name=self.name,
                              factory=lambda scope, id: ImportedLogAlerts(scope, id, name=self.name),
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
        function = local._alerts_function()
        return LogDestinationConfig(destination_arn=local.function_arn, function=function,
                                    filter_name=ALERTS_FILTER_NAME, filter_pattern=local.filter_pattern,
                                    own_log_group_names=function_log_group_names(function) if function is not None else [])


class ImportedLogAlerts(AlertsAttachment, Construct):
    """A ``LogAlerts`` of another stack or CDK app, attached by name (``LogAlerts.from_name``).

    It works wherever alerts are accepted: ``alerts=``, ``ship_to=``, ``add_log_group``. Its attributes
    are SSM parameter values resolved when the stack deploys; the alerts' stack must be deployed first,
    in the same account and region.

    :param name: the alerts' ``name``. Required
    """

    def __init__(self, scope: Construct, id: str, *, name: str) -> None:
        super().__init__(scope, id)
        self.name = name
        self.subscriptions: list[logs.SubscriptionFilter] = []

    # Each read adds an SSM parameter type to the stack: only the attach points in use are read.
    @property
    def function_arn(self) -> str:  # type: ignore[override]
        """The alerts function's ARN."""
        return attach.read(self, KIND, self.name, FUNCTION_ARN)

    @property
    def filter_pattern(self) -> logs.IFilterPattern:  # type: ignore[override]
        """The alerts' subscription filter pattern."""
        return logs.FilterPattern.literal(attach.read(self, KIND, self.name, FILTER_PATTERN))
