"""Step 2 of shipping: the calls that carry documents, and each document's fate marked on its unit.

* Firehose mode (:func:`put_records`): one record per document, ``PutRecordBatch`` chunks
  (:func:`firehose_chunks`: ≤ 500 records, ≤ 4 MiB per call, attempts and socket timeouts fitted to
  the time left with :func:`~log_shipper.deadline.plan_calls`).
* Bulk mode: :func:`archive` first (gzip records of newline-delimited documents through the S3-only
  stream, :mod:`log_shipper.archive`), then :func:`index` (``_bulk`` with the event id as ``_id``,
  :mod:`opensearch_client.bulk`), each request bounded by the invocation's time left.

:class:`Unit` (one decoded payload), :class:`Item` (one document of a delivery) and :class:`Calls`
(the calls one delivery made) are the vocabulary :mod:`log_shipper.delivery` works with.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Callable, Optional

from log_subscription import LogBatch, LogEvent
from logship.firehose import iter_batches, put_record_batch
from logship.retry import Backoff
from opensearch_client.bulk import BulkWriter, Document

from .archive import aggregate
from .deadline import CallPlan, Deadline, plan_calls
from .progress import Progress
from .transform import Records, iso_timestamp


@dataclass
class Unit:
    """One decoded payload on its way: its documents, and what happened to each."""

    key: str
    batch: LogBatch
    progress: Progress
    pending: list[LogEvent]
    out: Records
    kinesis: bool
    summary: dict[str, Any]
    failed: set[str] = field(default_factory=set)
    late: set[str] = field(default_factory=set)
    refused: list[tuple[str, str, bytes]] = field(default_factory=list)  # (event id, reason, document)
    duplicates: int = 0
    delivered: int = 0


@dataclass
class Item:
    """One document of a delivery: its unit, event id and bytes (a line of JSON)."""

    unit: Unit
    event_id: str
    data: bytes
    timestamp_ms: int


@dataclass
class Calls:
    """The calls one delivery made (shared by the units delivered together)."""

    put_record_batch: int = 0
    bulk_requests: int = 0
    archive_records: int = 0
    retried_documents: int = 0
    errors: list[str] = field(default_factory=list)


# Sends records in PutRecordBatch chunks: (positions, failed records or None, sent) per chunk.
Chunks = Callable[[list[bytes]], list[tuple[range, Optional[set[bytes]], bool]]]


def firehose_chunks(calls: Calls, records: list[bytes], deadline: Deadline, *, firehose: Any, stream: str,
                    backoff: Backoff, firehose_for: Optional[Callable[[CallPlan], Any]] = None
                    ) -> list[tuple[range, Optional[set[bytes]], bool]]:
    """Send ``records`` in PutRecordBatch chunks: ``(positions, failed records, sent)`` per chunk;
    ``failed`` is None when the whole call failed. Stops calling once the stream refuses a call."""
    outcomes: list[tuple[range, Optional[set[bytes]], bool]] = []
    offset = 0
    broken = late = False
    for chunk in iter_batches(records):
        positions = range(offset, offset + len(chunk))
        offset += len(chunk)
        if broken:  # the stream refused a whole call: do not hammer it with the rest
            outcomes.append((positions, None, True))
            continue
        left = deadline.left_ms()
        if late or deadline.short(left):
            late = True
            outcomes.append((positions, None, False))
            continue
        client, chunk_backoff = firehose, backoff
        if firehose_for is not None:
            plan = plan_calls(deadline.budget_s(left), backoff)
            client, chunk_backoff = firehose_for(plan), replace(backoff, max_attempts=plan.resends)
        try:
            result = put_record_batch(client, stream, chunk, backoff=chunk_backoff)
        except Exception as error:  # after botocore's retries; stream missing, access denied, ...
            broken = True
            calls.put_record_batch += 1
            calls.errors.append(f"{type(error).__name__}: {error}")
            outcomes.append((positions, None, True))
            continue
        calls.put_record_batch += result.calls
        if result.failed:
            calls.errors.extend(sorted(set(result.last_errors)))
        outcomes.append((positions, set(result.failed), True))
    return outcomes


def put_records(items: list[Item], chunks: Chunks) -> None:
    """Firehose mode: one record per document; each document delivered, failed or late."""
    records = [item.data for item in items]
    for positions, failed, sent in chunks(records):
        for position in positions:
            item = items[position]
            if not sent:
                item.unit.late.add(item.event_id)
            elif failed is None or item.data in failed:
                item.unit.failed.add(item.event_id)
            else:
                item.unit.progress.delivered.add(item.event_id)
                item.unit.delivered += 1


def archive(items: list[Item], calls: Calls, chunks: Chunks) -> None:
    """Bulk mode, first: the documents joined into gzip records of the S3-only stream; each archived, failed or late."""
    members = list(aggregate([item.data for item in items]))
    calls.archive_records += len(members)
    for positions, failed, sent in chunks([m for m, _ in members]):
        for position in positions:
            member, held = members[position]
            for item in (items[n] for n in held):
                if not sent:
                    item.unit.late.add(item.event_id)
                elif failed is None or member in failed:
                    item.unit.failed.add(item.event_id)
                else:
                    item.unit.progress.archived.add(item.event_id)


def index(items: list[Item], deadline: Deadline, calls: Calls, writer: BulkWriter) -> None:
    """Bulk mode, then: the archived documents through ``_bulk``; each delivered, a duplicate, refused, failed or late."""
    documents = [Document(item.event_id, item.data, iso_timestamp(item.timestamp_ms)) for item in items]
    # One reading of the invocation's clock per request: short() reads it, the budget reuses that reading.
    reading: list[Optional[int]] = []

    def short() -> bool:
        reading[:] = [deadline.left_ms()]
        return deadline.short(reading[0])

    def budget_s() -> Optional[float]:
        return deadline.budget_s(reading[0]) if reading else deadline.budget_s()

    result = writer.write(documents, short=short, budget_s=budget_s)
    calls.bulk_requests += result.requests
    calls.retried_documents += result.retried
    calls.errors.extend(dict.fromkeys(result.errors))
    delivered, duplicates = set(result.delivered), set(result.duplicates)
    refused = dict(result.refused)
    failed, late = set(result.failed), set(result.late)
    for item in items:
        unit, event_id = item.unit, item.event_id
        if event_id in delivered:
            unit.delivered += 1
            unit.progress.delivered.add(event_id)
        elif event_id in duplicates:
            unit.duplicates += 1
            unit.progress.delivered.add(event_id)
        elif event_id in refused:
            unit.refused.append((event_id, refused[event_id], item.data))
        elif event_id in late:
            unit.late.add(event_id)
        elif event_id in failed:
            unit.failed.add(event_id)
