"""The JSON document every logship handler sends, built by python-json-logger (a maintained library).

One log record becomes::

    {"@timestamp": "2026-11-22T01:02:03.456000+00:00", "level": "INFO", "logger": "orders",
     "message": "order accepted", "service": "orders", "host": "ip-10-0-0-1",
     "order_id": "o-1",                        # extra= fields, at the top level
     "exception": "Traceback (most recent call last): ..."}   # only with exc_info

The core fields (``@timestamp``, ``level``, ``logger``, ``message``, ``service``, ``host``) always
win over an ``extra=`` field of the same name.
"""
from __future__ import annotations

import logging
import os
import socket
from typing import Any, Optional

from pythonjsonlogger.json import JsonFormatter as _PythonJsonFormatter

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
        kwargs.setdefault("timestamp", "@timestamp")
        kwargs.setdefault("rename_fields", {"exc_info": "exception", "stack_info": "stack"})
        super().__init__(*args, **kwargs)
        self.service = service or default_service()
        self.host = host or socket.gethostname()

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
