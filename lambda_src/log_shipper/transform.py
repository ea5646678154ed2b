"""Pure transformation of a decoded CloudWatch Logs batch into Firehose records (no I/O).

One JSON document per log event::

    {"@timestamp": "2026-11-22T01:43:58.123Z", "message": "...", "log_group": "/aws/lambda/orders",
     "log_stream": "2026/11/22/[$LATEST]abc", "account": "123456789012", "id": "3779...",
     "region": "eu-west-1", "level": "ERROR"}

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
* Keys of ``json`` are made acceptable to OpenSearch's document parser (:func:`sanitize_fields`):
  an empty or blank key, or a blank part of a dotted key (``.a``, ``a.``, ``a..b``), becomes
  ``_`` (``_.a``, ``a._``, ``a._.b``); an object or array deeper than :data:`MAX_JSON_DEPTH` levels
  (``json`` being level 1) is kept as its JSON text; after :data:`MAX_JSON_KEYS` keys the remaining ones
  are folded, as one JSON object keyed by their dotted path, into the string ``json_overflow``.
  The index template maps ``json`` with ``dynamic: false``, so no key can fix a type for later ones.
* A message too large for one record is not parsed (the raw text is kept, so truncation keeps the
  most); :func:`logship.firehose.encode_document` then cuts it and flags ``truncated`` /
  ``original_bytes``.
* Bytes that were not UTF-8 (lone surrogates from ``surrogateescape`` decoding or from ``\\udcXX``
  escapes) become U+FFFD in ``message``; ``invalid_utf8`` is set and ``message_base64`` keeps the
  original bytes.
"""
from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from typing import Any, Iterable

from log_subscription import InvalidEvent, LogBatch, LogEvent, json_object
from logship.firehose import MAX_RECORD_BYTES, TRUNCATION_MARK, encode_document

_TRUNCATED_TAIL = f'{TRUNCATION_MARK}"}}\n'.encode()
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
# Headroom for the metadata fields around a message: above this the message is kept raw, unparsed.
STRUCTURE_LIMIT = MAX_RECORD_BYTES - 4096

_LEVELS = "TRACE|DEBUG|INFO|NOTICE|WARN|WARNING|ERROR|ERR|CRITICAL|FATAL|ALERT|EMERGENCY"
_ALIASES = {"WARNING": "WARN", "ERR": "ERROR"}
_PINO_LEVELS = {10: "TRACE", 20: "DEBUG", 30: "INFO", 40: "WARN", 50: "ERROR", 60: "FATAL"}
_JSON_LEVEL_KEYS = ("level", "levelname", "log.level", "severity")
# Lambda's text format (Node.js, Java, .NET and the managed runtimes' system log): time, request id, level.
_LAMBDA_TEXT = re.compile(rf"^(\S+)\t(\S+)\t({_LEVELS})\t(.*)\Z", re.DOTALL)
# Python runtime's text format, and "[ERROR] something" / "2026-01-01 10:00:00 [error] ..." markers.
_MARKER = re.compile(rf"\[({_LEVELS})\]", re.IGNORECASE)
_MARKER_WINDOW = 160
# Python logging's default format: "ERROR:root:message".
_PY_DEFAULT = re.compile(rf"^({_LEVELS}):[\w.]*:")
# OpenSearch's index.mapping.depth.limit (20): the depth of an object path, ``json`` being 1 (arrays
# count as a level here too, to stay on the safe side).
MAX_JSON_DEPTH = 20
# Keys kept structured per document (all levels); the rest go to the ``json_overflow`` string.
MAX_JSON_KEYS = 1000
OVERFLOW_FIELD = "json_overflow"


@dataclass
class Records:
    """What one batch becomes: records for Firehose (with their event ids), and what was refused."""

    records: list[tuple[str, bytes]] = field(default_factory=list)
    invalid: list[InvalidEvent] = field(default_factory=list)
    truncated: int = 0
    invalid_utf8: int = 0


@lru_cache(maxsize=4096)
def _second(seconds: int) -> str:
    return f"{_EPOCH + timedelta(seconds=seconds):%Y-%m-%dT%H:%M:%S}"


def iso_timestamp(timestamp_ms: int) -> str:
    """``2026-11-22T01:43:58.123Z``; raises ``OverflowError`` outside years 1–9999."""
    seconds, millis = divmod(timestamp_ms, 1000)  # events of a batch share their seconds: cached
    return f"{_second(seconds)}.{millis:03d}Z"


def _normalize(level: Any) -> str | None:
    if isinstance(level, bool):
        return None
    if isinstance(level, int):
        return _PINO_LEVELS.get(level)
    if not isinstance(level, str):
        return None
    name = level.strip().upper()
    if not name or len(name) > 16 or not name.isalpha():
        return None
    return _ALIASES.get(name, name)


def text_level(message: str) -> str | None:
    """The level a plain-text message carries, or None."""
    match = _LAMBDA_TEXT.match(message)
    if match:
        return _normalize(match.group(3))
    head = message[:_MARKER_WINDOW]
    match = _MARKER.search(head)
    if match:
        return _normalize(match.group(1))
    match = _PY_DEFAULT.match(head)
    if match:
        return _normalize(match.group(1))
    return None


def json_level(fields: dict[str, Any]) -> str | None:
    """The level of a structured message (``level``, ``levelname``, ``log.level`` or ``severity``)."""
    for key in _JSON_LEVEL_KEYS:
        if key in fields:
            level = _normalize(fields[key])
            if level:
                return level
    return None


def _clean_key(key: str) -> str:
    if "." not in key:
        return key if key and not key.isspace() else "_"
    return ".".join(part if part and not part.isspace() else "_" for part in key.split("."))


class _Sanitizer:
    __slots__ = ("budget", "overflow")

    def __init__(self) -> None:
        self.budget = MAX_JSON_KEYS
        self.overflow: dict[str, Any] = {}

    def value(self, value: Any, level: int, path: str) -> Any:
        if type(value) is dict:
            return self.object(value, level + 1, path)
        if type(value) is list:
            if level + 1 > MAX_JSON_DEPTH:
                return json.dumps(value, ensure_ascii=False)
            return [self.value(item, level + 1, path) for item in value]
        return value

    def object(self, fields: dict[str, Any], level: int, path: str) -> Any:
        if level > MAX_JSON_DEPTH:
            return json.dumps(fields, ensure_ascii=False)
        out: dict[str, Any] = {}
        for key, inner in fields.items():
            if self.budget <= 0:
                self.overflow[path + key] = inner
                continue
            self.budget -= 1
            clean = key
            if "." in key or not key or key.isspace():
                clean = _clean_key(key)
                if level + clean.count(".") > MAX_JSON_DEPTH:  # each part of a dotted key is a level
                    clean = clean.replace(".", "_")
                while clean in out or (clean != key and clean in fields):  # no key is lost
                    clean += "_"
            if type(inner) is dict or type(inner) is list:
                inner = self.value(inner, level + clean.count("."), path + clean + ".")
            out[clean] = inner
        return out


def sanitize_fields(fields: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """``fields`` as OpenSearch accepts them under ``json``, and the keys past the cap (by path)."""
    sanitizer = _Sanitizer()
    clean = sanitizer.object(fields, 1, "")
    return clean, sanitizer.overflow


def _has_surrogates(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _original_bytes(text: str) -> bytes:
    # surrogateescape gives back the bytes decode_payload(strict_utf8=False) could not decode;
    # surrogatepass covers lone surrogates that came from "\\udXXX" escapes in the JSON.
    try:
        return text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogatepass")


def _clean_text(text: str) -> str:
    return _original_bytes(text).decode("utf-8", "replace")


def document(event: LogEvent, batch: LogBatch, region: str | None = None) -> dict[str, Any]:
    """The document of one log event (raises ``OverflowError`` for a timestamp out of range).

    ``region``: the region the batch came from (the payload does not say), set as ``region``.
    """
    message = event.message
    doc: dict[str, Any] = {
        "@timestamp": iso_timestamp(event.timestamp_ms),
        "message": message,
        "log_group": batch.log_group,
        "log_stream": batch.log_stream,
        "account": batch.owner,
        "id": event.id,
    }
    if region is not None:
        doc["region"] = region
    if _has_surrogates(message):
        doc["invalid_utf8"] = True
        doc["message_base64"] = base64.b64encode(_original_bytes(message)).decode("ascii")
        message = doc["message"] = _clean_text(message)
    if len(message) > STRUCTURE_LIMIT // 4 and len(message.encode("utf-8")) > STRUCTURE_LIMIT:
        level = text_level(message)  # too large to keep structured: the raw text truncates best
        if level:
            doc["level"] = level
        return doc
    fields = json_object(message)
    level = None
    if fields is None:
        match = _LAMBDA_TEXT.match(message)
        if match:
            level = _normalize(match.group(3))
            doc["request_id"] = match.group(2)
            fields = json_object(match.group(4))  # e.g. Node's console.log(JSON.stringify(...))
        else:
            level = text_level(message)
    if fields is not None:
        level = json_level(fields) or level
        for key in ("message", "msg"):  # the text moves to "message" (not kept twice)
            if isinstance(fields.get(key), str):
                doc["message"] = fields.pop(key)
                break
        doc["json"], overflow = sanitize_fields(fields)
        if overflow:
            doc[OVERFLOW_FIELD] = json.dumps(overflow, ensure_ascii=False)
    if level:
        doc["level"] = level
    return doc


def to_records(batch: LogBatch, events: Iterable[LogEvent] | None = None, *, region: str | None = None) -> Records:
    """Encode ``events`` (default: all valid events of ``batch``, from ``region``) as Firehose records."""
    out = Records(invalid=list(batch.invalid))
    for event in batch.events if events is None else events:
        try:
            doc = document(event, batch, region)
        except (OverflowError, ValueError) as error:
            out.invalid.append(InvalidEvent(
                {"id": event.id, "timestamp": event.timestamp_ms, "message": event.message},
                f"timestamp {event.timestamp_ms} is out of range: {error}",
            ))
            continue
        data = encode_document(doc)
        if doc.get("invalid_utf8"):
            out.invalid_utf8 += 1
        if data.endswith(_TRUNCATED_TAIL):  # encode_document puts the cut message last
            out.truncated += 1
        out.records.append((event.id, data))
    return out
