"""What the LogAlerts construct and its function agree on (standard library only).

The construct writes :meth:`AlertsConfig.to_environment` into the function's environment; the
function reads it back with :meth:`AlertsConfig.from_environment`. Values that can be CDK tokens
(names, ARNs, URLs) are strings and pass through unchanged.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Mapping, Optional, Sequence

ENV_TABLE_NAME = "TABLE_NAME"
ENV_WEBHOOK_SECRET_ID = "WEBHOOK_SECRET_ID"
ENV_SECRET_TTL_SECONDS = "SECRET_TTL_SECONDS"
ENV_MARKERS = "MARKERS"
ENV_DEFAULT_CHANNEL = "DEFAULT_CHANNEL"
ENV_ROUTES = "ROUTES"
ENV_TOPIC_ARN = "TOPIC_ARN"
ENV_DEAD_LETTER_QUEUE_URL = "DEAD_LETTER_QUEUE_URL"
ENV_RETENTION_DAYS = "RETENTION_DAYS"
ENV_MAX_MESSAGES = "MAX_MESSAGES"
ENV_REDACT = "REDACT"
ENV_REDACT_DISABLED = "REDACT_DISABLED"
ENV_REDACT_EXTRA = "REDACT_EXTRA"
ENV_WEBHOOK_TIMEOUT_SECONDS = "WEBHOOK_TIMEOUT_SECONDS"
ENV_WEBHOOK_MAX_ATTEMPTS = "WEBHOOK_MAX_ATTEMPTS"
ENV_WEBHOOK_HOSTS = "WEBHOOK_HOSTS"
# Tests only: accept http://127.0.0.1 webhooks. Never written by the construct.
ENV_ALLOW_LOOPBACK_HTTP = "ALLOW_LOOPBACK_HTTP"
ENV_REGION = "AWS_REGION"  # set by Lambda itself

DEFAULT_MARKERS = ("CRITICAL", "ALERT")
# A marker is written ``[MARKER]`` in text logs or is the ``level`` of a JSON log line.
MARKER_PATTERN = re.compile(r"^[A-Z][A-Z0-9_]{0,31}$")
LEVEL_KEYS = ("level", "levelname", "log_level")
# The redaction rules' names (REDACT_DISABLED, REDACT_EXTRA) are the shared package's: redaction.names.
DEFAULT_CHANNEL = "default"
DEFAULT_RETENTION_DAYS = 365
DEFAULT_MAX_MESSAGES = 5
DEFAULT_SECRET_TTL_SECONDS = 300
DEFAULT_WEBHOOK_TIMEOUT_SECONDS = 5.0
DEFAULT_WEBHOOK_MAX_ATTEMPTS = 4
# Hosts a webhook URL may point at (https only, exact names).
DEFAULT_WEBHOOK_HOSTS = ("hooks.slack.com",)

# Metrics the function emits (EMF, dimension ``service``); ``Alerts`` also per ``marker``.
METRIC_ALERTS = "Alerts"
METRIC_ALERT_EVENTS = "AlertEvents"
METRIC_SLACK_MESSAGES = "SlackMessages"
METRIC_REDACTIONS = "Redactions"
METRIC_INVALID_EVENTS = "InvalidEvents"
METRIC_DELIVERY_FAILURES = "DeliveryFailures"
MARKER_DIMENSION = "marker"
METRIC_NAMES = (METRIC_ALERTS, METRIC_ALERT_EVENTS, METRIC_SLACK_MESSAGES, METRIC_REDACTIONS,
                METRIC_INVALID_EVENTS, METRIC_DELIVERY_FAILURES)


class ConfigError(ValueError):
    """The function's environment lacks a variable or holds a value of the wrong form."""


@dataclass(frozen=True)
class Route:
    """Alerts matching ``marker`` and/or ``log_group_prefix`` go to ``channel`` (first match wins)."""

    channel: str
    marker: Optional[str] = None
    log_group_prefix: Optional[str] = None

    def matches(self, marker: str, log_group: str) -> bool:
        return (self.marker is None or self.marker == marker) and (
            self.log_group_prefix is None or log_group.startswith(self.log_group_prefix)
        )

    def to_json(self) -> dict[str, str]:
        entry = {"channel": self.channel}
        if self.marker is not None:
            entry["marker"] = self.marker
        if self.log_group_prefix is not None:
            entry["log_group_prefix"] = self.log_group_prefix
        return entry


def routes_to_json(routes: Sequence[Route]) -> str:
    """The ``ROUTES`` value: a compact JSON list."""
    return json.dumps([route.to_json() for route in routes], separators=(",", ":"))


def parse_routes(raw: str) -> list[Route]:
    """Routes from their JSON form (the ``ROUTES`` environment variable)."""
    return [Route(channel=str(entry["channel"]), marker=entry.get("marker"),
                  log_group_prefix=entry.get("log_group_prefix")) for entry in json.loads(raw or "[]")]


def _csv(value: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in value.split(",") if part.strip())


@dataclass(frozen=True)
class AlertsConfig:
    """The alerts function's configuration (environment variable in brackets).

    :param table_name: the audit table (``TABLE_NAME``). Required.
    :param secret_id: ARN of the secret holding the webhook URL(s) (``WEBHOOK_SECRET_ID``). Required.
    :param markers: markers in priority order (``MARKERS``, comma-separated). Default: CRITICAL, ALERT
    :param default_channel: channel of alerts no route claims (``DEFAULT_CHANNEL``). Default: default
    :param routes: (``ROUTES``, JSON list of ``{"channel", "marker"?, "log_group_prefix"?}``). Default: none
    :param topic_arn: SNS topic for one message per alert (``TOPIC_ARN``). Default: - no SNS
    :param dead_letter_queue_url: queue for input that cannot be processed (``DEAD_LETTER_QUEUE_URL``).
    :param retention_days: TTL of the items (``RETENTION_DAYS``). Default: 365
    :param max_messages: alerts shown per Slack message (``MAX_MESSAGES``). Default: 5
    :param redact: (``REDACT``, ``true``/``false``). Default: true
    :param redact_disabled: built-in rules switched off (``REDACT_DISABLED``, comma-separated).
    :param redact_extra: name → regex of additional rules (``REDACT_EXTRA``, JSON object).
    :param secret_ttl_s: cache time of the secret value (``SECRET_TTL_SECONDS``). Default: 300
    :param webhook_timeout_s: per attempt (``WEBHOOK_TIMEOUT_SECONDS``). Default: 5
    :param webhook_max_attempts: (``WEBHOOK_MAX_ATTEMPTS``). Default: 4
    :param webhook_hosts: hosts a webhook URL may name (``WEBHOOK_HOSTS``, comma-separated). Default: hooks.slack.com
    :param allow_loopback_http: tests only (``ALLOW_LOOPBACK_HTTP=1``); never written by to_environment.
    :param region: the function's region (``AWS_REGION``, set by Lambda; never written).
    """

    table_name: str
    secret_id: str
    markers: tuple[str, ...] = DEFAULT_MARKERS
    default_channel: str = DEFAULT_CHANNEL
    routes: tuple[Route, ...] = ()
    topic_arn: Optional[str] = None
    dead_letter_queue_url: Optional[str] = None
    retention_days: int = DEFAULT_RETENTION_DAYS
    max_messages: int = DEFAULT_MAX_MESSAGES
    redact: bool = True
    redact_disabled: tuple[str, ...] = ()
    redact_extra: Mapping[str, str] = field(default_factory=dict)
    secret_ttl_s: int = DEFAULT_SECRET_TTL_SECONDS
    webhook_timeout_s: float = DEFAULT_WEBHOOK_TIMEOUT_SECONDS
    webhook_max_attempts: int = DEFAULT_WEBHOOK_MAX_ATTEMPTS
    webhook_hosts: tuple[str, ...] = DEFAULT_WEBHOOK_HOSTS
    allow_loopback_http: bool = False
    region: str = "us-east-1"

    def to_environment(self) -> dict[str, str]:
        environment = {
            ENV_TABLE_NAME: self.table_name,
            ENV_WEBHOOK_SECRET_ID: self.secret_id,
            ENV_SECRET_TTL_SECONDS: str(self.secret_ttl_s),
            ENV_MARKERS: ",".join(self.markers),
            ENV_DEFAULT_CHANNEL: self.default_channel,
            ENV_ROUTES: routes_to_json(self.routes),
            ENV_RETENTION_DAYS: str(self.retention_days),
            ENV_MAX_MESSAGES: str(self.max_messages),
            ENV_REDACT: "true" if self.redact else "false",
            ENV_REDACT_DISABLED: ",".join(self.redact_disabled),
            ENV_REDACT_EXTRA: json.dumps(dict(self.redact_extra), separators=(",", ":")),
            ENV_WEBHOOK_TIMEOUT_SECONDS: f"{self.webhook_timeout_s:g}",
            ENV_WEBHOOK_MAX_ATTEMPTS: str(self.webhook_max_attempts),
            ENV_WEBHOOK_HOSTS: ",".join(self.webhook_hosts),
        }
        for name, value in ((ENV_TOPIC_ARN, self.topic_arn), (ENV_DEAD_LETTER_QUEUE_URL, self.dead_letter_queue_url)):
            if value is not None:
                environment[name] = value
        return environment

    @classmethod
    def from_environment(cls, environ: Mapping[str, str]) -> "AlertsConfig":
        """The configuration; :class:`ConfigError` names every missing or malformed variable."""
        problems: list[str] = []
        missing = [name for name in (ENV_TABLE_NAME, ENV_WEBHOOK_SECRET_ID) if not environ.get(name)]
        if missing:
            problems.append(f"{', '.join(missing)} not set")

        def read(name: str, convert: Any, default: Any) -> Any:
            raw = environ.get(name)
            if raw in (None, ""):
                return default
            try:
                return convert(raw)
            except (ValueError, TypeError, KeyError) as error:
                problems.append(f"{name}={raw!r} is invalid ({error})")
                return default

        config = cls(
            table_name=environ.get(ENV_TABLE_NAME, ""),
            secret_id=environ.get(ENV_WEBHOOK_SECRET_ID, ""),
            markers=read(ENV_MARKERS, _csv, DEFAULT_MARKERS),
            default_channel=environ.get(ENV_DEFAULT_CHANNEL) or DEFAULT_CHANNEL,
            routes=tuple(read(ENV_ROUTES, parse_routes, [])),
            topic_arn=environ.get(ENV_TOPIC_ARN) or None,
            dead_letter_queue_url=environ.get(ENV_DEAD_LETTER_QUEUE_URL) or None,
            retention_days=read(ENV_RETENTION_DAYS, int, DEFAULT_RETENTION_DAYS),
            max_messages=read(ENV_MAX_MESSAGES, int, DEFAULT_MAX_MESSAGES),
            redact=environ.get(ENV_REDACT, "true").lower() != "false",
            redact_disabled=_csv(environ.get(ENV_REDACT_DISABLED, "")),
            redact_extra=read(ENV_REDACT_EXTRA, json.loads, {}),
            secret_ttl_s=read(ENV_SECRET_TTL_SECONDS, int, DEFAULT_SECRET_TTL_SECONDS),
            webhook_timeout_s=read(ENV_WEBHOOK_TIMEOUT_SECONDS, float, DEFAULT_WEBHOOK_TIMEOUT_SECONDS),
            webhook_max_attempts=read(ENV_WEBHOOK_MAX_ATTEMPTS, int, DEFAULT_WEBHOOK_MAX_ATTEMPTS),
            webhook_hosts=read(ENV_WEBHOOK_HOSTS, _csv, DEFAULT_WEBHOOK_HOSTS) or DEFAULT_WEBHOOK_HOSTS,
            allow_loopback_http=environ.get(ENV_ALLOW_LOOPBACK_HTTP, "") == "1",
            region=environ.get(ENV_REGION, "us-east-1"),
        )
        if problems:
            raise ConfigError("log alerts: " + "; ".join(problems))
        return config
