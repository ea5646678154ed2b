"""What the LogPipeline construct and the log shipper function agree on (standard library only).

The construct writes :meth:`ShipperConfig.to_environment` into the function's environment; the
function reads it back with :meth:`ShipperConfig.from_environment`. Metric names are those the
function emits (EMF, dimension ``service``) and the construct graphs and alarms on.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

ENV_DELIVERY_STREAM_NAME = "DELIVERY_STREAM_NAME"
ENV_DEAD_LETTER_QUEUE_URL = "DEAD_LETTER_QUEUE_URL"

# PutRecordBatch attempts per batch: botocore's for a failed call, the shipper's for failed records.
PUT_MAX_ATTEMPTS = 5

METRIC_EVENTS_RECEIVED = "EventsReceived"
METRIC_RECORDS_DELIVERED = "RecordsDelivered"
METRIC_RECORDS_FAILED = "RecordsFailed"
METRIC_PUT_RECORD_BATCH_CALLS = "PutRecordBatchCalls"
METRIC_EVENTS_DEAD_LETTERED = "EventsDeadLettered"
METRIC_PAYLOADS_DEAD_LETTERED = "PayloadsDeadLettered"
METRIC_EVENTS_TRUNCATED = "EventsTruncated"
METRIC_CONTROL_MESSAGES_DROPPED = "ControlMessagesDropped"
METRIC_EMPTY_PAYLOADS = "EmptyPayloads"
METRIC_NAMES = (
    METRIC_EVENTS_RECEIVED, METRIC_RECORDS_DELIVERED, METRIC_RECORDS_FAILED, METRIC_PUT_RECORD_BATCH_CALLS,
    METRIC_EVENTS_DEAD_LETTERED, METRIC_PAYLOADS_DEAD_LETTERED, METRIC_EVENTS_TRUNCATED,
    METRIC_CONTROL_MESSAGES_DROPPED, METRIC_EMPTY_PAYLOADS,
)

# Dead-letter messages: the attributes every message carries, and their ``source`` value.
DEAD_LETTER_SOURCE = "log-shipper"
DEAD_LETTER_KINDS = ("payload", "events")


class ConfigurationError(ValueError):
    """A variable of the function's environment is missing or empty."""


@dataclass(frozen=True)
class ShipperConfig:
    """The shipper's configuration.

    :param delivery_stream_name: the Firehose (Direct PUT) stream the documents go to
        (``DELIVERY_STREAM_NAME``; needs ``firehose:PutRecordBatch``).
    :param dead_letter_queue_url: the SQS queue that keeps what cannot be shipped
        (``DEAD_LETTER_QUEUE_URL``; needs ``sqs:SendMessage``).
    """

    delivery_stream_name: str
    dead_letter_queue_url: str

    def to_environment(self) -> dict[str, str]:
        return {ENV_DELIVERY_STREAM_NAME: self.delivery_stream_name,
                ENV_DEAD_LETTER_QUEUE_URL: self.dead_letter_queue_url}

    @classmethod
    def from_environment(cls, environ: Mapping[str, str]) -> "ShipperConfig":
        names = (ENV_DELIVERY_STREAM_NAME, ENV_DEAD_LETTER_QUEUE_URL)
        missing = [name for name in names if not environ.get(name)]
        if missing:
            raise ConfigurationError(f"log shipper: environment variable(s) {', '.join(missing)} not set")
        return cls(*(environ[name] for name in names))
