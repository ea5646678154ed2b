"""The function's configuration, read from environment variables set by the construct.

=============================  ==================================================================
``TABLE_NAME``                 the audit table
``WEBHOOK_SECRET_ID``          ARN of the Secrets Manager secret holding the webhook URL(s)
``SECRET_TTL_SECONDS``         how long the secret value is cached (Powertools parameters), 300
``MARKERS``                    comma-separated markers in priority order, ``CRITICAL,ALERT``
``DEFAULT_CHANNEL``            channel of alerts no route claims, ``default``
``ROUTES``                     JSON list of ``{"channel", "marker"?, "log_group_prefix"?}``
``TOPIC_ARN``                  SNS topic for one message per alert (optional)
``DEAD_LETTER_QUEUE_URL``      SQS queue for input that cannot be processed (optional)
``RETENTION_DAYS``             TTL of the items, 365
``MAX_MESSAGES``               alerts shown per Slack message, 5
``REDACT``                     ``true``/``false``, true
``REDACT_DISABLED``            comma-separated built-in redaction rules to switch off
``REDACT_EXTRA``               JSON object name → regex of additional rules
``WEBHOOK_TIMEOUT_SECONDS``    per attempt, 5
``WEBHOOK_MAX_ATTEMPTS``       4
``ALLOW_LOOPBACK_HTTP``        tests only: accept ``http://127.0.0.1`` webhooks; never set by the construct
=============================  ==================================================================
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Mapping, Optional

from .routing import Route, parse_routes


@dataclass(frozen=True)
class Config:
    table_name: str
    secret_id: str
    markers: tuple[str, ...] = ("CRITICAL", "ALERT")
    default_channel: str = "default"
    routes: tuple[Route, ...] = ()
    topic_arn: Optional[str] = None
    dead_letter_queue_url: Optional[str] = None
    retention_days: int = 365
    max_messages: int = 5
    redact: bool = True
    redact_disabled: tuple[str, ...] = ()
    redact_extra: Mapping[str, str] = field(default_factory=dict)
    secret_ttl_s: int = 300
    webhook_timeout_s: float = 5.0
    webhook_max_attempts: int = 4
    allow_loopback_http: bool = False
    region: str = "us-east-1"


def _csv(value: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in value.split(",") if part.strip())


def from_environment(env: Mapping[str, str] = os.environ) -> Config:
    return Config(
        table_name=env["TABLE_NAME"],
        secret_id=env["WEBHOOK_SECRET_ID"],
        markers=_csv(env.get("MARKERS", "CRITICAL,ALERT")),
        default_channel=env.get("DEFAULT_CHANNEL") or "default",
        routes=tuple(parse_routes(env.get("ROUTES", "[]"))),
        topic_arn=env.get("TOPIC_ARN") or None,
        dead_letter_queue_url=env.get("DEAD_LETTER_QUEUE_URL") or None,
        retention_days=int(env.get("RETENTION_DAYS", "365")),
        max_messages=int(env.get("MAX_MESSAGES", "5")),
        redact=env.get("REDACT", "true").lower() != "false",
        redact_disabled=_csv(env.get("REDACT_DISABLED", "")),
        redact_extra=json.loads(env.get("REDACT_EXTRA") or "{}"),
        secret_ttl_s=int(env.get("SECRET_TTL_SECONDS", "300")),
        webhook_timeout_s=float(env.get("WEBHOOK_TIMEOUT_SECONDS", "5")),
        webhook_max_attempts=int(env.get("WEBHOOK_MAX_ATTEMPTS", "4")),
        allow_loopback_http=env.get("ALLOW_LOOPBACK_HTTP", "") == "1",
        region=env.get("AWS_REGION", "us-east-1"),
    )
