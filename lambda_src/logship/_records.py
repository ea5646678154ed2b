"""How a queued record is kept: the captured attributes of a LogRecord, or an encoded payload put back.

A record is captured in the calling thread (a C-level copy of its attributes, message and exception
rendered) and counted against the queue's byte bound by its text plus :data:`RECORD_OVERHEAD_BYTES`.
"""
from __future__ import annotations

import logging
import time
from typing import Any

# Measured with tracemalloc (CPython 3.11): a queued record's attribute copy besides its text.
RECORD_OVERHEAD_BYTES = 320
QUEUED_KEY = "_logship_queued"  # leading "_": JSON formatters leave these out
SIZE_KEY = "_logship_bytes"
_EXCEPTION_FORMATTER = logging.Formatter()


class Encoded:
    """A payload already formatted for the destination, back in the queue after a failed delivery."""

    __slots__ = ("payload", "size", "queued")

    def __init__(self, payload: Any, size: int) -> None:
        self.payload = payload
        self.size = size
        self.queued = time.monotonic()


def _queued(item: Any) -> float:
    """When (monotonic clock) an item was queued; the monotonic clock keeps the pace through clock changes."""
    return item.queued if type(item) is Encoded else item[QUEUED_KEY]


def _size(item: Any) -> int:
    return item.size if type(item) is Encoded else item[SIZE_KEY]


def _copy_record(record: logging.LogRecord) -> dict[str, Any]:
    """The record's attributes (a C-level dict copy), with the message and exception rendered now.

    Rendering in the calling thread (as ``logging.handlers.QueueHandler`` does) freezes the
    arguments and the traceback as they are at the logging call; the JSON is built later, once,
    by the sender thread.
    """
    attributes = record.__dict__.copy()
    attributes[QUEUED_KEY] = time.monotonic()
    msg = record.msg
    if isinstance(msg, dict) and not record.args:
        attributes["msg"] = dict(msg)
        size = RECORD_OVERHEAD_BYTES + 64 * len(msg)
    else:
        attributes["msg"] = text = record.getMessage()
        attributes["args"] = None
        size = RECORD_OVERHEAD_BYTES + len(text)
    if record.exc_info:
        if not record.exc_text:
            record.exc_text = _EXCEPTION_FORMATTER.formatException(record.exc_info)
        attributes["exc_text"] = record.exc_text
        attributes["exc_info"] = None
        size += len(record.exc_text)
    attributes[SIZE_KEY] = size
    return attributes


def _rebuild_record(attributes: dict[str, Any]) -> logging.LogRecord:
    record = logging.LogRecord.__new__(logging.LogRecord)
    record.__dict__ = attributes
    return record
