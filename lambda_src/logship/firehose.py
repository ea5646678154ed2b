"""Firehose ``PutRecordBatch`` within the service limits, with retries of partial failures.

Limits (Amazon Data Firehose quotas): at most 500 records and 4 MiB per call, and at most
1,000 KiB per record (before base64). A document too large for one record is truncated and
flagged, never dropped.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator, Mapping, Optional

from .retry import Backoff, retry_pending

MAX_BATCH_RECORDS = 500
MAX_BATCH_BYTES = 4 * 1024 * 1024
MAX_RECORD_BYTES = 1000 * 1024
TRUNCATION_MARK = "...[truncated]"
PUT_MAX_ATTEMPTS = 5
# Firehose answers "ServiceUnavailableException: Slow down." when a stream's throughput is
# exceeded; botocore's standard mode retries it only with a 5xx status, so a call refused with it
# counts here as every record of the call failed.
SLOW_DOWN_CODES = frozenset({"ServiceUnavailableException"})
# Re-sending failed records: full jitter from 0.1 s, at most 5 s between attempts.
PUT_BACKOFF = Backoff(max_attempts=PUT_MAX_ATTEMPTS, base_s=0.1, max_s=5.0)


# How a record's document is written: compact UTF-8 JSON (one encoder, built once: json.dumps with
# arguments would build a new one per record). Anything JSON has no type for is written as str().
RECORD_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=str)


def _dumps(document: Mapping[str, Any]) -> bytes:
    # Newline-delimited so that the S3 backup holds one document per line.
    # errors="replace": a lone surrogate from a malformed log line becomes "?" instead of raising.
    return (RECORD_ENCODER.encode(document) + "\n").encode("utf-8", errors="replace")


def encode_document(document: Mapping[str, Any], *, text_field: str = "message",
                    limit: int = MAX_RECORD_BYTES) -> bytes:
    """One record's bytes; when too large, ``text_field`` is cut and ``truncated``/``original_bytes`` set."""
    data = _dumps(document)
    if len(data) <= limit:
        return data
    text = document.get(text_field)
    if not isinstance(text, str):
        # Structured documents carry their text elsewhere: keep the metadata, move the body into text.
        text = json.dumps({k: v for k, v in document.items()}, ensure_ascii=False, default=str)
    slim = {k: v for k, v in document.items() if k != text_field and not isinstance(v, (dict, list))}
    slim.update(truncated=True, original_bytes=len(data))
    overhead = len(_dumps({**slim, text_field: ""})) + len(TRUNCATION_MARK.encode()) + 8
    room = max(limit - overhead, 0)
    cut = text.encode("utf-8", errors="replace")[:room].decode("utf-8", errors="ignore")
    while True:
        slim[text_field] = cut + TRUNCATION_MARK
        data = _dumps(slim)
        if len(data) <= limit:
            return data
        if not cut:  # the metadata alone is too large: keep only what identifies the event
            keep = {k: slim[k] for k in ("@timestamp", "id", "log_group") if k in slim}
            return _dumps({**keep, "truncated": True, "original_bytes": len(data), text_field: TRUNCATION_MARK})
        cut = cut[: max(len(cut) - (len(data) - limit) - 1, 0)]  # JSON escapes can grow the text


def iter_batches(records: Iterable[bytes], *, max_records: int = MAX_BATCH_RECORDS,
                 max_bytes: int = MAX_BATCH_BYTES) -> Iterator[list[bytes]]:
    """Group records, in order, into batches that respect both per-call limits."""
    batch: list[bytes] = []
    size = 0
    for record in records:
        if batch and (len(batch) >= max_records or size + len(record) > max_bytes):
            yield batch
            batch, size = [], 0
        batch.append(record)
        size += len(record)
    if batch:
        yield batch


@dataclass
class BatchResult:
    """What happened to one logical batch across its attempts."""

    calls: int = 0
    delivered: int = 0
    failed: list[bytes] = field(default_factory=list)
    last_errors: list[str] = field(default_factory=list)


def put_record_batch(
    client: Any,
    stream_name: str,
    records: list[bytes],
    *,
    backoff: Optional[Backoff] = None,
    sleep: Callable[[float], None] = time.sleep,
) -> BatchResult:
    """Send one batch; re-send only the records Firehose reports as failed, with full-jitter backoff.

    A failed whole call (throttling, a 5xx, a broken connection) is botocore's to retry: give the
    client ``Config(retries={"mode": "standard", ...})``; what it still raises propagates, except
    Firehose's "slow down" (:data:`SLOW_DOWN_CODES`), retried here like failed records. Records
    still failing after ``backoff.max_attempts`` calls are returned in ``failed``, for the caller to
    keep (fail the invocation, re-queue) — never dropped here.
    """
    result = BatchResult()

    def send(pending: list[bytes]) -> list[bytes]:
        try:
            response = client.put_record_batch(DeliveryStreamName=stream_name,
                                               Records=[{"Data": data} for data in pending])
        except Exception as error:
            code = (getattr(error, "response", None) or {}).get("Error", {}).get("Code")
            if code not in SLOW_DOWN_CODES:
                raise
            result.last_errors = [code]
            return pending
        if not response.get("FailedPutCount"):
            result.delivered += len(pending)
            result.last_errors = []
            return []
        answers = response.get("RequestResponses") or []
        if len(answers) != len(pending):  # cannot tell which failed: re-send them all (at least once)
            result.last_errors = [f"{len(answers)} responses for {len(pending)} records"]
            return pending
        retry = [data for data, answer in zip(pending, answers) if answer.get("ErrorCode")]
        result.delivered += len(pending) - len(retry)
        result.last_errors = [answer["ErrorCode"] for answer in answers if answer.get("ErrorCode")]
        return retry

    result.failed, result.calls = retry_pending(send, records, backoff or PUT_BACKOFF, sleep=sleep)
    return result
