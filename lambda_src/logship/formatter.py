"""The JSON document every logship handler sends, built by python-json-logger (a maintained library).

One log record becomes::

    {"@timestamp": "2026-11-22T01:02:03.456000+00:00", "level": "INFO", "logger": "orders",
     "message": "order accepted", "service": "orders", "host": "ip-10-0-0-1",
     "order_id": "o-1",                        # extra= fields, at the top level
     "exception": "Traceback (most recent call last): ..."}   # only with exc_info

The core fields (``@timestamp``, ``level``, ``logger``, ``message``, ``service``, ``host``) always
win over an ``extra=`` field of the same name.

The handlers' sender thread formats many records per second: a formatter built with the defaults
(no ``fmt``, ``rename_fields``, ...) gives it :meth:`JsonFormatter.format_attributes`, which writes
the same text as python-json-logger's ``format`` from the record's attributes, without its
per-record passes (about a quarter of the time).
"""
from __future__ import annotations

import json
import logging
import os
import socket
from datetime import datetime, timezone
from typing import Any, Optional

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonEncoder
from pythonjsonlogger.json import JsonFormatter as _PythonJsonFormatter

from .firehose import one_shot_encoder

# Attributes that are never extra fields: the LogRecord's own, "message" (the rendered text) and
# our private ones (a leading "_" is skipped by python-json-logger too).
_NOT_EXTRA = frozenset(RESERVED_ATTRS) | {"message", "_logship_queued", "_logship_bytes"}
_UTC = timezone.utc


# The fields the formatter writes itself; an extra field of one of these names takes the dict path.
_OURS = frozenset({"@timestamp", "level", "logger", "message", "exception", "stack", "service", "host"})
_SHAPES: dict[tuple[Any, ...], tuple[tuple[Any, ...], bool]] = {}  # a record's keys -> _extra_fields
_string = json.encoder.encode_basestring_ascii  # what python-json-logger's JsonEncoder writes a str with


def _extra_fields(keys: tuple[Any, ...]) -> tuple[tuple[Any, ...], bool]:
    """The extra fields of a record with these attribute names, in order, and whether none has one of our names.

    Records from one logging call have the same names in the same order: each shape is worked out once.
    """
    known = _SHAPES.get(keys)
    if known is None:
        extra = tuple(key for key in keys if key not in _NOT_EXTRA and not (isinstance(key, str) and key.startswith("_")))
        known = (extra, _OURS.isdisjoint(extra))
        if len(_SHAPES) >= 1024:  # bounded: an application with ever new shapes starts over
            _SHAPES.clear()
        _SHAPES[keys] = known
    return known


SERVICE_ENV_VARS = ("LOGSHIP_SERVICE_NAME", "POWERTOOLS_SERVICE_NAME")


def default_service() -> str:
    """``LOGSHIP_SERVICE_NAME``, else ``POWERTOOLS_SERVICE_NAME``, else ``"unknown"``."""
    for name in SERVICE_ENV_VARS:
        if os.environ.get(name):
            return os.environ[name]
    return "unknown"


class JsonFormatter(_PythonJsonFormatter):
    """python-json-logger's formatter with the logship field names, service and host.

    :param service: the ``service`` field. Default: ``LOGSHIP_SERVICE_NAME``, else
        ``POWERTOOLS_SERVICE_NAME``, else ``"unknown"``.
    :param host: the ``host`` field. Default: ``socket.gethostname()``.
    Other keyword arguments go to ``pythonjsonlogger.json.JsonFormatter``.
    """

    def __init__(self, *args: Any, service: Optional[str] = None, host: Optional[str] = None,
                 **kwargs: Any) -> None:
        self.fast = not args and not kwargs and type(self) is JsonFormatter
        kwargs.setdefault("timestamp", "@timestamp")
        kwargs.setdefault("rename_fields", {"exc_info": "exception", "stack_info": "stack"})
        super().__init__(*args, **kwargs)
        self.service = service or default_service()
        self.host = host or socket.gethostname()
        self._dumps = one_shot_encoder(JsonEncoder())  # python-json-logger's serialization, built once
        self._tail = ("", "", "")  # (service, host, their encoded text ending the document)
        self._second: tuple[int, str] = (-1, "")

    def add_fields(self, log_data: dict[str, Any], record: logging.LogRecord,
                   message_dict: dict[str, Any]) -> None:
        super().add_fields(log_data, record, message_dict)
        log_data.update(
            level=record.levelname,
            logger=record.name,
            service=self.service,
            host=self.host,
        )
        if not isinstance(record.msg, dict):  # a dict message is spread into the document instead
            log_data["message"] = record.message

    def process_log_record(self, log_data: dict[str, Any]) -> dict[str, Any]:
        # Core fields first: easier to read in the console and in S3 backups.
        head = {key: log_data.pop(key) for key in ("@timestamp", "level", "logger", "message") if key in log_data}
        return {**head, **log_data}

    def _timestamp(self, created: float) -> str:
        """``datetime.fromtimestamp(created, tz=utc).isoformat()``, the date part computed once a second."""
        second = int(created)
        micro = round((created - second) * 1e6)  # half-even, as datetime rounds
        if micro >= 1_000_000:
            second, micro = second + 1, micro - 1_000_000
        cached = self._second
        if cached[0] != second:
            if created < 0:
                return datetime.fromtimestamp(created, tz=_UTC).isoformat()
            cached = self._second = (second, datetime.fromtimestamp(second, tz=_UTC).isoformat()[:-6])
        return f"{cached[1]}.{micro:06d}+00:00" if micro else f"{cached[1]}+00:00"

    def format_attributes(self, attributes: dict[str, Any]) -> Optional[str]:
        """The text ``format`` writes for a record captured by the handlers (message and exception
        already rendered into ``msg`` and ``exc_text``); ``None`` when only ``format`` can write it
        (a formatter with options, a dict message)."""
        message = attributes["msg"]
        if not self.fast or not isinstance(message, str):
            return None
        stamp = self._timestamp(attributes["created"])
        level, name = attributes["levelname"], attributes["name"]
        exception, stack = attributes.get("exc_text"), attributes.get("stack_info")
        extra, plain = _extra_fields(tuple(attributes))
        if plain and type(level) is str and type(name) is str:
            # No field to shadow: the text is written from parts, with only the extra fields
            # through the encoder (the same text as the document below, in a third less time).
            parts = ['{"@timestamp": "', stamp, '", "level": ', _string(level), ', "logger": ', _string(name),
                     ', "message": ', _string(message)]
            if exception:
                parts += (', "exception": ', _string(exception))
            if stack:
                parts += (', "stack": ', _string(self.formatStack(stack)))
            if extra:
                parts += (", ", self._dumps({key: attributes[key] for key in extra})[1:-1])
            parts.append(self._service_and_host())
            return "".join(parts)
        # python-json-logger's order: head fields, exception/stack, extras, then ours (which win).
        data: dict[str, Any] = {"@timestamp": stamp, "level": level, "logger": name, "message": message}
        if exception:
            data["exception"] = exception
        if stack:
            data["stack"] = self.formatStack(stack)
        for key in extra:
            data[key] = attributes[key]
        data["@timestamp"], data["level"], data["logger"], data["message"] = stamp, level, name, message
        data["service"] = self.service
        data["host"] = self.host
        return self._dumps(data)

    def _service_and_host(self) -> str:
        service, host, text = self._tail
        if service is not self.service or host is not self.host:  # set after construction
            text = f', "service": {self._dumps(self.service)}, "host": {self._dumps(self.host)}}}'
            self._tail = (self.service, self.host, text)
        return text
