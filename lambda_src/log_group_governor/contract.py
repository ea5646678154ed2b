"""What the LogGroupGovernor construct and its function agree on (standard library only).

The construct writes :meth:`GovernorConfig.to_environment`; the function reads it back with
:meth:`GovernorConfig.from_environment`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Optional

ENV_RETENTION_DAYS = "RETENTION_DAYS"
ENV_RETENTION_MODE = "RETENTION_MODE"
ENV_DESTINATION_ARN = "DESTINATION_ARN"
ENV_DESTINATION_ROLE_ARN = "DESTINATION_ROLE_ARN"
ENV_FILTER_NAME = "FILTER_NAME"
ENV_FILTER_PATTERN = "FILTER_PATTERN"
ENV_INCLUDE = "INCLUDE"
ENV_EXCLUDE = "EXCLUDE"
ENV_ALWAYS_EXCLUDE = "ALWAYS_EXCLUDE"
ENV_DRY_RUN = "DRY_RUN"
ENV_RATE_LIMITS = "RATE_LIMITS"
ENV_TIME_RESERVE_MS = "TIME_RESERVE_MS"
ENV_DEAD_LETTER_QUEUE_URL = "DEAD_LETTER_QUEUE_URL"

# Every log group of the library's own functions starts with this prefix; never governed.
LIBRARY_LOG_GROUP_PREFIX = "/log-constructs/"
GOVERNOR_FILTER_NAME = "log-constructs-governor"
# A log group tagged SHIP_TAG_KEY=SHIP_TAG_OPT_OUT is never subscribed by a governor (its retention still is):
# its application ships its logs itself (logship), so the owner opts out from its own stack.
SHIP_TAG_KEY = "log-constructs:ship"
SHIP_TAG_OPT_OUT = "false"
MAX_FILTERS_PER_LOG_GROUP = 2
RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557,
                  2922, 3288, 3653)
RETENTION_MODES = ("missing", "max")
DEFAULT_TIME_RESERVE_MS = 30_000
# Calls per second per CloudWatch Logs API; the defaults stay below the service quotas.
DEFAULT_RATE_LIMITS = {
    "DescribeLogGroups": 5.0,
    "DescribeSubscriptionFilters": 3.0,
    "PutRetentionPolicy": 3.0,
    "PutSubscriptionFilter": 3.0,
    "ListTagsForResource": 3.0,
}
# Counter field -> the metric the function emits for it (EMF, dimension ``service``).
METRIC_NAMES = {
    "scanned": "GroupsScanned",
    "compliant": "GroupsCompliant",
    "retention_set": "RetentionSet",
    "subscribed": "Subscribed",
    "skipped_no_slot": "SkippedNoSlot",
    "skipped_foreign_filter": "SkippedForeignFilter",
    "opted_out": "ShippingOptedOut",
    "excluded": "GroupsExcluded",
    "failed": "Failed",
}
METRIC_THROTTLED_RETRIES = "ThrottledRetries"
ALL_METRIC_NAMES = (*METRIC_NAMES.values(), METRIC_THROTTLED_RETRIES)


class ConfigError(ValueError):
    """The governor's environment is incomplete or wrong."""


def _names(value: str) -> tuple[str, ...]:
    return tuple(p for p in (s.strip() for s in value.split(",")) if p)


def parse_rate_limits(spec: Optional[str]) -> dict[str, float]:
    """``"DescribeLogGroups=5,PutRetentionPolicy=3"`` -> rates over :data:`DEFAULT_RATE_LIMITS`."""
    rates = dict(DEFAULT_RATE_LIMITS)
    for part in _names(spec or ""):
        api, _, value = part.partition("=")
        rate = float(value)
        if rate <= 0:
            raise ConfigError(f"rate of {api.strip()} must be positive, got {value!r}")
        rates[api.strip()] = rate
    return rates


@dataclass(frozen=True)
class GovernorConfig:
    """The governor's configuration (environment variable in brackets).

    :param retention_days: retention governed groups get (``RETENTION_DAYS``). Default: - none set
    :param retention_mode: ``missing`` or ``max`` (``RETENTION_MODE``). Default: missing
    :param destination_arn: subscription destination (``DESTINATION_ARN``). Default: - no subscription
    :param role_arn: role CloudWatch Logs assumes for it (``DESTINATION_ROLE_ARN``).
    :param filter_name: (``FILTER_NAME``). Default: log-constructs-governor
    :param filter_pattern: (``FILTER_PATTERN``). Default: - every event
    :param include: / :param exclude: prefixes or globs (``INCLUDE`` / ``EXCLUDE``, comma-separated).
    :param always_exclude: exact names never governed (``ALWAYS_EXCLUDE``): the governor's, the destination's.
    :param dry_run: (``DRY_RUN``). Default: false
    :param rate_limits: calls per second per API (``RATE_LIMITS``, ``Api=rate,...``).
    :param time_reserve_ms: time kept for the hand-over of a sweep (``TIME_RESERVE_MS``). Default: 30000
    :param dead_letter_queue_url: (``DEAD_LETTER_QUEUE_URL``). Default: - malformed events fail the invocation
    """

    retention_days: Optional[int] = None
    retention_mode: str = "missing"
    destination_arn: Optional[str] = None
    role_arn: Optional[str] = None
    filter_name: str = GOVERNOR_FILTER_NAME
    filter_pattern: str = ""
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    always_exclude: tuple[str, ...] = ()
    dry_run: bool = False
    rate_limits: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_RATE_LIMITS))
    time_reserve_ms: int = DEFAULT_TIME_RESERVE_MS
    dead_letter_queue_url: Optional[str] = None

    def to_environment(self) -> dict[str, str]:
        environment = {
            ENV_RETENTION_MODE: self.retention_mode,
            ENV_DRY_RUN: "true" if self.dry_run else "false",
            ENV_INCLUDE: ",".join(self.include),
            ENV_EXCLUDE: ",".join(self.exclude),
            ENV_ALWAYS_EXCLUDE: ",".join(self.always_exclude),
            ENV_RATE_LIMITS: ",".join(f"{api}={rate:g}" for api, rate in self.rate_limits.items()),
            ENV_TIME_RESERVE_MS: str(self.time_reserve_ms),
            ENV_FILTER_NAME: self.filter_name,
        }
        optional = {ENV_RETENTION_DAYS: self.retention_days, ENV_DESTINATION_ARN: self.destination_arn,
                    ENV_DESTINATION_ROLE_ARN: self.role_arn, ENV_DEAD_LETTER_QUEUE_URL: self.dead_letter_queue_url}
        environment.update({name: str(value) for name, value in optional.items() if value is not None})
        if self.destination_arn is not None:
            environment[ENV_FILTER_PATTERN] = self.filter_pattern
        return environment

    @classmethod
    def from_environment(cls, environ: Mapping[str, str]) -> "GovernorConfig":
        retention = environ.get(ENV_RETENTION_DAYS, "").strip()
        mode = environ.get(ENV_RETENTION_MODE, "missing").strip()
        if retention and (not retention.isdigit() or int(retention) not in RETENTION_DAYS):
            raise ConfigError(f"RETENTION_DAYS must be one of {RETENTION_DAYS}, got {retention!r}")
        if mode not in RETENTION_MODES:
            raise ConfigError(f"RETENTION_MODE must be one of {RETENTION_MODES}, got {mode!r}")
        reserve = environ.get(ENV_TIME_RESERVE_MS, "").strip() or str(DEFAULT_TIME_RESERVE_MS)
        if not reserve.isdigit():
            raise ConfigError(f"TIME_RESERVE_MS must be a number of milliseconds, got {reserve!r}")
        return cls(
            retention_days=int(retention) if retention else None,
            retention_mode=mode,
            destination_arn=environ.get(ENV_DESTINATION_ARN) or None,
            role_arn=environ.get(ENV_DESTINATION_ROLE_ARN) or None,
            filter_name=environ.get(ENV_FILTER_NAME, GOVERNOR_FILTER_NAME).strip(),
            filter_pattern=environ.get(ENV_FILTER_PATTERN, ""),
            include=_names(environ.get(ENV_INCLUDE, "")),
            exclude=_names(environ.get(ENV_EXCLUDE, "")),
            always_exclude=_names(environ.get(ENV_ALWAYS_EXCLUDE, "")),
            dry_run=environ.get(ENV_DRY_RUN, "false").lower() == "true",
            rate_limits=parse_rate_limits(environ.get(ENV_RATE_LIMITS)),
            time_reserve_ms=int(reserve),
            dead_letter_queue_url=environ.get(ENV_DEAD_LETTER_QUEUE_URL) or None,
        )
