"""Replay a time range of the pipeline's S3 backup: into the domain with ``_bulk``, or into a Firehose stream.

    # bulk mode: exactly once, with the same ids as the shipper; everything else from the shipper's configuration
    logops replay --pipeline NAME --start 2026-11-21T14:00:00Z --end 2026-11-21T16:00:00Z [--dry-run]
    logops replay --function SHIPPER --start ... --end ...
    # Firehose mode
    logops replay --bucket BUCKET --stream STREAM --start ... --end ... [--prefix backup/]

With ``--pipeline`` (the pipeline's name: its attach point names the shipper) or ``--function``, the
mode, bucket, prefix, domain, index and rotation are those the shipper runs with
(:mod:`logops.replay_source`); a flag given as well must agree with them. Without, bulk mode needs
``--bucket``, ``--endpoint``, ``--index`` and ``--rotation``, and the prefix defaults to the archive's
(``archive/``). Exit status 1 when nothing was read, a segment could not be read, or records failed.

The backup holds Firehose's S3 objects under ``<prefix>YYYY/MM/DD/`` (UTC arrival time): plain or
gzip (bulk mode's archive: gzip members of newline-delimited documents), concatenated JSON
documents. Objects of failed deliveries hold one JSON object per failed record with the record in
base64 ``rawData``; all are read. Documents whose ``@timestamp`` lies in ``[start, end)`` are sent
again; what still fails (or is refused) is written to ``--failed-out``, never dropped.

With ``--endpoint`` (bulk mode) each document is written with ``create``, ``_id`` = its ``id`` (the
CloudWatch event id), into the index of its own ``@timestamp``, exactly as the shipper writes it:
documents already in the domain answer 409 and are counted as duplicates, so replaying a window
twice leaves the document count unchanged. Requests are signed (SigV4, ``es``) with the caller's
AWS credentials. With ``--stream`` (Firehose mode) documents already in OpenSearch are indexed
again: pick the range of the outage (or deduplicate on ``id``).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Iterator, Optional, Sequence
from urllib.parse import urlsplit

from logship.firehose import PUT_MAX_ATTEMPTS, iter_batches, put_record_batch
from opensearch_client.bulk import ROTATIONS, BulkTarget, BulkWriter, Document

from .replay_source import Settings, object_records, shipper_document, shipper_settings

HELP = "send a time range of the pipeline's S3 backup again: to the domain with _bulk, or to a Firehose stream"
ARCHIVE_PREFIX = "archive/"
BACKUP_PREFIX = "backup/"


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
    A segment that cannot be read raises ``ValueError`` naming it (:func:`replay_source.object_records`
    reads on past it instead).
    """
    problems: list[str] = []
    records = object_records(data, problems)
    if problems:
        raise ValueError(problems[0])
    yield from records


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
    unreadable_objects: list[str] = field(default_factory=list)  # segments skipped: "<key>: <offset>, why"
    not_shipper: int = 0  # bulk: documents not of the shipper's shape, kept out
    failed: list[bytes] = field(default_factory=list)
    calls: int = 0
    errors: list[str] = field(default_factory=list)
    duplicates: int = 0  # bulk: already in the domain (409 on create)
    refused: list[str] = field(default_factory=list)  # bulk: "<id>: <reason>"


def select(s3: Any, result: ReplayResult, *, bucket: str, start: datetime, end: datetime,
           prefix: str = BACKUP_PREFIX, shipper_only: bool = False) -> list[bytes]:
    """Every backed-up document with ``start <= @timestamp < end``, counted in ``result``; with
    ``shipper_only`` only documents of the shipper's shape."""
    selected: list[bytes] = []
    paginator = s3.get_paginator("list_objects_v2")
    for day in day_prefixes(prefix, start, end):
        for page in paginator.paginate(Bucket=bucket, Prefix=day):
            for item in page.get("Contents", []):
                result.objects += 1
                body = s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
                for record in object_records(body, result.unreadable_objects, item["Key"]):
                    result.records += 1
                    if shipper_only and not _of_shipper(record):
                        result.not_shipper += 1
                        continue
                    moment = timestamp_of(record)
                    if moment is None:
                        result.without_timestamp += 1
                    elif start <= moment < end:
                        selected.append(record)
    result.in_range = len(selected)
    return selected


def _of_shipper(record: bytes) -> bool:
    try:
        return shipper_document(json.loads(record))
    except ValueError:
        return False


def replay(s3: Any, firehose: Any, *, bucket: str, stream: str, start: datetime, end: datetime,
           prefix: str = BACKUP_PREFIX, dry_run: bool = False, **retry: Any) -> ReplayResult:
    """Send again every backed-up document with ``start <= @timestamp < end`` to a Firehose stream."""
    result = ReplayResult()
    selected = select(s3, result, bucket=bucket, start=start, end=end, prefix=prefix)
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


def replay_bulk(s3: Any, writer: BulkWriter, *, bucket: str, start: datetime, end: datetime,
                prefix: str = ARCHIVE_PREFIX, dry_run: bool = False) -> ReplayResult:
    """Write every archived document of the shipper's shape with ``start <= @timestamp < end`` through
    ``_bulk`` with its ``id`` (other documents are counted in ``not_shipper`` and never sent)."""
    result = ReplayResult()
    selected = select(s3, result, bucket=bucket, start=start, end=end, prefix=prefix, shipper_only=True)
    if dry_run:
        return result
    documents: list[Document] = []
    by_id: dict[str, bytes] = {}
    for record in selected:
        document = json.loads(record)
        documents.append(Document(document["id"], record, document["@timestamp"]))
        by_id[document["id"]] = record
    written = writer.write(documents)
    result.calls += written.requests
    result.replayed += len(written.delivered)
    result.duplicates += len(written.duplicates)
    result.refused += [f"{key}: {reason}" for key, reason in written.refused]
    result.failed += [by_id[key] for key in written.failed + written.late] + [by_id[key] for key, _ in written.refused]
    result.errors += list(dict.fromkeys(written.errors))[:10]
    return result


def _secure(endpoint: str) -> bool:
    parts = urlsplit(endpoint)
    loopback = os.environ.get("ALLOW_LOOPBACK_HTTP") == "1" and parts.hostname in ("127.0.0.1", "localhost", "::1")
    return parts.scheme == "https" or (parts.scheme == "http" and loopback)


def _settings(args: argparse.Namespace, parser: argparse.ArgumentParser, boto3: Any) -> Settings:
    """The shipper's settings (``--pipeline``/``--function``) with the flags checked against them, or the flags."""
    if args.pipeline or args.function:
        found = shipper_settings(lambda_client=boto3.client("lambda"), firehose=boto3.client("firehose"),
                                 ssm=boto3.client("ssm"), function=args.function, pipeline=args.pipeline)
        bulk = found.mode == "bulk"
        given = {"--bucket": (args.bucket, found.bucket), "--prefix": (args.prefix, found.prefix),
                 "--index": (args.index, found.index if bulk else None),
                 "--rotation": (args.rotation, found.rotation if bulk else None),
                 "--endpoint": (args.endpoint, found.endpoint if bulk else None),
                 "--stream": (args.stream, None if bulk else found.stream)}
        for flag, (value, configured) in given.items():
            if value is not None and value != configured:
                parser.error(f"{flag} {value} differs from the shipper's configuration ({configured}); leave it out")
        return found
    if args.endpoint:
        missing = [flag for flag, value in (("--bucket", args.bucket), ("--index", args.index),
                                            ("--rotation", args.rotation)) if not value]
        if missing:
            parser.error(f"--endpoint needs {', '.join(missing)} (or --pipeline / --function, which read them "
                         "from the shipper's configuration)")
        return Settings("bulk", args.bucket, args.prefix or ARCHIVE_PREFIX, "", args.endpoint, args.index,
                        args.rotation)
    if not (args.stream and args.bucket):
        parser.error("give --pipeline or --function (the shipper's configuration), or --bucket with --stream or "
                     "--endpoint")
    return Settings("firehose", args.bucket, args.prefix or BACKUP_PREFIX, args.stream)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--pipeline", help="the pipeline's name: its attach point names the shipper function")
    source.add_argument("--function", help="the shipper function: its configuration gives every setting below")
    parser.add_argument("--bucket", help="the pipeline's backup bucket")
    target = parser.add_mutually_exclusive_group()
    target.add_argument("--endpoint", help="bulk mode: the domain endpoint (https://...) to write with _bulk")
    target.add_argument("--stream", help="Firehose mode: the delivery stream to send the documents to")
    parser.add_argument("--index", help="bulk mode: the index name (its prefix when rotated)")
    parser.add_argument("--rotation", choices=ROTATIONS, help="bulk mode: index rotation")
    parser.add_argument("--region", help="bulk mode: the domain's region (default: the AWS SDK's)")
    parser.add_argument("--start", required=True, type=parse_time, help="first @timestamp to replay (ISO 8601, UTC)")
    parser.add_argument("--end", required=True, type=parse_time, help="end of the range, exclusive (ISO 8601, UTC)")
    parser.add_argument("--prefix", help="key prefix before YYYY/MM/DD/ (default: the stream's, archive/ or backup/)")
    parser.add_argument("--dry-run", action="store_true", help="count what would be replayed, send nothing")
    parser.add_argument("--failed-out", default="replay-failed.ndjson", help="where records that still fail go")
    parser.set_defaults(parser=parser)


def run(args: argparse.Namespace) -> int:
    parser: argparse.ArgumentParser = args.parser
    if args.end <= args.start:
        parser.error(f"--end ({args.end.isoformat()}) must be after --start ({args.start.isoformat()})")

    import boto3  # here, so the pure functions above need no AWS SDK
    from botocore.config import Config

    settings = _settings(args, parser, boto3)
    if settings.mode == "bulk" and not _secure(settings.endpoint):
        parser.error(f"--endpoint {settings.endpoint} must be https:// (http:// only to 127.0.0.1 with "
                     "ALLOW_LOOPBACK_HTTP=1)")
    window = {"bucket": settings.bucket, "start": args.start, "end": args.end, "prefix": settings.prefix,
              "dry_run": args.dry_run}
    if settings.mode == "bulk":
        from opensearch_client.bulk import signed_bulk_writer

        session = boto3.session.Session(region_name=args.region)
        writer = signed_bulk_writer(settings.endpoint, session.region_name or "",
                                    BulkTarget(settings.index, settings.rotation), credentials=session.get_credentials)
        result = replay_bulk(session.client("s3"), writer, **window)
    else:
        # botocore retries failed whole calls (throttling, 5xx, broken connections); put_record_batch
        # re-sends the records a successful call reports as failed.
        firehose = boto3.client("firehose", config=Config(retries={"mode": "standard",
                                                                   "total_max_attempts": PUT_MAX_ATTEMPTS}))
        result = replay(boto3.client("s3"), firehose, stream=settings.stream, **window)
    print(json.dumps({"bucket": settings.bucket, "prefix": settings.prefix, "objects": result.objects,
                      "records": result.records, "in_range": result.in_range, "replayed": result.replayed,
                      "duplicates": result.duplicates, "not_shipper": result.not_shipper,
                      "without_timestamp": result.without_timestamp, "unreadable_objects": result.unreadable_objects,
                      "failed": len(result.failed), "refused": result.refused[:10], "errors": result.errors[:10],
                      "calls": result.calls, "dry_run": args.dry_run}, indent=2))
    if result.failed:
        with open(args.failed_out, "wb") as out:
            out.writelines(result.failed)
        print(f"{len(result.failed)} record(s) still failing were written to {args.failed_out}", file=sys.stderr)
    if not result.records:
        print(f"nothing was read under s3://{settings.bucket}/{settings.prefix} for this window: check the bucket "
              "and prefix (or use --pipeline / --function)", file=sys.stderr)
    return 1 if result.failed or result.unreadable_objects or not result.records else 0


def main(argv: Optional[Sequence[str]] = None) -> int:
    """``logops replay`` with ``argv`` (its options only)."""
    parser = argparse.ArgumentParser(prog="logops replay", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(parser)
    return run(parser.parse_args(argv))
