"""Lambda entry point: read the environment, build the clients once, run :func:`process.process`."""
from __future__ import annotations

import functools
import os
import time
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit, single_metric
from aws_lambda_powertools.utilities import parameters
from botocore.config import Config

from . import slack
from . import contract as c
from .contract import AlertsConfig
from .process import DeliveryFailed, Outcome, Services, process
from redaction import Redactor
from .routing import parse_webhooks

# Clients at module scope: created once per execution environment; the endpoint comes from the
# environment (AWS_ENDPOINT_URL in tests). botocore's standard retry mode retries a whole call that
# fails (throttling, 5xx, connection errors); the parts of a batch call the service leaves undone
# (UnprocessedKeys/UnprocessedItems, PublishBatch's Failed entries) are the function's to re-send.
_STANDARD = Config(retries={"mode": "standard", "total_max_attempts": 3})
DYNAMODB = boto3.client("dynamodb", config=Config(retries={"mode": "standard", "total_max_attempts": 5}))
SNS = boto3.client("sns", config=_STANDARD)
SQS = boto3.client("sqs", config=_STANDARD)
SECRETS = parameters.SecretsProvider(boto3_client=boto3.client("secretsmanager", config=_STANDARD))

logger = Logger()
metrics = Metrics()
tracer = Tracer()

# Seconds kept free before Lambda's timeout to write the items after the last webhook attempt.
SAFETY_MARGIN_S = 10.0


@functools.lru_cache(maxsize=4)
def _redactor(disabled: tuple[str, ...], extra: tuple[tuple[str, str], ...]) -> Redactor:
    return Redactor.build(disabled=disabled, extra=dict(extra))


def redactor_for(config: AlertsConfig) -> Redactor | None:
    if not config.redact:
        return None
    return _redactor(config.redact_disabled, tuple(sorted(config.redact_extra.items())))


def _webhooks(config: AlertsConfig) -> dict[str, str]:
    # Cached by Powertools for SECRET_TTL_SECONDS; the value is never logged.
    return parse_webhooks(SECRETS.get(config.secret_id, max_age=config.secret_ttl_s))


def _emit(outcome: Outcome) -> None:
    metrics.add_metric(name=c.METRIC_ALERT_EVENTS, unit=MetricUnit.Count, value=outcome.alerts)
    metrics.add_metric(name=c.METRIC_SLACK_MESSAGES, unit=MetricUnit.Count, value=sum(outcome.slack_messages.values()))
    metrics.add_metric(name=c.METRIC_REDACTIONS, unit=MetricUnit.Count, value=sum(outcome.redactions.values()))
    metrics.add_metric(name=c.METRIC_INVALID_EVENTS, unit=MetricUnit.Count, value=outcome.invalid)
    metrics.add_metric(name=c.METRIC_DELIVERY_FAILURES, unit=MetricUnit.Count, value=len(outcome.failures))
    # One EMF document per marker, so the count can be graphed and alarmed per marker.
    for marker, count in outcome.new_per_marker.items():
        with single_metric(name=c.METRIC_ALERTS, unit=MetricUnit.Count, value=count,
                           default_dimensions={c.MARKER_DIMENSION: marker}):
            pass  # Powertools adds the ``service`` dimension


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    config = AlertsConfig.from_environment(os.environ)
    deadline = time.monotonic() + context.get_remaining_time_in_millis() / 1000 - SAFETY_MARGIN_S
    services = Services(dynamodb=DYNAMODB, sns=SNS, sqs=SQS, webhooks=lambda: _webhooks(config), post=slack.post)
    try:
        outcome = process(event, config, services, redactor=redactor_for(config), log=logger, deadline=deadline)
    except DeliveryFailed as failure:
        _emit(failure.outcome)
        logger.error("invocation failed; items kept with notified=false for the retry",
                     extra={"failures": failure.outcome.failures, "stored": failure.outcome.stored})
        raise
    _emit(outcome)
    summary = {"events": outcome.events, "alerts": outcome.alerts, "new": outcome.new,
               "already_notified": outcome.already_notified, "stored": outcome.stored,
               "slack_messages": dict(outcome.slack_messages), "sns_published": outcome.sns_published,
               "invalid": outcome.invalid, "dead_lettered": outcome.dead_lettered,
               "redactions": dict(outcome.redactions)}
    logger.info("alerts processed", extra=summary)
    return summary
