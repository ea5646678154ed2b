"""One invocation: decode → keep marker events → redact → skip what was already notified → store the
new alerts → Slack per channel → SNS per alert → store the delivery flags → fail if a delivery failed.

Idempotency: the item of an alert (key: the CloudWatch Logs event id, stable across retries and
replays) records ``slack_sent``/``sns_sent``/``notified``. A retried, replayed or redriven batch
reads those flags first (one ``BatchGetItem`` per 100 alerts) and sends only what was never sent;
new alerts are written before any delivery (``notified = false``), so whatever a delivery does, the
audit table holds them; the items whose flags changed are written again after the deliveries.
If a delivery fails, the invocation raises :class:`DeliveryFailed`, so Lambda retries it and finally
hands it to the on-failure destination.

Robustness: payloads are decoded leniently (an invalid UTF-8 byte becomes U+FFFD, as the shipper
does), all text is sanitized (lone surrogates become U+FFFD), an event that cannot be turned into an
alert is dead-lettered alone, and each Slack channel fails on its own (channels are posted at the same
time, each its own messages in order).
"""
from __future__ import annotations

import json
import logging
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Optional

from log_subscription import LogBatch, PayloadError, decode_payload
from logship.retry import Backoff, retry_pending

from . import store
from .contract import AlertsConfig as Config
from .items import Alert, cut, flags_of, to_item
from .markers import app_name, classify
from redaction import Redactor
from .routing import WebhookConfigError, channel_for, webhook_for
from .slack import Delivery, WebhookError, minimal, render_messages, sanitize

SNS_BATCH = 10
# Slack channels posted at the same time (each channel's own messages go one after the other).
MAX_PARALLEL_CHANNELS = 8
# Re-sending the entries a PublishBatch reports as failed: 3 calls per chunk, at most 2 s apart.
SNS_BACKOFF = Backoff(max_attempts=3, base_s=0.2, max_s=2.0)
MAX_DEAD_LETTER_CHARS = 200_000
FLAG_ATTRIBUTES = ("log_id", "notified", "slack_sent", "sns_sent")


class DeliveryFailed(RuntimeError):
    """At least one alert could not be delivered; its item is stored with ``notified = false``."""

    def __init__(self, message: str, outcome: "Outcome") -> None:
        super().__init__(message)
        self.outcome = outcome


@dataclass
class Services:
    """What the processing needs from the outside world (boto3 clients, the webhook, a clock)."""

    dynamodb: Any
    webhooks: Callable[[], Mapping[str, str]]  # channel → URL, read from the secret (cached)
    post: Callable[..., Delivery]  # slack.post or a compatible callable
    sns: Any = None
    sqs: Any = None
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep


@dataclass
class Outcome:
    events: int = 0
    alerts: int = 0
    new: int = 0
    already_notified: int = 0
    stored: int = 0
    invalid: int = 0
    dead_lettered: int = 0
    slack_messages: Counter = field(default_factory=Counter)  # channel → messages posted
    slack_alerts: int = 0
    sns_published: int = 0
    new_per_marker: Counter = field(default_factory=Counter)
    redactions: Counter = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    unprocessable: list[dict[str, str]] = field(default_factory=list)  # events that could not become alerts
    minimal_messages: int = 0  # Slack refused the full message; the minimal one was sent instead
    stats: store.StoreStats = field(default_factory=store.StoreStats)
    sns_calls: int = 0


def extract(batch: LogBatch, config: Config, redactor: Optional[Redactor], outcome: Outcome) -> list[Alert]:
    """The alerts of a batch (redacted, routed, one per event id)."""
    alerts: dict[str, Alert] = {}
    group, stream, owner = sanitize(batch.log_group), sanitize(batch.log_stream), sanitize(batch.owner)
    if redactor is not None:  # every attribute that leaves the function is redacted the same way
        group, stream = redactor.redact(group)[0], redactor.redact(stream)[0]
    for event in batch.events:
        if event.id in alerts:  # the same event twice in one payload: one alert
            continue
        try:
            alert = _alert(event, group, stream, owner, config, redactor, outcome)
        except Exception as error:  # one event that cannot become an alert must not stop the others
            outcome.unprocessable.append({"id": str(event.id), "error": type(error).__name__})
            continue
        if alert is not None:
            alerts[event.id] = alert
    return list(alerts.values())


def _alert(event: Any, group: str, stream: str, owner: str, config: Config, redactor: Optional[Redactor],
           outcome: Outcome) -> Optional[Alert]:
    raw = sanitize(event.message)
    found = classify(raw, config.markers)
    if found is None:
        return None
    message, text = raw, sanitize(found.text)
    if redactor is not None:
        message, counts = redactor.redact(message)
        outcome.redactions.update(counts)
        text = message if found.text is raw else redactor.redact(text)[0]
    message, truncated = cut(message)
    text = cut(text)[0]
    return Alert(
        log_id=sanitize(str(event.id)), epoch_ms=event.timestamp_ms, marker=found.marker, message=message, text=text,
        app_name=app_name(group), log_group=group, log_stream=stream, account=owner,
        channel=channel_for(found.marker, group, config.routes, config.default_channel), truncated=truncated,
    )


def dead_letter(services: Services, config: Config, outcome: Outcome, reason: str, body: Any,
                log: logging.Logger) -> None:
    """Keep input that cannot become alerts in the dead-letter queue, with the reason."""
    if services.sqs is None or not config.dead_letter_queue_url:
        log.error("unprocessable input and no dead-letter queue configured", extra={"reason": reason})
        return
    text = json.dumps({"reason": reason, "input": body}, default=str, ensure_ascii=False)
    if len(text) > MAX_DEAD_LETTER_CHARS:
        text = json.dumps({"reason": reason, "truncated": True, "input": text[:MAX_DEAD_LETTER_CHARS]})
    services.sqs.send_message(QueueUrl=config.dead_letter_queue_url, MessageBody=text)
    outcome.dead_lettered += 1


def _notify_slack(todo: list[Alert], config: Config, services: Services, outcome: Outcome,
                  deadline: Optional[float], log: logging.Logger) -> list[Alert]:
    by_channel: dict[str, list[Alert]] = defaultdict(list)
    for alert in todo:
        if not alert.slack_sent:
            by_channel[alert.channel].append(alert)
    if not by_channel:
        return todo
    try:
        webhooks = services.webhooks()
    except Exception as error:  # the secret could not be read: nothing can be sent
        outcome.failures.append(f"webhook secret could not be read ({type(error).__name__})")
        return todo

    def post(channel: str) -> tuple[set[str], Outcome]:
        return _post_channel(channel, by_channel[channel], webhooks, config, services, deadline, log)

    # Channels are posted at the same time, each its own messages in order: a batch waits one
    # channel's Slack round trips, not the sum over channels.
    if len(by_channel) == 1:
        results = [post(next(iter(by_channel)))]
    else:
        with ThreadPoolExecutor(max_workers=min(len(by_channel), MAX_PARALLEL_CHANNELS)) as pool:
            results = list(pool.map(post, by_channel))
    sent: set[str] = set()
    for channel_sent, channel_outcome in results:
        sent |= channel_sent
        outcome.failures += channel_outcome.failures
        outcome.slack_messages.update(channel_outcome.slack_messages)
        outcome.slack_alerts += channel_outcome.slack_alerts
        outcome.minimal_messages += channel_outcome.minimal_messages
    return [alert.with_flags(slack_sent=True) if alert.log_id in sent else alert for alert in todo]


def _post_channel(channel: str, group: list[Alert], webhooks: Any, config: Config, services: Services,
                  deadline: Optional[float], log: logging.Logger) -> tuple[set[str], Outcome]:
    """One channel's messages, in order: the ids of the alerts posted, and what happened (failures, counts)."""
    outcome = Outcome()
    sent: set[str] = set()
    group.sort(key=lambda a: (config.markers.index(a.marker), a.epoch_ms))
    options = dict(timeout_s=config.webhook_timeout_s, max_attempts=config.webhook_max_attempts,
                   deadline=deadline, sleep=services.sleep)
    try:
        url = webhook_for(channel, webhooks, allow_loopback_http=config.allow_loopback_http,
                          allowed_hosts=config.webhook_hosts)
        # An alert that cannot be rendered gets a message of its own (render_messages).
        messages = render_messages(channel, group, region=config.region, max_messages=config.max_messages)
    except WebhookConfigError as error:
        outcome.failures.append(f"slack channel {channel!r}: {error}")
        log.error("slack delivery failed", extra={"channel": channel, "alerts": len(group), "error": str(error)})
        return sent, outcome
    except Exception as error:  # anything else fails this channel only, never the other channels
        outcome.failures.append(f"slack channel {channel!r}: {type(error).__name__}")
        log.exception("slack delivery failed", extra={"channel": channel, "alerts": len(group)})
        return sent, outcome
    for part, payload in messages:
        try:
            try:
                delivery = services.post(url, payload, **options)
            except WebhookError as error:
                if error.status != 400:
                    raise
                # Slack refused the payload itself: the minimal message still reaches the channel.
                log.error("slack refused the message; sending the minimal one", extra={"channel": channel})
                delivery = services.post(url, minimal(part), **options)
                outcome.minimal_messages += 1
        except WebhookError as error:
            outcome.failures.append(f"slack channel {channel!r}: {error}")
            log.error("slack delivery failed", extra={"channel": channel, "alerts": len(part), "error": str(error)})
            continue
        except Exception as error:  # anything else fails this message only, never the other ones
            outcome.failures.append(f"slack channel {channel!r}: {type(error).__name__}")
            log.exception("slack delivery failed", extra={"channel": channel, "alerts": len(part)})
            continue
        log.info("slack message posted", extra={"channel": channel, "alerts": len(part),
                                                "attempts": delivery.attempts})
        outcome.slack_messages[channel] += 1
        outcome.slack_alerts += len(part)
        sent.update(alert.log_id for alert in part)
    return sent, outcome


def _sns_message(alert: Alert) -> str:
    return json.dumps({
        "log_id": alert.log_id, "timestamp": alert.timestamp, "marker": alert.marker, "app_name": alert.app_name,
        "log_group": alert.log_group, "log_stream": alert.log_stream, "account": alert.account,
        "channel": alert.channel, "message": alert.text,
    }, ensure_ascii=False)


def _publish_sns(todo: list[Alert], config: Config, services: Services, outcome: Outcome,
                 log: logging.Logger) -> list[Alert]:
    """Publish the alerts not yet on SNS, 10 per ``PublishBatch``; re-send the entries SNS reports as
    failed. A whole call that fails is retried by botocore; when its retries are spent, the chunk's
    unpublished alerts stay ``sns_sent = false`` for Lambda's retry of the invocation."""
    if not config.topic_arn or services.sns is None:
        return todo
    pending = [alert for alert in todo if not alert.sns_sent]
    published: set[str] = set()
    codes: set[str] = set()

    def send(chunk: list[Alert]) -> list[Alert]:
        outcome.sns_calls += 1
        entries = {str(i): alert for i, alert in enumerate(chunk)}
        response = services.sns.publish_batch(TopicArn=config.topic_arn, PublishBatchRequestEntries=[
            {"Id": entry_id, "Message": _sns_message(alert)} for entry_id, alert in entries.items()
        ])
        for ok in response.get("Successful", []):
            published.add(entries.pop(ok["Id"]).log_id)
        codes.clear()
        codes.update(failed.get("Code", "?") for failed in response.get("Failed", []))
        return list(entries.values())

    for chunk in store.chunks(pending, SNS_BATCH):
        try:
            left, _ = retry_pending(send, chunk, SNS_BACKOFF, sleep=services.sleep)
            last = ", ".join(sorted(codes))
        except Exception as error:  # throttling or an outage outlasting botocore's retries
            left, last = [alert for alert in chunk if alert.log_id not in published], type(error).__name__
        if left:
            outcome.failures.append(f"sns: {len(left)} alert(s) not published ({last})")
            log.error("sns publish failed", extra={"alerts": len(left), "error": last})
    outcome.sns_published += len(published)
    return [alert.with_flags(sns_sent=True) if alert.log_id in published else alert for alert in todo]


def unwrap_destination_record(event: Mapping[str, Any]) -> Mapping[str, Any]:
    """The original payload of an on-failure destination record, so a redrive can send the queue's
    message bodies back to the function as they are; any other event is returned unchanged."""
    payload = event.get("requestPayload") if isinstance(event, Mapping) and "awslogs" not in event else None
    return payload if isinstance(payload, Mapping) else event


def process(event: Mapping[str, Any], config: Config, services: Services, *, redactor: Optional[Redactor],
            log: logging.Logger, deadline: Optional[float] = None, now_s: Optional[float] = None) -> Outcome:
    """Handle one invocation; raise :class:`DeliveryFailed` (after storing) when a delivery failed."""
    outcome = Outcome()
    event = unwrap_destination_record(event)
    try:
        batch = decode_payload(event, strict_utf8=False)
    except PayloadError as error:
        log.error("subscription payload rejected", extra={"stage": error.stage, "error": str(error)})
        dead_letter(services, config, outcome, str(error), dict(event), log)
        return outcome
    if batch.is_control:
        log.info("control message ignored", extra={"log_group": batch.log_group})
        return outcome
    outcome.events = len(batch.events)
    if batch.invalid:
        outcome.invalid = len(batch.invalid)
        log.error("invalid log events skipped", extra={
            "log_group": batch.log_group, "count": len(batch.invalid),
            "reasons": sorted({item.reason for item in batch.invalid})})
        dead_letter(services, config, outcome, "invalid log events",
                    {"logGroup": batch.log_group, "logStream": batch.log_stream,
                     "events": [{"reason": item.reason, "event": item.raw} for item in batch.invalid]}, log)
    alerts = extract(batch, config, redactor, outcome)
    outcome.alerts = len(alerts)
    if outcome.unprocessable:
        log.error("log events that could not become alerts", extra={"events": outcome.unprocessable})
        dead_letter(services, config, outcome, "log events that could not become alerts",
                    {"logGroup": batch.log_group, "logStream": batch.log_stream,
                     "events": [e for e in batch.events if str(e.id) in {u["id"] for u in outcome.unprocessable}]},
                    log)
    if not alerts:
        return outcome
    stored = store.get_items(services.dynamodb, config.table_name, [a.log_id for a in alerts],
                             attributes=FLAG_ATTRIBUTES, stats=outcome.stats, sleep=services.sleep)
    todo: list[Alert] = []
    for alert in alerts:
        item = stored.get(alert.log_id)
        if item is None:
            outcome.new += 1
            outcome.new_per_marker[alert.marker] += 1
            todo.append(alert)
            continue
        notified, slack_sent, sns_sent = flags_of(item)
        if notified:
            outcome.already_notified += 1
        else:
            todo.append(alert.with_flags(slack_sent=slack_sent, sns_sent=sns_sent))
    if not todo:
        log.info("every alert of the batch was already notified", extra={"alerts": len(alerts)})
        return outcome
    def item(alert: Alert) -> dict[str, Any]:
        return to_item(alert, retention_days=config.retention_days, sns_enabled=bool(config.topic_arn), now_s=now_s)

    # The new alerts are in the table before any delivery is tried (notified = false).
    first = [item(alert) for alert in todo if alert.log_id not in stored]
    outcome.stored = store.put_items(services.dynamodb, config.table_name, first, stats=outcome.stats,
                                     sleep=services.sleep)
    before = {alert.log_id: (alert.slack_sent, alert.sns_sent) for alert in todo}
    todo = _notify_slack(todo, config, services, outcome, deadline, log)
    todo = _publish_sns(todo, config, services, outcome, log)
    changed = [item(alert) for alert in todo if before[alert.log_id] != (alert.slack_sent, alert.sns_sent)]
    store.put_items(services.dynamodb, config.table_name, changed, stats=outcome.stats, sleep=services.sleep)
    outcome.stored = len({written["log_id"]["S"] for written in first + changed})
    if outcome.failures:
        raise DeliveryFailed("; ".join(outcome.failures), outcome)
    return outcome
