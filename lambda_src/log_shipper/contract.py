"""What the LogPipeline construct and the log shipper function agree on (standard library only).

The construct writes :meth:`ShipperConfig.to_environment` into the function's environment; the
function reads it back with :meth:`ShipperConfig.from_environment`. Metric names are those the
function emits (EMF, dimension ``service``) and the construct graphs and alarms on.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import Mapping

ENV_DELIVERY_STREAM_NAME = "DELIVERY_STREAM_NAME"
ENV_DEAD_LETTER_QUEUE_URL = "DEAD_LETTER_QUEUE_URL"
# JSON object {"<ingestion stream name>": "<source region>"}: the region a Kinesis record comes from is
# the region of the stream it arrived on (Lambda sets eventSourceARN; the sender cannot).
ENV_STREAM_REGIONS = "INGESTION_STREAM_REGIONS"
# Set by Lambda itself: the region of direct subscriptions (a subscription filter and its function share it).
ENV_FUNCTION_REGION = "AWS_REGION"
# Bulk mode: the shipper writes _bulk requests to the domain itself and archives through the stream.
ENV_DELIVERY_MODE = "DELIVERY_MODE"
ENV_DOMAIN_ENDPOINT = "DOMAIN_ENDPOINT"
ENV_INDEX_NAME = "INDEX_NAME"
ENV_INDEX_ROTATION = "INDEX_ROTATION"
ENV_BULK_MAX_BYTES = "BULK_MAX_BYTES"
# Redaction (log_shipper.redact): on unless REDACT is "false" (the alerts function's vocabulary); extra patterns (JSON name → regex), extra secret key
# names (JSON list), and log group name prefixes whose batches get another rule set (JSON prefix → set name).
ENV_REDACT = "REDACT"
ENV_REDACT_PATTERNS = "REDACT_PATTERNS"
ENV_REDACT_SECRET_KEYS = "REDACT_SECRET_KEYS"
ENV_REDACT_RULE_SETS = "REDACT_RULE_SETS"
REDACT_OFF = "false"  # the alerts function's word too (log_alerts.contract): one vocabulary for REDACT
# Rule sets: the built-in rules each one leaves out. ``audit`` keeps what investigators search on (access key
# ids; principal ARNs, whose session names are often e-mail addresses; source IPs, which no built-in rule
# masks) and still masks every secret.
RULE_SET_DEFAULT = "default"
RULE_SET_AUDIT = "audit"
RULE_SETS: Mapping[str, tuple[str, ...]] = {RULE_SET_DEFAULT: (), RULE_SET_AUDIT: ("aws_key_id", "email")}
# CloudTrail names the streams of a trail's log group <account>_CloudTrail_<region>: those batches get ``audit``
# unless a prefix of REDACT_RULE_SETS names their group.
CLOUDTRAIL_STREAM_PATTERN = r"^[0-9]{12}_CloudTrail_[a-z0-9-]+$"
# The field of a document that lists the rules that masked something in it (absent: nothing masked).
REDACTED_FIELD = "redacted"
# Tests only: accept an http://127.0.0.1 domain endpoint. Never written by the construct.
ENV_ALLOW_LOOPBACK_HTTP = "ALLOW_LOOPBACK_HTTP"

# firehose: one Firehose record per event, Firehose indexes into OpenSearch (its S3 backup keeps them).
# bulk: the shipper indexes with _bulk (_id = event id, create) and archives aggregated records through
# a Firehose stream that writes to S3 only.
MODE_FIREHOSE = "firehose"
MODE_BULK = "bulk"
DELIVERY_MODES = (MODE_FIREHOSE, MODE_BULK)
INDEX_ROTATIONS = ("none", "hour", "day", "week", "month")
BULK_MAX_BYTES_DEFAULT = 5 * 1024 * 1024
BULK_MAX_BYTES_RANGE = (64 * 1024, 100 * 1024 * 1024)  # at most the domains' http.max_content_length
SIGNING_SERVICE = "es"
# Seconds a _bulk request may take (connect, then each read): below the deadline margin, so that an
# attempt on a connection that hangs ends before the invocation does.
BULK_TIMEOUT_SECONDS = 10
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")

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
# Bulk mode (documents are log events; duplicates are 409s of create: already indexed, not written again).
METRIC_DOCUMENTS_DELIVERED = "DocumentsDelivered"
METRIC_DUPLICATES_SKIPPED = "DuplicatesSkipped"
METRIC_DOCUMENTS_REFUSED = "DocumentsRefused"
METRIC_DOCUMENTS_RETRIED = "DocumentsRetried"
METRIC_BULK_REQUESTS = "BulkRequests"
METRIC_BULK_FAILURES = "BulkFailures"  # documents still not indexed after the retries: the invocation fails
METRIC_ARCHIVE_RECORDS = "ArchiveRecords"
# Direct payloads whose owner is another account (dead-lettered: only a direct invocation can send them).
METRIC_FOREIGN_PAYLOADS = "ForeignPayloads"
# Bulk mode: events of a direct payload this execution environment had not delivered before that the domain
# already held (409 on create): someone wrote that event id first, or a Lambda retry landed elsewhere.
METRIC_FIRST_DELIVERY_DUPLICATES = "FirstDeliveryDuplicates"
# Redaction: documents with something masked, and values masked per rule (metric REDACTIONS_PREFIX + rule name).
METRIC_DOCUMENTS_REDACTED = "DocumentsRedacted"
REDACTIONS_PREFIX = "Redactions_"


def redaction_metric(rule: str) -> str:
    """The metric counting the values ``rule`` masked (``Redactions_password_kv``)."""
    return REDACTIONS_PREFIX + rule


METRIC_NAMES = (
    METRIC_EVENTS_RECEIVED, METRIC_RECORDS_DELIVERED, METRIC_RECORDS_FAILED, METRIC_PUT_RECORD_BATCH_CALLS,
    METRIC_EVENTS_DEAD_LETTERED, METRIC_PAYLOADS_DEAD_LETTERED, METRIC_EVENTS_TRUNCATED,
    METRIC_CONTROL_MESSAGES_DROPPED, METRIC_EMPTY_PAYLOADS, METRIC_EVENTS_DEFERRED, METRIC_RECORDS_RETRIED,
    METRIC_DOCUMENTS_DELIVERED, METRIC_DUPLICATES_SKIPPED, METRIC_DOCUMENTS_REFUSED, METRIC_DOCUMENTS_RETRIED,
    METRIC_BULK_REQUESTS, METRIC_BULK_FAILURES, METRIC_ARCHIVE_RECORDS, METRIC_FOREIGN_PAYLOADS,
    METRIC_FIRST_DELIVERY_DUPLICATES, METRIC_DOCUMENTS_REDACTED,
)

# Dead-letter messages: the attributes every message carries, and their ``source`` value.
DEAD_LETTER_SOURCE = "log-shipper"
# payload: an undecodable direct-subscription event; events: invalid events of a batch; record: a Kinesis
# record that is not a CloudWatch Logs payload; deferred: events not shipped before the deadline, as a
# subscription event under ``requestPayload`` (the runbook's redrive re-invokes the shipper with it);
# refused: documents the domain refused for their content (bulk mode), each with the domain's reason.
DEAD_LETTER_KINDS = ("payload", "events", "record", "deferred", "refused")
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
    :param mode: ``firehose`` or ``bulk`` (``DELIVERY_MODE``; default ``firehose``). In bulk mode the
        delivery stream is the archive (S3 only) and the documents are indexed with ``_bulk``.
    :param domain_endpoint: bulk mode: ``https://<domain endpoint>`` (``DOMAIN_ENDPOINT``; a bare host
        gets ``https://``); needs ``es:ESHttpPost`` on ``<domain>/_bulk``.
    :param index: bulk mode: the index name, or its prefix when rotated (``INDEX_NAME``).
    :param rotation: bulk mode: ``none``, ``hour``, ``day``, ``week`` or ``month`` (``INDEX_ROTATION``;
        default ``day``), from each event's own timestamp.
    :param bulk_max_bytes: bulk mode: the largest ``_bulk`` request body (``BULK_MAX_BYTES``; default 5 MiB).
    :param allow_loopback_http: tests only (``ALLOW_LOOPBACK_HTTP=1``): accept ``http://127.0.0.1``;
        never written by :meth:`to_environment`.
    :param redact: mask secrets and personal data in every document (``REDACT``, ``off`` turns it off). Default: on
    :param redact_patterns: extra rules, name → Python regex, the whole match masked (``REDACT_PATTERNS``, JSON).
    :param redact_secret_keys: extra key names whose values are masked (``REDACT_SECRET_KEYS``, JSON list).
    :param redact_rule_sets: log group name prefix → rule set name (``REDACT_RULE_SETS``, JSON; the longest
        prefix wins). Default: - ``default`` for every group, ``audit`` for CloudTrail's streams
    """

    delivery_stream_name: str
    dead_letter_queue_url: str
    stream_regions: Mapping[str, str] = field(default_factory=dict)
    region: str = ""
    mode: str = MODE_FIREHOSE
    domain_endpoint: str = ""
    index: str = ""
    rotation: str = "day"
    bulk_max_bytes: int = BULK_MAX_BYTES_DEFAULT
    allow_loopback_http: bool = False
    redact: bool = True
    redact_patterns: Mapping[str, str] = field(default_factory=dict)
    redact_secret_keys: tuple[str, ...] = ()
    redact_rule_sets: Mapping[str, str] = field(default_factory=dict)

    @property
    def bulk(self) -> bool:
        return self.mode == MODE_BULK

    def to_environment(self) -> dict[str, str]:
        environment = {ENV_DELIVERY_STREAM_NAME: self.delivery_stream_name,
                       ENV_DEAD_LETTER_QUEUE_URL: self.dead_letter_queue_url}
        if self.stream_regions:
            environment[ENV_STREAM_REGIONS] = json.dumps(dict(self.stream_regions), sort_keys=True,
                                                         separators=(",", ":"))
        if self.bulk:
            environment.update({ENV_DELIVERY_MODE: MODE_BULK, ENV_DOMAIN_ENDPOINT: self.domain_endpoint,
                                ENV_INDEX_NAME: self.index, ENV_INDEX_ROTATION: self.rotation,
                                ENV_BULK_MAX_BYTES: str(self.bulk_max_bytes)})
        if not self.redact:
            environment[ENV_REDACT] = REDACT_OFF
            return environment
        compact = {"sort_keys": True, "separators": (",", ":")}
        for name, value in ((ENV_REDACT_PATTERNS, dict(self.redact_patterns)),
                            (ENV_REDACT_SECRET_KEYS, list(self.redact_secret_keys)),
                            (ENV_REDACT_RULE_SETS, dict(self.redact_rule_sets))):
            if value:
                environment[name] = json.dumps(value, **compact)  # type: ignore[arg-type]
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
        mode = environ.get(ENV_DELIVERY_MODE) or MODE_FIREHOSE
        if mode not in DELIVERY_MODES:
            raise ConfigurationError(f"log shipper: {ENV_DELIVERY_MODE} is {mode!r}; valid: {', '.join(DELIVERY_MODES)}")
        loopback = environ.get(ENV_ALLOW_LOOPBACK_HTTP, "") == "1"
        config = cls(environ[ENV_DELIVERY_STREAM_NAME], environ[ENV_DEAD_LETTER_QUEUE_URL], regions,
                     environ.get(ENV_FUNCTION_REGION, ""), mode, allow_loopback_http=loopback,
                     **_redaction_config(environ))
        if mode == MODE_FIREHOSE:
            return config
        return _bulk_config(config, environ)


def _json_env(environ: Mapping[str, str], name: str, kind: type, default: object) -> object:
    raw = environ.get(name)
    if not raw:
        return default
    try:
        value = json.loads(raw)
    except ValueError as error:
        raise ConfigurationError(f"log shipper: {name} is not JSON: {error}") from None
    items = value.values() if isinstance(value, dict) else value
    if not isinstance(value, kind) or not all(isinstance(item, str) for item in items):
        raise ConfigurationError(f"log shipper: {name} must be a JSON {kind.__name__} of strings")
    return value


def _redaction_config(environ: Mapping[str, str]) -> dict[str, object]:
    raw = environ.get(ENV_REDACT, "")
    if raw not in ("", "true", REDACT_OFF):
        raise ConfigurationError(f"log shipper: {ENV_REDACT} is {raw!r}; valid: unset or 'true' (on), {REDACT_OFF!r}")
    rule_sets = _json_env(environ, ENV_REDACT_RULE_SETS, dict, {})
    unknown = sorted(set(rule_sets.values()) - set(RULE_SETS))  # type: ignore[attr-defined]
    if unknown:
        raise ConfigurationError(f"log shipper: {ENV_REDACT_RULE_SETS} names unknown rule set(s) {unknown}; "
                                 f"valid: {', '.join(RULE_SETS)}")
    return {"redact": raw != REDACT_OFF, "redact_patterns": _json_env(environ, ENV_REDACT_PATTERNS, dict, {}),
            "redact_secret_keys": tuple(_json_env(environ, ENV_REDACT_SECRET_KEYS, list, [])),  # type: ignore[arg-type]
            "redact_rule_sets": rule_sets}


def endpoint_url(value: str, *, allow_loopback_http: bool = False) -> str:
    """``https://host`` from a host or an https URL; ``http://`` only to a loopback host when allowed."""
    url = value if "://" in value else f"https://{value}"
    scheme, _, rest = url.partition("://")
    host = rest.split("/", 1)[0].rsplit(":", 1)[0].strip("[]")
    if not host or "/" in rest.rstrip("/"):
        raise ConfigurationError(f"log shipper: {ENV_DOMAIN_ENDPOINT} {value!r} must be a host or https://host")
    if scheme == "https" or (scheme == "http" and allow_loopback_http and host in LOOPBACK_HOSTS):
        return url.rstrip("/")
    raise ConfigurationError(f"log shipper: {ENV_DOMAIN_ENDPOINT} {value!r} must use https:// "
                             f"(http:// only to 127.0.0.1 with {ENV_ALLOW_LOOPBACK_HTTP}=1, in tests)")


def _bulk_config(config: ShipperConfig, environ: Mapping[str, str]) -> ShipperConfig:
    missing = [name for name in (ENV_DOMAIN_ENDPOINT, ENV_INDEX_NAME) if not environ.get(name)]
    if missing:
        raise ConfigurationError(f"log shipper: bulk mode needs {', '.join(missing)}")
    rotation = environ.get(ENV_INDEX_ROTATION) or "day"
    if rotation not in INDEX_ROTATIONS:
        raise ConfigurationError(f"log shipper: {ENV_INDEX_ROTATION} is {rotation!r}; "
                                 f"valid: {', '.join(INDEX_ROTATIONS)}")
    raw = environ.get(ENV_BULK_MAX_BYTES) or str(BULK_MAX_BYTES_DEFAULT)
    low, high = BULK_MAX_BYTES_RANGE
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise ConfigurationError(f"log shipper: {ENV_BULK_MAX_BYTES} is {raw!r}; valid: {low}..{high} bytes")
    endpoint = endpoint_url(environ[ENV_DOMAIN_ENDPOINT], allow_loopback_http=config.allow_loopback_http)
    return replace(config, domain_endpoint=endpoint, index=environ[ENV_INDEX_NAME], rotation=rotation,
                   bulk_max_bytes=int(raw))
