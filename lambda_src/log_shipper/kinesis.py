"""Kinesis batches of CloudWatch Logs payloads: the records of a batch ship together, with exact batch item failures.

Cross-account ingestion puts each subscription payload (gzipped JSON, exactly what a direct
subscription carries in ``awslogs.data``) into one Kinesis record. The region of a record is that
of the stream it arrived on (``eventSourceARN``, set by Lambda), looked up in the configuration's
``stream_regions``; the account is the payload's ``owner`` (set by CloudWatch Logs). Nothing the
sender writes decides either.

Every record is decoded and transformed first; then the documents of all records go out together
(:meth:`~log_shipper.delivery.Shipper.deliver`), so a batch of 100 records of 50 events makes about
documents ÷ per-call limit calls, not one or more per record. Each document keeps its record, so
the answer names exactly the records not done.

What happens to a record:

* A CloudWatch Logs payload: shipped like a direct subscription (control messages dropped,
  invalid events dead-lettered, the rest delivered).
* Not a CloudWatch Logs payload (not base64, not gzip, not JSON, keys missing), or from a stream
  the configuration does not know (compared by whole ARN: the function's own account and region,
  a configured name): dead-lettered by the shipper itself as the record it is
  (``kind=record``, with ``stage`` and ``reason``) and NOT reported. Reporting it would make
  Lambda re-read it and every later record of the shard until the maximum record age, which is one
  bad record blocking a shard; and the mapping's on-failure destination would get only its
  metadata, not its data.
* Some of its documents still refused after retries (Firehose, or the domain in bulk mode), not
  sent before the deadline's margin, or its dead-letter messages out of reach: the record is
  reported in ``batchItemFailures``. Lambda retries from the lowest reported sequence number, so
  the records after it come again too: those that were done are remembered (the progress cache)
  and not sent twice, and what a reported record already delivered is not sent again either.
"""
from __future__ import annotations

from typing import Any, Mapping, Optional

from . import contract as c
from .delivery import Deadline, DeliveryError, Shipper, Unit
from .sources import Home, stream_name

KINESIS_EVENT_SOURCE = "aws:kinesis"


class UnknownStream(ValueError):
    stage = "unknown stream"


def is_kinesis_event(event: Any) -> bool:
    records = event.get("Records") if isinstance(event, Mapping) else None
    return (isinstance(records, list) and bool(records) and isinstance(records[0], Mapping)
            and records[0].get("eventSource") == KINESIS_EVENT_SOURCE)


def _sequence_number(record: Any) -> str:
    kinesis = record.get("kinesis") if isinstance(record, Mapping) else None
    return str(kinesis.get("sequenceNumber", "")) if isinstance(kinesis, Mapping) else ""


def ship_kinesis_batch(shipper: Shipper, event: Mapping[str, Any], deadline: Deadline,
                       home: Optional[Home] = None) -> dict[str, Any]:
    """Ship the records of one Kinesis batch; returns Lambda's partial batch response.

    ``home``: the function's account and region; a record of a stream elsewhere is unknown.
    """
    records = list(event.get("Records") or [])
    regions = shipper.config.stream_regions
    statuses: dict[str, int] = {}
    reported: set[int] = set()
    units: list[tuple[int, Unit]] = []

    def report(index: int, record: Any, error: Exception) -> None:
        shipper.log.error("Record not shipped: reported for Lambda's retry",
                          extra={"sequence_number": _sequence_number(record), "error": f"{type(error).__name__}: {error}",
                                 "delivery_error": isinstance(error, DeliveryError)})
        reported.add(index)

    for index, record in enumerate(records):
        kinesis = record.get("kinesis") if isinstance(record, Mapping) else None
        data = kinesis.get("data") if isinstance(kinesis, Mapping) else None
        name = stream_name(record, home) if isinstance(record, Mapping) else ""
        try:
            if name not in regions:
                source = record.get("eventSourceARN") if isinstance(record, Mapping) else None
                prepared: Any = shipper.dead_letter_record(
                    record, UnknownStream(f"stream {source!r} is not an ingestion stream of this pipeline"))
            else:
                prepared = shipper.prepare({"awslogs": {"data": data}}, region=regions[name], source_record=record)
        except Exception as error:  # the dead-letter queue out of reach
            report(index, record, error)
            continue
        if isinstance(prepared, Unit):
            units.append((index, prepared))
        else:
            statuses[prepared["status"]] = statuses.get(prepared["status"], 0) + 1

    calls = shipper.deliver([unit for _, unit in units], deadline)
    done: list[tuple[int, Unit]] = []
    for index, unit in units:
        try:
            status = shipper.finish(unit, calls)["status"]
        except Exception as error:  # DeliveryError, or the dead-letter queue out of reach
            report(index, records[index], error)
            continue
        statuses[status] = statuses.get(status, 0) + 1
        if status == "incomplete":
            reported.add(index)
        else:
            done.append((index, unit))
    # Lambda re-delivers from the first reported record: the records after it that were done are not sent again.
    for index, unit in done:
        if reported and index > min(reported):
            shipper.keep_done(unit)
    failures = [{"itemIdentifier": _sequence_number(records[index])} for index in sorted(reported)]
    shipper.add_count(c.METRIC_RECORDS_RETRIED, len(failures))
    shipper.log.info("Shipped a Kinesis batch", extra={"records": len(records), "statuses": statuses,
                                                       "reported": len(failures), "put_record_batch_calls":
                                                       calls.put_record_batch, "bulk_requests": calls.bulk_requests})
    return {"batchItemFailures": failures}
