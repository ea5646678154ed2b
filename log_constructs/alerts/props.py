"""LogAlerts' props: markers, routes, redaction rules, and their validation."""
from __future__ import annotations

from typing import Mapping, Optional, Sequence

from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_logs as logs

from .._lambda_src.log_alerts import contract
from .._lambda_src.redaction import names as redaction_names
from .._private.redaction import check_patterns
from .._private.validation import check

NAME = "LogAlerts"
# Markers, redaction rule names and routes are the function's contract: written once, imported here.
DEFAULT_MARKERS = contract.DEFAULT_MARKERS
MARKER_RE = contract.MARKER_PATTERN
RULE_NAME_RE = redaction_names.RULE_NAME_PATTERN
REDACTION_RULES = redaction_names.BUILTIN_RULE_NAMES
GSI_NAME = "by_app_time"
TTL_ATTRIBUTE = "expires_at"
MAX_FILTER_PATTERN_CHARS = 1024
MAX_ROUTES_JSON_CHARS = 2048  # Lambda environment variables total at most 4 KB


#: Send alerts matching ``marker`` and/or ``log_group_prefix`` to ``channel`` (first match wins):
#: ``AlertRoute(channel="#oncall", marker="CRITICAL")``. ``channel`` is a key of the webhook secret;
#: ``marker`` defaults to any marker, ``log_group_prefix`` to any log group.
AlertRoute = contract.Route


def marker_filter_pattern(markers: Sequence[str]) -> logs.IFilterPattern:
    """One regex filter pattern matching each marker as text (``[CRITICAL]``) or as a JSON ``level``.

    CloudWatch Logs cannot combine term matching with a JSON selector (``{ $.level = ... }``) in one
    pattern, and a quoted term cannot contain the double quotes of ``"level":"CRITICAL"``. A regex
    pattern (``%...%``, alternatives with ``|``) covers both forms: ``\\[CRITICAL\\]`` for text and
    ``level.{3,4}CRITICAL`` for ``"level":"CRITICAL"`` / ``"level": "CRITICAL"`` (regex patterns may
    not contain ``"``). The function re-checks every event exactly (markers.classify).
    """
    alternatives = []
    for marker in markers:
        alternatives += [f"\\[{marker}\\]", f"level.{{3,4}}{marker}"]
    return logs.FilterPattern.literal("%" + "|".join(alternatives) + "%")


def validate_markers(markers: Sequence[str]) -> None:
    """``markers``: 1-10 distinct markers of uppercase letters, digits and ``_``."""
    check(NAME, "markers", len(markers) > 0, "must name at least one marker")
    check(NAME, "markers", len(markers) <= 10, f"may hold at most 10 markers, got {len(markers)}")
    for marker in markers:
        check(NAME, "markers", isinstance(marker, str) and bool(MARKER_RE.match(marker)),
              f"entries must be uppercase letters, digits or '_' (at most 32, starting with a letter), got {marker!r}")
    check(NAME, "markers", len(set(markers)) == len(markers), f"has duplicates: {list(markers)}")


def validate(*, markers: Sequence[str], channel: str, routes: Sequence[AlertRoute], redaction_disabled: Sequence[str],
             redaction_patterns: Mapping[str, str], table: Optional[dynamodb.ITable]) -> None:
    """Every prop of LogAlerts that can be checked before anything is built."""
    validate_markers(markers)
    check(NAME, "channel", isinstance(channel, str) and 0 < len(channel.strip()) <= 80,
          f"must be a non-empty channel name of at most 80 characters, got {channel!r}")
    for index, route in enumerate(routes):
        prop = f"routes[{index}]"
        check(NAME, prop, isinstance(route, AlertRoute), f"must be an AlertRoute, got {type(route).__name__}")
        check(NAME, f"{prop}.channel", isinstance(route.channel, str) and 0 < len(route.channel.strip()) <= 80,
              f"must be a non-empty channel name of at most 80 characters, got {route.channel!r}")
        check(NAME, prop, route.marker is not None or route.log_group_prefix is not None,
              "needs a marker or a log_group_prefix (an unconditional route is the channel prop)")
        check(NAME, f"{prop}.marker", route.marker is None or route.marker in markers,
              f"must be one of the markers {', '.join(markers)}, got {route.marker!r}")
        check(NAME, f"{prop}.log_group_prefix",
              route.log_group_prefix is None or (isinstance(route.log_group_prefix, str) and route.log_group_prefix != ""),
              f"must be a non-empty string, got {route.log_group_prefix!r}")
    unknown = sorted(set(redaction_disabled) - set(REDACTION_RULES))
    check(NAME, "redaction_disabled", not unknown,
          f"names unknown rule(s) {', '.join(map(repr, unknown))}; the rules are {', '.join(REDACTION_RULES)}")
    check_patterns(NAME, redaction_patterns, REDACTION_RULES)
    check(NAME, "routes", len(contract.routes_to_json(routes)) <= MAX_ROUTES_JSON_CHARS,
          f"are too many for the function's environment ({MAX_ROUTES_JSON_CHARS} characters of JSON at most)")
    if isinstance(table, dynamodb.Table):
        partition_key = table.schema().partition_key
        check(NAME, "table", partition_key.name == "log_id" and partition_key.type == dynamodb.AttributeType.STRING,
              f"must have the string partition key 'log_id', got {partition_key.name!r}")

