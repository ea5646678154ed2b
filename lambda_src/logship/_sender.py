"""The sender side of logship's handlers: the one thread that drains the queue, and its delivery.

The sender thread wakes when a batch is full (records or bytes), when the oldest record reaches
``flush_seconds``, on ``flush()`` and on ``close()``; it formats each record once and hands the
batch to the subclass's ``_deliver``, on the sender thread itself or, with ``max_concurrent_calls``
above 1, on one of that many delivery workers (:mod:`logship._inflight`) while it formats the next
batch. What the destination did not take goes back to the front of the queue and is retried with
backoff; what it took or refused is counted against the batch it belongs to, so a batch ``close()``
has already reported counts nothing when its answer comes late.

:class:`Sender` is a mixin of :class:`logship._background.BackgroundHandler`, which owns the state
it works on (the queue, the lock, the counters) and the calling thread's side.
"""
from __future__ import annotations

import sys
import threading
import time
from typing import Any, Optional

from . import report as R
from ._records import Encoded, _queued, _rebuild_record, _size


class _Batch:
    """Records taken from the queue, in flight until their delivery is settled.

    ``counted``: how many of them are already counted (delivered or rejected); ``abandoned``: close()
    reported the rest, so a late answer counts nothing.
    """

    __slots__ = ("items", "counted", "abandoned")

    def __init__(self, items: list[Any]) -> None:
        self.items = items
        self.counted = 0
        self.abandoned = False

    @property
    def open_records(self) -> int:
        return len(self.items) - self.counted


class DestinationError(Exception):
    """Raised by ``_deliver``: the destination failed; ``undelivered`` payloads are kept for later."""

    def __init__(self, reason: BaseException | str, undelivered: list[Any]) -> None:
        super().__init__(str(reason))
        self.reason = reason
        self.undelivered = undelivered


class Sender:
    """The sender thread's methods and the delivery hooks the handlers implement."""

    # --- the sender thread ---------------------------------------------------------------------
    def _notice(self, text: str) -> None:
        try:
            sys.stderr.write(f"logship: {type(self).__name__} -> {self.destination}: {text}\n")
            sys.stderr.flush()
        except Exception:  # stderr closed at exit: nothing left to tell
            pass

    def _due(self) -> bool:
        queue = self._queue
        return bool(queue) and (len(queue) >= self.batch_records or self._queued_bytes >= self.batch_bytes
                                or time.monotonic() - _queued(queue[0]) >= self.flush_seconds)

    def _take(self, limit: int) -> _Batch:
        """Up to ``limit`` records and about one call's bytes, oldest first, now in flight; wakes blocked callers."""
        with self._lock:
            queue = self._queue
            items: list[Any] = []
            batch = _Batch(items)
            if self._closed:
                return batch
            taken = 0
            budget = self.batch_bytes
            popleft, append = queue.popleft, items.append
            while queue and len(items) < limit and taken < budget:
                item = popleft()
                taken += _size(item)
                append(item)
            self._queued_bytes -= taken
            if items:
                self._taken.add(batch)
            self._room.notify_all()
            return batch

    def _finish(self, batch: _Batch, payloads: list[Any]) -> bool:
        """``batch`` is settled: return its undelivered ``payloads`` to the front, in order (beyond
        capacity the oldest go). Whether it counted: a batch close() abandoned was reported already."""
        items = [Encoded(payload, self._payload_size(payload)) for payload in payloads]
        with self._lock:
            if batch.abandoned:
                return False
            self._taken.discard(batch)
            queue = self._queue
            queue.extendleft(reversed(items))
            self._queued_bytes += sum(item.size for item in items)
            dropped = 0
            while len(queue) > 1 and (self._queued_bytes > self.max_queue_bytes
                                      or len(queue) > self.max_queue_records):
                self._queued_bytes -= _size(queue.popleft())
                dropped += 1
            self.dropped_records += dropped
            if dropped:
                self._reasons[R.QUEUE_FULL_WHILE_RETRYING] += dropped
        if dropped:
            self._count_drops(dropped)
        return True

    def _fast_formatter(self) -> Any:
        return getattr(self.formatter, "format_attributes", None)

    def _text(self, item: dict[str, Any], fast: Any) -> str:
        """The record's text: ``fast`` (the formatter's ``format_attributes``) when it can, else ``format``."""
        text = fast(item) if fast is not None else None
        return text if text is not None else self.format(_rebuild_record(item))

    def _describe(self, item: Any) -> str:
        """The document a queued item stands for (for the close report)."""
        try:
            if type(item) is Encoded:
                return self._payload_text(item.payload)
            return self._text(item, self._fast_formatter())
        except Exception as error:
            return f"<record of logger {item.get('name')!r} that could not be formatted: {error!r}>"

    def _count(self, count: int, reason: Optional[str] = None) -> None:
        """Count records of the batch this thread is delivering as delivered (``reason`` None) or rejected."""
        batch: Optional[_Batch] = getattr(self._current, "batch", None)
        with self._lock:
            if batch is not None:
                if batch.abandoned:  # close() has reported it: a late answer changes nothing
                    return
                batch.counted += count
            if reason is None:
                self.delivered_records += count
            else:
                self.rejected_records += count
                self._reasons[reason] += count

    def delivered(self, count: int) -> None:
        """Count records the destination took (called by the subclasses' ``_deliver``)."""
        self._count(count)

    def reject(self, count: int, reason: str) -> None:
        """Count records refused for good (called by the subclasses' ``_deliver``)."""
        self._count(count, reason)

    def _send(self, batch: _Batch) -> bool:
        """Format ``batch`` and deliver it, here or on a worker; whether no delivery is failing."""
        payloads: list[Any] = []
        append, encode, text = payloads.append, self._encode, self._text
        fast = self._fast_formatter()  # looked up once a batch
        self._current.batch = batch
        try:
            for item in batch.items:
                if type(item) is Encoded:
                    append(item.payload)
                    continue
                try:
                    append(encode(text(item, fast), item["created"]))
                except Exception as error:  # an unformattable record must not block the others
                    self.reject(1, R.UNFORMATTABLE)
                    self._notice(f"record of logger {item.get('name')!r} could not be formatted: {error!r}")
        finally:
            self._current.batch = None
        if self._in_flight is None:
            return self._settle(batch, payloads)
        self._in_flight.submit(lambda: self._settle(batch, payloads))
        return not self._in_flight.failing

    def _settle(self, batch: _Batch, payloads: list[Any]) -> bool:
        """Deliver ``payloads``; put back what the destination did not take."""
        reason: Any = None
        self._current.batch = batch
        try:
            undelivered = self._deliver(payloads) if payloads else []
        except DestinationError as error:
            undelivered, reason = error.undelivered, error.reason
        except Exception as error:  # a bug or an unexpected answer: keep everything, retry later
            undelivered, reason = payloads, error
        finally:
            self._current.batch = None
        if not self._finish(batch, undelivered):
            return False
        if undelivered:
            self._last_error = repr(reason) if reason else f"{len(undelivered)} record(s) still failing after retries"
            with self._lock:  # deliveries on several workers can fail at once: one notice
                first, self._unreachable = not self._unreachable, True
            if first:
                self._notice(f"cannot deliver ({self._last_error}); keeping up to {self.max_queue_bytes} bytes "
                             "of records and retrying with backoff")
            return False
        self._unreachable = False
        return True

    def _run(self) -> None:
        self._senders.add(threading.get_ident())
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
            with self._lock:
                waiters, self._flush_waiters = self._flush_waiters, []
            forced = closing or bool(waiters)
            if forced or time.monotonic() >= retry_at:
                # Forced: everything queued now, at most once each (new records keep the usual pace).
                budget = len(self._queue) if forced else None
                ok = True
                while ok and self._queue and (budget > 0 if budget is not None else self._due()):
                    limit = self.batch_records if budget is None else min(self.batch_records, budget)
                    batch = self._take(limit)
                    if not batch.items:
                        break
                    if budget is not None:
                        budget -= len(batch.items)
                    ok = self._send(batch)
                if self._in_flight is not None:
                    if forced:  # flush() and close() return once the calls in flight have answered
                        self._in_flight.wait(self.flush_timeout_seconds)
                    ok = not self._in_flight.failed() and ok
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
        if len(queue) >= self.batch_records or self._queued_bytes >= self.batch_bytes:
            wait = 0.0
        return max(wait, retry_at - time.monotonic(), 0.0)

    # --- subclass hooks ------------------------------------------------------------------------
    def _encode(self, text: str, created: float) -> Any:  # pragma: no cover - abstract
        """One record's payload for the API, from its formatted text."""
        raise NotImplementedError

    def _payload_size(self, payload: Any) -> int:  # pragma: no cover - abstract
        raise NotImplementedError

    def _payload_text(self, payload: Any) -> str:  # pragma: no cover - abstract
        raise NotImplementedError

    def _deliver(self, payloads: list[Any]) -> list[Any]:  # pragma: no cover - abstract
        """Send ``payloads`` (within the API limits); return those not delivered, in order."""
        raise NotImplementedError
