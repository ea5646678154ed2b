"""The core both logship handlers share: a byte-bounded queue drained by one background sender thread.

The logging call (``emit``) only copies the record, renders its message and exception text, and
appends it to the queue under a short lock: no I/O, no JSON, never raises, and never blocks on the
network unless ``overflow="block"`` is chosen. The queue is bounded by bytes (the record's text
plus :data:`RECORD_OVERHEAD_BYTES`, what a queued record costs in memory besides its text). When it
is full the oldest records are dropped (``overflow="drop"``), or the call waits up to ``block_ms``
for room and then drops (``"block"``); drops are counted and told on stderr at most once every
``drop_notice_seconds``, with the count since the last notice.

The sender thread (:mod:`logship._sender`) sends the queue in batches and retries with backoff.
``close()`` (also run at interpreter exit) sends everything still queued and returns a
:class:`~logship.report.DeliveryReport` of what was not delivered.

Every record the handler accepted is, at any time, queued, in flight (taken from the queue and
not answered yet: ``stats.in_flight``), or counted: delivered, dropped, rejected or failed. When
``close()`` gives up waiting, what is still queued or in flight is counted as failed and listed in
the report, and a call that answers later changes nothing: so the report accounts for every
accepted record exactly once, whatever hangs. One lock guards the queue, the counters, the reasons
and the batches in flight; it is held across ``fork`` so a child starts from a consistent copy.

Records the sender thread and its delivery workers emit (botocore, urllib3 debug logs of their own
AWS calls) are ignored, and ``botocore``/``boto3``/``urllib3``/``s3transfer`` records below WARNING
are not shipped from any thread, so a handler on the root logger never feeds on its own traffic.
"""
from __future__ import annotations

import atexit
import logging
import os
import sys
import threading
import time
import weakref
from collections import Counter, deque
from typing import Any, Iterable, Optional, Sequence

from . import report as R
from ._records import (QUEUED_KEY, RECORD_OVERHEAD_BYTES, SIZE_KEY, Encoded, _copy_record,  # noqa: F401
                       _queued, _rebuild_record, _size)
from ._clients import client_for
from ._inflight import InFlight
from ._sender import DestinationError, Sender, _Batch  # noqa: F401  (DestinationError: re-exported)
from .formatter import JsonFormatter
from .retry import EQUAL, Backoff

QUIET_LOGGERS = ("botocore", "boto3", "urllib3", "s3transfer")
DROP, BLOCK = "drop", "block"
# 8 MiB: a burst of ~20,000 typical records (~400 bytes each in memory) waits without loss while
# the sender catches up, and stays a small share of the smallest Lambda function (128 MB).
DEFAULT_MAX_QUEUE_BYTES = 8 * 1024 * 1024
_LIVE_HANDLERS: "weakref.WeakSet[BackgroundHandler]" = weakref.WeakSet()


class BackgroundHandler(Sender, logging.Handler):
    """Base class of :class:`~logship.FirehoseHandler` and :class:`~logship.CloudWatchLogsHandler`.

    :param level: the handler's level. Default: ``NOTSET`` (everything the logger passes).
    :param service: the ``service`` field of every document. Default: ``LOGSHIP_SERVICE_NAME``,
        else ``POWERTOOLS_SERVICE_NAME``, else ``"unknown"``.
    :param max_queue_bytes: bytes of records kept in memory while waiting to be sent (each counts
        its text plus 320 bytes). Default: 8 MiB.
    :param max_queue_records: an extra bound on the number of queued records. Default: - none.
    :param overflow: ``"drop"`` (the oldest records make room) or ``"block"`` (the logging call
        waits up to ``block_ms`` for room, then drops the oldest). Default: ``"drop"``.
    :param block_ms: longest wait of a logging call with ``overflow="block"``. Default: 100.
    :param drop_notice_seconds: at most one stderr notice of dropped records per this many seconds.
        Default: 10.0.
    :param batch_records: queued records that trigger a send. Default: the API's per-call limit.
    :param max_concurrent_calls: API calls in flight at once, on worker threads, while the sender
        formats the next batch. Default: 1 (:class:`~logship.FirehoseHandler`: 4).
    :param flush_seconds: the oldest queued record is sent at the latest this old. Default: 1.0.
    :param flush_timeout_seconds: how long ``flush()`` and ``close()`` wait. Default: 10.0.
    :param retry_max_seconds: longest pause between attempts while the destination is failing.
        Default: 30.0.
    :param quiet_loggers: logger name prefixes whose records below WARNING are not shipped.
        Default: ``("botocore", "boto3", "urllib3", "s3transfer")``.
    """

    destination = "destination"
    default_batch_records = 500
    default_concurrent_calls = 1
    batch_bytes = 1024 * 1024  # the API's per-call byte limit (subclasses)

    def __init__(
        self,
        level: int | str = logging.NOTSET,
        *,
        service: Optional[str] = None,
        max_queue_bytes: Optional[int] = None,
        max_queue_records: Optional[int] = None,
        overflow: Optional[str] = None,
        block_ms: Optional[float] = None,
        drop_notice_seconds: Optional[float] = None,
        batch_records: Optional[int] = None,
        max_concurrent_calls: Optional[int] = None,
        flush_seconds: Optional[float] = None,
        flush_timeout_seconds: Optional[float] = None,
        retry_max_seconds: Optional[float] = None,
        quiet_loggers: Optional[Sequence[str]] = None,
    ) -> None:
        super().__init__(level)
        self.max_queue_bytes = int(max_queue_bytes or DEFAULT_MAX_QUEUE_BYTES)
        self.max_queue_records = int(max_queue_records) if max_queue_records else sys.maxsize
        self.overflow = overflow or DROP
        self.block_seconds = float(block_ms if block_ms is not None else 100.0) / 1000.0
        self.drop_notice_seconds = float(drop_notice_seconds if drop_notice_seconds is not None else 10.0)
        self.batch_records = int(batch_records or self.default_batch_records)
        self.max_concurrent_calls = int(max_concurrent_calls or self.default_concurrent_calls)
        self.flush_seconds = float(flush_seconds if flush_seconds is not None else 1.0)
        self.flush_timeout_seconds = float(flush_timeout_seconds if flush_timeout_seconds is not None else 10.0)
        self.retry_max_seconds = float(retry_max_seconds if retry_max_seconds is not None else 30.0)
        # After n failed sends in a row: between half and all of min(retry_max_seconds, 2**(n-1) s).
        self._pause = Backoff(max_attempts=1, base_s=1.0, max_s=self.retry_max_seconds, jitter=EQUAL)
        for name, value, least in (("max_queue_bytes", max_queue_bytes, 1), ("max_queue_records", max_queue_records, 1),
                                   ("batch_records", batch_records, 1), ("max_concurrent_calls", max_concurrent_calls, 1),
                                   ("flush_seconds", flush_seconds, 1e-3), ("block_ms", block_ms, 0)):
            if value is not None and not value >= least:
                raise ValueError(f"{type(self).__name__}: {name} must be >= {least}, got {value!r}")
        if self.overflow not in (DROP, BLOCK):
            raise ValueError(f"{type(self).__name__}: overflow must be {DROP!r} or {BLOCK!r}, got {overflow!r}")
        self.quiet_loggers = tuple(quiet_loggers if quiet_loggers is not None else QUIET_LOGGERS)
        self.setFormatter(JsonFormatter(service=service))
        # Counters (read them any time, or all at once with ``stats``).
        self.delivered_records = 0
        self.dropped_records = 0
        self.rejected_records = 0
        self.failed_records = 0
        self._reasons: Counter[str] = Counter()
        self._current = threading.local()  # the batch whose delivery this thread is counting
        self._last_error = ""
        self._report: Optional[R.DeliveryReport] = None
        self._start()
        _LIVE_HANDLERS.add(self)
        if hasattr(os, "register_at_fork"):  # POSIX
            ref = weakref.ref(self)
            # The lock is held across fork, so the child copies the queue and counters between two updates.
            os.register_at_fork(before=lambda: (h := ref()) is not None and h._lock.acquire(),
                                after_in_parent=lambda: (h := ref()) is not None and h._lock.release(),
                                after_in_child=lambda: (h := ref()) is not None and h._after_fork())

    # --- state ---------------------------------------------------------------------------------
    def _start(self) -> None:
        self._queue: deque[Any] = deque()
        self._queued_bytes = 0
        self._lock = threading.Lock()  # the queue, the counters, the reasons, the batches in flight
        self._room = threading.Condition(self._lock)
        self._taken: set[_Batch] = set()
        self._wake = threading.Event()
        self._flush_waiters: list[threading.Event] = []
        self._unnoticed_drops = 0
        self._next_drop_notice = 0.0
        self._closing = False
        self._closed = False
        self._unreachable = False
        self._senders: set[int] = set()  # the sender thread and the delivery workers: never shipped from
        name = f"logship-{type(self).__name__}"
        self._in_flight = (InFlight(self.max_concurrent_calls, name, lambda: self._senders.add(threading.get_ident()))
                           if self.max_concurrent_calls > 1 else None)
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _after_fork(self) -> None:
        """In a forked child: the parent's threads are gone, and its queue and calls in flight are the
        parent's to send and count. The lock (held by the parent's fork) is replaced by a new one.

        A client this handler built is rebuilt too: the parent's pooled connections must not be
        shared (a client passed in is the caller's to manage).
        """
        closed = self._closed
        options = getattr(self, "_client_options", None)
        if options:
            self.client = client_for(*options)
        self._start()
        if closed:
            self._closed = self._closing = True

    @property
    def queued_records(self) -> int:
        return len(self._queue)

    @property
    def stats(self) -> R.HandlerStats:
        """The counters now: delivered, dropped, rejected, failed, queued, queued_bytes, in_flight."""
        with self._lock:
            return R.HandlerStats(self.delivered_records, self.dropped_records, self.rejected_records,
                                  self.failed_records, len(self._queue), self._queued_bytes,
                                  sum(batch.open_records for batch in self._taken))

    # --- the calling thread --------------------------------------------------------------------
    def handle(self, record: logging.LogRecord) -> Any:
        """``logging.Handler.handle`` without the handler-wide lock: ``emit`` is thread-safe on its own."""
        result = self.filter(record)
        if result:
            self.emit(result if isinstance(result, logging.LogRecord) else record)
        return result

    def emit(self, record: logging.LogRecord) -> None:
        try:
            if record.levelno < logging.WARNING and record.name.startswith(self.quiet_loggers):
                return
            if threading.get_ident() in self._senders or self._closed:
                return
            item = _copy_record(record)
            size = item[SIZE_KEY]
            with self._lock:
                queue = self._queue
                before = self._queued_bytes
                dropped = 0
                if before + size > self.max_queue_bytes or len(queue) >= self.max_queue_records:
                    dropped = self._make_room(size)
                    before = self._queued_bytes
                queue.append(item)
                self._queued_bytes = after = before + size
                count = len(queue)
            if count == 1 or count == self.batch_records or before < self.batch_bytes <= after:
                self._wake.set()
            if dropped:
                self._count_drops(dropped)
        except Exception:
            self.handleError(record)

    def _full(self, size: int) -> bool:
        return bool(self._queue) and (self._queued_bytes + size > self.max_queue_bytes
                                      or len(self._queue) >= self.max_queue_records)

    def _make_room(self, size: int) -> int:
        """(Lock held.) Wait for room with ``overflow="block"``, then drop the oldest until ``size`` fits."""
        reason = R.QUEUE_FULL
        if self.overflow == BLOCK and self.block_seconds:
            self._wake.set()  # the sender may be waiting for the flush age
            deadline = time.monotonic() + self.block_seconds
            while self._full(size) and not self._closing:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._room.wait(remaining)
            reason = R.QUEUE_FULL_AFTER_BLOCKING
        dropped = 0
        queue = self._queue
        while self._full(size):
            self._queued_bytes -= _size(queue.popleft())
            dropped += 1
        if dropped:
            self.dropped_records += dropped
            self._reasons[reason] += dropped
        return dropped

    def _count_drops(self, dropped: int) -> None:
        """Tell stderr about drops, at most once every ``drop_notice_seconds``, with the count since the last."""
        now = time.monotonic()
        with self._lock:
            self._unnoticed_drops += dropped
            if now < self._next_drop_notice:
                return
            count, self._unnoticed_drops = self._unnoticed_drops, 0
            self._next_drop_notice = now + self.drop_notice_seconds
        self._notice(f"dropped {count} record(s) since the last notice: queue full "
                     f"(max_queue_bytes={self.max_queue_bytes}, overflow={self.overflow!r}); "
                     f"{self.dropped_records} dropped in all")

    def _request_flush(self) -> Optional[threading.Event]:
        if self._closed or threading.get_ident() in self._senders or not self._thread.is_alive():
            return None
        done = threading.Event()
        with self._lock:
            self._flush_waiters.append(done)
        self._wake.set()
        return done

    def flush(self) -> None:
        """Send everything queued so far; wait at most ``flush_timeout_seconds``."""
        flush_all([self])

    def close(self) -> R.DeliveryReport:  # type: ignore[override]
        """Send everything queued, stop the sender thread, and return what could not be delivered.

        The report (also kept as ``handler.report``) counts every record not delivered by reason
        and holds the records still queued, as their documents; when it is not empty, its summary
        is written on stderr.
        """
        if self._report is not None:
            return self._report
        self._closing = True
        self._wake.set()
        if threading.get_ident() not in self._senders:
            self._thread.join(self.flush_timeout_seconds)
        with self._lock:
            # From here nothing enters the queue, and a batch still in flight is reported, not waited for.
            self._closed = True
            left = list(self._queue)
            self._queue.clear()
            self._queued_bytes = 0
            self._room.notify_all()
            unanswered: list[Any] = []
            for batch in self._taken:
                batch.abandoned = True
                # Which ones of a partly counted batch are still open is not known: its last ones stand for them.
                unanswered += batch.items[batch.counted:]
            self._taken.clear()
            for reason, items in ((R.IN_FLIGHT_AT_CLOSE, unanswered), (R.NOT_SENT_BEFORE_CLOSE, left)):
                if items:
                    self.failed_records += len(items)
                    self._reasons[reason] += len(items)
            reasons, delivered = dict(self._reasons), self.delivered_records
        if self._in_flight is not None:
            self._in_flight.stop()
        undelivered = tuple(self._describe(item) for item in unanswered + left)
        report = self._report = R.DeliveryReport(self.destination, delivered, reasons, undelivered, self._last_error)
        if not report.ok:
            self._notice(f"closed: {report.summary()}")
        _LIVE_HANDLERS.discard(self)
        super().close()
        return report

    @property
    def report(self) -> Optional[R.DeliveryReport]:
        """What ``close()`` returned (``None`` while open)."""
        return self._report


def flush_all(handlers: Iterable[BackgroundHandler]) -> None:
    """Flush several handlers at once: each is told first, then waited for (at most its timeout)."""
    pending = [(handler, handler._request_flush()) for handler in handlers]
    for handler, done in pending:
        if done is not None:
            done.wait(handler.flush_timeout_seconds)


@atexit.register
def _close_all() -> None:
    """At interpreter exit: flush and close every live handler (``logging.shutdown`` runs later).

    Every sender is told first, so that handlers drain in parallel and exit waits at most about
    one ``flush_timeout_seconds``, not one per handler.
    """
    handlers = list(_LIVE_HANDLERS)
    for handler in handlers:
        handler._closing = True
        handler._wake.set()
    for handler in handlers:
        try:
            handler.close()
        except Exception:
            pass
