"""logship: ship Python logs and log events to Amazon Data Firehose and CloudWatch Logs (boto3 only).

``FirehoseHandler``, ``CloudWatchLogsHandler``, ``JsonFormatter`` and ``flushing`` (flush at the
end of a Lambda invocation) are imported lazily, so the
Lambda functions that only batch Firehose records (``logship.firehose``) do not need
python-json-logger.
"""
from typing import Any

from .firehose import (
    MAX_BATCH_BYTES,
    MAX_BATCH_RECORDS,
    MAX_RECORD_BYTES,
    BatchResult,
    encode_document,
    iter_batches,
    put_record_batch,
)

_LAZY = {
    "FirehoseHandler": "handlers",
    "CloudWatchLogsHandler": "handlers",
    "JsonFormatter": "formatter",
    "flushing": "_flushing",
    "DeliveryReport": "report",
    "HandlerStats": "report",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module 'logship' has no attribute {name!r}")


__all__ = [
    "MAX_BATCH_BYTES",
    "MAX_BATCH_RECORDS",
    "MAX_RECORD_BYTES",
    "BatchResult",
    "CloudWatchLogsHandler",
    "DeliveryReport",
    "FirehoseHandler",
    "HandlerStats",
    "JsonFormatter",
    "encode_document",
    "flushing",
    "iter_batches",
    "put_record_batch",
]
