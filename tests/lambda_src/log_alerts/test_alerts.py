"""The LogAlerts function end to end: the handler against the AWS emulator (DynamoDB, Secrets Manager,
SNS, SQS via moto server, behind the fault proxy) and a real local HTTP server standing in for Slack."""
from __future__ import annotations

import base64
import gzip
import json

import pytest

from log_subscription import CONTROL_MESSAGE
from tests.support.subscription import encode_payload
from tests.support.alerts import FakeContext, destination_record, drain, load_handler, log_event, scan

GROUP = "/aws/lambda/orders-api"
STREAM = "2025/06/29/[$LATEST]0123456789abcdef"


@pytest.fixture
def handler(aws, hook, monkeypatch):
    """The handler module with its environment pointing at fresh emulator resources and the local webhook."""
    webhooks = {"default": hook.url("/alerts"), "#oncall": hook.url("/oncall"), "#ops": hook.url("/ops")}
    module = load_handler(aws, monkeypatch, webhooks,
                          routes=[{"marker": "CRITICAL", "channel": "#oncall"}, {"marker": "ALERT", "channel": "#ops"}])
    yield module
    module.SECRETS.clear_cache()


def invoke(handler, event):
    return handler.handler(event, FakeContext())


def sample_batch():
    return encode_payload(GROUP, STREAM, [
        log_event(1, "2025-06-29T10:01:00Z [CRITICAL] Database connection failed"),
        log_event(2, "2025-06-29T10:01:01Z INFO order 17 accepted"),
        log_event(3, json.dumps({"level": "ALERT", "message": "queue depth 9000", "service": "orders"})),
        log_event(4, "2025-06-29T10:01:03Z [CRITICAL] payment provider unreachable"),
        log_event(5, '{"level":"INFO","message":"[not a marker"}'),
    ])


def test_alerts_are_stored_posted_per_channel_and_published(aws, hook, handler):
    # GIVEN a batch with 2 CRITICAL (text), 1 ALERT (JSON level) and 2 ordinary events
    # WHEN the function handles it
    summary = invoke(handler, sample_batch())
    # THEN the three alerts are stored with every attribute of the audit schema, notified
    items = scan(aws)
    assert summary["alerts"] == 3 and summary["stored"] == 3
    assert sorted(item["marker"] for item in items.values()) == ["ALERT", "CRITICAL", "CRITICAL"]
    first = items[log_event(1, "")["id"]]
    assert first["timestamp"] == "2025-06-29T10:01:00.001Z" and first["epoch_ms"] == 1_751_191_260_001
    assert first["app_name"] == "orders-api" and first["log_group"] == GROUP and first["log_stream"] == STREAM
    assert first["account"] == "123456789012" and first["notified"] is True
    assert first["expires_at"] >= 1_751_191_260 + 30 * 86400
    # AND one Slack message per routed channel, CRITICAL to #oncall (2 alerts) and ALERT to #ops
    oncall, ops = hook.delivered("/oncall"), hook.delivered("/ops")
    assert len(oncall) == 1 and len(ops) == 1 and hook.delivered("/alerts") == []
    assert oncall[0]["blocks"][0]["text"]["text"] == "2 CRITICAL alerts in 1 application"
    assert "payment provider unreachable" in json.dumps(oncall[0])
    assert "queue depth 9000" in json.dumps(ops[0])
    # AND one SNS message per alert
    published = [json.loads(body) for body in drain(aws, handler.env["PAGER_QUEUE_URL"])]
    assert sorted(m["marker"] for m in published) == ["ALERT", "CRITICAL", "CRITICAL"]
    # AND the table answers "alerts of orders-api in time order" through the GSI
    query = aws.client("dynamodb", direct=True).query(
        TableName="log-alerts-test", IndexName="by_app_time", KeyConditionExpression="app_name = :a",
        ExpressionAttributeValues={":a": {"S": "orders-api"}})
    assert [int(i["epoch_ms"]["N"]) for i in query["Items"]] == sorted(int(i["epoch_ms"]["N"]) for i in query["Items"])
    assert query["Count"] == 3


def test_channels_are_posted_at_the_same_time(aws, hook, handler):
    # GIVEN a webhook that takes 0.5 s to answer, and a batch with alerts for two channels
    hook.delay_s = 0.5
    # WHEN the function handles it
    summary = invoke(handler, sample_batch())
    # THEN both channels' webhooks were answering at the same time, each got its message, and
    # every alert is stored as notified
    assert hook.most_in_flight == 2
    assert len(hook.delivered("/oncall")) == 1 and len(hook.delivered("/ops")) == 1
    assert summary["alerts"] == 3 and all(item["notified"] for item in scan(aws).values())


def test_redaction_applies_to_table_slack_and_sns(aws, hook, handler):
    # GIVEN an alert full of secrets and personal data
    line = ("[CRITICAL] charge failed card=4111 1111 1111 1111 user=ann@example.com password=hunter2 "
            "key AKIAIOSFODNN7EXAMPLE auth Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NSJ9.c2lnbmF0dXJl")
    # WHEN handled
    invoke(handler, encode_payload(GROUP, STREAM, [log_event(1, line)]))
    # THEN none of it reached the table, Slack or SNS
    stored = next(iter(scan(aws).values()))["message"]
    sent = [json.dumps(hook.delivered()), stored, json.dumps(drain(aws, handler.env["PAGER_QUEUE_URL"]))]
    for leaked in ("4111 1111 1111 1111", "ann@example.com", "hunter2", "AKIAIOSFODNN7EXAMPLE", "eyJzdWIiOiIxMjM0NSJ9"):
        assert all(leaked not in text for text in sent), leaked
    assert "[REDACTED:card]" in stored and "[REDACTED:email]" in stored and "[REDACTED:password_kv]" in stored


def test_replay_creates_no_duplicate_items_or_messages(aws, hook, handler):
    # GIVEN a batch that was handled once
    batch = sample_batch()
    invoke(handler, batch)
    before_items, before_posts = scan(aws), len(hook.delivered())
    drain(aws, handler.env["PAGER_QUEUE_URL"])
    # WHEN the same batch arrives again (Lambda retry, replay)
    summary = invoke(handler, batch)
    # THEN nothing new is stored, posted or published
    assert summary["already_notified"] == 3 and summary["stored"] == 0
    assert scan(aws) == before_items
    assert len(hook.delivered()) == before_posts == 2
    assert drain(aws, handler.env["PAGER_QUEUE_URL"]) == []
    assert aws.proxy.calls["BatchWriteItem"] == 2  # only the first invocation wrote (before and after delivery)


def test_slack_outage_keeps_items_unnotified_fails_and_a_redrive_sends_only_what_was_missed(aws, hook, handler):
    from log_alerts.process import DeliveryFailed

    # GIVEN #oncall's webhook is down (503) while #ops works
    batch = sample_batch()
    hook.fail(503, path="/oncall")
    # WHEN the batch is handled, and Lambda's two asynchronous retries run with #oncall still down
    for _ in range(3):
        with pytest.raises(DeliveryFailed, match="slack channel '#oncall'"):
            invoke(handler, batch)
    # THEN every alert is stored; the CRITICALs stay notified = false, the ALERT was sent once
    items = scan(aws)
    assert {i["marker"]: i["notified"] for i in items.values() if i["marker"] == "ALERT"} == {"ALERT": True}
    assert [i["notified"] for i in items.values() if i["marker"] == "CRITICAL"] == [False, False]
    assert all(i["slack_sent"] is False for i in items.values() if i["marker"] == "CRITICAL")
    assert len(hook.delivered("/ops")) == 1 and hook.delivered("/oncall") == []
    assert len(hook.attempts("/oncall")) == 9
    # AND Lambda hands the event to the on-failure queue (simulated: the record Lambda writes)
    sqs = aws.client("sqs", direct=True)
    sqs.send_message(QueueUrl=handler.env["DEAD_LETTER_QUEUE_URL"], MessageBody=json.dumps(destination_record(batch)))
    # WHEN Slack is back and the queue is redriven (each message body sent back to the function)
    hook.recover()
    for body in drain(aws, handler.env["DEAD_LETTER_QUEUE_URL"]):
        summary = invoke(handler, json.loads(body))
    # THEN only the never-notified CRITICALs are sent, in one message; nothing is stored twice
    assert summary["slack_messages"] == {"#oncall": 1} and summary["already_notified"] == 1
    assert len(hook.delivered("/oncall")) == 1 and len(hook.delivered("/ops")) == 1
    assert all(i["notified"] for i in scan(aws).values())
    assert len(scan(aws)) == 3


def test_unset_webhook_secret_fails_clearly_and_keeps_the_alerts(aws, hook, handler):
    from log_alerts.process import DeliveryFailed

    # GIVEN the secret as the construct creates it: an empty "default" entry
    aws.client("secretsmanager", direct=True).put_secret_value(
        SecretId=handler.env["WEBHOOK_SECRET_ID"], SecretString=json.dumps({"default": "", "unused": "x"}))
    handler.SECRETS.clear_cache()
    # WHEN an alert arrives
    with pytest.raises(DeliveryFailed, match="no URL for channel '#oncall'"):
        invoke(handler, encode_payload(GROUP, STREAM, [log_event(1, "[CRITICAL] x")]))
    # THEN it is stored, not notified, and nothing was posted
    assert [i["notified"] for i in scan(aws).values()] == [False]
    assert hook.attempts() == []


def test_rate_limit_is_honoured_and_a_hanging_webhook_is_retried(aws, hook, handler, monkeypatch):
    monkeypatch.setenv("WEBHOOK_TIMEOUT_SECONDS", "1")
    # GIVEN Slack answers 429 (Retry-After: 1) to the first request and hangs on the second
    hook.rate_limit(retry_after=1)
    hook.hang(5.0)
    # WHEN a batch with one CRITICAL is handled
    summary = invoke(handler, encode_payload(GROUP, STREAM, [log_event(1, "[CRITICAL] x")]))
    # THEN the third attempt delivered, exactly one message arrived, and the item is notified
    assert [r.status for r in hook.attempts()] == [429, "hang", 200]
    assert hook.attempts()[1].at - hook.attempts()[0].at >= 1.0  # waited for Retry-After
    assert summary["slack_messages"] == {"#oncall": 1}
    assert [i["notified"] for i in scan(aws).values()] == [True]


def test_webhook_secret_is_cached_between_invocations(aws, hook, handler):
    for i in range(3):
        invoke(handler, encode_payload(GROUP, STREAM, [log_event(i, "[CRITICAL] x")]))
    assert aws.proxy.calls["GetSecretValue"] == 1
    assert len(hook.delivered("/oncall")) == 3


def test_unprocessed_items_and_throttling_are_retried(aws, hook, handler):
    from tests.support.fault_proxy import Response

    # GIVEN DynamoDB throttles the first BatchWriteItem and then returns every item as unprocessed once
    aws.proxy.throttle("BatchWriteItem", times=1, code="ProvisionedThroughputExceededException")

    def all_unprocessed(request, forward):
        body = request.json()
        return Response(200, {"Content-Type": "application/x-amz-json-1.0"},
                        json.dumps({"UnprocessedItems": body["RequestItems"]}).encode())

    aws.proxy.add("BatchWriteItem", all_unprocessed, times=1)
    events = [log_event(i, f"[ALERT] disk {i}") for i in range(30)]
    # WHEN 30 alerts are handled (two chunks of at most 25)
    summary = invoke(handler, encode_payload(GROUP, STREAM, events))
    # THEN all 30 are stored and notified, with the retries on the wire
    assert summary["stored"] == 30
    assert len(scan(aws)) == 30 and all(i["notified"] for i in scan(aws).values())
    # stored before delivery: chunk 1 throttled, unprocessed, ok; chunk 2 ok; flags after delivery: 2 chunks
    assert aws.proxy.calls["BatchWriteItem"] == 6
    assert len(hook.delivered("/ops")) == 1


def _raw(data: bytes) -> dict:
    return {"awslogs": {"data": base64.b64encode(data).decode()}}


@pytest.mark.parametrize("event, stage", [
    ({"awslogs": {"data": "%%% not base64 %%%"}}, "not base64"),
    (_raw(b"plain bytes, not gzip"), "not gzip"),
    (_raw(gzip.compress(b"{not json")), "not JSON"),
    (_raw(gzip.compress(b"\xff\xfe\x00 not utf-8")), "not JSON"),  # decoded leniently, then not JSON
    (_raw(gzip.compress(json.dumps({"messageType": "DATA_MESSAGE", "owner": "1"}).encode())), "missing keys"),
    ({"Records": []}, "missing awslogs.data"),
])
def test_undecodable_payloads_are_logged_and_dead_lettered(aws, hook, handler, caplog, event, stage):
    # WHEN a payload cannot be decoded
    summary = invoke(handler, event)
    # THEN a clear log line names the stage, the payload is kept in the dead-letter queue, nothing else happens
    assert any(r.getMessage() == "subscription payload rejected" and r.levelname == "ERROR"
               and getattr(r, "stage", None) == stage for r in caplog.records)
    kept = [json.loads(body) for body in drain(aws, handler.env["DEAD_LETTER_QUEUE_URL"])]
    assert len(kept) == 1 and stage in kept[0]["reason"] and kept[0]["input"] == event
    assert summary["alerts"] == 0 and hook.attempts() == [] and scan(aws) == {}


def test_invalid_events_do_not_cost_the_valid_ones(aws, hook, handler, caplog):
    # GIVEN a batch with malformed entries next to a huge valid alert
    huge = "[CRITICAL] " + "y" * 200_000
    event = encode_payload(GROUP, STREAM, [
        {"id": "x1", "timestamp": "yesterday", "message": "[CRITICAL] bad timestamp"},
        {"id": "x2", "timestamp": 1},
        "not an object",
        log_event(7, huge),
        log_event(8, "[ALERT] fine"),
    ])
    # WHEN handled
    summary = invoke(handler, event)
    # THEN the valid alerts are stored and posted (the huge one cut with a note), the invalid ones dead-lettered
    items = scan(aws)
    assert summary["invalid"] == 3 and summary["stored"] == 2
    big = items[log_event(7, "")["id"]]
    assert big["truncated"] is True and len(big["message"]) <= 32 * 1024 and "truncated" in big["message"]
    assert len(json.dumps(hook.delivered("/oncall")[0])) < 10_000
    kept = json.loads(drain(aws, handler.env["DEAD_LETTER_QUEUE_URL"])[0])
    assert [e["reason"] for e in kept["input"]["events"]] == [
        "timestamp is str, not a number", "event lacks message", "event is str, not an object"]
    assert any(r.getMessage() == "invalid log events skipped" and getattr(r, "count", None) == 3 for r in caplog.records)


def test_control_messages_are_ignored(aws, hook, handler):
    summary = invoke(handler, encode_payload(GROUP, STREAM, [], message_type=CONTROL_MESSAGE))
    assert summary["events"] == 0 and hook.attempts() == [] and drain(aws, handler.env["DEAD_LETTER_QUEUE_URL"]) == []


def test_the_webhook_url_is_never_logged(aws, hook, handler, caplog):
    from log_alerts.process import DeliveryFailed

    hook.fail(500)
    with pytest.raises(DeliveryFailed):
        invoke(handler, encode_payload(GROUP, STREAM, [log_event(1, "[CRITICAL] x")]))
    output = "\n".join(json.dumps(r.__dict__, default=str) for r in caplog.records if r.name != "werkzeug")
    assert "oncall" in output and hook.url("/oncall") not in output and "127.0.0.1" not in output


def test_sns_outage_is_retried_later_without_a_second_slack_message(aws, hook, handler):
    from log_alerts.process import DeliveryFailed

    # GIVEN SNS rejects every PublishBatch while Slack works
    aws.proxy.server_error("PublishBatch", status=503, code="ServiceUnavailable")
    batch = encode_payload(GROUP, STREAM, [log_event(1, "[CRITICAL] x"), log_event(2, "[ALERT] y")])
    # WHEN the batch is handled
    with pytest.raises(DeliveryFailed, match="sns: 2 alert"):
        invoke(handler, batch)
    # THEN Slack got its messages, the items remember that, and they are not notified yet
    items = scan(aws).values()
    assert all(i["slack_sent"] and not i["sns_sent"] and not i["notified"] for i in items)
    assert len(hook.delivered()) == 2
    # WHEN SNS is back and Lambda retries the batch
    aws.proxy.clear()
    summary = invoke(handler, batch)
    # THEN only SNS is sent now: no second Slack message
    assert summary["sns_published"] == 2 and summary["slack_messages"] == {}
    assert len(hook.delivered()) == 2
    assert len(drain(aws, handler.env["PAGER_QUEUE_URL"])) == 2
    assert all(i["notified"] for i in scan(aws).values())


def test_alert_count_per_marker_is_emitted_as_emf(aws, hook, handler, capsys):
    # WHEN a batch with 2 CRITICAL and 1 ALERT is handled, then replayed
    invoke(handler, sample_batch())
    invoke(handler, sample_batch())
    # THEN one EMF document per marker carries the count of new alerts (the replay adds none)
    documents = [json.loads(line) for line in capsys.readouterr().out.splitlines()
                 if line.startswith("{") and '"_aws"' in line]
    alerts = [d for d in documents if "Alerts" in d]
    assert sorted((d["marker"], d["Alerts"]) for d in alerts) == [("ALERT", [1.0]), ("CRITICAL", [2.0])]
    for document in alerts:
        assert document["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["marker", "service"]]
        assert document["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "LogConstructsTest"


def test_real_shaped_payloads_filter_and_function_agree(aws, hook, handler, events_dir):
    """The project's real-shaped CloudWatch Logs samples (Lambda text and JSON formats, Powertools,
    Node): the default subscription filter passes exactly the events the function turns into alerts."""
    import re

    from log_alerts.markers import classify
    from log_constructs.alerts import marker_filter_pattern

    regex = re.compile(marker_filter_pattern(("CRITICAL", "ALERT")).log_pattern_string.strip("%"))
    alerts = []
    for path in sorted((events_dir / "cloudwatch_logs").glob("*.json")):
        sample = json.loads(path.read_text())
        if "awslogs" in sample:
            continue  # an already-encoded invocation; its decoded twin is among the samples
        # GIVEN each sample as CloudWatch Logs would send it
        event = encode_payload(sample["logGroup"], sample["logStream"], sample["logEvents"],
                               owner=sample["owner"], message_type=sample["messageType"])
        for log_event_ in sample["logEvents"]:
            # THEN the filter and the function's exact check agree on every event
            assert bool(regex.search(log_event_["message"])) == bool(classify(log_event_["message"], ("CRITICAL", "ALERT"))), log_event_
        # WHEN the function handles it
        summary = invoke(handler, event)
        alerts += [path.name] * summary["alerts"]
    # THEN the one CRITICAL among them (Powertools JSON) became an alert, posted to #oncall
    assert alerts == ["powertools_json.json"]
    stored = list(scan(aws).values())
    assert [(i["marker"], i["app_name"]) for i in stored] == [("CRITICAL", "payments")]
    assert "payment provider unreachable for order o-1011" in json.dumps(hook.delivered("/oncall"))


@pytest.mark.parametrize("separator", [" ", "\t", "\n"], ids=["space", "tab", "newline"])
def test_a_webhook_url_with_whitespace_fails_the_channel_without_logging_the_token(aws, hook, monkeypatch, caplog,
                                                                                capsys, separator):
    from log_alerts.process import DeliveryFailed

    # GIVEN a webhook secret whose URL holds whitespace before its token
    token = "T0KEN-9f8e7d6c5b4a"
    module = load_handler(aws, monkeypatch, {"default": hook.url("/alerts") + separator + token})
    try:
        # WHEN an alert is handled
        with pytest.raises(DeliveryFailed) as failed:
            invoke(module, encode_payload(GROUP, STREAM, [log_event(1, "[CRITICAL] x")]))
    finally:
        module.SECRETS.clear_cache()
    # THEN nothing was posted, the failure names the problem, and no log line or error carries the URL
    assert hook.attempts() == []
    assert "printable ASCII" in str(failed.value)
    captured = capsys.readouterr()
    output = "\n".join([captured.out, captured.err, str(failed.value),
                        *(json.dumps(r.__dict__, default=str) for r in caplog.records if r.name != "werkzeug")])
    assert "slack delivery failed" in output
    assert token not in output and "127.0.0.1" not in output
