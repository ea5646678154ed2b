"""One crafted log line never costs the rest of its batch: the handler against the AWS emulator (moto
server) and a real local webhook, with lone surrogates, invalid UTF-8 and payloads Slack refuses."""
from __future__ import annotations

import base64
import gzip
import itertools
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.alerts import FakeContext, drain, load_handler, log_event, scan
from tests.support.subscription import encode_payload

GROUP = "/aws/lambda/orders-api"
STREAM = "2025/06/29/[$LATEST]0123456789abcdef"
GOOD = ("[CRITICAL] database connection failed", "[CRITICAL] payment provider unreachable",
        "[CRITICAL] disk full on worker 3")
_COUNTER = itertools.count(1000)


@pytest.fixture
def handler(aws, hook, monkeypatch):
    module = load_handler(aws, monkeypatch, {"default": hook.url("/alerts")})
    yield module
    module.SECRETS.clear_cache()


def invoke(handler, event):
    return handler.handler(event, FakeContext())


def _batch_with(crafted: str, base: int) -> tuple[dict, list[str], str]:
    events = [log_event(base + i, text) for i, text in enumerate(GOOD)]
    bad = log_event(base + len(GOOD), crafted)
    return encode_payload(GROUP, STREAM, events + [bad]), [e["id"] for e in events], bad["id"]


any_unicode = st.text(alphabet=st.characters(codec=None, exclude_categories=()), max_size=300)


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(body=any_unicode, as_json=st.booleans())
def test_any_unicode_in_one_line_never_stops_the_other_alerts(aws, hook, handler, body, as_json):
    # GIVEN a batch of three ordinary alerts and one crafted line of arbitrary Unicode, lone surrogates
    # included (as a JSON log line they arrive escaped, "\ud800", and json.loads makes them lone)
    crafted = json.dumps({"level": "CRITICAL", "message": body}) if as_json else f"[CRITICAL] {body}"
    hook.reset()
    drain(aws, handler.env["PAGER_QUEUE_URL"])
    event, good_ids, bad_id = _batch_with(crafted, next(_COUNTER) * 10)
    # WHEN the function handles it
    summary = invoke(handler, event)
    # THEN it does not fail; every alert, the crafted one too, is stored, notified and sent
    items = scan(aws)
    for log_id in good_ids + [bad_id]:
        assert items[log_id]["notified"] is True
    assert summary["alerts"] == 4 and summary["stored"] == 4
    (message,) = hook.delivered("/alerts")
    sent = json.dumps(message, ensure_ascii=False)
    assert all(text.split("] ", 1)[1] in sent for text in GOOD)
    assert len(drain(aws, handler.env["PAGER_QUEUE_URL"])) == 4


def test_a_lone_surrogate_in_a_json_message_becomes_a_replacement_character(aws, hook, handler):
    # GIVEN the line of the report: a JSON message with an escaped lone surrogate
    event, good_ids, bad_id = _batch_with('{"level":"CRITICAL","message":"bad \\ud800 text"}', 10)
    # WHEN handled / THEN nothing crashes: the item and the Slack text carry U+FFFD instead
    summary = invoke(handler, event)
    assert summary["stored"] == 4
    assert scan(aws)[bad_id]["message"] == '{"level":"CRITICAL","message":"bad \\ud800 text"}'  # the line as written
    assert "bad \ufffd text" in json.dumps(hook.delivered("/alerts"), ensure_ascii=False)


def test_one_invalid_utf8_byte_costs_nothing_but_that_character(aws, hook, handler):
    # GIVEN a subscription payload whose one message holds a byte that is not UTF-8
    document = {"messageType": "DATA_MESSAGE", "owner": "123456789012", "logGroup": GROUP, "logStream": STREAM,
                "subscriptionFilters": ["f"], "logEvents": [log_event(1, "[CRITICAL] caf@"), log_event(2, "[CRITICAL] ok")]}
    raw = json.dumps(document).encode().replace(b"caf@", b"caf\xe9")
    event = {"awslogs": {"data": base64.b64encode(gzip.compress(raw)).decode()}}
    # WHEN handled / THEN both alerts are stored and sent, the bad byte as U+FFFD (nothing dead-lettered)
    summary = invoke(handler, event)
    assert summary["stored"] == 2 and summary["dead_lettered"] == 0
    assert scan(aws)[log_event(1, "")["id"]]["message"] == "[CRITICAL] caf\ufffd"
    assert "caf\ufffd" in json.dumps(hook.delivered("/alerts"), ensure_ascii=False)


def test_a_message_slack_refuses_is_replaced_by_the_minimal_one(aws, hook, handler):
    # GIVEN Slack answers 400 (invalid_blocks) to the full message
    hook.respond(400, body=b"invalid_blocks", path="/alerts")
    event, good_ids, bad_id = _batch_with("[CRITICAL] <!channel> & more", 20)
    # WHEN handled
    summary = invoke(handler, event)
    # THEN the minimal message (text only, escaped) reached the channel and the alerts count as sent
    attempts = hook.attempts("/alerts")
    assert len(attempts) == 2
    (minimal,) = hook.delivered("/alerts")
    assert set(minimal) == {"text"} and "4 CRITICAL alerts in orders-api (4)" in minimal["text"]
    assert "<" not in minimal["text"] and len(minimal["text"]) <= 3000
    assert summary["stored"] == 4 and all(item["notified"] for item in scan(aws).values())


def test_the_items_are_stored_before_any_delivery(aws, hook, handler):
    from log_alerts.process import DeliveryFailed

    # GIVEN a webhook that keeps failing, so every delivery attempt fails
    hook.fail(503)
    event, good_ids, bad_id = _batch_with("[CRITICAL] x", 30)
    # WHEN handled / THEN the invocation fails, but the alerts are all in the table, not notified
    with pytest.raises(DeliveryFailed):
        invoke(handler, event)
    items = scan(aws)
    assert sorted(items) == sorted(good_ids + [bad_id]) and not any(i["notified"] for i in items.values())


class UnrenderableText(str):
    """Alert text the renderer cannot handle: every ``replace`` raises (a double of the input only)."""

    def replace(self, *args, **kwargs):
        raise RuntimeError("this text cannot be rendered")


def test_an_alert_that_cannot_be_rendered_gets_the_notice_and_the_others_their_full_message(
        aws, hook, handler, monkeypatch):
    from dataclasses import replace

    from log_alerts import process

    # GIVEN a batch of three ordinary alerts and one whose text the renderer cannot handle (no log
    # line can do that, so the extracted alert's text is swapped for a double; the rest runs as is)
    event, good_ids, bad_id = _batch_with("[CRITICAL] the line that cannot be rendered", 40)
    real_extract = process.extract

    def extract(*args, **kwargs):
        return [replace(a, text=UnrenderableText(a.text)) if a.log_id == bad_id else a
                for a in real_extract(*args, **kwargs)]

    monkeypatch.setattr(process, "extract", extract)
    # WHEN the function handles it, posting to the real local webhook server
    summary = invoke(handler, event)
    # THEN the good alerts arrive as one full Block Kit message, the bad one as its own notice
    full, notice = hook.delivered("/alerts")
    sent = json.dumps(full, ensure_ascii=False)
    assert full["blocks"][0]["text"]["text"] == "3 CRITICAL alerts in 1 application"
    assert all(text.split("] ", 1)[1] in sent for text in GOOD) and "cannot be rendered" not in sent
    assert notice == {"text": f"CRITICAL alert from orders-api could not be shown here (rendering it failed); "
                              f"its full text is in the audit table, log id {bad_id}."}
    # AND every alert is stored and counts as notified; nothing failed or was dead-lettered
    items = scan(aws)
    assert sorted(items) == sorted(good_ids + [bad_id]) and all(i["notified"] for i in items.values())
    assert items[bad_id]["message"] == "[CRITICAL] the line that cannot be rendered"
    assert summary["stored"] == 4 and summary["dead_lettered"] == 0
