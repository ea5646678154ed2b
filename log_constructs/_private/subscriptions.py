"""CloudWatch Logs subscription filters created by this library.

A log group holds at most two subscription filters, and a filter whose name already exists on
the group replaces it. Every construct therefore uses its own, project-wide filter name (below),
and the library refuses at synth time a third filter on one log group and a subscription of a
function to its own log group (an invocation loop).
"""
from __future__ import annotations

from typing import Optional

from aws_cdk import Stack, Token
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_logs_destinations as destinations
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

    Refused when ``log_group`` is ``own_log_group``, where the destination writes its own logs: every
    delivery would log into it and trigger itself forever.
    """
    key = _log_group_key(log_group)
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
    function: lambda_.IFunction,
    filter_name: str,
    filter_pattern: logs.IFilterPattern,
) -> logs.SubscriptionFilter:
    """Subscribe ``function`` to ``log_group``; the Lambda permission is scoped to that log group."""
    return subscribe(scope, id, construct_name=construct_name, log_group=log_group,
                     destination=destinations.LambdaDestination(function), filter_name=filter_name,
                     filter_pattern=filter_pattern, own_log_group=_own_log_group_key(function), kind="function")
