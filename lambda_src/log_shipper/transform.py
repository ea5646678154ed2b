"""Pure transformation of a decoded CloudWatch Logs batch into Firehose records (no I/O).

One JSON document per log event::

    {"@timestamp": "2026-11-22T01:43:58.123Z", "message": "...", "log_group": "/aws/lambda/orders",
     "log_stream": "2026/11/22/[$LATEST]abc", "account": "123456789012", "region": "eu-west-1",
     "id": "3779...", "level": "ERROR"}

* ``@timestamp``: ISO 8601 UTC with milliseconds, from the event's ``timestamp`` (ms since epoch).
* ``request_id`` when the message is in Lambda's text format.
* ``level`` (only when the message carries one): a JSON ``level``/``levelname``/``severity`` field
  (pino's numeric levels too), Lambda's text format ``<time>\\t<request id>\\tERROR\\t...``,
  Python's runtime format ``[ERROR]\\t<time>\\t<request id>\\t...``, a ``[ERROR]``-style marker
  near the start, or Python logging's default ``ERROR:logger:...``. Normalized to upper case, with
  ``WARNING`` → ``WARN`` and ``ERR`` → ``ERROR`` (Lambda's names).
* A message that is itself a JSON object (Powertools, Lambda's JSON log format, or the JSON tail of
  Lambda's text format) is kept as structured fields under ``json``; its ``message`` (or ``msg``)
  text moves to the top-level ``message``, which holds the raw text when there is none.
* Keys of ``json`` are made acceptable to OpenSearch's document parser
  (:func:`log_shipper.fields.sanitize_fields`): blank and dotted keys, depth, and a key budget past
  which the rest is folded into the string ``json_overflow``. The index template maps ``json``
  with ``dynamic: false``, so no key can fix a type for later ones.
* A message too large for one record is not parsed (the raw text is kept, so truncation keeps the
  most); :func:`logship.firehose.encode_document` then cuts it and flags ``truncated`` /
  ``original_bytes``.
* Bytes that were not UTF-8 (lone surrogates from ``surrogateescape`` decoding or from ``\\udcXX``
  escapes) become U+FFFD in ``message``; ``invalid_utf8`` is set and ``message_base64`` keeps the
  original bytes.

Two paths give the same bytes. :func:`document` + :func:`~logship.firehose.encode_document` is the
general one (a dict, then ``json``); :func:`to_records` first tries a fast one that writes the record
from pre-encoded parts (the batch's fields encoded once, every string of the event through
``json``'s own string encoder) and leaves to the general path what it does not handle: messages too
large to parse or to fit a record, and key overflow.
"""
from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from json.encoder import encode_basestring as _string
from typing import Any, Iterable, Mapping

from log_subscription import InvalidEvent, LogBatch, LogEvent, json_object
from logship.firehose import MAX_RECORD_BYTES, RECORD_ENCODER, TRUNCATION_MARK, encode_document, one_shot_encoder

from .contract import REDACTED_FIELD
from .fields import MAX_JSON_DEPTH, MAX_JSON_KEYS, OVERFLOW_FIELD, is_clean, sanitize_fields
from .levels import LEVELS, json_level, lambda_text, marker_level, text_level

__all__ = ["MAX_JSON_DEPTH", "MAX_JSON_KEYS", "OVERFLOW_FIELD", "STRUCTURE_LIMIT", "Records", "document",
           "iso_timestamp", "metadata", "sanitize_fields", "text_level", "to_records"]

_TRUNCATED_TAIL = f'{TRUNCATION_MARK}"}}\n'.encode()
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_MILLIS = tuple(f".{millis:03d}Z" for millis in range(1000))
_MILLIS_TO_MESSAGE = tuple(f'{millis}","message":' for millis in _MILLIS)  # a record's start, after its second
_encode_fields = one_shot_encoder(RECORD_ENCODER)  # decoded JSON objects: no cycle to check for
_REDACTED = f",{_string(REDACTED_FIELD)}:"
_LEVEL_FIELDS = {name: ',"level":' + _string(name) for name in LEVELS.values()}  # the normalized names, encoded
# Headroom for the metadata fields around a message: above this the message is kept raw, unparsed.
STRUCTURE_LIMIT = MAX_RECORD_BYTES - 4096
# Messages up to this many characters are within STRUCTURE_LIMIT bytes (≤ 4 bytes per character).
_FAST_CHARS = STRUCTURE_LIMIT // 4


@dataclass
class Records:
    """What one batch becomes: records for Firehose (with their event ids), and what was refused."""

    records: list[tuple[str, bytes]] = field(default_factory=list)
    invalid: list[InvalidEvent] = field(default_factory=list)
    truncated: int = 0
    invalid_utf8: int = 0


@lru_cache(maxsize=4096)
def _second(seconds: int) -> str:
    return (_EPOCH + timedelta(seconds=seconds)).replace(tzinfo=None).isoformat(timespec="seconds")


@lru_cache(maxsize=4096)
def _record_start(seconds: int) -> str:
    return f'{{"@timestamp":"{_second(seconds)}'


def iso_timestamp(timestamp_ms: int) -> str:
    """``2026-11-22T01:43:58.123Z``; raises ``OverflowError`` outside years 1–9999."""
    seconds, millis = divmod(timestamp_ms, 1000)  # events of a batch share their seconds: cached
    return _second(seconds) + _MILLIS[int(millis)]


def metadata(batch: LogBatch, region: str | None = None) -> dict[str, str]:
    """The fields every document of ``batch`` carries (between ``message`` and ``id``).

    ``region``: the region the batch came from (the payload does not say), set as ``region``.
    """
    fields = {"log_group": batch.log_group, "log_stream": batch.log_stream, "account": batch.owner}
    if region is not None:
        fields["region"] = region
    return fields


def _has_surrogates(text: str) -> bool:
    return _utf8_size(text) is None


def _utf8_size(text: str) -> int | None:
    """The size of ``text`` in UTF-8, or None when it holds a lone surrogate (bytes that were not UTF-8)."""
    try:
        return len(text.encode("utf-8"))
    except UnicodeEncodeError:
        return None


def _original_bytes(text: str) -> bytes:
    # surrogateescape gives back the bytes decode_payload(strict_utf8=False) could not decode;
    # surrogatepass covers lone surrogates that came from "\\udXXX" escapes in the JSON.
    try:
        return text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogatepass")


def _repaired(text: str) -> tuple[str, str]:
    """``text`` with U+FFFD for its bytes that were not UTF-8, and its original bytes in base64."""
    original = _original_bytes(text)
    return original.decode("utf-8", "replace"), base64.b64encode(original).decode("ascii")


def _structure(message: str) -> tuple[str, str | None, dict[str, Any] | None, str | None]:
    """(text for ``message``, request id, JSON fields, level) of a message small enough to parse."""
    # A message that does not start with "{" or a space is no JSON object: json_object is not called.
    first = message[:1]
    fields = json_object(message) if first == "{" or first.isspace() else None
    request_id = level = None
    if fields is None:
        parts = lambda_text(message)
        if parts:
            _, request_id, level, rest = parts
            level = LEVELS[level]
            first = rest[:1]  # a JSON tail, e.g. Node's console.log(JSON.stringify(...))
            fields = json_object(rest) if first == "{" or first.isspace() else None
        else:
            level = marker_level(message)
    if fields is not None:
        level = json_level(fields) or level
        for key in ("message", "msg"):  # the text moves to "message" (not kept twice)
            if type(fields.get(key)) is str:  # (what json decodes: no subclass)
                message = fields.pop(key)
                break
    return message, request_id, fields, level


def document(event: LogEvent, batch: LogBatch, region: str | None = None) -> dict[str, Any]:
    """The document of one log event (raises ``OverflowError`` for a timestamp out of range)."""
    message = event.message
    doc: dict[str, Any] = {"@timestamp": iso_timestamp(event.timestamp_ms), "message": message, **metadata(batch, region),
                           "id": event.id}
    size = len(message) if message.isascii() else _utf8_size(message)  # (isascii reads a flag: no pass)
    if size is None:
        message, original = _repaired(message)
        doc.update(message=message, invalid_utf8=True, message_base64=original)
        size = len(message.encode("utf-8"))
    if size > STRUCTURE_LIMIT:
        level = text_level(message)  # too large to keep structured: the raw text truncates best
        if level:
            doc["level"] = level
        return doc
    doc["message"], request_id, fields, level = _structure(message)
    if request_id is not None:
        doc["request_id"] = request_id
    if fields is not None:
        doc["json"], overflow = sanitize_fields(fields)
        if overflow:
            doc[OVERFLOW_FIELD] = json.dumps(overflow, ensure_ascii=False)
    if level:
        doc["level"] = level
    return doc


def to_records(batch: LogBatch, events: Iterable[LogEvent] | None = None, *, region: str | None = None,
               fired: Mapping[str, tuple[str, ...]] | None = None) -> Records:
    """Encode ``events`` (default: all valid events of ``batch``, from ``region``) as Firehose records.

    :param fired: event id → the redaction rules that masked something in its message (``redacted``).
    """
    out = Records(invalid=list(batch.invalid))
    shared = RECORD_ENCODER.encode(metadata(batch, region))[1:-1]  # the batch's fields, encoded once
    meta = f",{shared},\"id\":" if shared else ',"id":'
    append = out.records.append
    heads: dict[int, str] = {}  # timestamp → the record's start (a batch's events share their milliseconds often)
    for event in batch.events if events is None else events:
        event_id, timestamp_ms, message = event
        head = heads.get(timestamp_ms)
        if head is None:
            seconds, millis = divmod(timestamp_ms, 1000)
            try:
                head = heads[timestamp_ms] = _record_start(seconds) + _MILLIS_TO_MESSAGE[millis]
            except (OverflowError, ValueError) as error:
                out.invalid.append(InvalidEvent({"id": event_id, "timestamp": timestamp_ms, "message": message},
                                                f"timestamp {timestamp_ms} is out of range: {error}"))
                continue
        rules = fired.get(event_id) if fired else None
        data = None
        # The fast path: the record written from parts (the general path's bytes; the property tests hold
        # them equal). Messages too large to parse (once their bytes that were not UTF-8 are U+FFFD) take
        # the general path.
        broken = ""  # bytes that were not UTF-8: flagged, kept in base64, and U+FFFD in the text
        if len(message) <= _FAST_CHARS and not message.isascii() and _has_surrogates(message):
            message, original = _repaired(message)
            broken = f',"invalid_utf8":true,"message_base64":"{original}"'
        if len(message) <= _FAST_CHARS:
            text, request_id, fields, level = _structure(message)
            overflow: dict[str, Any] | None = None
            if fields is not None and not is_clean(fields, message):
                fields, overflow = sanitize_fields(fields)
            if not overflow:  # (key overflow: the general path)
                structured = "" if fields is None else ',"json":' + _encode_fields(fields)
                if request_id is not None:
                    structured = f',"request_id":{_string(request_id)}{structured}'
                flags = _LEVEL_FIELDS.get(level) or ("" if not level else ',"level":' + _string(level))
                if rules:
                    flags += _REDACTED + _encode_fields(list(rules))
                quoted_id = f'"{event_id}"' if event_id.isdigit() else _string(event_id)  # ids are digits
                record = (f"{head}{_string(text)}{meta}{quoted_id}{broken}{structured}{flags}}}\n"
                          .encode("utf-8", "replace"))
                if len(record) <= MAX_RECORD_BYTES:
                    data = record
                    if broken:
                        out.invalid_utf8 += 1
        if data is None:
            doc = document(event, batch, region)
            if rules:
                doc[REDACTED_FIELD] = list(rules)
            data = encode_document(doc)
            if doc.get("invalid_utf8"):
                out.invalid_utf8 += 1
            if data.endswith(_TRUNCATED_TAIL):  # encode_document puts the cut message last
                out.truncated += 1
        append((event_id, data))
    return out
