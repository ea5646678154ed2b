"""logship: what an application needs to ship its logs: ``logging`` handlers for Amazon Data Firehose and
CloudWatch Logs, their JSON formatter, batching within the APIs' limits, retries and a delivery report (boto3 only).

``FirehoseHandler``, ``CloudWatchLogsHandler``, ``JsonFormatter`` and ``flushing`` (flush at the
end of a Lambda invocation) are imported lazily, so the
Lambda functions that only batch Firehose records (``logship.firehose``) do not need
python-json-logger.

Modules:

* :mod:`logship.handlers`: ``FirehoseHandler`` and ``CloudWatchLogsHandler`` (a queue and a sender
  thread of their own, :mod:`logship._background`, :mod:`logship._sender`).
* :mod:`logship.formatter`: ``JsonFormatter``, one JSON document per record.
* :mod:`logship.firehose`: Firehose records and ``PutRecordBatch`` batches within the API's limits.
* :mod:`logship.cloudwatch`: CloudWatch Logs events and ``PutLogEvents`` batches within the API's limits.
* :mod:`logship.retry`: backoff with jitter, and retrying what a batch call left unprocessed.
* :mod:`logship.report`: the handlers' counters and the report ``close()`` returns.
* :mod:`logship.region`: which region logship's own clients use (``AWS_REGION``, ``AWS_DEFAULT_REGION``, profile).
* :mod:`logship.attach_point`: a pipeline's delivery stream, read at run time from its attach point.
* :mod:`logship.replay`, :mod:`logship.kinesis_redrive`: deprecated stubs of ``logops replay`` and
  ``logops redrive`` (the operators' distribution ``serverless-logging-ops``), removed in 0.4.0.

It imports nothing of the functions, the operators' tools (``logops``), the shared OpenSearch client
or the constructs; the functions may import its public modules.
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
