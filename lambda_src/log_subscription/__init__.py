"""Decoding of CloudWatch Logs subscription payloads, shared by every subscribed function.

A payload is base64 → gzip → JSON (Powertools' data class reads the envelope; the base64 is decoded
strictly). What cannot be decoded raises :class:`PayloadError` naming the stage; events with missing
or mistyped keys are returned apart from the valid ones, so one bad event never costs the rest of
its batch.
"""
from __future__ import annotations

import binascii
import json
import math
import operator
import zlib
from dataclasses import dataclass, field
from typing import Any, Mapping, NamedTuple

from aws_lambda_powertools.utilities.data_classes import CloudWatchLogsEvent

CONTROL_MESSAGE = "CONTROL_MESSAGE"
MIN_TIMESTAMP_MS = -62_135_596_800_000  # 0001-01-01T00:00:00Z
MAX_TIMESTAMP_MS = 253_402_300_799_999  # 9999-12-31T23:59:59.999Z
DATA_MESSAGE = "DATA_MESSAGE"


class PayloadError(ValueError):
    """The subscription payload as a whole cannot be decoded; ``stage`` says where it failed."""

    def __init__(self, stage: str, detail: str) -> None:
        super().__init__(f"subscription payload is {stage}: {detail}")
        self.stage = stage


class LogEvent(NamedTuple):
    """One log event. A named tuple: a batch makes thousands, and a tuple is made in half the time of a
    frozen dataclass."""

    id: str
    timestamp_ms: int
    message: str


@dataclass(frozen=True)
class InvalidEvent:
    """An entry of ``logEvents`` that is not a usable event, kept whole for the dead-letter path."""

    raw: Any
    reason: str


@dataclass(frozen=True)
class LogBatch:
    owner: str
    log_group: str
    log_stream: str
    message_type: str
    events: list[LogEvent] = field(default_factory=list)
    invalid: list[InvalidEvent] = field(default_factory=list)

    @property
    def is_control(self) -> bool:
        return self.message_type == CONTROL_MESSAGE


_new_tuple = tuple.__new__
_EVENT_FIELDS = operator.itemgetter("id", "timestamp", "message")


def _event(raw: Any) -> LogEvent | InvalidEvent:
    """The event ``raw`` is, or why it is none (the checks :func:`decode_payload`'s loop skips for the usual event)."""
    if not isinstance(raw, Mapping):
        return InvalidEvent(raw, f"event is {type(raw).__name__}, not an object")
    missing = [key for key in ("id", "timestamp", "message") if key not in raw]
    if missing:
        return InvalidEvent(raw, f"event lacks {', '.join(missing)}")
    timestamp, message = raw["timestamp"], raw["message"]
    if isinstance(timestamp, bool) or not isinstance(timestamp, (int, float)):
        return InvalidEvent(raw, f"timestamp is {type(timestamp).__name__}, not a number")
    if isinstance(timestamp, float) and not math.isfinite(timestamp):
        return InvalidEvent(raw, f"timestamp is {timestamp}, not a finite number")
    if not MIN_TIMESTAMP_MS <= timestamp <= MAX_TIMESTAMP_MS:
        # Outside years 1-9999 no datetime (and so no @timestamp) can represent it.
        return InvalidEvent(raw, f"timestamp {timestamp} ms is outside years 1-9999")
    if not isinstance(message, str):
        return InvalidEvent(raw, f"message is {type(message).__name__}, not a string")
    return LogEvent(id=str(raw["id"]), timestamp_ms=int(timestamp), message=message)


def decode_payload(event: Mapping[str, Any], *, strict_utf8: bool = True) -> LogBatch:
    """Decode a Lambda invocation from a CloudWatch Logs subscription filter.

    With ``strict_utf8=False`` bytes that are not UTF-8 do not fail the whole payload: they are
    decoded with ``surrogateescape`` (each bad byte becomes a lone surrogate ``U+DC80..U+DCFF`` in
    the event's message, from which ``str.encode("utf-8", "surrogateescape")`` gives the bytes back).
    """
    try:
        envelope = CloudWatchLogsEvent(dict(event))
        raw_data = envelope.raw_logs_data
    except (KeyError, TypeError, ValueError) as error:
        raise PayloadError("missing awslogs.data", repr(error)) from None
    if not isinstance(raw_data, str):
        raise PayloadError("not base64", f"awslogs.data is {type(raw_data).__name__}")
    # Powertools' decompress_logs_data decodes base64 leniently (it skips what is not base64): the data is
    # decoded once here, strictly, and decompressed as Powertools does (gzip or zlib header).
    try:
        compressed = binascii.a2b_base64(raw_data.encode("ascii", errors="strict"), strict_mode=True)
    except (binascii.Error, UnicodeEncodeError, ValueError) as error:
        raise PayloadError("not base64", str(error)) from None
    try:
        text = zlib.decompress(compressed, zlib.MAX_WBITS | 32)
    except zlib.error as error:
        raise PayloadError("not gzip", str(error)) from None
    try:
        data = json.loads(text.decode("utf-8", errors="strict" if strict_utf8 else "surrogateescape"))
    except UnicodeDecodeError as error:
        raise PayloadError("not UTF-8", str(error)) from None
    except (json.JSONDecodeError, RecursionError) as error:
        raise PayloadError("not JSON", str(error)) from None
    if not isinstance(data, dict):
        raise PayloadError("not a JSON object", type(data).__name__)
    message_type = data.get("messageType")
    if message_type == CONTROL_MESSAGE:
        return LogBatch(str(data.get("owner", "")), str(data.get("logGroup", "")), str(data.get("logStream", "")),
                        CONTROL_MESSAGE)
    missing = [key for key in ("owner", "logGroup", "logStream", "logEvents") if key not in data]
    if missing:
        raise PayloadError("missing keys", ", ".join(missing))
    if not isinstance(data["logEvents"], list):
        raise PayloadError("malformed", "logEvents is not a list")
    batch = LogBatch(str(data["owner"]), str(data["logGroup"]), str(data["logStream"]), str(message_type))
    valid, invalid = batch.events.append, batch.invalid.append
    for raw in data["logEvents"]:
        # The usual event (what json.loads gives, with a string id) costs a few C-level checks in this loop.
        try:
            values = _EVENT_FIELDS(raw)
        except (KeyError, TypeError):
            pass
        else:
            event_id, timestamp, message = values
            if (type(event_id) is str and type(timestamp) is int and type(message) is str
                    and MIN_TIMESTAMP_MS <= timestamp <= MAX_TIMESTAMP_MS):
                valid(_new_tuple(LogEvent, values))  # LogEvent(*values) less a Python frame
                continue
        decoded = _event(raw)
        (valid if type(decoded) is LogEvent else invalid)(decoded)
    return batch


_scan_json = json.JSONDecoder().scan_once


def json_object(message: str) -> dict[str, Any] | None:
    """The JSON object a log message holds (``{...}``, whitespace around), or ``None``."""
    if message[:1] == "{":  # most JSON lines: parsed in place, no copy
        start = 0
    elif message.lstrip()[:1] == "{":
        start = len(message) - len(message.lstrip())
    else:  # most messages: no copy, no parse
        return None
    try:  # json's C scanner directly: json.loads adds three Python calls per message around it
        value, end = _scan_json(message, start)
    except (StopIteration, ValueError, RecursionError):
        return None
    if end != len(message) and not message[end:].isspace():  # only whitespace may follow
        return None
    return value if isinstance(value, dict) else None
