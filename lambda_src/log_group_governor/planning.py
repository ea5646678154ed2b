"""Pure decisions of the log group governor: what, if anything, to do to one log group.

Nothing here talks to AWS. ``plan`` takes one entry of a ``DescribeLogGroups`` page (and, when a
destination is configured, the group's subscription filters) and answers with the calls to make.
"""
from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Optional, Sequence

from .contract import (  # noqa: F401  (re-exported: the planning vocabulary)
    GOVERNOR_FILTER_NAME,
    LIBRARY_LOG_GROUP_PREFIX,
    MAX_FILTERS_PER_LOG_GROUP,
    METRIC_NAMES,
    RETENTION_DAYS,
    RETENTION_MODES,
    ConfigError,
    GovernorConfig,
)

# Outcomes of one log group (also the names of the counters and metrics).
COMPLIANT = "compliant"
EXCLUDED = "excluded"
SKIPPED_NO_SLOT = "skipped_no_slot"
SKIPPED_FOREIGN_FILTER = "skipped_foreign_filter"


@dataclass(frozen=True)
class Config:
    retention_days: Optional[int] = None
    retention_mode: str = "missing"
    destination_arn: Optional[str] = None
    role_arn: Optional[str] = None
    filter_name: str = "log-constructs-governor"
    filter_pattern: str = ""
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    always_excluded: tuple[str, ...] = (LIBRARY_LOG_GROUP_PREFIX,)  # prefixes/globs
    always_excluded_names: frozenset[str] = frozenset()  # exact names: the governor's and the destination's
    dry_run: bool = False

    @property
    def subscribes(self) -> bool:
        return self.destination_arn is not None

    @classmethod
    def from_contract(cls, config: GovernorConfig) -> "Config":
        """The planning policy of the configuration the construct wrote."""
        return cls(retention_days=config.retention_days, retention_mode=config.retention_mode,
                   destination_arn=config.destination_arn, role_arn=config.role_arn,
                   filter_name=config.filter_name, filter_pattern=config.filter_pattern,
                   include=config.include, exclude=config.exclude,
                   always_excluded_names=frozenset(config.always_exclude), dry_run=config.dry_run)


def matches(name: str, pattern: str) -> bool:
    """A pattern with ``*``, ``?`` or ``[`` is a glob over the whole name; anything else is a prefix."""
    if any(c in pattern for c in "*?["):
        return fnmatch.fnmatchcase(name, pattern)
    return name.startswith(pattern)


def exclusion_reason(name: str, config: Config) -> Optional[str]:
    """Why ``name`` must not be touched, or ``None``. The loop-prone groups win over ``include``."""
    if name in config.always_excluded_names:
        return "always excluded: the governor's or its destination's own log group (subscribing it would loop)"
    for pattern in config.always_excluded:
        if matches(name, pattern):
            return f"always excluded ({pattern}): a log group of log_constructs itself"
    if config.include and not any(matches(name, p) for p in config.include):
        return "not matched by include"
    for pattern in config.exclude:
        if matches(name, pattern):
            return f"excluded by {pattern}"
    return None


def retention_needed(group: Mapping[str, Any], config: Config) -> Optional[int]:
    """The retention to set, or ``None`` when the group's retention complies."""
    if config.retention_days is None:
        return None
    current = group.get("retentionInDays")
    if current is None:
        return config.retention_days
    if config.retention_mode == "max" and current > config.retention_days:
        return config.retention_days
    return None  # a shorter (or, in "missing" mode, any) retention is the owner's choice


@dataclass(frozen=True)
class SubscriptionDecision:
    action: Optional[str]  # "subscribe" or None
    outcome: Optional[str] = None  # why no action: COMPLIANT, SKIPPED_NO_SLOT, SKIPPED_FOREIGN_FILTER
    detail: str = ""


def subscription_needed(filters: Sequence[Mapping[str, Any]], config: Config) -> SubscriptionDecision:
    """Whether to put the governor's filter, given the group's current subscription filters.

    The governor owns a filter only when it sends to the governor's destination, and then there is
    nothing to do. It never removes or replaces any other filter: one with the governor's name but
    another destination (a second governor's, an earlier destination's, anyone's) is left alone.
    """
    if not config.subscribes:
        return SubscriptionDecision(None, COMPLIANT)
    if any(f.get("destinationArn") == config.destination_arn for f in filters):
        # Already shipped there (by us, by a construct's own filter, or by hand): one slot is enough.
        return SubscriptionDecision(None, COMPLIANT)
    foreign = [f for f in filters if f.get("filterName") == config.filter_name]
    if foreign:
        # Putting a filter of the same name would replace it: two governors would swap every sweep.
        return SubscriptionDecision(None, SKIPPED_FOREIGN_FILTER,
                                    f"a filter named {config.filter_name!r} sends to "
                                    f"{foreign[0].get('destinationArn')!r}, not to this governor's destination")
    if len(filters) >= MAX_FILTERS_PER_LOG_GROUP:
        names = ", ".join(sorted(str(f.get("filterName")) for f in filters))
        return SubscriptionDecision(None, SKIPPED_NO_SLOT, f"both subscription slots are taken ({names})")
    return SubscriptionDecision("subscribe")


@dataclass
class Counters:
    """What a sweep (or one event) did; carried across self-invocations in the cursor."""

    scanned: int = 0
    compliant: int = 0
    retention_set: int = 0
    subscribed: int = 0
    skipped_no_slot: int = 0
    skipped_foreign_filter: int = 0
    opted_out: int = 0
    excluded: int = 0
    failed: int = 0
    pages: int = 0

    def add(self, other: "Counters") -> "Counters":
        return Counters(**{k: getattr(self, k) + getattr(other, k) for k in self.as_dict()})

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Counters":
        known = cls().as_dict()
        return cls(**{k: int(data.get(k, 0)) for k in known})


@dataclass(frozen=True)
class Cursor:
    """Where a sweep stopped: the token of the page being worked on and the last log group done."""

    page_token: Optional[str] = None
    last_done: Optional[str] = None
    counters: Counters = field(default_factory=Counters)
    invocation: int = 1
    started_at: Optional[str] = None

    def to_event(self) -> dict[str, Any]:
        return {"action": "sweep", "cursor": {"page_token": self.page_token, "last_done": self.last_done,
                                               "counters": self.counters.as_dict(),
                                               "invocation": self.invocation, "started_at": self.started_at}}

    @classmethod
    def from_event(cls, event: Mapping[str, Any]) -> "Cursor":
        """The cursor of a continuation event; a fresh one for a new sweep. Raises ValueError when malformed."""
        raw = event.get("cursor") or {}
        if not isinstance(raw, Mapping):
            raise ValueError("cursor must be an object")
        for key in ("page_token", "last_done", "started_at"):
            if raw.get(key) is not None and not isinstance(raw[key], str):
                raise ValueError(f"cursor.{key} must be a string")
        counters = raw.get("counters") or {}
        if not isinstance(counters, Mapping):
            raise ValueError("cursor.counters must be an object")
        return cls(page_token=raw.get("page_token"), last_done=raw.get("last_done"),
                   counters=Counters.from_dict(counters), invocation=int(raw.get("invocation", 1)),
                   started_at=raw.get("started_at"))
