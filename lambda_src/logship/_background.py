"""The core both logship handlers share: a bounded queue drained by one background thread.

The logging call (``emit``) only copies the record, renders its message and exception text, and
appends it to a bounded deque under a short lock: no I/O, no JSON, never blocks on the network and
never raises. When the queue is full the oldest record is dropped and counted. The sender thread
wakes when a batch is full, when the oldest record reaches ``flush_seconds``, on ``flush()`` and on
``close()``; it formats the records (JSON) and hands them to the subclass's ``_deliver``. What the
destination did not take goes back to the front of the queue and is retried with backoff; while the
destination cannot be reached the handler says so once on stderr and keeps what fits in the queue.
``close()`` (also called at interpreter exit, by ``atexit`` and by ``logging.shutdown``) sends
everything still queued.

Records the sender thread itself emits (botocore, urllib3 debug logs of its own AWS calls) are
ignored, and ``botocore``/``boto3``/``urllib3``/``s3transfer`` records below WARNING are not shipped
from any thread, so a handler on the root logger never feeds on its own traffic.
"""
from __future__ import annotations

import atexit
import logging
import os
import sys
import threading
import time
import weakref
from collections import deque
from typing import Any, Optional, Sequence

from .formatter import JsonFormatter
from .retry import EQUAL, Backoff

QUIET_LOGGERS = ("botocore", "boto3", "urllib3", "s3transfer")
_LIVE_HANDLERS: "weakref.WeakSet[BackgroundHandler]" = weakref.WeakSet()


class Encoded:
    """A record already formatted for the destination (kept when a delivery has to be retried)."""

    __slots__ = ("created", "payload", "queued")

    def __init__(self, created: float, payload: Any) -> None:
        self.created = created
        self.payload = payload
        self.queued = time.monotonic()


QUEUED_KEY = "_logship_queued"  # leading "_": JSON formatters leave it out


def _queued(item: Any) -> float:
    """When (monotonic clock) an item was queued: a record's attributes (dict) or an :class:`Encoded`.

    The age of a queued record is measured on the monotonic clock, not from ``record.created``,
    so a record stamped in the past or the future (clock changes, late hand-over) keeps the pace.
    """
    return item[QUEUED_KEY] if isinstance(item, dict) else item.queued


class DestinationError(Exception):
    """Raised by ``_deliver``: the destination failed; ``undelivered`` are kept for a later attempt."""

    def __init__(self, reason: BaseException | str, undelivered: list[Encoded]) -> None:
        super().__init__(str(reason))
        self.reason = reason
        self.undelivered = undelivered


def _copy_record(record: logging.LogRecord) -> dict[str, Any]:
    """The record's attributes (a C-level dict copy), with the message and exception rendered now.

    Rendering in the calling thread (as ``logging.handlers.QueueHandler`` does) freezes the
    arguments and the traceback as they are at the logging call; the JSON is built later, by the
    sender thread, from a record rebuilt with :func:`_rebuild_record`.
    """
    attributes = record.__dict__.copy()
    attributes[QUEUED_KEY] = time.monotonic()
    msg = record.msg
    if isinstance(msg, dict) and not record.args:
        attributes["msg"] = dict(msg)
    else:
        attributes["msg"] = record.getMessage()
        attributes["args"] = None
    if record.exc_info:
        if not record.exc_text:
            record.exc_text = _EXCEPTION_FORMATTER.formatException(record.exc_info)
        attributes["exc_text"] = record.exc_text
        attributes["exc_info"] = None
    return attributes


def _rebuild_record(attributes: dict[str, Any]) -> logging.LogRecord:
    record = logging.LogRecord.__new__(logging.LogRecord)
    record.__dict__ = attributes
    return record


_EXCEPTION_FORMATTER = logging.Formatter()


class BackgroundHandler(logging.Handler):
    """Base class of :class:`~logship.FirehoseHandler` and :class:`~logship.CloudWatchLogsHandler`.

    :param level: the handler's level. Default: ``NOTSET`` (everything the logger passes).
    :param service: the ``service`` field of every document. Default: ``LOGSHIP_SERVICE_NAME``,
        else ``POWERTOOLS_SERVICE_NAME``, else ``"unknown"``.
    :param max_queue_records: records kept in memory while waiting to be sent; beyond it the
        oldest are dropped and counted in ``dropped_records``. Default: 10,000.
    :param batch_records: queued records that trigger a send. Default: the API's per-call limit.
    :param flush_seconds: the oldest queued record is sent at the latest this old. Default: 1.0.
    :param flush_timeout_seconds: how long ``flush()`` and ``close()`` wait. Default: 10.0.
    :param retry_max_seconds: longest pause between attempts while the destination is failing.
        Default: 30.0.
    :param quiet_loggers: logger name prefixes whose records below WARNING are not shipped.
        Default: ``("botocore", "boto3", "urllib3", "s3transfer")``.
    """

    destination = "destination"
    default_batch_records = 500

    def __init__(
        self,
        level: int | str = logging.NOTSET,
        *,
        service: Optional[str] = None,
        max_queue_records: Optional[int] = None,
        batch_records: Optional[int] = None,
        flush_seconds: Optional[float] = None,
        flush_timeout_seconds: Optional[float] = None,
        retry_max_seconds: Optional[float] = None,
        quiet_loggers: Optional[Sequence[str]] = None,
    ) -> None:
        super().__init__(level)
        self.max_queue_records = int(max_queue_records or 10_000)
        self.batch_records = int(batch_records or self.default_batch_records)
        self.flush_seconds = float(flush_seconds if flush_seconds is not None else 1.0)
        self.flush_timeout_seconds = float(flush_timeout_seconds if flush_timeout_seconds is not None else 10.0)
        self.retry_max_seconds = float(retry_max_seconds if retry_max_seconds is not None else 30.0)
        # After n failed sends in a row: between half and all of min(retry_max_seconds, 2**(n-1) s).
        self._pause = Backoff(max_attempts=1, base_s=1.0, max_s=self.retry_max_seconds, jitter=EQUAL)
        if self.max_queue_records < 1 or self.batch_records < 1 or self.flush_seconds <= 0:
            raise ValueError("max_queue_records and batch_records must be >= 1 and flush_seconds > 0")
        self.quiet_loggers = tuple(quiet_loggers if quiet_loggers is not None else QUIET_LOGGERS)
        self.setFormatter(JsonFormatter(service=service))
        # Counters (read them any time; they only grow).
        self.delivered_records = 0
        self.dropped_records = 0
        self.rejected_records = 0
        self._start()
        _LIVE_HANDLERS.add(self)
        if hasattr(os, "register_at_fork"):  # POSIX
            ref = weakref.ref(self)
            os.register_at_fork(after_in_child=lambda: (h := ref()) is not None and h._after_fork())

    # --- state ---------------------------------------------------------------------------------
    def _start(self) -> None:
        self._queue: deque[Any] = deque()
        self._queue_lock = threading.Lock()
        self._wake = threading.Event()
        self._flush_waiters: list[threading.Event] = []
        self._closing = False
        self._closed = False
        self._unreachable = False
        self._sender_ident: Optional[int] = None
        self._thread = threading.Thread(target=self._run, name=f"logship-{type(self).__name__}", daemon=True)
        self._thread.start()

    def _after_fork(self) -> None:
        """In a forked child: the parent's thread is gone and its queue is the parent's to send.

        A client this handler built is rebuilt too: the parent's pooled connections must not be
        shared (a client passed in is the caller's to manage).
        """
        closed = self._closed
        options = getattr(self, "_client_options", None)
        if options:
            from .handlers import _client

            self.client = _client(*options)
        self._start()
        if closed:
            self._closed = self._closing = True

    @property
    def queued_records(self) -> int:
        return len(self._queue)

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
            if threading.get_ident() == self._sender_ident or self._closed:
                return
            item = _copy_record(record)
            with self._queue_lock:
                queue = self._queue
                if len(queue) >= self.max_queue_records:
                    queue.popleft()
                    self.dropped_records += 1
                queue.append(item)
                size = len(queue)
            if size == 1 or size == self.batch_records:
                self._wake.set()
        except Exception:
            self.handleError(record)

    def flush(self) -> None:
        """Send everything queued so far; wait at most ``flush_timeout_seconds``."""
        if self._closed or threading.get_ident() == self._sender_ident or not self._thread.is_alive():
            return
        done = threading.Event()
        with self._queue_lock:
            self._flush_waiters.append(done)
        self._wake.set()
        done.wait(self.flush_timeout_seconds)

    def close(self) -> None:
        """Send everything queued, stop the sender thread, and report what could not be sent."""
        if self._closed:
            return
        self._closing = True
        self._wake.set()
        if threading.get_ident() != self._sender_ident:
            self._thread.join(self.flush_timeout_seconds)
        self._closed = True
        left = len(self._queue)
        if left or self.dropped_records:
            self._notice(f"closed with {left} record(s) not delivered and {self.dropped_records} dropped "
                         f"because the queue was full (max_queue_records={self.max_queue_records})")
        _LIVE_HANDLERS.discard(self)
        super().close()

    # --- the sender thread ---------------------------------------------------------------------
    def _notice(self, text: str) -> None:
        try:
            sys.stderr.write(f"logship: {type(self).__name__} -> {self.destination}: {text}\n")
            sys.stderr.flush()
        except Exception:  # stderr closed at exit: nothing left to tell
            pass

    def _due(self) -> bool:
        queue = self._queue
        return bool(queue) and (len(queue) >= self.batch_records
                                or time.monotonic() - _queued(queue[0]) >= self.flush_seconds)

    def _take(self, limit: int) -> list[Any]:
        with self._queue_lock:
            queue = self._queue
            return [queue.popleft() for _ in range(min(limit, len(queue)))]

    def _put_back(self, items: list[Any]) -> None:
        """Return undelivered items to the front, in order; beyond capacity the oldest go."""
        with self._queue_lock:
            queue = self._queue
            queue.extendleft(reversed(items))
            while len(queue) > self.max_queue_records:
                queue.popleft()
                self.dropped_records += 1

    def _send(self, items: list[Any]) -> bool:
        """Format and deliver ``items``; put back what the destination did not take."""
        encoded: list[Encoded] = []
        for item in items:
            if isinstance(item, Encoded):
                encoded.append(item)
                continue
            try:
                encoded.append(self._encode(_rebuild_record(item)))
            except Exception as error:  # an unformattable record must not block the others
                self.rejected_records += 1
                self._notice(f"record of logger {item.get('name')!r} could not be formatted: {error!r}")
        reason: Any = None
        try:
            undelivered = self._deliver(encoded) if encoded else []
        except DestinationError as error:
            undelivered, reason = error.undelivered, error.reason
        except Exception as error:  # a bug or an unexpected answer: keep everything, retry later
            undelivered, reason = encoded, error
        if undelivered:
            self._put_back(undelivered)
            if not self._unreachable:
                self._unreachable = True
                why = repr(reason) if reason else f"{len(undelivered)} record(s) still failing after retries"
                self._notice(f"cannot deliver ({why}); keeping up to {self.max_queue_records} records "
                             "and retrying with backoff")
            return False
        self._unreachable = False
        return True

    def _run(self) -> None:
        self._sender_ident = threading.get_ident()
        while True:
            try:
                self._loop()
                return
            except Exception as error:  # a bug must not silently stop the shipping
                self._notice(f"sender thread error {error!r}; restarting it in 1 s")
                time.sleep(1.0)

    def _loop(self) -> None:
        failures = 0
        retry_at = 0.0
        while True:
            self._wake.clear()
            closing = self._closing
            with self._queue_lock:
                waiters, self._flush_waiters = self._flush_waiters, []
            forced = closing or bool(waiters)
            if forced or time.monotonic() >= retry_at:
                # Forced: everything queued now, at most once each (new records keep the usual pace).
                budget = len(self._queue) if forced else None
                ok = True
                while ok and self._queue and (budget > 0 if budget is not None else self._due()):
                    limit = self.batch_records if budget is None else min(self.batch_records, budget)
                    items = self._take(limit)
                    if budget is not None:
                        budget -= len(items)
                    ok = self._send(items)
                if ok:
                    failures = 0
                    retry_at = 0.0
                else:
                    failures += 1
                    retry_at = time.monotonic() + self._pause.delay(failures)
            for done in waiters:
                done.set()
            if closing:
                return
            self._wake.wait(self._timeout(retry_at))

    def _timeout(self, retry_at: float) -> Optional[float]:
        queue = self._queue
        if not queue:
            return None
        try:
            wait = self.flush_seconds - (time.monotonic() - _queued(queue[0]))
        except IndexError:  # emptied meanwhile
            return None
        if len(queue) >= self.batch_records:
            wait = 0.0
        return max(wait, retry_at - time.monotonic(), 0.0)

    # --- subclass hooks ------------------------------------------------------------------------
    def _encode(self, record: logging.LogRecord) -> Encoded:  # pragma: no cover - abstract
        raise NotImplementedError

    def _deliver(self, items: list[Encoded]) -> list[Encoded]:  # pragma: no cover - abstract
        """Send ``items`` (within the API limits); return those not delivered, in order."""
        raise NotImplementedError


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
