"""How much time a shipment may take: the invocation's clock against a margin, and PutRecordBatch call plans.

Before every call the :class:`Deadline` is asked whether at least its margin is left. A
``PutRecordBatch`` chunk's attempts and socket timeouts are fitted to the time left
(:func:`plan_calls`): its worst case, every attempt timing out, ends before the invocation does. A
``_bulk`` request gets :meth:`Deadline.budget_s` as its bound as a whole (:mod:`opensearch_client.bulk`).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Optional

from logship.retry import Backoff

from . import contract as c


@dataclass(frozen=True)
class Deadline:
    """``remaining_ms()`` (Lambda's ``context.get_remaining_time_in_millis``) against a safety margin."""

    remaining_ms: Optional[Callable[[], int]] = None
    margin_ms: int = c.DEADLINE_MARGIN_MS
    reserve_ms: int = c.DEAD_LETTER_RESERVE_MS

    def left_ms(self) -> Optional[int]:
        """The time left (None: no clock); one reading, for :meth:`short` and :meth:`budget_s` to share."""
        return None if self.remaining_ms is None else self.remaining_ms()

    def short(self, left_ms: Optional[int] = None) -> bool:
        """True when less than the margin is left (never, without a clock)."""
        left = self.left_ms() if left_ms is None else left_ms
        return left is not None and left < self.margin_ms

    def budget_s(self, left_ms: Optional[int] = None) -> Optional[float]:
        """Seconds the next call may take (a PutRecordBatch chunk with its retries, or one ``_bulk`` request):
        the time left minus the reserve (None: no clock)."""
        left = self.left_ms() if left_ms is None else left_ms
        return None if left is None else (left - self.reserve_ms) / 1000


# botocore's standard retry mode waits up to min(20, 2**n) seconds before its n-th retry.
_BOTOCORE_MAX_BACKOFF_S = 20.0


@dataclass(frozen=True)
class CallPlan:
    """How one chunk is sent: botocore's attempts per call, the shipper's calls for failed records,
    and the socket timeouts of each attempt."""

    attempts: int
    resends: int
    connect_timeout_s: float
    read_timeout_s: float

    def worst_case_s(self, backoff: Backoff) -> float:
        """Every attempt timing out and every backoff at its cap."""
        call = self.attempts * (self.connect_timeout_s + self.read_timeout_s) + sum(
            min(_BOTOCORE_MAX_BACKOFF_S, 2.0 ** n) for n in range(1, self.attempts))
        return self.resends * call + sum(backoff.cap(n) for n in range(1, self.resends))


def plan_calls(budget_s: Optional[float], backoff: Backoff) -> CallPlan:
    """The most attempts (up to ``PUT_MAX_ATTEMPTS`` each) whose worst case fits ``budget_s``; with a short
    budget one attempt with timeouts cut to fit. ``None``: no clock, every attempt."""
    full = CallPlan(c.PUT_MAX_ATTEMPTS, backoff.max_attempts, c.PUT_CONNECT_TIMEOUT_S, c.PUT_READ_TIMEOUT_S)
    if budget_s is None or full.worst_case_s(backoff) <= budget_s:
        return full
    # The most calls in all, the two kinds of retry balanced (throttling shows as either).
    shapes = sorted(((a, r) for a in range(1, c.PUT_MAX_ATTEMPTS + 1) for r in range(1, backoff.max_attempts + 1)),
                    key=lambda shape: (shape[0] * shape[1], min(shape)), reverse=True)
    for attempts, resends in shapes:
        plan = CallPlan(attempts, resends, c.PUT_CONNECT_TIMEOUT_S, c.PUT_READ_TIMEOUT_S)
        if plan.worst_case_s(backoff) <= budget_s:
            return plan
    # Less than one call's timeouts: a quarter to connect, the rest to read, in half seconds (one client each).
    connect = max(0.5, min(c.PUT_CONNECT_TIMEOUT_S, math.floor(budget_s / 2) / 2))
    return CallPlan(1, 1, connect, max(0.5, math.floor((budget_s - connect) * 2) / 2))
