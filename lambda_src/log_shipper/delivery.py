"""Shipping subscription payloads: decode, transform, dead-letter what is invalid, deliver (no globals).

:class:`Shipper` holds what one execution environment shares between invocations: the Firehose
and SQS clients (injected), the ``_bulk`` writer in bulk mode, the configuration and the
:class:`ProgressCache`. The handler builds it; tests and benchmarks build their own.

A payload goes through three steps. :meth:`Shipper.prepare` decodes and transforms it into a
:class:`Unit` (dead-lettering what cannot be decoded or transformed); :meth:`Shipper.deliver` sends
the documents of one or more units together (the calls are :mod:`log_shipper.sending`'s), so that
the records of one Kinesis batch share calls;
:meth:`Shipper.finish` tells, per unit, whether it is done.

Two modes (``config.mode``):

* ``firehose``: one Firehose record per event, ``PutRecordBatch`` (≤ 500 records, ≤ 4 MiB per call).
* ``bulk``: documents are archived first, joined into gzip records of up to ~1,000 KiB
  (:mod:`log_shipper.archive`) through the S3-only stream, then indexed with ``_bulk`` requests
  (:mod:`opensearch_client.bulk`): ``create`` with ``_id`` = the event id, so a retry or a replay never makes
  a second document (409 = a duplicate skipped). Documents the domain refuses for their content go
  to the dead-letter queue (``kind=refused``) with the domain's reason; 429, 5xx and connection
  errors are retried with backoff while the deadline allows.

Delivery is at least once. The progress cache remembers, per payload (sha256 of ``awslogs.data``),
which events a failed invocation already delivered (and archived) and whether its invalid events
were dead-lettered, so Lambda's retry of the same payload in the same execution environment sends
only the rest. Each document carries the CloudWatch event ``id``; in bulk mode it is the ``_id``.

Time (:mod:`log_shipper.deadline`): before every call the :class:`Deadline` is asked whether at least
its margin is left. A ``PutRecordBatch`` chunk's attempts and socket timeouts are fitted to the time left
(:func:`plan_calls`): its worst case, every attempt timing out, ends before the invocation does, so a
timeout never cuts a call whose records then go out again; a ``_bulk`` request is bounded as a whole by
the time left minus the dead-letter reserve. When the margin is not left, the rest
waits: a direct subscription sends its undelivered events to the dead-letter queue as ``deferred``
(``reason=deadline``, redrivable) and succeeds; a Kinesis record keeps its progress and comes back
``incomplete``, so the caller reports it for Lambda to retry.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Optional

from log_subscription import decode_payload
from logship.retry import Backoff
from opensearch_client.bulk import BulkWriter

from . import contract as c
from .deadline import CallPlan, Deadline, plan_calls  # noqa: F401  (CallPlan: the handler's client per plan)
from .progress import Progress, ProgressCache
from .redact import Redaction, redacted_records
from .dead_letter import DeadLetter, deferred_letters, event_letters, payload_letters, record_letters, refused_letters
from .sending import Calls, Item, Unit, archive, firehose_chunks, index, put_records
from .transform import Records


class DeliveryError(RuntimeError):
    """Some records could not be delivered: the invocation fails so that Lambda retries it."""


def _no_metrics(name: str, value: int) -> None:
    pass


@dataclass
class Shipper:
    """Ships subscription payloads; see the module docstring.

    :param firehose: a boto3 Firehose client (botocore retries failed whole calls).
    :param sqs: a boto3 SQS client for the dead-letter queue.
    :param bulk: the ``_bulk`` writer (bulk mode only).
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
    bulk: Optional[BulkWriter] = None

    def __post_init__(self) -> None:
        if self.config.bulk and self.bulk is None:
            raise c.ConfigurationError("log shipper: bulk mode needs a bulk writer")
        if self.redaction is None:
            self.redaction = Redaction.for_config(self.config)
    firehose_for: Optional[Callable[[CallPlan], Any]] = None
    redaction: Optional[Redaction] = None  # Default: - the config's (None when config.redact is off)

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

    # --- one payload, start to end ---------------------------------------------------------------
    def ship(self, event: Mapping[str, Any], *, region: Optional[str] = None, deadline: Deadline = Deadline(),
             source_record: Any = None) -> dict[str, Any]:
        """Ship one subscription payload; raises :class:`DeliveryError` when records stay undelivered.

        :param region: the region the payload came from, set on every document. Default: the
            function's own (``config.region``).
        :param source_record: the Kinesis record the payload arrived in: an undecodable payload is
            dead-lettered as that record, and running out of time returns ``incomplete``.
        """
        unit = self.prepare(event, region=region, source_record=source_record)
        if not isinstance(unit, Unit):
            return unit
        calls = self.deliver([unit], deadline)
        return self.finish(unit, calls)

    # --- step 1: decode and transform ------------------------------------------------------------
    def prepare(self, event: Mapping[str, Any], *, region: Optional[str] = None,
                source_record: Any = None) -> Unit | dict[str, Any]:
        """A :class:`Unit` to deliver, or the final answer for a payload with nothing to deliver."""
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
        received = len(batch.events) + len(batch.invalid)
        if progress.complete:  # a record of a Kinesis batch Lambda retries for the sake of another record
            return {"status": "shipped", "events": received, "delivered": 0, "already_delivered": len(batch.events),
                    "retry": True}
        done = progress.delivered & progress.archived if self.config.bulk else progress.delivered
        pending = [e for e in batch.events if e.id not in done]
        out, redactions = redacted_records(self.redaction, batch, pending, region=region)
        self._count(c.METRIC_EVENTS_RECEIVED, received)
        for name, value in redactions.items():
            self._count(name, value)
        try:
            dead_lettered = self._dead_letter_events(batch, out, progress)
        except Exception:
            self.progress.keep(key, progress)
            raise
        self._warn_about(out)
        summary = {"events": received, "already_delivered": len(batch.events) - len(pending),
                   "dead_lettered": dead_lettered, "truncated": out.truncated, "retry": progress.retried}
        return Unit(key, batch, progress, pending, out, source_record is not None, summary)

    # --- step 2: deliver the documents of several units together ---------------------------------
    def deliver(self, units: list[Unit], deadline: Deadline) -> Calls:
        """Send the documents of ``units``, sharing calls; marks each document's fate on its unit."""
        timestamps = {id(u): {e.id: e.timestamp_ms for e in u.pending} for u in units}
        items = [Item(u, event_id, data, timestamps[id(u)].get(event_id, 0))
                 for u in units for event_id, data in u.out.records]
        calls = Calls()

        def chunks(records: list[bytes]) -> list[tuple[range, Optional[set[bytes]], bool]]:
            return firehose_chunks(calls, records, deadline, firehose=self.firehose,
                                   stream=self.config.delivery_stream_name, backoff=self.backoff,
                                   firehose_for=self.firehose_for)

        if self.config.bulk:
            # Archived before indexed: a document whose archive record failed (throttling, an outage) or was not
            # sent in time is not indexed now; Lambda's retry or the redrive archives it first.
            archive([i for i in items if i.event_id not in i.unit.progress.archived], calls, chunks)
            assert self.bulk is not None
            index([i for i in items if i.event_id in i.unit.progress.archived
                   and i.event_id not in i.unit.progress.delivered], deadline, calls, self.bulk)
        else:
            put_records(items, chunks)
        self._count(c.METRIC_PUT_RECORD_BATCH_CALLS, calls.put_record_batch)
        self._count(c.METRIC_BULK_REQUESTS, calls.bulk_requests)
        self._count(c.METRIC_ARCHIVE_RECORDS, calls.archive_records)
        self._count(c.METRIC_DOCUMENTS_RETRIED, calls.retried_documents)
        return calls

    # --- step 3: the answer for one unit ---------------------------------------------------------
    def finish(self, unit: Unit, calls: Calls) -> dict[str, Any]:
        """The unit's answer; raises :class:`DeliveryError` when documents stay undelivered."""
        self._dead_letter_refused(unit)
        failed, late = unit.failed, unit.late - unit.failed
        summary = {**unit.summary, "delivered": unit.delivered, "put_record_batch_calls": calls.put_record_batch}
        if self.config.bulk:
            summary.update(duplicates=unit.duplicates, refused=len(unit.refused), bulk_requests=calls.bulk_requests,
                           archive_records=calls.archive_records)
            self._count(c.METRIC_DOCUMENTS_DELIVERED, unit.delivered)
            self._count(c.METRIC_DUPLICATES_SKIPPED, unit.duplicates)
        else:
            self._count(c.METRIC_RECORDS_DELIVERED, unit.delivered)
        if late and not failed:
            return self._out_of_time(unit, late, summary)
        if failed:
            self._count(c.METRIC_BULK_FAILURES if self.config.bulk else c.METRIC_RECORDS_FAILED, len(failed))
            self.progress.keep(unit.key, unit.progress)
            stream = self.config.delivery_stream_name
            where = {"stream": stream, **({"domain": self.config.domain_endpoint} if self.config.bulk else {})}
            target = f"{self.config.domain_endpoint} (archive: {stream})" if self.config.bulk else stream
            self.log.error(
                "Documents not delivered after retries: failing so that Lambda retries them (an asynchronous "
                "invocation then goes to the on-failure destination; a Kinesis record is reported)",
                extra={**summary, "failed": len(failed), "errors": calls.errors[:10], **where},
            )
            raise DeliveryError(f"{len(failed)} of {len(unit.out.records)} records not delivered to {target}: "
                                f"{'; '.join(calls.errors[:3]) or 'unknown error'}")
        self.log.info("Shipped log events", extra=summary)
        return {"status": "shipped", **summary}

    def keep_done(self, unit: Unit) -> None:
        """Remember a delivered unit whose Kinesis record Lambda will deliver again with a failed one."""
        self.progress.keep(unit.key, Progress(complete=True))

    def _dead_letter_refused(self, unit: Unit) -> None:
        if not unit.refused:
            return
        letters = refused_letters(unit.batch, [(reason, data) for _, reason, data in unit.refused])
        self.log.error("Documents refused by the domain for their content: sent to the dead-letter queue "
                       "(kind=refused) with the reason", extra={"refused": len(unit.refused),
                                                               "reasons": sorted({r for _, r, _ in unit.refused})[:10]})
        try:
            self._send(letters)
        except Exception:
            self.progress.keep(unit.key, unit.progress)  # the retry indexes them again and is refused again
            raise
        for event_id, _, _ in unit.refused:
            unit.progress.delivered.add(event_id)
        self._count(c.METRIC_DOCUMENTS_REFUSED, len(unit.refused))

    def _out_of_time(self, unit: Unit, late: set[str], summary: dict[str, Any]) -> dict[str, Any]:
        if unit.kinesis:  # Lambda retries the record: remember what went out, so that only the rest goes
            self.progress.keep(unit.key, unit.progress)
            self.log.warning("Out of time: the rest of this record is left for Lambda's retry",
                             extra={**summary, "left": len(late)})
            return {"status": "incomplete", **summary, "left": len(late)}
        letters = deferred_letters(unit.batch, [e for e in unit.pending if e.id in late])
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
