"""LogAlerts: API calls and wall time for 10,000 log events (10% with a marker) against the naive function.

Both functions run in this process, one after the other, against the same emulator (moto server
behind the fault proxy, which counts every AWS call) and the same local webhook server (which counts
every POST). The events come as CloudWatch Logs delivers them: gzip+base64 batches, one log stream
per batch; the batch size is the main parameter and is stated in every row.

* ours: ``log_alerts.handler.handler`` as deployed (redaction, routing CRITICAL → #oncall and
  ALERT → #ops, one BatchGetItem per 100 alerts, one Slack message per channel and batch, one
  BatchWriteItem per 25 alerts).
* naive: the same decoding, marker check, redaction and item, but one ``PutItem`` and one webhook
  POST per alert (same retrying client, same webhook URLs).

All 10,000 events are fed to both functions. In production the subscription filter lets only the
marker events reach the function, which changes neither function's AWS/webhook calls (both skip
ordinary events without a call), only the decoding work.

Both run in both views (bench.common.VIEWS): the emulator as it is, and with the latency model
(each DynamoDB / Secrets Manager call and each webhook POST also waits its round trip).
"""
from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import time
from typing import Any

from bench.common import EMULATOR_VIEW, MODELLED_VIEW, VIEWS, Row, emulator, quick, view

TOTAL_EVENTS = 10_000
MARKER_EVERY = 10  # 10% of the events carry a marker
# The first is the headline; the others show how the gap depends on the alerts per invocation.
BATCH_SIZES = (500, 100, 2000)
# The naive function makes a Slack round trip (150 ms modelled) per alert: in the modelled view it
# handles a share of the events (its rate is per event, its calls are scaled).
NAIVE_EVENTS = {EMULATOR_VIEW: 5_000 if quick() else TOTAL_EVENTS, MODELLED_VIEW: 1_000 if quick() else 2_000}
EXPECTED_MODELLED_RATIO = 20
GROUPS = ("/aws/lambda/orders-api", "/aws/lambda/payments-api", "/aws/lambda/catalog")


def make_batches(batch_size: int) -> list[dict[str, Any]]:
    from tests.support.subscription import encode_payload
    from tests.support.alerts import log_event

    batches = []
    for start in range(0, TOTAL_EVENTS, batch_size):
        events = []
        for i in range(start, min(start + batch_size, TOTAL_EVENTS)):
            if i % MARKER_EVERY == 0:
                if (i // MARKER_EVERY) % 2:
                    message = json.dumps({"level": "ALERT", "message": f"queue depth {i} above 5000",
                                          "user": "ann@example.com"})
                else:
                    message = f"2025-06-29T10:01:00Z [CRITICAL] payment provider unreachable for order {i} card=4111111111111111"
            else:
                message = f"2025-06-29T10:01:00Z INFO order {i} accepted items=3 total=42.00"
            events.append(log_event(i, message))
        group = GROUPS[(start // batch_size) % len(GROUPS)]
        batches.append(encode_payload(group, f"2025/06/29/[$LATEST]{start:08d}", events))
    return batches


def naive_handler(event: dict[str, Any], env: dict[str, str], dynamodb: Any, webhooks: dict[str, str]) -> int:
    """One PutItem and one webhook POST per alert (the baseline)."""
    from log_alerts import slack
    from log_alerts.contract import AlertsConfig
    from log_alerts.handler import redactor_for
    from log_alerts.process import Outcome, extract
    from log_alerts.items import to_item
    from log_alerts.routing import webhook_for
    from log_subscription import decode_payload

    config = AlertsConfig.from_environment(env)
    alerts = extract(decode_payload(event), config, redactor_for(config), Outcome())
    for alert in alerts:
        url = webhook_for(alert.channel, webhooks, allow_loopback_http=True)
        slack.post(url, slack.render(alert.channel, [alert], region=config.region))
        item = to_item(alert.with_flags(slack_sent=True), retention_days=config.retention_days, sns_enabled=False)
        dynamodb.put_item(TableName=config.table_name, Item=item)
    return len(alerts)


def _calls(aws: Any, hook: Any) -> tuple[int, dict[str, int]]:
    by_operation = {op: n for op, n in aws.proxy.calls.items() if not op.startswith("POST /moto-api")}
    by_operation["webhook POST"] = len(hook.attempts())
    return sum(by_operation.values()), by_operation


def _prepare(aws: Any, hook: Any) -> dict[str, str]:
    from tests.support.alerts import create_resources

    aws.reset()
    hook.reset()
    env = create_resources(aws, {"default": hook.url("/alerts"), "#oncall": hook.url("/oncall"),
                                 "#ops": hook.url("/ops")})
    env["ROUTES"] = json.dumps([{"marker": "CRITICAL", "channel": "#oncall"}, {"marker": "ALERT", "channel": "#ops"}])
    env["AWS_REGION"] = "us-east-1"
    os.environ.update(env)
    aws.proxy.clear()
    return env


def _naive(aws: Any, hook: Any, batches: list[dict[str, Any]], events: int) -> tuple[float, int, int, dict[str, int]]:
    """(seconds, events, calls, calls by operation) of the naive function over ``batches``."""
    import boto3

    from tests.support.alerts import scan

    env = _prepare(aws, hook)
    dynamodb = boto3.client("dynamodb", endpoint_url=aws.url, region_name="us-east-1")
    secrets = boto3.client("secretsmanager", endpoint_url=aws.url, region_name="us-east-1")
    started = time.perf_counter()
    webhooks = json.loads(secrets.get_secret_value(SecretId=env["WEBHOOK_SECRET_ID"])["SecretString"])
    alerts = sum(naive_handler(event, env, dynamodb, webhooks) for event in batches)
    seconds = time.perf_counter() - started
    calls, ops = _calls(aws, hook)
    assert len(scan(aws)) == alerts == events // MARKER_EVERY, (alerts, events)
    return seconds, events, calls, ops


def _ratio_note(batch_size: int, ratio: float, ops: dict[str, int], batches: int) -> str:
    if ratio >= EXPECTED_MODELLED_RATIO:
        return f"meets the expected ≥ {EXPECTED_MODELLED_RATIO}×"
    alerts = batch_size // MARKER_EVERY
    posts = ops["webhook POST"] / batches
    return (f"below the expected {EXPECTED_MODELLED_RATIO}×: a {batch_size}-event batch carries {alerts} alerts "
            f"(10% markers), posted as {posts:g} webhook messages (one per channel, at the same time), so ours "
            f"waits one Slack round trip per {alerts} alerts where the per-event design waits {alerts}: "
            f"at most {alerts:g}× fewer, before DynamoDB and decoding. Behind the subscription filter (only marker "
            f"events reach the function) every event of a batch is an alert")


def run() -> list[Row]:
    from tests.support.alerts import FakeContext, scan
    from tests.support.webhook import WebhookServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's per-request log lines
    aws = emulator()
    os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "1")
    rows: list[Row] = []
    sink = io.StringIO()
    with WebhookServer() as hook, contextlib.redirect_stdout(sink):
        from log_alerts import handler as ours

        headline = BATCH_SIZES[0]
        for name in VIEWS:
            with view(name, aws, hook):
                # naive, once per view: its calls do not depend on the batch size (a PutItem + a POST per alert)
                naive_batches = make_batches(headline)[:NAIVE_EVENTS[name] // headline]
                naive_s, naive_events, naive_calls, naive_ops = _naive(aws, hook, naive_batches,
                                                                         len(naive_batches) * headline)
                naive_rate = naive_events / naive_s
                for batch_size in BATCH_SIZES:
                    batches = make_batches(batch_size)
                    _prepare(aws, hook)
                    ours.SECRETS.clear_cache()
                    started = time.perf_counter()
                    for event in batches:
                        ours.handler(event, FakeContext())
                    ours_s = time.perf_counter() - started
                    ours_calls, ours_ops = _calls(aws, hook)
                    ours_items = scan(aws)
                    alerts = TOTAL_EVENTS // MARKER_EVERY
                    assert len(ours_items) == alerts and all(i["notified"] for i in ours_items.values())
                    shape = f"{TOTAL_EVENTS:,} events, {alerts:,} alerts, {len(batches)} batches of {batch_size}"
                    naive = f"naive: {naive_events:,} events in {headline}-event batches, {naive_s:.2f} s"
                    if name == EMULATOR_VIEW:  # the calls do not depend on the view
                        # per-alert calls scale with the events; the secret is read once per run
                        per = TOTAL_EVENTS / naive_events
                        scaled = {op: n if op == "GetSecretValue" else round(n * per) for op, n in naive_ops.items()}
                        rows.append(Row("alerts", f"API + webhook calls, {batch_size}-event batches", ours_calls,
                                        sum(scaled.values()), "calls", higher_is_better=False,
                                        note=f"{shape}; ours {ours_ops}; naive (scaled to {TOTAL_EVENTS:,} events) "
                                             f"{scaled}"))
                    ratio = (TOTAL_EVENTS / ours_s) / naive_rate
                    expected = "" if name == EMULATOR_VIEW else "; " + _ratio_note(batch_size, ratio, ours_ops,
                                                                                     len(batches))
                    rows.append(Row("alerts", f"throughput, {batch_size}-event batches {name}", TOTAL_EVENTS / ours_s,
                                    naive_rate, "events/s",
                                    note=f"{shape}; wall time ours {ours_s:.2f} s; {naive}{expected}"))
    aws.proxy.stop()
    aws.server.stop()
    return rows


if __name__ == "__main__":
    for row in run():
        print(row)
