"""CloudWatch Logs subscription filters created by this library.

A log group holds at most two subscription filters, and a filter whose name already exists on
the group replaces it. Every construct therefore uses its own, project-wide filter name (below),
and the library refuses at synth time a third filter on one log group and a subscription of a
function to its own log group (an invocation loop).
"""
from __future__ import annotations

from typing import Optional

import jsii

from aws_cdk import Stack, Token
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_iam as iam
from constructs import Construct

from .._lambda_src.log_group_governor import contract as governor_contract
from .validation import PropError

PIPELINE_FILTER_NAME = "log-constructs-pipeline"
ALERTS_FILTER_NAME = "log-constructs-alerts"
# The governor's function reads these too: written once, in its contract.
GOVERNOR_FILTER_NAME = governor_contract.GOVERNOR_FILTER_NAME
MAX_FILTERS_PER_LOG_GROUP = governor_contract.MAX_FILTERS_PER_LOG_GROUP

SLOTS_ID = "LogConstructsSubscriptionSlots"


class SubscriptionSlots(Construct):
    """The subscription filters this library put on the log groups of one stack.

    It lives in the construct tree, a child of the log group's stack: two Apps in one process, or
    stacks of different accounts and regions in one App, never share it.
    """

    def __init__(self, scope: Construct, id: str) -> None:
        super().__init__(scope, id)
        self._filters: dict[str, list[str]] = {}

    @staticmethod
    def of(log_group: logs.ILogGroup) -> "SubscriptionSlots":
        """The ledger of ``log_group``'s stack (created on first use)."""
        stack = Stack.of(log_group)
        existing = stack.node.try_find_child(SLOTS_ID)
        return existing if isinstance(existing, SubscriptionSlots) else SubscriptionSlots(stack, SLOTS_ID)

    def take(self, construct_name: str, key: str, filter_name: str) -> None:
        """Record ``filter_name`` on log group ``key``; refuse a repeated name or a third filter."""
        filters = self._filters.setdefault(key, [])
        if filter_name in filters:
            raise PropError(f"{construct_name}: log_group {key!r} is already subscribed by a {filter_name!r} filter")
        if len(filters) >= MAX_FILTERS_PER_LOG_GROUP:
            raise PropError(
                f"{construct_name}: log_group {key!r} already has {len(filters)} subscription filters "
                f"({', '.join(filters)}); CloudWatch Logs allows {MAX_FILTERS_PER_LOG_GROUP} per log group"
            )
        filters.append(filter_name)


def _log_group_key(log_group: logs.ILogGroup) -> str:
    name = log_group.log_group_name
    return log_group.node.path if Token.is_unresolved(name) else name


def _own_log_group_key(function: lambda_.IFunction) -> Optional[str]:
    try:
        return _log_group_key(function.log_group)
    except Exception:  # an imported function has no known log group
        return None


def log_groups_arn(scope: Construct) -> str:
    """``arn:<partition>:logs:<region>:<account>:log-group:*`` of ``scope``'s stack."""
    stack = Stack.of(scope)
    return f"arn:{stack.partition}:logs:{stack.region}:{stack.account}:log-group:*"


LOGS_INVOKE_PERMISSION_ID = "InvokeFromCloudWatchLogs"


def allow_log_delivery(function: lambda_.IFunction) -> None:
    """Let CloudWatch Logs of the function's account and region invoke it (once per function).

    Created with the destination, scoped by source account and ``log-group:*``, so no subscribed
    log group is ever named here: subscribing another stack's log group changes nothing of this one.
    """
    if function.node.try_find_child(LOGS_INVOKE_PERMISSION_ID) is not None:
        return
    function.add_permission(LOGS_INVOKE_PERMISSION_ID, principal=iam.ServicePrincipal("logs.amazonaws.com"),
                            source_account=Stack.of(function).account, source_arn=log_groups_arn(function))


@jsii.implements(logs.ILogSubscriptionDestination)
class DestinationArn:
    """A subscription destination by its ARN, with the role CloudWatch Logs assumes (for a stream).

    It creates nothing: the destination's side (a Lambda permission, the role) already exists where
    the destination lives.
    """

    def __init__(self, arn: str, role: Optional[iam.IRole] = None) -> None:
        self.arn, self.role = arn, role

    def bind(self, scope: Construct, source_log_group: logs.ILogGroup) -> logs.LogSubscriptionDestinationConfig:
        return logs.LogSubscriptionDestinationConfig(arn=self.arn, role=self.role)


def subscribe(
    scope: Construct,
    id: str,
    *,
    construct_name: str,
    log_group: logs.ILogGroup,
    destination: logs.ILogSubscriptionDestination,
    filter_name: str,
    filter_pattern: logs.IFilterPattern,
    own_log_group: Optional[str] = None,
    kind: str = "stream",
) -> logs.SubscriptionFilter:
    """Subscribe ``log_group`` to ``destination`` (a ``kind``) in one of its two slots.

    The filter is created in ``scope``, which must be in the log group's stack (the filter belongs
    to the log group's owner). Refused when ``log_group`` is ``own_log_group``, where the destination
    writes its own logs: every delivery would log into it and trigger itself forever.
    """
    key = _log_group_key(log_group)
    if Stack.of(scope) is not Stack.of(log_group):
        raise AssertionError(f"{construct_name}: subscription filter of {key!r} created outside its stack")
    if own_log_group is not None and key == own_log_group:
        raise PropError(
            f"{construct_name}: log_group {key!r} is the log group of the {kind} it would be "
            "subscribed to; every invocation would log into it and trigger itself forever"
        )
    SubscriptionSlots.of(log_group).take(construct_name, key, filter_name)
    return logs.SubscriptionFilter(scope, id, log_group=log_group, destination=destination,
                                   filter_pattern=filter_pattern, filter_name=filter_name)


def subscribe_function(
    scope: Construct,
    id: str,
    *,
    construct_name: str,
    log_group: logs.ILogGroup,
    function_arn: str,
    filter_name: str,
    filter_pattern: logs.IFilterPattern,
    function: Optional[lambda_.IFunction] = None,
) -> logs.SubscriptionFilter:
    """Subscribe the function ``function_arn`` to ``log_group`` (its permission: :func:`allow_log_delivery`).

    ``function``: the function itself when known (its own log group is refused, and it gets its permission).
    """
    if function is not None:
        allow_log_delivery(function)
    subscription = subscribe(scope, id, construct_name=construct_name, log_group=log_group,
                             destination=DestinationArn(function_arn), filter_name=filter_name,
                             filter_pattern=filter_pattern,
                             own_log_group=_own_log_group_key(function) if function is not None else None,
                             kind="function")
    if function is not None and Stack.of(function) is Stack.of(log_group):
        # CloudWatch Logs checks the permission when the filter is created.
        permission = function.node.try_find_child(LOGS_INVOKE_PERMISSION_ID)
        if permission is not None:
            subscription.node.add_dependency(permission)
    return subscription
