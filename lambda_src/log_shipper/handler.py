"""Log shipper: CloudWatch Logs subscription → one Firehose record per log event.

Handler: ``log_shipper.handler.handler``, invoked asynchronously by CloudWatch Logs subscription
filters. Each invocation decodes the batch (base64 → gzip → JSON), drops ``CONTROL_MESSAGE``s,
turns every log event into one JSON document (:mod:`log_shipper.transform`) and sends them with
``PutRecordBatch`` (≤ 500 records, ≤ 4 MiB per call; oversized messages truncated and flagged).

Environment variables:

``DELIVERY_STREAM_NAME``
    The Firehose delivery stream (Direct PUT) the documents go to. Needs ``firehose:PutRecordBatch``
    on that stream. Required.
``DEAD_LETTER_QUEUE_URL``
    The SQS queue that keeps what cannot be shipped (see :mod:`log_shipper.dead_letter`). Needs
    ``sqs:SendMessage`` on that queue (and ``kms:GenerateDataKey``/``kms:Decrypt`` on its key when
    it is encrypted with a customer-managed key). Required. The same queue is meant to be the
    function's asynchronous on-failure destination.
``POWERTOOLS_SERVICE_NAME``, ``POWERTOOLS_METRICS_NAMESPACE``, ``POWERTOOLS_LOG_LEVEL``
    Set by ``library_function``; Powertools' own.

What happens to a payload:

* Not decodable at all (not base64, not gzip, not UTF-8 JSON, not an object, keys missing): logged
  at ERROR and sent as received to the dead-letter queue (attributes ``kind=payload``, ``stage``,
  ``reason``); the invocation succeeds — retrying it could never help.
* ``CONTROL_MESSAGE`` (CloudWatch Logs checking that it can reach the function): logged and dropped.
* Valid events are delivered; invalid events of the same batch (missing keys, wrong types,
  timestamp out of range) go to the dead-letter queue (``kind=events``). Bytes that are not UTF-8
  do not spoil a batch: the event is shipped with U+FFFD, ``invalid_utf8`` and ``message_base64``.
* Records Firehose still refuses after the retries of :func:`logship.firehose.put_record_batch`
  (5 attempts, full-jitter backoff; throttling, 5xx and broken connections of the whole call too),
  or any other error of the call (stream missing, access denied): logged at ERROR, then the
  invocation FAILS (:class:`DeliveryError`), so Lambda retries it (twice, asynchronous invocation)
  and then hands the event to the on-failure destination. A failure to reach the dead-letter queue
  fails the invocation too. Nothing is dropped silently.

Delivery is at least once. Within one warm execution environment the shipper remembers, per
payload (sha256 of ``awslogs.data``), which events were already delivered and whether the
invalid ones were dead-lettered, so Lambda's retry of a failed invocation sends only the rest.
A retry that lands in another execution environment, a ``PutRecordBatch`` whose response is lost,
or a re-drive from the on-failure destination can deliver an event twice: each document carries
the CloudWatch event ``id`` (unique per event), which identifies duplicates in OpenSearch.
"""
from __future__ import annotations

import hashlib
import os
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Mapping

import boto3
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.config import Config

from log_subscription import PayloadError, decode_payload
from logship.firehose import iter_batches, put_record_batch

from .dead_letter import DeadLetter, event_letters, payload_letters
from .transform import to_records

logger = Logger()
metrics = Metrics()
tracer = Tracer()

# put_record_batch owns the retries of PutRecordBatch (it re-sends only the failed records);
# botocore's own retries would multiply its attempts. SQS keeps botocore's standard retries.
# Worst case per batch: 5 attempts × 15 s read timeout + backoff, within LogPipeline's 2 min timeout.
firehose = boto3.client("firehose", config=Config(retries={"mode": "standard", "total_max_attempts": 1},
                                                  connect_timeout=5, read_timeout=15))
sqs = boto3.client("sqs", config=Config(retries={"mode": "standard", "total_max_attempts": 3},
                                        connect_timeout=5, read_timeout=15))

PUT_MAX_ATTEMPTS = 5
_REMEMBERED_PAYLOADS = 64


class ConfigurationError(RuntimeError):
    """A required environment variable is missing."""


class DeliveryError(RuntimeError):
    """Some records could not be delivered: the invocation fails so that Lambda retries it."""


@dataclass(frozen=True)
class Settings:
    stream_name: str
    dead_letter_queue_url: str

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> "Settings":
        missing = [name for name in ("DELIVERY_STREAM_NAME", "DEAD_LETTER_QUEUE_URL") if not environ.get(name)]
        if missing:
            raise ConfigurationError(f"log shipper: environment variable(s) {', '.join(missing)} not set")
        return cls(environ["DELIVERY_STREAM_NAME"], environ["DEAD_LETTER_QUEUE_URL"])


@dataclass
class Progress:
    """What a failed invocation already did, for Lambda's retry of the same payload."""

    delivered: set[str] = field(default_factory=set)
    dead_lettered: bool = False


# sha256 of awslogs.data -> progress; only payloads whose invocation failed are kept (bounded).
_progress: "OrderedDict[str, Progress]" = OrderedDict()


def forget_progress() -> None:
    """Forget what failed invocations delivered (a new execution environment starts empty)."""
    _progress.clear()


def _payload_key(event: Mapping[str, Any]) -> str:
    data = event["awslogs"]["data"]
    return hashlib.sha256(data.encode("utf-8", "surrogatepass")).hexdigest()


def _count(name: str, value: int) -> None:
    if value:
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)


def _send_dead_letters(letters: list[DeadLetter], settings: Settings) -> None:
    for letter in letters:
        sqs.send_message(**letter.send_message_kwargs(settings.dead_letter_queue_url))


def _dead_letter_payload(event: Any, error: Exception, settings: Settings) -> dict[str, Any]:
    stage = error.stage if isinstance(error, PayloadError) else "undecodable"
    letters = payload_letters(event, stage=stage, reason=str(error))
    logger.error(
        "Undecodable subscription payload: sent as received to the dead-letter queue",
        extra={"stage": stage, "reason": str(error), "dead_letter_messages": len(letters)},
    )
    _send_dead_letters(letters, settings)
    _count("PayloadsDeadLettered", 1)
    return {"status": "dead-lettered", "stage": stage, "dead_letter_messages": len(letters)}


def _deliver(records: list[tuple[str, bytes]], settings: Settings, progress: Progress) -> tuple[list[str], int, list[str]]:
    """Send the records; returns the ids not delivered, the number of calls and the errors seen."""
    failed_ids: list[str] = []
    errors: list[str] = []
    calls = 0
    offset = 0
    broken: Exception | None = None
    for chunk in iter_batches(data for _, data in records):
        ids = [event_id for event_id, _ in records[offset:offset + len(chunk)]]
        offset += len(chunk)
        if broken is not None:  # the stream refused a whole call: do not hammer it with the rest
            failed_ids.extend(ids)
            continue
        try:
            result = put_record_batch(firehose, settings.stream_name, chunk, max_attempts=PUT_MAX_ATTEMPTS)
        except Exception as error:  # stream missing, access denied, validation, ...
            broken = error
            calls += 1
            errors.append(f"{type(error).__name__}: {error}")
            failed_ids.extend(ids)
            continue
        calls += result.calls
        failed = set(result.failed)
        for event_id, data in zip(ids, chunk):
            if data in failed:
                failed_ids.append(event_id)
            else:
                progress.delivered.add(event_id)
        if result.failed:
            errors.extend(sorted(set(result.last_errors)))
    return failed_ids, calls, errors


def ship(event: Mapping[str, Any], settings: Settings) -> dict[str, Any]:
    """Ship one subscription payload; raises :class:`DeliveryError` when records stay undelivered."""
    try:
        batch = decode_payload(event, strict_utf8=False)
    except Exception as error:  # PayloadError, or a shape the decoder did not foresee
        return _dead_letter_payload(event, error, settings)
    logger.append_keys(log_group=batch.log_group, log_stream=batch.log_stream)
    if batch.is_control:
        logger.info("Dropped a CONTROL_MESSAGE (CloudWatch Logs checking the subscription)")
        _count("ControlMessagesDropped", 1)
        return {"status": "control-message"}
    if not batch.events and not batch.invalid:
        logger.info("Subscription payload with empty logEvents: nothing to ship")
        _count("EmptyPayloads", 1)
        return {"status": "empty", "events": 0}

    key = _payload_key(event)
    progress = _progress.pop(key, None) or Progress()
    retried = bool(progress.delivered or progress.dead_lettered)
    pending = [e for e in batch.events if e.id not in progress.delivered]
    out = to_records(batch, pending)
    _count("EventsReceived", len(batch.events) + len(batch.invalid))

    dead_lettered = 0
    if out.invalid and not progress.dead_lettered:
        letters = event_letters(batch, out.invalid)
        logger.warning(
            "Invalid log events sent to the dead-letter queue; the valid ones are shipped",
            extra={"invalid_events": len(out.invalid), "reasons": sorted({i.reason for i in out.invalid})[:10]},
        )
        try:
            _send_dead_letters(letters, settings)
        except Exception:
            _remember(key, progress)
            raise
        progress.dead_lettered = True
        dead_lettered = len(out.invalid)
        _count("EventsDeadLettered", dead_lettered)
    if out.truncated:
        logger.warning("Oversized log events truncated to fit one Firehose record (flagged `truncated`)",
                       extra={"truncated_events": out.truncated})
    if out.invalid_utf8:
        logger.warning("Log events with bytes that are not UTF-8 (flagged `invalid_utf8`, original bytes in "
                       "`message_base64`)", extra={"invalid_utf8_events": out.invalid_utf8})
    _count("EventsTruncated", out.truncated)

    failed_ids, calls, errors = _deliver(out.records, settings, progress)
    delivered = len(out.records) - len(failed_ids)
    _count("RecordsDelivered", delivered)
    _count("PutRecordBatchCalls", calls)
    summary = {"events": len(batch.events) + len(batch.invalid), "delivered": delivered,
               "already_delivered": len(batch.events) - len(pending), "dead_lettered": dead_lettered,
               "truncated": out.truncated, "put_record_batch_calls": calls, "retry": retried}
    if failed_ids:
        _count("RecordsFailed", len(failed_ids))
        _remember(key, progress)
        logger.error(
            "Records not delivered to Firehose after retries: failing the invocation so that Lambda "
            "retries it and then keeps it in the on-failure destination",
            extra={**summary, "failed": len(failed_ids), "errors": errors[:10], "stream": settings.stream_name},
        )
        raise DeliveryError(
            f"{len(failed_ids)} of {len(out.records)} records not delivered to {settings.stream_name}: "
            f"{'; '.join(errors[:3]) or 'unknown error'}"
        )
    logger.info("Shipped log events", extra=summary)
    return {"status": "shipped", **summary}


def _remember(key: str, progress: Progress) -> None:
    _progress[key] = progress
    while len(_progress) > _REMEMBERED_PAYLOADS:
        _progress.popitem(last=False)


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return ship(event, Settings.from_env(os.environ))
