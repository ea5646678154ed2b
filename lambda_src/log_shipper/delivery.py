"""Shipping one subscription payload: decode, transform, dead-letter what is invalid, deliver (no globals).

:class:`Shipper` holds what one execution environment shares between invocations: the Firehose
and SQS clients (injected), the configuration and the :class:`ProgressCache`. The handler builds
it; tests and benchmarks build their own against the emulator.

Delivery is at least once. The progress cache remembers, per payload (sha256 of ``awslogs.data``),
which events a failed invocation already delivered and whether its invalid events were
dead-lettered, so Lambda's retry of the same payload in the same execution environment sends only
the rest. Each document carries the CloudWatch event ``id``, which identifies duplicates.

Time: records go out in chunks (one ``PutRecordBatch`` call each) and before every chunk the
:class:`Deadline` is asked whether at least its margin is left. A chunk's attempts and socket timeouts
are fitted to the time left (:func:`plan_calls`): its worst case, every attempt timing out, ends
before the invocation does, so a timeout never cuts a call whose records then go out again. When it is not, the payload stops
there: a direct subscription sends its undelivered events to the dead-letter queue as ``deferred``
(``reason=deadline``, redrivable) and succeeds; a Kinesis record (``source_record``) keeps its
progress and comes back ``incomplete``, so the caller reports it for Lambda to retry. Either way no
event is sent twice by this function and none is lost to the timeout.
"""
from __future__ import annotations

import hashlib
import logging
import math
from collections import OrderedDict
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Mapping, Optional

from log_subscription import LogEvent, decode_payload
from logship.firehose import iter_batches, put_record_batch
from logship.retry import Backoff

from . import contract as c
from .dead_letter import DeadLetter, deferred_letters, event_letters, payload_letters, record_letters
from .transform import Records, to_records

REMEMBERED_PAYLOADS = 64


class DeliveryError(RuntimeError):
    """Some records could not be delivered: the invocation fails so that Lambda retries it."""


@dataclass
class Progress:
    """What a failed invocation already did, for Lambda's retry of the same payload."""

    delivered: set[str] = field(default_factory=set)
    dead_lettered: bool = False

    @property
    def retried(self) -> bool:
        return bool(self.delivered or self.dead_lettered)


class ProgressCache:
    """The progress of the last ``size`` payloads whose invocation failed (oldest forgotten first)."""

    def __init__(self, size: int = REMEMBERED_PAYLOADS) -> None:
        self.size = size
        self._entries: "OrderedDict[str, Progress]" = OrderedDict()

    @staticmethod
    def key(event: Mapping[str, Any]) -> str:
        return hashlib.sha256(event["awslogs"]["data"].encode("utf-8", "surrogatepass")).hexdigest()

    def take(self, key: str) -> Progress:
        return self._entries.pop(key, None) or Progress()

    def keep(self, key: str, progress: Progress) -> None:
        self._entries[key] = progress
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)

    def clear(self) -> None:
        self._entries.clear()


def _no_metrics(name: str, value: int) -> None:
    pass


@dataclass(frozen=True)
class Deadline:
    """``remaining_ms()`` (Lambda's ``context.get_remaining_time_in_millis``) against a safety margin."""

    remaining_ms: Optional[Callable[[], int]] = None
    margin_ms: int = c.DEADLINE_MARGIN_MS
    reserve_ms: int = c.DEAD_LETTER_RESERVE_MS

    def short(self) -> bool:
        """True when less than the margin is left (never, without a clock)."""
        return self.remaining_ms is not None and self.remaining_ms() < self.margin_ms

    def budget_s(self) -> Optional[float]:
        """Seconds one chunk's calls may take: the time left minus the reserve (None: no clock)."""
        return None if self.remaining_ms is None else (self.remaining_ms() - self.reserve_ms) / 1000


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


@dataclass
class Shipper:
    """Ships subscription payloads to ``config.delivery_stream_name``; see the module docstring.

    :param firehose: a boto3 Firehose client (botocore retries failed whole calls).
    :param sqs: a boto3 SQS client for the dead-letter queue.
    :param count: ``count(metric_name, value)``, called for each non-zero count.
    :param firehose_for: the Firehose client for a :class:`CallPlan` (its attempts and timeouts), so a
        chunk's calls end within the invocation's time. Default: - ``firehose`` whatever the time left.
    """

    firehose: Any
    sqs: Any
    config: c.ShipperConfig
    progress: ProgressCache = field(default_factory=ProgressCache)
    log: Any = field(default_factory=lambda: logging.getLogger("log_shipper"))
    count: Callable[[str, int], None] = _no_metrics
    backoff: Backoff = field(default_factory=lambda: Backoff(max_attempts=c.PUT_MAX_ATTEMPTS))
    firehose_for: Optional[Callable[[CallPlan], Any]] = None

    def _count(self, name: str, value: int) -> None:
        if value:
            self.count(name, value)

    add_count = _count

    def dead_letter_record(self, record: Any, error: Exception) -> dict[str, Any]:
        """Keep a Kinesis record that cannot be shipped in the dead-letter queue, as delivered."""
        return self._dead_letter_payload(None, error, record)

    def _send(self, letters: list[DeadLetter]) -> None:
        for letter in letters:
            self.sqs.send_message(**letter.send_message_kwargs(self.config.dead_letter_queue_url))

    def _dead_letter_payload(self, event: Any, error: Exception, source_record: Any = None) -> dict[str, Any]:
        stage = str(getattr(error, "stage", "undecodable"))
        if source_record is not None:
            letters = record_letters(source_record, stage=stage, reason=str(error))
        else:
            letters = payload_letters(event, stage=stage, reason=str(error))
        self.log.error("Undecodable subscription payload: sent as received to the dead-letter queue",
                       extra={"stage": stage, "reason": str(error), "dead_letter_messages": len(letters)})
        self._send(letters)
        self._count(c.METRIC_PAYLOADS_DEAD_LETTERED, 1)
        return {"status": "dead-lettered", "stage": stage, "dead_letter_messages": len(letters)}

    def ship(self, event: Mapping[str, Any], *, region: Optional[str] = None, deadline: Deadline = Deadline(),
             source_record: Any = None) -> dict[str, Any]:
        """Ship one subscription payload; raises :class:`DeliveryError` when records stay undelivered.

        :param region: the region the payload came from, set on every document. Default: the
            function's own (``config.region``).
        :param source_record: the Kinesis record the payload arrived in: an undecodable payload is
            dead-lettered as that record, and running out of time returns ``incomplete``.
        """
        region = region if region is not None else self.config.region
        try:
            batch = decode_payload(event, strict_utf8=False)
        except Exception as error:  # PayloadError, or a shape the decoder did not foresee
            return self._dead_letter_payload(event, error, source_record)
        if hasattr(self.log, "append_keys"):
            self.log.append_keys(log_group=batch.log_group, log_stream=batch.log_stream)
        if batch.is_control:
            self.log.info("Dropped a CONTROL_MESSAGE (CloudWatch Logs checking the subscription)")
            self._count(c.METRIC_CONTROL_MESSAGES_DROPPED, 1)
            return {"status": "control-message"}
        if not batch.events and not batch.invalid:
            self.log.info("Subscription payload with empty logEvents: nothing to ship")
            self._count(c.METRIC_EMPTY_PAYLOADS, 1)
            return {"status": "empty", "events": 0}

        key = self.progress.key(event)
        progress = self.progress.take(key)
        retried = progress.retried
        pending = [e for e in batch.events if e.id not in progress.delivered]
        out = to_records(batch, pending, region=region)
        self._count(c.METRIC_EVENTS_RECEIVED, len(batch.events) + len(batch.invalid))
        try:
            dead_lettered = self._dead_letter_events(batch, out, progress)
        except Exception:
            self.progress.keep(key, progress)
            raise
        self._warn_about(out)

        failed_ids, calls, errors, late_ids = self._deliver(out.records, progress, deadline)
        delivered = len(out.records) - len(failed_ids) - len(late_ids)
        self._count(c.METRIC_RECORDS_DELIVERED, delivered)
        self._count(c.METRIC_PUT_RECORD_BATCH_CALLS, calls)
        summary = {"events": len(batch.events) + len(batch.invalid), "delivered": delivered,
                   "already_delivered": len(batch.events) - len(pending), "dead_lettered": dead_lettered,
                   "truncated": out.truncated, "put_record_batch_calls": calls, "retry": retried}
        stream = self.config.delivery_stream_name
        if late_ids and not failed_ids:
            return self._out_of_time(batch, pending, late_ids, key, progress, summary, kinesis=source_record is not None)
        if failed_ids:
            self._count(c.METRIC_RECORDS_FAILED, len(failed_ids))
            self.progress.keep(key, progress)
            self.log.error(
                "Records not delivered to Firehose after retries: failing the invocation so that Lambda "
                "retries it and then keeps it in the on-failure destination",
                extra={**summary, "failed": len(failed_ids), "errors": errors[:10], "stream": stream},
            )
            raise DeliveryError(f"{len(failed_ids)} of {len(out.records)} records not delivered to {stream}: "
                                f"{'; '.join(errors[:3]) or 'unknown error'}")
        self.log.info("Shipped log events", extra=summary)
        return {"status": "shipped", **summary}

    def _out_of_time(self, batch: Any, pending: list[LogEvent], late_ids: list[str], key: str, progress: Progress,
                     summary: dict[str, Any], *, kinesis: bool) -> dict[str, Any]:
        late = set(late_ids)
        if kinesis:  # Lambda retries the record: remember what went out, so that only the rest goes
            self.progress.keep(key, progress)
            self.log.warning("Out of time: the rest of this record is left for Lambda's retry",
                             extra={**summary, "left": len(late)})
            return {"status": "incomplete", **summary, "left": len(late)}
        letters = deferred_letters(batch, [e for e in pending if e.id in late])
        self._send(letters)
        self._count(c.METRIC_EVENTS_DEFERRED, len(late))
        self.log.warning("Out of time: events not shipped sent to the dead-letter queue (kind=deferred, "
                         "reason=deadline) for redrive", extra={**summary, "deferred": len(late)})
        return {"status": "deferred", **summary, "deferred": len(late)}

    def _dead_letter_events(self, batch: Any, out: Records, progress: Progress) -> int:
        if not out.invalid or progress.dead_lettered:
            return 0
        letters = event_letters(batch, out.invalid)
        self.log.warning("Invalid log events sent to the dead-letter queue; the valid ones are shipped",
                         extra={"invalid_events": len(out.invalid),
                                "reasons": sorted({i.reason for i in out.invalid})[:10]})
        self._send(letters)
        progress.dead_lettered = True
        self._count(c.METRIC_EVENTS_DEAD_LETTERED, len(out.invalid))
        return len(out.invalid)

    def _warn_about(self, out: Records) -> None:
        if out.truncated:
            self.log.warning("Oversized log events truncated to fit one Firehose record (flagged `truncated`)",
                             extra={"truncated_events": out.truncated})
        if out.invalid_utf8:
            self.log.warning("Log events with bytes that are not UTF-8 (flagged `invalid_utf8`, original bytes "
                             "in `message_base64`)", extra={"invalid_utf8_events": out.invalid_utf8})
        self._count(c.METRIC_EVENTS_TRUNCATED, out.truncated)

    def _deliver(self, records: list[tuple[str, bytes]], progress: Progress, deadline: Deadline
                 ) -> tuple[list[str], int, list[str], list[str]]:
        """Send the records; returns the ids not delivered, the number of calls, the errors seen and
        the ids not attempted because time ran short."""
        failed_ids: list[str] = []
        late_ids: list[str] = []
        errors: list[str] = []
        calls = 0
        offset = 0
        broken = False
        for chunk in iter_batches(data for _, data in records):
            ids = [event_id for event_id, _ in records[offset:offset + len(chunk)]]
            offset += len(chunk)
            if broken:  # the stream refused a whole call: do not hammer it with the rest
                failed_ids.extend(ids)
                continue
            if late_ids or deadline.short():
                late_ids.extend(ids)
                continue
            client, backoff = self.firehose, self.backoff
            if self.firehose_for is not None:
                plan = plan_calls(deadline.budget_s(), self.backoff)
                client = self.firehose_for(plan)
                backoff = replace(self.backoff, max_attempts=plan.resends)
            try:
                result = put_record_batch(client, self.config.delivery_stream_name, chunk, backoff=backoff)
            except Exception as error:  # after botocore's retries; stream missing, access denied, ...
                broken = True
                calls += 1
                errors.append(f"{type(error).__name__}: {error}")
                failed_ids.extend(ids)
                continue
            calls += result.calls
            failed = set(result.failed)
            for event_id, data in zip(ids, chunk):
                if data in failed:
                    failed_ids.append(event_id)
                else:
                    progress.delivered.add(event_id)
            if result.failed:
                errors.extend(sorted(set(result.last_errors)))
        return failed_ids, calls, errors, late_ids
