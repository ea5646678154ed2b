"""Client-side rate limiting per API and backoff on throttling, for CloudWatch Logs control-plane calls.

CloudWatch Logs throttles its control-plane APIs per account and region (the quotas are listed in
the README). A sweep over tens of thousands of log groups stays under them by spacing its own calls
(a token bucket per API, no bursts by default) and backs off with jitter when throttled anyway,
because other callers share the same quota.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Mapping, Optional, TypeVar

from botocore.exceptions import ClientError
from logship.retry import Backoff

from .contract import DEFAULT_RATE_LIMITS, parse_rate_limits

T = TypeVar("T")

THROTTLING_CODES = frozenset({"ThrottlingException", "Throttling", "TooManyRequestsException",
                              "RequestLimitExceeded", "ServiceUnavailableException"})


# Calls are paced 10% slower than the configured rate: evenly spaced calls at exactly the rate put
# ``rate + 1`` calls into a 1 s window as seen by the service as soon as one of them is delayed by a
# millisecond. With 10%, ``rate`` consecutive gaps span 1.1 s: a call may arrive up to 0.1 s late.
JITTER_GUARD = 0.10


class TokenBucket:
    """At most ``rate`` calls per second, at most ``burst`` back to back (``burst=1``: evenly spaced)."""

    def __init__(self, rate: float, burst: float = 1.0, *, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep, guard: float = JITTER_GUARD) -> None:
        if rate <= 0:
            raise ValueError(f"rate must be positive, got {rate}")
        self.configured_rate = rate
        self.rate = rate / (1.0 + guard)
        self.burst = max(burst, 1.0)
        self._clock = clock
        self._sleep = sleep
        self._tokens = 1.0  # start with one call allowed, not a full burst
        self._last = clock()
        self._lock = threading.Lock()

    def acquire(self) -> float:
        """Wait until a call may be made; returns the seconds waited."""
        waited = 0.0
        while True:
            with self._lock:
                now = self._clock()
                self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
                self._last = now
                if self._tokens >= 1.0 - 1e-9:  # tolerance: float refills land a hair under 1.0
                    self._tokens = max(self._tokens - 1.0, 0.0)
                    return waited
                delay = (1.0 - self._tokens) / self.rate
            self._sleep(delay)
            waited += delay


@dataclass
class RateLimiter:
    """One bucket per API name, and throttling-aware retries around each call."""

    rates: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_RATE_LIMITS))
    default_rate: float = 3.0
    max_attempts: int = 6
    base_delay: float = 0.5
    max_delay: float = 20.0
    sleep: Callable[[float], None] = time.sleep
    throttled: int = 0
    _buckets: dict[str, TokenBucket] = field(default_factory=dict)

    def bucket(self, api: str) -> TokenBucket:
        if api not in self._buckets:
            self._buckets[api] = TokenBucket(self.rates.get(api, self.default_rate), sleep=self.sleep)
        return self._buckets[api]

    def call(self, api: str, fn: Callable[..., T], /, **kwargs: object) -> T:
        """``fn(**kwargs)`` within ``api``'s rate; throttling errors are retried with full-jitter backoff."""
        attempt = 0
        while True:
            attempt += 1
            self.bucket(api).acquire()
            try:
                return fn(**kwargs)
            except ClientError as error:
                code = error.response.get("Error", {}).get("Code", "")
                if code not in THROTTLING_CODES or attempt >= self.max_attempts:
                    raise
                self.throttled += 1
                self.sleep(Backoff(self.max_attempts, self.base_delay, self.max_delay).delay(attempt))


parse_rates = parse_rate_limits
