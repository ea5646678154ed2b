"""Which log groups the governor leaves out: its own, its destination's, and every library log group.

Every log group the library creates is tagged (:data:`MANAGED_TAG`) and found in the construct tree
just before synthesis (an aspect), so constructs added after the governor count too. Names chosen
at synth time are written as they are; a generated name (CloudFormation picks it at deploy time) is
written as a reference (``Ref``) when the log group is in the governor's stack.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Optional, Sequence

import jsii
from aws_cdk import Annotations, Aspects, Fn, IAspect, Stack, Token
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct, IConstruct

from .._private.log_groups import LIBRARY_LOG_GROUP_PREFIX, is_library_log_group
from .._private.validation import PropError
from ..protocols import LogDestinationConfig

# CloudWatch Logs: "The selectionCriteria string can be up to 25KB in length", counted in UTF-8 bytes;
# read as 25,000 (the smaller of 25 x 1000 and 25 x 1024) so a policy that passes here deploys.
SELECTION_CRITERIA_LIMIT = 25_000
# Lambda: "The total size of all environment variables can't exceed 4 KB" (keys and values).
LAMBDA_ENVIRONMENT_LIMIT = 4096
# What a reference may resolve to at deploy time, for the estimate of the environment's size.
_UNKNOWN_VALUE_CHARS = 256
_TOKEN = re.compile(r"\$\{Token\[[^\]]*\]\}")


@dataclass
class LibraryLogGroups:
    """The library's log groups of the governor's stack."""

    names: list[str] = field(default_factory=list)  # literal names and references (tokens)
    estimated_chars: dict[str, int] = field(default_factory=dict)  # reference -> estimated name length
    unreachable: list[str] = field(default_factory=list)  # paths: generated names in other stacks


def _same_environment(a: Stack, b: Stack) -> bool:
    pairs = ((a.account, b.account), (a.region, b.region))
    return all(Token.is_unresolved(x) or Token.is_unresolved(y) or x == y for x, y in pairs)


def library_log_groups(home: Stack) -> LibraryLogGroups:
    """Every library log group (tagged, or named under ``/log-constructs/``) of the stack ``home``, and the
    paths of the app's library log groups with generated names in other stacks of its environment.

    Only the governor's own stack is listed: listing another stack's log groups would change the
    governor's template with every application added or removed. The destination's own log groups
    are named from the destination's name (``own_log_group_names``) wherever it is; the function
    excludes ``/log-constructs/`` by prefix. A generated name in another stack can be neither listed
    nor excluded by prefix: :func:`warn_unreachable` says so.
    """
    found = LibraryLogGroups()
    for node in home.node.root.node.find_all():
        if not isinstance(node, logs.CfnLogGroup):
            continue
        name = node.log_group_name
        literal = isinstance(name, str) and not Token.is_unresolved(name)
        if not (is_library_log_group(node) or (literal and name.startswith(LIBRARY_LOG_GROUP_PREFIX))):
            continue
        stack = Stack.of(node)
        if stack is not home:
            if not literal and _same_environment(stack, home):
                found.unreachable.append(node.node.path)
            continue  # a nested or other stack: not this template's
        if literal:
            found.names.append(name)
        else:
            ref = node.ref
            found.names.append(ref)
            stack_name = stack.stack_name
            logical_id = stack.get_logical_id(node)
            # CloudFormation names it <stack name>-<logical id>-<12 characters>.
            found.estimated_chars[ref] = (len(stack_name) if not Token.is_unresolved(stack_name) else 128) \
                + len(logical_id) + 14
    found.names = list(dict.fromkeys(found.names))
    return found


def warn_unreachable(scope: IConstruct, found: LibraryLogGroups, construct_name: str = "LogGroupGovernor") -> None:
    """A synth warning naming the library log groups of other stacks that the governor may govern or forward."""
    if found.unreachable:
        Annotations.of(scope).add_warning_v2(
            "log-constructs:governor-unreachable-log-groups",
            f"{construct_name}: these library log groups have names CloudFormation generates in another "
            f"stack, so {construct_name} cannot list them and may govern or forward them; put it in their stack "
            "or add their names (or a prefix) to its exclusions: " + ", ".join(sorted(found.unreachable)))


def check_own_log_groups_named(construct: str, destination: LogDestinationConfig, ship_to: object) -> None:
    """Refuse an account policy towards a destination in this account whose own log groups are not known by name.

    The policy selects every log group except exact names; a destination that reads what it is sent and
    logs in this account (a function, or a stream's consumer) would be sent its own logs, forever.
    A destination of another account (``grant_write``) logs there, not here.
    """
    if destination.own_log_group_names or destination.grant_write is not None:
        return
    raise PropError(
        f"{construct}: subscription_mode 'account-policy' cannot be used with ship_to={type(ship_to).__name__}: "
        "an account policy selects every log group except exact names, and the log groups of what reads that "
        "destination cannot be named here, so they would be sent to it and loop. Use subscription_mode='per-group' "
        "(it excludes /log-constructs/ and exclude= prefixes), or ship to a LogPipeline or LogAlerts (their log "
        "groups are named from their name, /log-constructs/<kind>/<name>/...)")


def selection_criteria(names: Sequence[str]) -> str:
    """``LogGroupName NOT IN [...]``: the only selector a subscription filter account policy accepts."""
    return "LogGroupName NOT IN [" + ", ".join(f'"{n}"' for n in dict.fromkeys(names)) + "]"


def check_selection_criteria(construct: str, prop: str, names: Sequence[str],
                             estimated_chars: Optional[dict[str, int]] = None) -> str:
    """The criteria for ``names``, or a :class:`PropError` when they pass :data:`SELECTION_CRITERIA_LIMIT`."""
    criteria = selection_criteria(names)
    size = _estimated_chars(criteria, estimated_chars or {})
    if Token.is_unresolved(criteria):
        size += len(criteria.encode("utf-8")) - len(criteria)  # non-ASCII bytes of the literal parts
    else:
        size = len(criteria.encode("utf-8"))
    if size > SELECTION_CRITERIA_LIMIT:
        raise PropError(
            f"{construct}: {prop} do not fit in the account policy's selection criteria: "
            f"{len(dict.fromkeys(names))} log group names make about {size} bytes of LogGroupName NOT IN [...], "
            f"over CloudWatch Logs' 25 KB ({SELECTION_CRITERIA_LIMIT} bytes). Exclude fewer log groups, "
            f"or use mode='per-group', which excludes by prefix")
    return criteria


def json_document(fields: dict[str, str]) -> str:
    """``fields`` as a JSON object, deploy-time values inserted as they are (``Fn::Join``).

    Unlike ``Stack.to_json_string``, which escapes the literals inside a deploy-time value's functions
    (a ``Fn::Split`` delimiter ``"`` would become ``\\"``), this keeps every function as written, so a
    destination ARN cut at quotes and backslashes (``attach.name_only``) stays cut.
    """
    parts: list[str] = []
    for index, (key, value) in enumerate(fields.items()):
        parts.append(("{" if index == 0 else ",") + json.dumps(key) + ":")
        parts += ['"', value, '"'] if Token.is_unresolved(value) else [json.dumps(value)]
    parts.append("}")
    return Fn.join("", parts)


def subscription_account_policy(scope: Construct, id: str, *, construct_name: str, prop: str, policy_name: str,
                                destination_arn: str, filter_pattern: logs.IFilterPattern,
                                excluded: Sequence[str], role_arn: Optional[str] = None) -> logs.CfnAccountPolicy:
    """An account-level subscription filter policy (every log group of the account and region) that never
    selects ``excluded`` nor, just before synthesis, any library log group of the app in that environment."""
    document: dict[str, Any] = {"DestinationArn": destination_arn,
                                "FilterPattern": filter_pattern.log_pattern_string, "Distribution": "Random"}
    if role_arn is not None:
        document["RoleArn"] = role_arn
    policy = logs.CfnAccountPolicy(
        scope, id,
        policy_name=policy_name,
        policy_type="SUBSCRIPTION_FILTER_POLICY",
        scope="ALL",
        policy_document=json_document(document),
        selection_criteria=check_selection_criteria(construct_name, prop, excluded),
    )
    Aspects.of(policy).add(ExcludeLibraryLogGroups(policy, excluded, construct_name=construct_name, prop=prop))
    return policy


@jsii.implements(IAspect)
class ExcludeLibraryLogGroups:
    """Before synthesis, adds every library log group of the app (even ones created after the governor)."""

    def __init__(self, policy: logs.CfnAccountPolicy, names: Sequence[str], *, construct_name: str = "LogGroupGovernor",
                 prop: str = "exclude") -> None:
        self._policy = policy
        self._names = list(names)
        self._construct_name = construct_name
        self._prop = prop

    def visit(self, node: IConstruct) -> None:
        if node is self._policy:
            found = library_log_groups(Stack.of(node))
            warn_unreachable(node, found, self._construct_name)
            self._policy.selection_criteria = check_selection_criteria(
                self._construct_name, f"{self._prop} and the library's own log groups",
                [*self._names, *found.names], found.estimated_chars)


def estimated_environment_size(variables: dict[str, Any], estimated_chars: dict[str, int]) -> int:
    """Characters of ``variables`` (keys and values) once deployed; references are estimated."""
    return sum(len(key) + _estimated_chars(value, estimated_chars) for key, value in variables.items())


def _estimated_chars(value: Any, estimates: dict[str, int]) -> int:
    if isinstance(value, str):
        if not Token.is_unresolved(value):
            return len(value)
        rest = _TOKEN.sub("", value)
        return len(rest) + sum(estimates.get(t, _UNKNOWN_VALUE_CHARS) for t in _TOKEN.findall(value))
    return _UNKNOWN_VALUE_CHARS


@jsii.implements(IAspect)
class ExcludeLibraryLogGroupsFromFunction:
    """Before synthesis, writes the governor's exclusions and every library log group into ``ALWAYS_EXCLUDE``.

    Log groups named under ``/log-constructs/`` are left out of the list: the function excludes that
    prefix in code. Fails synthesis when the function's environment would pass Lambda's 4 KB.
    """

    def __init__(self, function: lambda_.Function, own: Sequence[str], variable: str,
                 environment: dict[str, str]) -> None:
        self._function = function
        self._own = list(own)
        self._variable = variable
        self._environment = environment

    def visit(self, node: IConstruct) -> None:
        if node is not self._function:
            return
        found = library_log_groups(Stack.of(node))
        warn_unreachable(node, found)
        listed = [n for n in found.names if Token.is_unresolved(n) or not n.startswith(LIBRARY_LOG_GROUP_PREFIX)]
        value = ",".join(dict.fromkeys([*self._own, *listed]))
        self._function.add_environment(self._variable, value)
        variables = {**self._environment, self._variable: value}
        size = estimated_environment_size(variables, found.estimated_chars)
        if size > LAMBDA_ENVIRONMENT_LIMIT:
            raise PropError(
                f"LogGroupGovernor: the function's environment would be about {size} characters, over Lambda's "
                f"{LAMBDA_ENVIRONMENT_LIMIT} (4 KB): {self._variable} lists {len(listed)} library log groups of "
                f"this app whose names are not under {LIBRARY_LOG_GROUP_PREFIX}. Put fewer library constructs in "
                f"the governor's stack ({Stack.of(node).stack_name}), or exclude their log groups by prefix "
                f"(exclude=[...]) instead")
