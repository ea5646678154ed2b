"""CloudWatch Logs ``PutLogEvents`` within the service limits, creating the group and stream when missing.

Limits (CloudWatch Logs API reference): at most 10,000 events and 1,048,576 bytes per call, where
each event counts its UTF-8 message plus 26 bytes; events in chronological order; one call spans
at most 24 hours. Events are capped here at 256 KiB each (the long-standing per-event quota; newer
regions accept more). Sequence tokens are no longer needed and are not sent.
"""
from __future__ import annotations

from operator import itemgetter
from typing import Any, Callable, Iterable, Iterator

from .firehose import BatchResult

MAX_BATCH_EVENTS = 10_000
MAX_BATCH_BYTES = 1_048_576
EVENT_OVERHEAD_BYTES = 26
MAX_EVENT_BYTES = 256 * 1024  # message + overhead
MAX_BATCH_SPAN_MS = 24 * 60 * 60 * 1000


# One ``InputLogEvent`` as the API takes it: {"timestamp": ms since the epoch, "message": str}.
LogEvent = dict


def log_event(timestamp_ms: int, message: str) -> LogEvent:
    """An event whose message is valid UTF-8 (a lone surrogate becomes "?")."""
    if not message.isascii():
        message = message.encode("utf-8", errors="replace").decode("utf-8")
    return {"timestamp": timestamp_ms, "message": message}


def event_size(event: LogEvent) -> int:
    """What the event counts against the batch limit: its UTF-8 message plus 26 bytes."""
    message = event["message"]
    return (len(message) if message.isascii() else len(message.encode("utf-8", errors="replace"))) + EVENT_OVERHEAD_BYTES


_timestamp = itemgetter("timestamp")


def iter_event_batches(events: Iterable[LogEvent], *, max_events: int = MAX_BATCH_EVENTS,
                       max_bytes: int = MAX_BATCH_BYTES,
                       max_span_ms: int = MAX_BATCH_SPAN_MS) -> Iterator[list[LogEvent]]:
    """Sort events by time (stable: equal timestamps keep their order) and cut them into
    batches that respect the event count, the byte size (26 bytes per event) and the 24-hour span."""
    batch: list[LogEvent] = []
    size = 0
    first = 0
    for event in sorted(events, key=_timestamp):
        event_bytes = event_size(event)
        stamp = event["timestamp"]
        if batch and (len(batch) >= max_events or size + event_bytes > max_bytes or stamp - first >= max_span_ms):
            yield batch
            batch, size = [], 0
        if not batch:
            first = stamp
        batch.append(event)
        size += event_bytes
    if batch:
        yield batch


def _error_code(error: BaseException) -> str:
    return getattr(error, "response", {}).get("Error", {}).get("Code", "")


def ensure_stream(client: Any, log_group_name: str, log_stream_name: str) -> None:
    """Create the stream, and the group first when it is missing too; existing ones are fine.

    The stream is tried first, so a role that may only create streams in an existing group works.
    """
    def create(call: Callable[..., Any], **kwargs: str) -> None:
        try:
            call(**kwargs)
        except Exception as error:
            if _error_code(error) != "ResourceAlreadyExistsException":
                raise

    try:
        create(client.create_log_stream, logGroupName=log_group_name, logStreamName=log_stream_name)
    except Exception as error:
        if _error_code(error) != "ResourceNotFoundException":
            raise
        create(client.create_log_group, logGroupName=log_group_name)
        create(client.create_log_stream, logGroupName=log_group_name, logStreamName=log_stream_name)


def rejected_indexes(response: dict[str, Any], count: int) -> set[int]:
    """Indexes of the events ``rejectedLogEventsInfo`` reports (too old, expired, too new)."""
    info = response.get("rejectedLogEventsInfo") or {}
    rejected: set[int] = set()
    if "tooNewLogEventStartIndex" in info:
        rejected.update(range(info["tooNewLogEventStartIndex"], count))
    for key in ("tooOldLogEventEndIndex", "expiredLogEventEndIndex"):
        if key in info:
            rejected.update(range(0, info[key] + 1))
    return rejected


def put_log_events(client: Any, log_group_name: str, log_stream_name: str, events: list[LogEvent]) -> BatchResult:
    """Send one batch (already within the limits); create the group/stream on ResourceNotFound.

    A failed call (throttling, a 5xx, a broken connection) is botocore's to retry: give the client
    ``Config(retries={"mode": "standard", ...})``; what it still raises propagates. The events the
    service rejects for their age are counted in ``BatchResult.last_errors`` and never retried
    (they can never succeed). ``delivered`` counts accepted events.
    """
    result = BatchResult()
    payload = events

    def put() -> dict[str, Any]:
        result.calls += 1
        return client.put_log_events(logGroupName=log_group_name, logStreamName=log_stream_name, logEvents=payload)

    try:
        response = put()
    except Exception as error:
        if _error_code(error) != "ResourceNotFoundException":
            raise
        ensure_stream(client, log_group_name, log_stream_name)
        response = put()
    rejected = rejected_indexes(response, len(events))
    result.delivered = len(events) - len(rejected)
    result.last_errors = [f"rejected:{len(rejected)}"] if rejected else []
    return result
