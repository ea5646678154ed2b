"""Replay a time range of the pipeline's S3 backup into its Firehose delivery stream.

    python -m logship.replay --bucket BUCKET --stream STREAM \\
        --start 2026-11-21T14:00:00Z --end 2026-11-21T16:00:00Z [--prefix backup/] [--dry-run]

The backup holds Firehose's S3 objects (gzip or plain) under ``<prefix>YYYY/MM/DD/`` (UTC arrival
time): concatenated JSON documents, one per record. Objects of failed deliveries hold one JSON
object per failed record with the record in base64 ``rawData``; both are read. Documents whose
``@timestamp`` lies in ``[start, end)`` are sent again with ``PutRecordBatch`` (within the call
limits, partial failures retried); records that still fail are written to ``--failed-out``, never
dropped. Documents already in OpenSearch are indexed again: pick the range of the outage (or
deduplicate on ``id``, the CloudWatch event id every shipped document carries).
"""
from __future__ import annotations

import argparse
import base64
import binascii
import gzip
import json
import sys
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Iterator, Optional, Sequence

from .firehose import PUT_MAX_ATTEMPTS, iter_batches, put_record_batch

_DECODER = json.JSONDecoder()


def parse_time(value: str) -> datetime:
    """ISO 8601 (``2026-11-21T14:00:00Z``, ``2026-11-21``); naive values are UTC."""
    moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def day_prefixes(prefix: str, start: datetime, end: datetime, *, late_days: int = 1) -> list[str]:
    """``<prefix>YYYY/MM/DD/`` for each UTC day of the range, plus ``late_days`` after it (records
    arrive after their event time: buffering, retries)."""
    first = start.astimezone(timezone.utc).date()
    last = (end.astimezone(timezone.utc) + timedelta(days=late_days)).date()
    days = (last - first).days
    return [f"{prefix}{(first + timedelta(days=n)).strftime('%Y/%m/%d')}/" for n in range(days + 1)]


def split_records(data: bytes) -> Iterator[bytes]:
    """The records of one backup object: each document as one newline-terminated JSON line.

    A failed-delivery entry (``{"rawData": <base64>, "errorCode": ...}``) yields its decoded record.
    Text that is not JSON raises ``ValueError`` naming the offset.
    """
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    text = data.decode("utf-8", errors="replace")
    position = 0
    while True:
        while position < len(text) and text[position].isspace():
            position += 1
        if position >= len(text):
            return
        try:
            value, end = _DECODER.raw_decode(text, position)
        except ValueError as error:
            raise ValueError(f"not JSON at offset {position}: {error}") from None
        if isinstance(value, dict) and isinstance(value.get("rawData"), str):
            try:
                record = base64.b64decode(value["rawData"], validate=True)
            except (binascii.Error, ValueError):
                raise ValueError(f"rawData at offset {position} is not base64") from None
            yield record if record.endswith(b"\n") else record + b"\n"
        else:
            yield text[position:end].encode("utf-8") + b"\n"
        position = end


def timestamp_of(record: bytes) -> Optional[datetime]:
    try:
        document = json.loads(record)
        return parse_time(document["@timestamp"])
    except (ValueError, KeyError, TypeError, AttributeError):
        return None


@dataclass
class ReplayResult:
    objects: int = 0
    records: int = 0
    in_range: int = 0
    replayed: int = 0
    without_timestamp: int = 0
    unreadable_objects: list[str] = field(default_factory=list)
    failed: list[bytes] = field(default_factory=list)
    calls: int = 0
    errors: list[str] = field(default_factory=list)


def replay(s3: Any, firehose: Any, *, bucket: str, stream: str, start: datetime, end: datetime,
           prefix: str = "backup/", dry_run: bool = False, **retry: Any) -> ReplayResult:
    """Send again every backed-up document with ``start <= @timestamp < end``."""
    result = ReplayResult()
    selected: list[bytes] = []
    paginator = s3.get_paginator("list_objects_v2")
    for day in day_prefixes(prefix, start, end):
        for page in paginator.paginate(Bucket=bucket, Prefix=day):
            for item in page.get("Contents", []):
                result.objects += 1
                body = s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
                try:
                    records = list(split_records(body))
                except ValueError as error:
                    result.unreadable_objects.append(f"{item['Key']}: {error}")
                    continue
                for record in records:
                    result.records += 1
                    moment = timestamp_of(record)
                    if moment is None:
                        result.without_timestamp += 1
                    elif start <= moment < end:
                        selected.append(record)
    result.in_range = len(selected)
    if dry_run:
        return result
    for batch in iter_batches(selected):
        try:
            sent = put_record_batch(firehose, stream, batch, **retry)
        except Exception as error:  # the call failed after botocore's retries: keep the batch
            result.calls += 1
            result.errors.append(f"{type(error).__name__}: {error}")
            result.failed.extend(batch)
            continue
        result.calls += sent.calls
        result.replayed += sent.delivered
        result.failed.extend(sent.failed)
    return result


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m logship.replay", description=__doc__.split("\n\n")[0])
    parser.add_argument("--bucket", required=True, help="the pipeline's backup bucket")
    parser.add_argument("--stream", required=True, help="the delivery stream to send the documents to")
    parser.add_argument("--start", required=True, type=parse_time, help="first @timestamp to replay (ISO 8601, UTC)")
    parser.add_argument("--end", required=True, type=parse_time, help="end of the range, exclusive (ISO 8601, UTC)")
    parser.add_argument("--prefix", default="backup/", help="key prefix before YYYY/MM/DD/ (default: backup/)")
    parser.add_argument("--dry-run", action="store_true", help="count what would be replayed, send nothing")
    parser.add_argument("--failed-out", default="replay-failed.ndjson", help="where records that still fail go")
    args = parser.parse_args(argv)
    if args.end <= args.start:
        parser.error(f"--end ({args.end.isoformat()}) must be after --start ({args.start.isoformat()})")

    import boto3  # here, so the pure functions above need no AWS SDK
    from botocore.config import Config

    # botocore retries failed whole calls (throttling, 5xx, broken connections); put_record_batch
    # re-sends the records a successful call reports as failed.
    firehose = boto3.client("firehose", config=Config(retries={"mode": "standard",
                                                               "total_max_attempts": PUT_MAX_ATTEMPTS}))
    result = replay(boto3.client("s3"), firehose, bucket=args.bucket, stream=args.stream,
                    start=args.start, end=args.end, prefix=args.prefix, dry_run=args.dry_run)
    print(json.dumps({"objects": result.objects, "records": result.records, "in_range": result.in_range,
                      "replayed": result.replayed, "without_timestamp": result.without_timestamp,
                      "unreadable_objects": result.unreadable_objects, "failed": len(result.failed),
                      "errors": result.errors[:10], "put_record_batch_calls": result.calls, "dry_run": args.dry_run}, indent=2))
    if result.failed:
        with open(args.failed_out, "wb") as out:
            out.writelines(result.failed)
        print(f"{len(result.failed)} record(s) still failing were written to {args.failed_out}", file=sys.stderr)
    return 1 if result.failed or result.unreadable_objects else 0


if __name__ == "__main__":
    sys.exit(main())
