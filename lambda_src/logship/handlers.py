"""``logging`` handlers that ship JSON documents to Amazon Data Firehose and CloudWatch Logs.

Both share the queue and sender thread of :mod:`logship._background`; only formatting for the
destination (``_encode``) and the API call within its limits (``_deliver``) differ. Usable from
``logging.config.dictConfig`` by class path::

    {"class": "logship.FirehoseHandler", "stream_name": "app-logs", "service": "orders"}
    {"class": "logship.CloudWatchLogsHandler", "log_group_name": "/applications/shop"}
"""
from __future__ import annotations

import json
import logging
import os
import socket
from typing import Any, Optional

from . import report as R
from ._background import RECORD_OVERHEAD_BYTES, BackgroundHandler
from ._clients import CLIENT_CONFIG, client_for as _client  # noqa: F401  (CLIENT_CONFIG: importable from here)
from ._sender import DestinationError
from .attach_point import STREAM_ENVIRONMENT_VARIABLE, delivery_stream_name
from .cloudwatch import (MAX_BATCH_BYTES as LOGS_BATCH_BYTES, MAX_BATCH_EVENTS, MAX_EVENT_BYTES, EVENT_OVERHEAD_BYTES,
                         LogEvent, event_size, iter_event_batches, log_event, put_log_events)
from .firehose import (MAX_BATCH_BYTES as FIREHOSE_BATCH_BYTES, MAX_BATCH_RECORDS, MAX_RECORD_BYTES, encode_document,
                       iter_batches, put_record_batch)



# An event of at most this many characters is within MAX_EVENT_BYTES (at most 4 UTF-8 bytes each).
_SURELY_FITS = (MAX_EVENT_BYTES - EVENT_OVERHEAD_BYTES) // 4


def _as_document(text: str) -> dict[str, Any]:
    try:
        document = json.loads(text)
    except ValueError:
        return {"message": text}
    return document if isinstance(document, dict) else {"message": text}


def _required(value: Optional[str], env: str, what: str) -> str:
    value = value or os.environ.get(env)
    if not value:
        raise ValueError(f"{what} is required (argument or the {env} environment variable)")
    return value


class FirehoseHandler(BackgroundHandler):
    """Ships each record as one newline-terminated JSON document to a Firehose stream.

    :param stream_name: the delivery stream. Default: the ``LOGSHIP_FIREHOSE_STREAM`` environment variable.
    :param client: a boto3 Firehose client. Default: - one built from the environment (region,
        credentials, ``AWS_ENDPOINT_URL``) with 3 attempts and 5 s / 15 s connect / read timeouts.
    :param region_name: region of the default client. Default: - from the environment.
    :param endpoint_url: endpoint of the default client. Default: - from the environment.
    The other keyword arguments (``service``, ``max_queue_bytes``, ``overflow``, ``block_ms``,
    ``batch_records``, ``max_concurrent_calls`` (here 4 by default), ``flush_seconds``, ...) are
    those of :class:`logship._background.BackgroundHandler`. With several calls in flight, records
    of different calls may reach the stream in either order (each carries its ``@timestamp``).
    Documents larger than 1,000 KiB are truncated and flagged (``truncated``, ``original_bytes``).
    """

    default_batch_records = MAX_BATCH_RECORDS
    batch_bytes = FIREHOSE_BATCH_BYTES
    # One PutRecordBatch is a round trip of tens of milliseconds for at most 500 records: with
    # four in flight the sender formats while they travel (a burst no longer outruns one call at a time).
    default_concurrent_calls = 4

    def __init__(self, stream_name: Optional[str] = None, level: int | str = logging.NOTSET, *,
                 client: Any = None, region_name: Optional[str] = None, endpoint_url: Optional[str] = None,
                 **options: Any) -> None:
        self.stream_name = _required(stream_name, STREAM_ENVIRONMENT_VARIABLE, "FirehoseHandler: stream_name")
        self._client_options = None if client else ("firehose", region_name, endpoint_url)
        self.client = client or _client("firehose", region_name, endpoint_url)
        super().__init__(level, **options)

    @classmethod
    def from_pipeline(cls, pipeline: str = "default", level: int | str = logging.NOTSET, *, ssm_client: Any = None,
                      **options: Any) -> "FirehoseHandler":
        """A handler for the stream the LogPipeline ``pipeline`` publishes here (read once from SSM, see
        :func:`logship.attach_point.delivery_stream_name`; ``options`` are the constructor's)."""
        stream = delivery_stream_name(pipeline, client=ssm_client, region_name=options.get("region_name"),
                                      endpoint_url=options.get("endpoint_url"))
        return cls(stream, level, **options)

    @property
    def destination(self) -> str:  # type: ignore[override]
        return f"Firehose stream {self.stream_name}"

    def _encode(self, text: str, created: float) -> bytes:
        data = (text + "\n").encode("utf-8", errors="replace")
        if len(data) > MAX_RECORD_BYTES:
            data = encode_document(_as_document(text))
        return data

    def _payload_size(self, payload: bytes) -> int:
        return RECORD_OVERHEAD_BYTES + len(payload)

    def _payload_text(self, payload: bytes) -> str:
        return payload.decode("utf-8", errors="replace").rstrip("\n")

    def _deliver(self, payloads: list[bytes]) -> list[bytes]:
        sent = 0
        for batch in iter_batches(payloads):
            try:
                result = put_record_batch(self.client, self.stream_name, batch)
            except Exception as error:
                raise DestinationError(error, payloads[sent:]) from error
            self.delivered(result.delivered)
            if result.failed:
                # Keep the order: the failed ones of this batch, then every batch not sent yet.
                raise DestinationError(f"{len(result.failed)} record(s) failed: "
                                       f"{', '.join(sorted(set(result.last_errors)))}",
                                       result.failed + payloads[sent + len(batch):])
            sent += len(batch)
        return []


class CloudWatchLogsHandler(BackgroundHandler):
    """Ships each record as one JSON log event to a CloudWatch Logs stream (``PutLogEvents``).

    :param log_group_name: the log group. Default: the ``LOGSHIP_LOG_GROUP`` environment variable.
    :param log_stream_name: this process's stream; group and stream are created when missing.
        Default: ``<hostname>/<pid>`` (recomputed in a forked child), so processes sharing a group
        each write their own stream.
    :param client: a boto3 CloudWatch Logs client. Default: - one built from the environment.
    :param region_name: region of the default client. Default: - from the environment.
    :param endpoint_url: endpoint of the default client. Default: - from the environment.
    The other keyword arguments are those of :class:`logship._background.BackgroundHandler`.
    Events larger than 256 KiB (with the 26 bytes of overhead) are truncated and flagged; events
    the service rejects for their age (over 14 days old, 2 hours ahead) are counted in
    ``rejected_records``.
    """

    default_batch_records = MAX_BATCH_EVENTS
    batch_bytes = LOGS_BATCH_BYTES

    def __init__(self, log_group_name: Optional[str] = None, level: int | str = logging.NOTSET, *,
                 log_stream_name: Optional[str] = None, client: Any = None, region_name: Optional[str] = None,
                 endpoint_url: Optional[str] = None, **options: Any) -> None:
        self.log_group_name = _required(log_group_name, "LOGSHIP_LOG_GROUP", "CloudWatchLogsHandler: log_group_name")
        self._default_stream = log_stream_name is None
        self.log_stream_name = log_stream_name or self._process_stream()
        self._client_options = None if client else ("logs", region_name, endpoint_url)
        self.client = client or _client("logs", region_name, endpoint_url)
        super().__init__(level, **options)

    @staticmethod
    def _process_stream() -> str:
        return f"{socket.gethostname()}/{os.getpid()}".replace(":", "_").replace("*", "_")

    def _after_fork(self) -> None:
        if self._default_stream:
            self.log_stream_name = self._process_stream()
        super()._after_fork()

    @property
    def destination(self) -> str:  # type: ignore[override]
        return f"CloudWatch Logs {self.log_group_name}:{self.log_stream_name}"

    def _encode(self, text: str, created: float) -> LogEvent:
        event = log_event(int(created * 1000), text)
        if len(text) > _SURELY_FITS and event_size(event) > MAX_EVENT_BYTES:
            limit = MAX_EVENT_BYTES - EVENT_OVERHEAD_BYTES + 1  # encode_document counts a trailing newline
            event["message"] = encode_document(_as_document(text), limit=limit).rstrip(b"\n").decode("utf-8")
        return event

    def _payload_size(self, payload: LogEvent) -> int:
        return RECORD_OVERHEAD_BYTES + event_size(payload)

    def _payload_text(self, payload: LogEvent) -> str:
        return payload["message"]

    def _deliver(self, payloads: list[LogEvent]) -> list[LogEvent]:
        batches = list(iter_event_batches(payloads))
        for index, batch in enumerate(batches):
            try:
                result = put_log_events(self.client, self.log_group_name, self.log_stream_name, batch)
            except Exception as error:
                raise DestinationError(error, [event for rest in batches[index:] for event in rest]) from error
            self.delivered(result.delivered)
            if result.delivered < len(batch):
                self.reject(len(batch) - result.delivered, f"{R.REJECTED} (too old or too new)")
        return []
