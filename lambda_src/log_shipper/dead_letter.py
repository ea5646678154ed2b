"""Pure construction of the dead-letter (SQS) messages of the log shipper (no I/O).

The kinds of message, told apart by the ``kind`` attribute:

* ``payload``: a Lambda event that could not be decoded at all. The body is the event exactly as
  received, as JSON (``{"awslogs": {"data": "..."}}``), so it can be re-driven by invoking the
  function with it; ``stage`` says where decoding failed (``not base64``, ``not gzip``, ...).
* ``events``: log events of a decodable batch that cannot become documents. The body is
  ``{"owner", "logGroup", "logStream", "events": [{"reason": ..., "event": <raw event>}]}``.
* ``record``: a Kinesis record that is not a CloudWatch Logs payload. The body is the record exactly
  as Lambda delivered it (``kinesis.data`` included); ``stage`` says what is wrong with it.
* ``refused`` (bulk mode): documents the domain refused for their content (a 400 such as
  ``mapper_parsing_exception``). The body is ``{"owner", "logGroup", "logStream", "documents":
  [{"reason": "<type>: <reason>", "document": <the document sent>}]}``; retrying cannot help until
  the mapping or the document changes.
* ``deferred`` (``reason=deadline``): events of a direct subscription not shipped before the
  invocation ran out of time. The body is ``{"requestPayload": <subscription event of those events>}``,
  the shape of Lambda's on-failure records, so the runbook's redrive re-invokes the shipper with it.

Bodies are ASCII JSON (``ensure_ascii``), so every character is one byte and valid in SQS. An SQS
message holds at most 256 KiB including its attributes: a body larger than ``BODY_LIMIT`` is split
into parts, each sent as its own message with ``part``/``parts`` (1-based), ``bytes`` (the whole
body's length) and ``sha256`` (of the whole body) attributes — concatenating the parts in order
gives the body back, nothing is truncated. Every message carries ``source=log-shipper``,
``kind`` and ``reason``.
"""
from __future__ import annotations

import base64
import gzip
import hashlib
import json
from dataclasses import dataclass
from typing import Any, Mapping

from log_subscription import DATA_MESSAGE, InvalidEvent, LogBatch, LogEvent

from .contract import DEAD_LETTER_SOURCE, DEADLINE_REASON

SQS_MAX_MESSAGE_BYTES = 256 * 1024
ATTRIBUTES_ROOM = 4 * 1024  # names, types and values of the attributes count towards the limit
BODY_LIMIT = SQS_MAX_MESSAGE_BYTES - ATTRIBUTES_ROOM
SOURCE = DEAD_LETTER_SOURCE
_MAX_ATTRIBUTE_CHARS = 1024


@dataclass(frozen=True)
class DeadLetter:
    body: str
    attributes: dict[str, str]

    def send_message_kwargs(self, queue_url: str) -> dict[str, Any]:
        return {
            "QueueUrl": queue_url,
            "MessageBody": self.body,
            "MessageAttributes": {
                name: {"DataType": "String", "StringValue": value} for name, value in self.attributes.items()
            },
        }


def _ascii(text: str) -> str:
    """An attribute value: ASCII with JSON escapes (SQS refuses control characters), bounded."""
    return json.dumps(str(text))[1:-1][:_MAX_ATTRIBUTE_CHARS] or "-"


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=True, separators=(",", ":"), default=repr)


def split(body: str, attributes: Mapping[str, str], *, limit: int = BODY_LIMIT) -> list[DeadLetter]:
    """One message, or the parts of ``body`` as messages when it is larger than ``limit`` bytes."""
    common = {key: _ascii(value) for key, value in attributes.items()}
    if len(body) <= limit:
        return [DeadLetter(body, common)]
    digest = hashlib.sha256(body.encode("ascii", "backslashreplace")).hexdigest()
    chunks = [body[start:start + limit] for start in range(0, len(body), limit)]
    return [
        DeadLetter(chunk, {**common, "part": str(number), "parts": str(len(chunks)), "bytes": str(len(body)),
                           "sha256": digest})
        for number, chunk in enumerate(chunks, start=1)
    ]


def payload_letters(event: Any, *, stage: str, reason: str, limit: int = BODY_LIMIT) -> list[DeadLetter]:
    """The messages that keep an undecodable Lambda event whole."""
    return split(_dumps(event), {"source": SOURCE, "kind": "payload", "stage": stage, "reason": reason},
                 limit=limit)


def record_letters(record: Any, *, stage: str, reason: str, limit: int = BODY_LIMIT) -> list[DeadLetter]:
    """The messages that keep a Kinesis record that is not a CloudWatch Logs payload, as delivered."""
    kinesis = record.get("kinesis") if isinstance(record, Mapping) else None
    where = {"event_source_arn": str(record.get("eventSourceARN", "-")) if isinstance(record, Mapping) else "-",
             "sequence_number": str(kinesis.get("sequenceNumber", "-")) if isinstance(kinesis, Mapping) else "-"}
    return split(_dumps(record), {"source": SOURCE, "kind": "record", "stage": stage, "reason": reason, **where},
                 limit=limit)


def _subscription_event(batch: LogBatch, events: list[LogEvent]) -> dict[str, Any]:
    body = {"messageType": DATA_MESSAGE, "owner": batch.owner, "logGroup": batch.log_group,
            "logStream": batch.log_stream, "subscriptionFilters": [],
            "logEvents": [{"id": e.id, "timestamp": e.timestamp_ms, "message": e.message} for e in events]}
    data = gzip.compress(_dumps(body).encode("ascii"), compresslevel=6)
    return {"awslogs": {"data": base64.b64encode(data).decode("ascii")}}


def deferred_letters(batch: LogBatch, events: list[LogEvent], *, limit: int = BODY_LIMIT) -> list[DeadLetter]:
    """Events left when time ran out, as redrivable subscription events of at most ``limit`` bytes each.

    A group too large is halved until it fits; a single event that does not fit even gzipped is
    split into parts like any other body (nothing is dropped).
    """
    attributes = {"source": SOURCE, "kind": "deferred", "reason": DEADLINE_REASON, "log_group": batch.log_group}
    letters: list[DeadLetter] = []

    def add(group: list[LogEvent]) -> None:
        body = _dumps({"requestPayload": _subscription_event(batch, group)})
        if len(body) > limit and len(group) > 1:
            add(group[:len(group) // 2])
            add(group[len(group) // 2:])
            return
        letters.extend(split(body, {**attributes, "events": str(len(group))}, limit=limit))

    if events:
        add(list(events))
    return letters


def _packed(batch: LogBatch, kind: str, list_key: str, entries: list[tuple[str, Any]], *,
            limit: int) -> list[DeadLetter]:
    """``entries`` (reason, value) as few messages as fit, each ``{owner, logGroup, logStream,
    <list_key>: [{"reason", <value key>}]}`` with the reasons it holds in ``reason``."""
    header = {"owner": batch.owner, "logGroup": batch.log_group, "logStream": batch.log_stream}
    attributes = {"source": SOURCE, "kind": kind, "log_group": batch.log_group}
    value_key = list_key[:-1]  # events -> event, documents -> document
    empty = len(_dumps({**header, list_key: []}))
    letters: list[DeadLetter] = []
    items: list[str] = []
    reasons: list[str] = []
    size = empty

    def flush() -> None:
        if items:
            body = _dumps(header)[:-1] + f',"{list_key}":[' + ",".join(items) + "]}"
            reason = "; ".join(sorted(set(reasons)))
            letters.extend(split(body, {**attributes, "reason": reason}, limit=limit))

    for reason, value in entries:
        item = _dumps({"reason": reason, value_key: value})
        if items and size + len(item) + 1 > limit:
            flush()
            items, reasons, size = [], [], empty
        items.append(item)
        reasons.append(reason)
        size += len(item) + 1
    flush()
    return letters


def event_letters(batch: LogBatch, invalid: list[InvalidEvent], *, limit: int = BODY_LIMIT) -> list[DeadLetter]:
    """The messages that keep the invalid events of a batch, as few as fit in the size limit."""
    return _packed(batch, "events", "events", [(entry.reason, entry.raw) for entry in invalid], limit=limit)


def refused_letters(batch: LogBatch, refused: list[tuple[str, bytes]], *, limit: int = BODY_LIMIT) -> list[DeadLetter]:
    """The messages that keep documents the domain refused for their content: ``(reason, document)``
    pairs, each document as the JSON object that was sent (its ``id`` is the event id)."""
    entries = []
    for reason, source in refused:
        try:
            document: Any = json.loads(source)
        except ValueError:
            document = source.decode("utf-8", "replace")
        entries.append((reason, document))
    return _packed(batch, "refused", "documents", entries, limit=limit)


def join_parts(bodies_by_part: Mapping[int, str]) -> str:
    """The body of a split message from its parts (for the tool or person re-driving it)."""
    return "".join(bodies_by_part[number] for number in sorted(bodies_by_part))
