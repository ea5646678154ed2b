"""Redaction in the shipper: every event's message is masked before it becomes a document (no I/O).

The message is redacted once, before :mod:`log_shipper.transform` parses it, so every output made
from it carries the masked text: the Firehose record, the ``_bulk`` document and the archive record
(and ``message_base64`` of a line with bytes that are not UTF-8 is taken from the masked text).
The engine and the rules are the shared :mod:`redaction` package (the alerts function's); a JSON line
is decoded, walked pair by pair (a repeated key never weakens it) and written back.

* Rule sets (:data:`~log_shipper.contract.RULE_SETS`): ``default`` for every log group; ``audit``
  for a CloudTrail trail's streams (``<account>_CloudTrail_<region>``) and for the log group name
  prefixes ``REDACT_RULE_SETS`` maps to it (the longest prefix wins, and may map back to ``default``).
* A cheap pre-check (:class:`redaction.precheck.PreCheck`) passes over the lines of a batch together:
  a line no rule can match is left exactly as it came, without a parse.
* A document with something masked has ``redacted``: the names of the rules that fired, sorted.
  Counts per rule become metrics (``Redactions_<rule>``) and ``DocumentsRedacted``.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from itertools import compress
from typing import Iterable, Mapping, Optional, Sequence

from log_subscription import LogBatch, LogEvent
from redaction import BUILTIN_RULE_NAMES, Redactor
from redaction.precheck import PreCheck

from . import contract as c
from .transform import Records, to_records

if any(name not in BUILTIN_RULE_NAMES for rules in c.RULE_SETS.values() for name in rules):  # pragma: no cover
    raise ImportError("log_shipper.redact: contract.RULE_SETS names a rule redaction does not have")
_CLOUDTRAIL_STREAM = re.compile(c.CLOUDTRAIL_STREAM_PATTERN)
_BUILT: dict[tuple, Optional["Redaction"]] = {}


@dataclass
class Redacted:
    """What redaction did to a batch's events: the events to encode, the rules per event id, the counts."""

    events: list[LogEvent]
    fired: dict[str, tuple[str, ...]] = field(default_factory=dict)
    counts: Counter = field(default_factory=Counter)


@dataclass(frozen=True)
class RuleSet:
    redactor: Redactor
    precheck: PreCheck

    @classmethod
    def build(cls, disabled: Iterable[str], patterns: Mapping[str, str], secret_keys: Sequence[str]) -> "RuleSet":
        redactor = Redactor.build(disabled=disabled, extra=patterns, secret_keys=secret_keys)
        return cls(redactor, PreCheck(redactor))


@dataclass(frozen=True)
class Redaction:
    """The shipper's rule sets and which log groups get which."""

    sets: Mapping[str, RuleSet]
    prefixes: tuple[tuple[str, str], ...] = ()  # (log group name prefix, rule set), longest first

    @classmethod
    def from_config(cls, config: c.ShipperConfig) -> Optional["Redaction"]:
        """``None`` when redaction is off."""
        if not config.redact:
            return None
        sets = {name: RuleSet.build(disabled, config.redact_patterns, config.redact_secret_keys)
                for name, disabled in c.RULE_SETS.items()}
        prefixes = tuple(sorted(config.redact_rule_sets.items(), key=lambda item: -len(item[0])))
        return cls(sets, prefixes)

    @staticmethod
    def for_config(config: c.ShipperConfig) -> Optional["Redaction"]:
        """:meth:`from_config`, built once per distinct redaction configuration (its patterns compiled once)."""
        key = (config.redact, tuple(sorted(config.redact_patterns.items())), tuple(config.redact_secret_keys),
               tuple(sorted(config.redact_rule_sets.items())))
        if key not in _BUILT:
            _BUILT[key] = Redaction.from_config(config)
        return _BUILT[key]

    def rule_set(self, log_group: str, log_stream: str) -> str:
        """The name of the rule set for a batch of ``log_group`` / ``log_stream``."""
        for prefix, name in self.prefixes:
            if log_group.startswith(prefix):
                return name
        return c.RULE_SET_AUDIT if _CLOUDTRAIL_STREAM.match(log_stream) else c.RULE_SET_DEFAULT

    def redact(self, batch: LogBatch, events: Sequence[LogEvent]) -> Redacted:
        """``events`` with their messages masked (unchanged events are the same objects)."""
        rules = self.sets[self.rule_set(batch.log_group, batch.log_stream)]
        out = Redacted(list(events))
        flags = rules.precheck.flags([event.message for event in events])
        for position in compress(range(len(flags)), flags):  # only the lines a rule may match
            event = events[position]
            text, counts = rules.redactor.redact(event.message)
            if counts:
                out.events[position] = LogEvent(event.id, event.timestamp_ms, text)
                out.fired[event.id] = tuple(sorted(counts))
                out.counts.update(counts)
        return out

    @staticmethod
    def metrics(redacted: Redacted) -> dict[str, int]:
        """Metric name → value for one batch (only non-zero counts)."""
        values = {c.redaction_metric(rule): count for rule, count in redacted.counts.items()}
        if redacted.fired:
            values[c.METRIC_DOCUMENTS_REDACTED] = len(redacted.fired)
        return values


def redacted_records(redaction: Optional[Redaction], batch: LogBatch, events: Sequence[LogEvent], *,
                     region: Optional[str]) -> tuple[Records, dict[str, int]]:
    """:func:`~log_shipper.transform.to_records` of ``events`` masked by ``redaction`` (None: off), and the
    redaction metrics of the batch."""
    if redaction is None:
        return to_records(batch, events, region=region), {}
    redacted = redaction.redact(batch, events)
    return to_records(batch, redacted.events, region=region, fired=redacted.fired), Redaction.metrics(redacted)
