"""Kinesis batches of CloudWatch Logs payloads: one record at a time, in order, with batch item failures.

Cross-account ingestion puts each subscription payload (gzipped JSON, exactly what a direct
subscription carries in ``awslogs.data``) into one Kinesis record. The region of a record is that
of the stream it arrived on (``eventSourceARN``, set by Lambda), looked up in the configuration's
``stream_regions``; the account is the payload's ``owner`` (set by CloudWatch Logs). Nothing the
sender writes decides either.

What happens to a record:

* A CloudWatch Logs payload: shipped like a direct subscription (control messages dropped,
  invalid events dead-lettered, the rest delivered).
* Not a CloudWatch Logs payload (not base64, not gzip, not JSON, keys missing), or from a stream
  the configuration does not know: dead-lettered by the shipper itself as the record it is
  (``kind=record``, with ``stage`` and ``reason``) and NOT reported. Reporting it would make
  Lambda re-read it and every later record of the shard until the maximum record age, which is one
  bad record blocking a shard; and the mapping's on-failure destination would get only its
  metadata, not its data.
* Events Firehose still refuses after retries, or a dead-letter queue out of reach: this record and
  every later one are reported in ``batchItemFailures``, so Lambda retries from this record.
* Less time left than the deadline's margin, before a record or between chunks of one: this record
  and every later one are reported; what a record already delivered is remembered in the progress
  cache, so the retry sends only the rest.

Records before the first reported one are done, so Lambda's checkpoint never re-sends them.
"""
from __future__ import annotations

from typing import Any, Mapping

from . import contract as c
from .delivery import Deadline, DeliveryError, Shipper

KINESIS_EVENT_SOURCE = "aws:kinesis"


class UnknownStream(ValueError):
    stage = "unknown stream"


def is_kinesis_event(event: Any) -> bool:
    records = event.get("Records") if isinstance(event, Mapping) else None
    return (isinstance(records, list) and bool(records) and isinstance(records[0], Mapping)
            and records[0].get("eventSource") == KINESIS_EVENT_SOURCE)


def stream_name(record: Mapping[str, Any]) -> str:
    """``arn:aws:kinesis:<region>:<account>:stream/<name>`` → ``<name>``."""
    arn = str(record.get("eventSourceARN", ""))
    return arn.split(":stream/", 1)[1] if ":stream/" in arn else ""


def _sequence_number(record: Any) -> str:
    kinesis = record.get("kinesis") if isinstance(record, Mapping) else None
    return str(kinesis.get("sequenceNumber", "")) if isinstance(kinesis, Mapping) else ""


def ship_kinesis_batch(shipper: Shipper, event: Mapping[str, Any], deadline: Deadline) -> dict[str, Any]:
    """Ship the records of one Kinesis batch; returns Lambda's partial batch response."""
    records = list(event.get("Records") or [])
    regions = shipper.config.stream_regions
    statuses: dict[str, int] = {}
    stop_at = len(records)
    for index, record in enumerate(records):
        if deadline.short():
            shipper.log.warning("Out of time before a record: it and the later ones are left for Lambda's retry",
                                extra={"left": len(records) - index})
            stop_at = index
            break
        kinesis = record.get("kinesis") if isinstance(record, Mapping) else None
        data = kinesis.get("data") if isinstance(kinesis, Mapping) else None
        name = stream_name(record) if isinstance(record, Mapping) else ""
        try:
            if name not in regions:
                status = shipper.dead_letter_record(
                    record, UnknownStream(f"stream {name!r} is not an ingestion stream of this pipeline"))["status"]
            else:
                status = shipper.ship({"awslogs": {"data": data}}, region=regions[name], deadline=deadline,
                                      source_record=record)["status"]
        except Exception as error:  # DeliveryError, or the dead-letter queue out of reach
            shipper.log.error("Record not shipped: it and the later ones are reported for Lambda's retry",
                              extra={"sequence_number": _sequence_number(record), "left": len(records) - index,
                                     "error": f"{type(error).__name__}: {error}",
                                     "delivery_error": isinstance(error, DeliveryError)})
            stop_at = index
            break
        statuses[status] = statuses.get(status, 0) + 1
        if status == "incomplete":
            stop_at = index
            break
    failures = [{"itemIdentifier": _sequence_number(record)} for record in records[stop_at:]]
    shipper.add_count(c.METRIC_RECORDS_RETRIED, len(failures))
    shipper.log.info("Shipped a Kinesis batch", extra={"records": len(records), "statuses": statuses,
                                                       "reported": len(failures)})
    return {"batchItemFailures": failures}
