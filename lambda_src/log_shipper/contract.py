"""What the LogPipeline construct and the log shipper function agree on (standard library only).

The construct writes :meth:`ShipperConfig.to_environment` into the function's environment; the
function reads it back with :meth:`ShipperConfig.from_environment`. Metric names are those the
function emits (EMF, dimension ``service``) and the construct graphs and alarms on.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Mapping

ENV_DELIVERY_STREAM_NAME = "DELIVERY_STREAM_NAME"
ENV_DEAD_LETTER_QUEUE_URL = "DEAD_LETTER_QUEUE_URL"
# JSON object {"<ingestion stream name>": "<source region>"}: the region a Kinesis record comes from is
# the region of the stream it arrived on (Lambda sets eventSourceARN; the sender cannot).
ENV_STREAM_REGIONS = "INGESTION_STREAM_REGIONS"
# Set by Lambda itself: the region of direct subscriptions (a subscription filter and its function share it).
ENV_FUNCTION_REGION = "AWS_REGION"

# Time kept back from the invocation's remaining time before each chunk (one PutRecordBatch call of
# at most 500 records, or one Kinesis record): enough for a call with its retries to finish and for
# the deadline's dead-letter messages or batch item failures to be written.
DEADLINE_MARGIN_MS = 20_000

# PutRecordBatch attempts per batch at most: botocore's for a failed call, the shipper's for failed records.
# Fewer when the time left is short: a chunk's calls, retries and backoff all fit the time left minus
# DEAD_LETTER_RESERVE_MS (see log_shipper.delivery.plan_calls), so a timeout never cuts a call.
PUT_MAX_ATTEMPTS = 5
PUT_CONNECT_TIMEOUT_S = 3.0
PUT_READ_TIMEOUT_S = 10.0
# Kept back after the last chunk: the dead-letter messages of deferred events or the batch response.
DEAD_LETTER_RESERVE_MS = 5_000
# The shipper's timeout: above the margin with room for one chunk, at most Lambda's limit.
MIN_TIMEOUT_SECONDS = DEADLINE_MARGIN_MS // 1000 + 10
MAX_TIMEOUT_SECONDS = 900

METRIC_EVENTS_RECEIVED = "EventsReceived"
METRIC_RECORDS_DELIVERED = "RecordsDelivered"
METRIC_RECORDS_FAILED = "RecordsFailed"
METRIC_PUT_RECORD_BATCH_CALLS = "PutRecordBatchCalls"
METRIC_EVENTS_DEAD_LETTERED = "EventsDeadLettered"
METRIC_PAYLOADS_DEAD_LETTERED = "PayloadsDeadLettered"
METRIC_EVENTS_TRUNCATED = "EventsTruncated"
METRIC_CONTROL_MESSAGES_DROPPED = "ControlMessagesDropped"
METRIC_EMPTY_PAYLOADS = "EmptyPayloads"
METRIC_EVENTS_DEFERRED = "EventsDeferred"
METRIC_RECORDS_RETRIED = "KinesisRecordsRetried"
METRIC_NAMES = (
    METRIC_EVENTS_RECEIVED, METRIC_RECORDS_DELIVERED, METRIC_RECORDS_FAILED, METRIC_PUT_RECORD_BATCH_CALLS,
    METRIC_EVENTS_DEAD_LETTERED, METRIC_PAYLOADS_DEAD_LETTERED, METRIC_EVENTS_TRUNCATED,
    METRIC_CONTROL_MESSAGES_DROPPED, METRIC_EMPTY_PAYLOADS, METRIC_EVENTS_DEFERRED, METRIC_RECORDS_RETRIED,
)

# Dead-letter messages: the attributes every message carries, and their ``source`` value.
DEAD_LETTER_SOURCE = "log-shipper"
# payload: an undecodable direct-subscription event; events: invalid events of a batch; record: a Kinesis
# record that is not a CloudWatch Logs payload; deferred: events not shipped before the deadline, as a
# subscription event under ``requestPayload`` (the runbook's redrive re-invokes the shipper with it).
DEAD_LETTER_KINDS = ("payload", "events", "record", "deferred")
DEADLINE_REASON = "deadline"


class ConfigurationError(ValueError):
    """A variable of the function's environment is missing or empty."""


@dataclass(frozen=True)
class ShipperConfig:
    """The shipper's configuration.

    :param delivery_stream_name: the Firehose (Direct PUT) stream the documents go to
        (``DELIVERY_STREAM_NAME``; needs ``firehose:PutRecordBatch``).
    :param dead_letter_queue_url: the SQS queue that keeps what cannot be shipped
        (``DEAD_LETTER_QUEUE_URL``; needs ``sqs:SendMessage``).
    :param stream_regions: ingestion stream name → the source region it serves
        (``INGESTION_STREAM_REGIONS``, JSON; empty without cross-account ingestion).
    :param region: the function's own region, that of direct subscriptions (``AWS_REGION``, set by
        Lambda; never written by :meth:`to_environment`).
    """

    delivery_stream_name: str
    dead_letter_queue_url: str
    stream_regions: Mapping[str, str] = field(default_factory=dict)
    region: str = ""

    def to_environment(self) -> dict[str, str]:
        environment = {ENV_DELIVERY_STREAM_NAME: self.delivery_stream_name,
                       ENV_DEAD_LETTER_QUEUE_URL: self.dead_letter_queue_url}
        if self.stream_regions:
            environment[ENV_STREAM_REGIONS] = json.dumps(dict(self.stream_regions), sort_keys=True,
                                                         separators=(",", ":"))
        return environment

    @classmethod
    def from_environment(cls, environ: Mapping[str, str]) -> "ShipperConfig":
        names = (ENV_DELIVERY_STREAM_NAME, ENV_DEAD_LETTER_QUEUE_URL)
        missing = [name for name in names if not environ.get(name)]
        if missing:
            raise ConfigurationError(f"log shipper: environment variable(s) {', '.join(missing)} not set")
        try:
            regions = json.loads(environ.get(ENV_STREAM_REGIONS) or "{}")
        except ValueError as error:
            raise ConfigurationError(f"log shipper: {ENV_STREAM_REGIONS} is not JSON: {error}") from None
        if not isinstance(regions, dict) or not all(isinstance(v, str) for v in regions.values()):
            raise ConfigurationError(f"log shipper: {ENV_STREAM_REGIONS} must map stream names to regions")
        return cls(environ[ENV_DELIVERY_STREAM_NAME], environ[ENV_DEAD_LETTER_QUEUE_URL], regions,
                   environ.get(ENV_FUNCTION_REGION, ""))
