"""What a logship handler can tell about its records: counters any time, a report at close.

``handler.stats`` is a snapshot of the counters (they only grow, except ``queued`` and ``in_flight``);
``handler.close()`` returns a :class:`DeliveryReport`: how many records were delivered, and for
every record that was not, why; the records still held when the handler closed are in it, as the
documents that would have been sent.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

QUEUE_FULL = "queue full"
QUEUE_FULL_AFTER_BLOCKING = "queue full after blocking"
QUEUE_FULL_WHILE_RETRYING = "queue full while retrying"
UNFORMATTABLE = "could not be formatted"
REJECTED = "rejected by the destination"
NOT_SENT_BEFORE_CLOSE = "not delivered before close"
IN_FLIGHT_AT_CLOSE = "in flight at close, no answer"


@dataclass(frozen=True)
class HandlerStats:
    """A snapshot of one handler's counters.

    ``dropped``: discarded by the handler (queue full); ``rejected``: refused for good (unformattable,
    or too old/new for CloudWatch Logs); ``failed``: still undelivered when the handler closed;
    ``queued`` / ``queued_bytes``: waiting now (bytes as counted against ``max_queue_bytes``);
    ``in_flight``: taken from the queue, their delivery not answered yet. Every record the handler
    accepted is in exactly one of these.
    """

    delivered: int
    dropped: int
    rejected: int
    failed: int
    queued: int
    queued_bytes: int
    in_flight: int = 0

    @property
    def accepted(self) -> int:
        return self.delivered + self.dropped + self.rejected + self.failed + self.queued + self.in_flight


@dataclass(frozen=True)
class DeliveryReport:
    """What ``close()`` could not deliver: counts by reason, and the records it still held."""

    destination: str
    delivered: int
    reasons: Mapping[str, int] = field(default_factory=dict)
    undelivered: tuple[str, ...] = ()
    last_error: str = ""

    @property
    def not_delivered(self) -> int:
        return sum(self.reasons.values())

    @property
    def ok(self) -> bool:
        return not self.not_delivered

    def summary(self) -> str:
        if self.ok:
            return f"{self.delivered} record(s) delivered, none lost"
        parts = ", ".join(f"{count} {reason}" for reason, count in self.reasons.items())
        why = f" (last error: {self.last_error})" if self.last_error else ""
        return f"{self.delivered} record(s) delivered, {self.not_delivered} not delivered: {parts}{why}"
