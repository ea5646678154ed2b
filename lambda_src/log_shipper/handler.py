"""Log shipper: CloudWatch Logs subscription → one Firehose record per log event, or ``_bulk`` to the domain.

Handler: ``log_shipper.handler.handler``, invoked two ways:

* asynchronously by CloudWatch Logs subscription filters of the pipeline's own account and region
  (``{"awslogs": {"data": ...}}``): documents get the function's own region;
* by the event source mappings of the ingestion streams (cross-account ingestion), with a batch
  of Kinesis records each carrying one gzipped CloudWatch Logs payload: documents get the region
  of the stream the record arrived on, and the answer is a partial batch response
  (``batchItemFailures``); see :mod:`log_shipper.kinesis` for which records are reported (those
  not delivered, or not reached in time) and which are dead-lettered instead (those that are not
  CloudWatch Logs payloads, so that one bad record never blocks a shard).

Each payload is decoded (base64 → gzip → JSON), ``CONTROL_MESSAGE``s are dropped, every log event
becomes one JSON document (:mod:`log_shipper.transform`; ``account`` from the payload's ``owner``,
``region`` as above) and they go out with ``PutRecordBatch`` (≤ 500 records, ≤ 4 MiB per call;
oversized messages truncated and flagged), one call per chunk, each started only while more than
``DEADLINE_MARGIN_MS`` (20 s) of the invocation's time is left, with attempts and timeouts that end
before the invocation does (``DEAD_LETTER_RESERVE_MS``, 5 s, kept back). Out of time, a direct subscription's
remaining events go to the dead-letter queue (``kind=deferred``, ``reason=deadline``, redrivable);
Kinesis records are reported for Lambda's retry. Nothing is shipped twice by a timeout.

In bulk mode (``DELIVERY_MODE=bulk``) the documents are archived first, many to a gzip record of the
S3-only stream, then indexed with ``_bulk`` (``create``, ``_id`` = the event id), the domain's
refusals dead-lettered with its reason (:mod:`log_shipper.delivery`, :mod:`log_shipper.sending`).

Environment variables:

``DELIVERY_STREAM_NAME``
    The Firehose delivery stream (Direct PUT) the documents go to. Needs ``firehose:PutRecordBatch``
    on that stream. Required.
``DEAD_LETTER_QUEUE_URL``
    The SQS queue that keeps what cannot be shipped (see :mod:`log_shipper.dead_letter`). Needs
    ``sqs:SendMessage`` on that queue (and ``kms:GenerateDataKey``/``kms:Decrypt`` on its key when
    it is encrypted with a customer-managed key). Required. The same queue is meant to be the
    function's asynchronous on-failure destination.
``INGESTION_STREAM_REGIONS``
    JSON object: ingestion stream name → the source region it serves. Set with cross-account
    ingestion; a record from a stream not in it is dead-lettered.
``DELIVERY_MODE``
    ``firehose`` (default) or ``bulk``. In bulk mode the shipper indexes with ``_bulk`` itself
    (``create``, ``_id`` = the CloudWatch event id: a retry or replay never makes a second document)
    and ``DELIVERY_STREAM_NAME`` is the archive (an S3-only stream; gzip records of many documents).
``DOMAIN_ENDPOINT``, ``INDEX_NAME``, ``INDEX_ROTATION``, ``BULK_MAX_BYTES``
    Bulk mode: ``https://<domain endpoint>`` (needs ``es:ESHttpPost`` on ``<domain>/_bulk`` and a role
    mapping that may write the index; requests are SigV4-signed for ``es``), the index (prefix),
    its rotation from each event's own timestamp (``none``/``hour``/``day``/``week``/``month``,
    default ``day``) and the largest request body (default 5 MiB).
``ALLOW_LOOPBACK_HTTP``
    Tests only: ``1`` accepts an ``http://127.0.0.1`` endpoint. Never set by the construct.
``POWERTOOLS_SERVICE_NAME``, ``POWERTOOLS_METRICS_NAMESPACE``, ``POWERTOOLS_LOG_LEVEL``
    Set by ``library_function``; Powertools' own.

What happens to a payload:

* Not decodable at all (not base64, not gzip, not UTF-8 JSON, not an object, keys missing): logged
  at ERROR and sent as received to the dead-letter queue (attributes ``kind=payload``, ``stage``,
  ``reason``); the invocation succeeds — retrying it could never help.
* ``CONTROL_MESSAGE`` (CloudWatch Logs checking that it can reach the function): logged and dropped.
* A direct payload whose ``owner`` is not the function's own account (someone invoking the function
  with a payload of their making): sent as received to the dead-letter queue (``stage=foreign owner``),
  counted as ``ForeignPayloads``; the invocation succeeds (:mod:`log_shipper.sources`).
* Valid events are delivered; invalid events of the same batch (missing keys, wrong types,
  timestamp out of range) go to the dead-letter queue (``kind=events``). Bytes that are not UTF-8
  do not spoil a batch: the event is shipped with U+FFFD, ``invalid_utf8`` and ``message_base64``.
* Records Firehose still refuses after the retries of :func:`logship.firehose.put_record_batch`
  (5 attempts, full-jitter backoff; botocore's standard retries for throttling, 5xx and broken
  connections of the whole call),
  or any other error of the call (stream missing, access denied): logged at ERROR, then the
  invocation FAILS (:class:`DeliveryError`), so Lambda retries it (twice, asynchronous invocation)
  and then hands the event to the on-failure destination. A failure to reach the dead-letter queue
  fails the invocation too. Nothing is dropped silently.

Delivery is at least once (see :mod:`log_shipper.delivery`). In Firehose mode a retry that lands
in another execution environment, a ``PutRecordBatch`` whose response is lost, or a re-drive from
the on-failure destination can deliver an event twice: each document carries the CloudWatch event
``id`` (unique per event), which identifies duplicates in OpenSearch. In bulk mode the same cases
answer 409 on ``create`` and are counted as ``DuplicatesSkipped``: exactly one document per event.
Documents the domain refuses for their content (a 400 such as ``mapper_parsing_exception``) go to
the dead-letter queue (``kind=refused``) with the document and the reason.

This module is thin: it builds the clients and the :class:`~log_shipper.delivery.Shipper` once
per execution environment and reads :class:`~log_shipper.contract.ShipperConfig` per invocation.
"""
from __future__ import annotations

import os
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.config import Config

from opensearch_client.bulk import BulkTarget, BulkWriter
from opensearch_client.signed_http import SignedClient

from .contract import (BULK_TIMEOUT_SECONDS, PUT_CONNECT_TIMEOUT_S, PUT_MAX_ATTEMPTS, PUT_READ_TIMEOUT_S,
                       SIGNING_SERVICE, ConfigurationError, ShipperConfig)
from .delivery import CallPlan, Deadline, DeliveryError, ProgressCache, Shipper
from .kinesis import is_kinesis_event, ship_kinesis_batch
from .sources import Home, ship_direct

logger = Logger()
metrics = Metrics()
tracer = Tracer()

# botocore retries a failed PutRecordBatch call (throttling, 5xx, broken connection) up to
# PUT_MAX_ATTEMPTS times; put_record_batch re-sends the records a call reports as failed. Fewer
# attempts and shorter timeouts when the invocation's time is short: one client per CallPlan.
_firehose_clients: dict[CallPlan, Any] = {}


def firehose_for(plan: CallPlan) -> Any:
    client = _firehose_clients.get(plan)
    if client is None:
        client = _firehose_clients[plan] = boto3.client("firehose", config=Config(
            retries={"mode": "standard", "total_max_attempts": plan.attempts},
            connect_timeout=plan.connect_timeout_s, read_timeout=plan.read_timeout_s))
    return client


firehose = firehose_for(CallPlan(PUT_MAX_ATTEMPTS, PUT_MAX_ATTEMPTS, PUT_CONNECT_TIMEOUT_S, PUT_READ_TIMEOUT_S))
sqs = boto3.client("sqs", config=Config(retries={"mode": "standard", "total_max_attempts": 3},
                                        connect_timeout=5, read_timeout=15))

# What failed invocations of this execution environment already did (for Lambda's retries).
progress = ProgressCache()
_session = boto3.session.Session()
_writers: dict[tuple, BulkWriter] = {}

__all__ = ["ConfigurationError", "DeliveryError", "PUT_MAX_ATTEMPTS", "bulk_writer", "forget_progress", "handler"]


def forget_progress() -> None:
    """Forget what failed invocations delivered (a new execution environment starts empty)."""
    progress.clear()


def bulk_writer(config: ShipperConfig) -> BulkWriter | None:
    """The _bulk writer of bulk mode, one per configuration (its client is reused across invocations)."""
    if not config.bulk:
        return None
    key = (config.domain_endpoint, config.region, config.index, config.rotation, config.bulk_max_bytes)
    if key not in _writers:
        client = SignedClient(config.domain_endpoint, config.region, _session.get_credentials,
                              timeout=BULK_TIMEOUT_SECONDS, service=SIGNING_SERVICE)
        _writers[key] = BulkWriter(client, BulkTarget(config.index, config.rotation, ids=True),
                                   max_request_bytes=config.bulk_max_bytes)
    return _writers[key]


def _count(name: str, value: int) -> None:
    metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    config = ShipperConfig.from_environment(os.environ)
    shipper = Shipper(firehose, sqs, config, progress=progress, log=logger, count=_count, bulk=bulk_writer(config),
                      firehose_for=firehose_for)
    # Lambda's context always has the clock; a local invocation without it has no deadline.
    deadline = Deadline(getattr(context, "get_remaining_time_in_millis", None))
    home = Home.of(context)
    if is_kinesis_event(event):
        return ship_kinesis_batch(shipper, event, deadline, home)
    return ship_direct(shipper, event, deadline, home)
