"""Lambda entry point of the log group governor (thin: decode, then call the pure/planning modules).

Events: a CloudTrail ``CreateLogGroup`` event from EventBridge (govern that group now), a sweep
request from the schedule or the deploy-time trigger (``{"action": "sweep"}`` or ``{}``), or a sweep
continuation carrying a cursor (sent by this function to itself when its time runs short).
Environment: see the README (``RETENTION_DAYS``, ``RETENTION_MODE``, ``DESTINATION_ARN``, ...).
"""
from __future__ import annotations

import json
import os
import time
from typing import Any, Mapping

import boto3
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.config import Config as BotoConfig

from .events import Ignored, MalformedEvent, NewLogGroup, decode
from .governor import Governor
from .contract import ENV_DEAD_LETTER_QUEUE_URL, METRIC_NAMES, METRIC_THROTTLED_RETRIES, GovernorConfig
from .planning import Config, Counters, Cursor
from .ratelimit import RateLimiter

# The rate limiter owns retries of throttled calls; botocore must not multiply them behind its back.
_BOTO = BotoConfig(retries={"mode": "standard", "total_max_attempts": 1}, connect_timeout=5, read_timeout=30)
logs = boto3.client("logs", config=_BOTO)
lambda_client = boto3.client("lambda", config=BotoConfig(retries={"mode": "standard", "max_attempts": 3}))
sqs = boto3.client("sqs", config=BotoConfig(retries={"mode": "standard", "max_attempts": 3}))

logger = Logger()
metrics = Metrics()
tracer = Tracer()

MAX_DEAD_LETTER_BYTES = 250 * 1024  # SQS allows 256 KiB per message


def _account_and_region(context: Any) -> tuple[str, str]:
    # arn:aws:lambda:<region>:<account>:function:<name>[:alias]
    parts = str(context.invoked_function_arn).split(":")
    return parts[4], parts[3]


def dead_letter(event: Any, reason: str, settings: GovernorConfig) -> None:
    """Send an event the governor cannot understand to the dead-letter queue (never drop it silently)."""
    logger.error("malformed event sent to the dead-letter queue", extra={"reason": reason})
    body = json.dumps({"reason": reason, "event": event}, default=str)
    if len(body.encode()) > MAX_DEAD_LETTER_BYTES:
        body = json.dumps({"reason": reason, "truncated": True, "event": body[: MAX_DEAD_LETTER_BYTES // 2]})
    if not settings.dead_letter_queue_url:
        raise RuntimeError(f"malformed event and no {ENV_DEAD_LETTER_QUEUE_URL}: {reason}")
    # If this raises, Lambda's own retries and the function's dead-letter queue keep the event.
    sqs.send_message(QueueUrl=settings.dead_letter_queue_url, MessageBody=body)


def emit(run: Counters, *, kind: str, config: Config, started: float, complete: bool,
         total: Counters | None = None, extra: Mapping[str, Any] | None = None, throttled: int = 0) -> dict[str, Any]:
    """This invocation's EMF metrics, and the one structured summary line."""
    for field, metric in METRIC_NAMES.items():
        metrics.add_metric(name=metric, unit=MetricUnit.Count, value=getattr(run, field))
    metrics.add_metric(name=METRIC_THROTTLED_RETRIES, unit=MetricUnit.Count, value=throttled)
    summary = {
        "kind": kind,
        "dry_run": config.dry_run,
        "complete": complete,
        "duration_ms": round((time.monotonic() - started) * 1000),
        "this_invocation": run.as_dict(),
        "throttled_retries": throttled,
        **({"sweep_total": total.as_dict()} if total is not None else {}),
        **(extra or {}),
    }
    logger.info("log group governor summary", extra={"summary": summary})
    return summary


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: Any, context: LambdaContext) -> dict[str, Any]:
    started = time.monotonic()
    settings = GovernorConfig.from_environment(os.environ)
    config = Config.from_contract(settings)
    limiter = RateLimiter(rates=settings.rate_limits)
    governor = Governor(logs=logs, config=config, limiter=limiter, log=logger)
    account, region = _account_and_region(context)
    try:
        decoded = decode(event, account=account, region=region)
    except MalformedEvent as error:
        dead_letter(event, str(error), settings)
        return {"status": "dead-lettered", "reason": str(error)}

    if isinstance(decoded, Ignored):
        logger.info("event ignored", extra={"reason": decoded.reason, "event_id": decoded.event_id})
        return {"status": "ignored", "reason": decoded.reason}

    if isinstance(decoded, NewLogGroup):
        run = Counters()
        governor.govern_by_name(decoded.name, run)
        summary = emit(run, kind="new-log-group", config=config, started=started, complete=True,
                       extra={"log_group": decoded.name, "event_id": decoded.event_id}, throttled=limiter.throttled)
        return {"status": "done", "summary": summary}

    try:
        cursor = Cursor.from_event(decoded.event)
    except (ValueError, TypeError) as error:
        dead_letter(event, f"malformed sweep cursor: {error}", settings)
        return {"status": "dead-lettered", "reason": str(error)}
    if cursor.started_at is None:
        cursor = Cursor(started_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
    run, next_cursor = governor.sweep(cursor, time_left_ms=context.get_remaining_time_in_millis,
                                      reserve_ms=settings.time_reserve_ms)
    if next_cursor is not None:
        # Hand the rest to a fresh invocation; asynchronous, so this one ends now.
        # Unqualified name: the deploy-time trigger invokes a version, the IAM grant is on the function.
        lambda_client.invoke(FunctionName=context.function_name, InvocationType="Event",
                             Payload=json.dumps(next_cursor.to_event()).encode())
        summary = emit(run, kind="sweep", config=config, started=started, complete=False,
                       total=next_cursor.counters, throttled=limiter.throttled,
                       extra={"invocation": cursor.invocation, "continues_after": next_cursor.last_done})
        return {"status": "continued", "summary": summary}
    summary = emit(run, kind="sweep", config=config, started=started, complete=True,
                   total=cursor.counters.add(run), throttled=limiter.throttled,
                   extra={"invocation": cursor.invocation, "started_at": cursor.started_at})
    return {"status": "done", "summary": summary}
