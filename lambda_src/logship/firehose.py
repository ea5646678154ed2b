"""Firehose ``PutRecordBatch`` within the service limits, with retries of partial failures.

Limits (Amazon Data Firehose quotas): at most 500 records and 4 MiB per call, and at most
1,000 KiB per record (before base64). A document too large for one record is truncated and
flagged, never dropped.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from json.encoder import c_make_encoder, encode_basestring, encode_basestring_ascii
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


def one_shot_encoder(encoder: json.JSONEncoder) -> Callable[[Any], str]:
    """``encoder.encode`` with its C encoder built once and no circular-reference check.

    ``JSONEncoder.encode`` builds a new C encoder per call, with a check for cycles; for values that
    cannot hold one (what ``json.loads`` returns, a document of log fields) both are wasted work, about
    a third of the cost of encoding a small object. The same text, pure Python when there is no C
    accelerator.
    """
    if c_make_encoder is None or encoder.indent is not None:
        return encoder.encode
    string = encode_basestring_ascii if encoder.ensure_ascii else encode_basestring
    iterencode = c_make_encoder(None, encoder.default, string, None, encoder.key_separator, encoder.item_separator,
                                encoder.sort_keys, encoder.skipkeys, encoder.allow_nan)
    return lambda value: "".join(iterencode(value, 0))


def _dumps(document: Mapping[str, Any]) -> bytes:
    # Newline-delimited so that the S3 backup holds one document per line.
    # errors="replace": a lone surrogate from a malformed log line becomes "?" instead of raising.
    return (RECORD_ENCODER.encode(document) + "\n").encode("utf-8", errors="replace")


def encode_document(document: Mapping[str, Any], *, text_field: str = "message",
                    limit: int = MAX_RECORD_BYTES) -> bytes:
    """One record's bytes; when too large, ``text_field`` is cut and ``truncated``/``original_bytes`` set."""
    text = document.get(text_field)
    if isinstance(text, str) and len(text) > limit // 2 and len(document) > 1:
        # A large text is escaped once: its escaped form gives the record's size and, cut, the record.
        return _truncated_text(document, text_field, text, limit)
    data = _dumps(document)
    if len(data) <= limit:
        return data
    if not isinstance(text, str):
        # Structured documents carry their text elsewhere: keep the metadata, move the body into text.
        text = json.dumps({k: v for k, v in document.items()}, ensure_ascii=False, default=str)
    return _cut(_slim(document, text_field, len(data)), text_field, text, limit)


def _slim(document: Mapping[str, Any], text_field: str, original_bytes: int) -> dict[str, Any]:
    # Kept: scalars, and lists of strings (flags such as the redaction rules that fired); dropped: structures.
    slim = {k: v for k, v in document.items() if k != text_field and not isinstance(v, dict)
            and not (isinstance(v, list) and not all(isinstance(item, str) for item in v))}
    slim.update(truncated=True, original_bytes=original_bytes)
    return slim


def _truncated_text(document: Mapping[str, Any], text_field: str, text: str, limit: int) -> bytes:
    encoded = encode_basestring(text).encode("utf-8", errors="replace")
    rest = RECORD_ENCODER.encode({k: v for k, v in document.items() if k != text_field})
    # The record is ``rest`` with one more member (a comma, the key, a colon, the text) and a newline.
    size = len(rest.encode("utf-8", errors="replace")) + len(encode_basestring(text_field).encode()) + 3 + len(encoded)
    if size <= limit:
        return _dumps(document)
    return _cut(_slim(document, text_field, size), text_field, text, limit, encoded=encoded)


def _cut(slim: dict[str, Any], text_field: str, text: str, limit: int, *, encoded: Optional[bytes] = None) -> bytes:
    """The record of ``slim`` with as much of ``text`` as fits, then :data:`TRUNCATION_MARK` (written last).

    ``encoded``: ``text`` escaped as a JSON string, in UTF-8, when the caller has it already.
    """
    head = (RECORD_ENCODER.encode(slim)[:-1] + "," + encode_basestring(text_field) + ':"').encode("utf-8", "replace")
    tail = (TRUNCATION_MARK + '"}\n').encode()
    room = max(limit - len(head) - len(tail) - 8, 0)
    # The text's escaped UTF-8 without its quotes, cut at ``room`` bytes, after a whole character and a
    # whole escape; joined from a view of it (a text near 1 MB is not copied once more).
    if encoded is None:
        encoded = encode_basestring(text).encode("utf-8", errors="replace")
    end = _whole_escapes(encoded, 1, _whole_characters(encoded, 1, min(room, len(encoded) - 2) + 1))
    data = b"".join((head, memoryview(encoded)[1:end], tail))
    if len(data) <= limit:
        return data
    # The metadata alone is too large: keep only what identifies the event.
    keep = {k: slim[k] for k in ("@timestamp", "id", "log_group") if k in slim}
    return _dumps({**keep, "truncated": True, "original_bytes": slim["original_bytes"], text_field: TRUNCATION_MARK})


def _whole_characters(data: bytes, start: int, end: int) -> int:
    """Where ``data[start:end]`` (UTF-8 cut anywhere) ends without a character cut short."""
    lead = end - 1
    while lead >= start and end - lead < 4 and 0x80 <= data[lead] < 0xC0:  # continuation bytes
        lead -= 1
    if lead < start or data[lead] < 0x80:
        return end
    width = 2 if data[lead] < 0xE0 else 3 if data[lead] < 0xF0 else 4
    return end if end - lead >= width else lead


def _whole_escapes(escaped: bytes, start: int, end: int) -> int:
    """Where ``escaped[start:end]`` (a JSON string's inside) ends without an escape sequence cut short."""
    last = escaped.rfind(b"\\", max(end - 6, start), end)
    if last < 0:
        return end
    run_start = last
    while run_start > start and escaped[run_start - 1] == 0x5C:  # backslash
        run_start -= 1
    if (last - run_start) % 2:  # the last backslash is the second half of an escaped backslash
        return end
    needed = 6 if escaped[last + 1:last + 2] == b"u" else 2
    return end if end - last >= needed else last


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
