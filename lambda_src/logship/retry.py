"""Exponential backoff with jitter, for what botocore's retry modes cannot retry.

A whole AWS call is retried by botocore (``Config(retries={"mode": "standard"})``, or
``"adaptive"`` for client-side rate limiting). What botocore cannot retry is retried here:

* the failed part of a batch call: the records ``PutRecordBatch`` reports as failed, DynamoDB's
  ``UnprocessedKeys`` / ``UnprocessedItems``, the entries ``PublishBatch`` could not publish
  (:func:`retry_pending`);
* plain HTTP calls: a Slack webhook, signed requests to an OpenSearch domain, and calls whose
  retries must be counted or paced by the caller (:meth:`Backoff.attempts`, :meth:`Backoff.delay`);
* a background sender's pause while its destination is failing.

Standard library only: ``logship`` ships this module to users' applications, and the Lambda
functions of the library import it from here.
"""
from __future__ import annotations

import random
import time
from dataclasses import dataclass
from typing import Callable, Iterator, Sequence, TypeVar

T = TypeVar("T")
FULL = "full"
EQUAL = "equal"
_MAX_EXPONENT = 32


@dataclass(frozen=True)
class Backoff:
    """At most ``max_attempts`` attempts; the ``n``-th retry waits up to ``min(max_s, base_s * 2**(n-1))``.

    ``jitter="full"`` waits uniformly between 0 and that cap (AWS's "full jitter"), ``"equal"``
    between half the cap and the cap (waits that always grow, for a caller that must not retry
    too soon).
    """

    max_attempts: int = 5
    base_s: float = 0.1
    max_s: float = 5.0
    jitter: str = FULL

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError(f"max_attempts must be at least 1, got {self.max_attempts}")
        if self.jitter not in (FULL, EQUAL):
            raise ValueError(f"jitter must be {FULL!r} or {EQUAL!r}, got {self.jitter!r}")

    def cap(self, retry: int) -> float:
        """The longest wait before the ``retry``-th retry (1-based)."""
        return min(self.max_s, self.base_s * 2 ** min(max(retry - 1, 0), _MAX_EXPONENT))

    def delay(self, retry: int) -> float:
        """A jittered wait before the ``retry``-th retry (1-based)."""
        cap = self.cap(retry)
        return random.uniform(cap / 2 if self.jitter == EQUAL else 0.0, cap)

    def attempts(self, sleep: Callable[[float], None] = time.sleep) -> Iterator[int]:
        """Attempt numbers ``1..max_attempts``, sleeping :meth:`delay` before each but the first.

        ``for attempt in backoff.attempts(): ...; break`` on success; the loop ends on its own when
        the attempts are spent.
        """
        for attempt in range(1, self.max_attempts + 1):
            if attempt > 1:
                sleep(self.delay(attempt - 1))
            yield attempt


def retry_pending(send: Callable[[list[T]], Sequence[T]], items: Sequence[T], backoff: Backoff, *,
                  sleep: Callable[[float], None] = time.sleep) -> tuple[list[T], int]:
    """Call ``send(pending)``, which returns what it could not do yet, until nothing is left.

    Returns what is still pending after ``backoff.max_attempts`` calls (empty on success) and the
    number of calls made. Exceptions of ``send`` propagate: a failed whole call is botocore's to
    retry, or the caller's to catch inside ``send``.
    """
    pending = list(items)
    calls = 0
    if not pending:
        return pending, calls
    for _ in backoff.attempts(sleep):
        calls += 1
        pending = list(send(pending))
        if not pending:
            break
    return pending, calls
