"""Slack Block Kit rendering within Slack's limits, and webhook delivery against a real local server."""
from __future__ import annotations

import json
import time

import pytest

from log_alerts.items import Alert
from log_alerts.slack import (MAX_BLOCKS, MAX_HEADER_CHARS, MAX_SECTION_CHARS, WebhookError, console_url, post,
                              render)
from tests.support.webhook import WebhookServer


def alert(i: int = 0, *, marker: str = "CRITICAL", text: str = "Database connection failed", app: str = "orders",
          group: str = "/aws/lambda/orders") -> Alert:
    return Alert(log_id=f"id{i}", epoch_ms=1751191260000 + i, marker=marker, message=text, text=text, app_name=app,
                 log_group=group, log_stream="2025/06/29/[$LATEST]abc", account="123456789012", channel="#oncall")


def texts(payload: dict) -> list[str]:
    return [b["text"]["text"] for b in payload["blocks"] if b["type"] in ("section", "header")]


def test_message_summarises_markers_apps_and_shows_the_first_messages():
    # GIVEN 3 CRITICAL and 1 ALERT from two applications
    alerts = [alert(i) for i in range(3)] + [alert(9, marker="ALERT", app="billing", group="/aws/lambda/billing")]
    # WHEN rendered with 2 messages shown
    payload = render("#oncall", alerts, region="eu-west-1", max_messages=2)
    # THEN the header counts per marker, the context lists the apps, two sections and a "more" note follow
    assert payload["blocks"][0]["text"]["text"] == "3 CRITICAL, 1 ALERT alerts in 2 applications"
    assert [e["text"] for e in payload["blocks"][1]["elements"]] == ["*orders*: 3", "*billing*: 1"]
    sections = [b for b in payload["blocks"] if b["type"] == "section"]
    assert len(sections) == 2
    assert "Database connection failed" in sections[0]["text"]["text"]
    assert "`/aws/lambda/orders`" in sections[0]["text"]["text"]
    assert "…and 2 more alerts" in payload["blocks"][-1]["elements"][0]["text"]
    assert payload["text"].startswith("3 CRITICAL, 1 ALERT alerts")


def test_console_link_points_at_the_log_stream():
    url = console_url("eu-west-1", "/aws/lambda/orders", "2025/06/29/[$LATEST]abc")
    assert url == ("https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1#logsV2:log-groups/"
                   "log-group/$252Faws$252Flambda$252Forders/log-events/2025$252F06$252F29$252F$255B$2524LATEST$255Dabc")
    assert console_url("cn-north-1", "g", "s").startswith("https://cn-north-1.console.amazonaws.cn/")
    assert f"<{url}|log stream>" in render("#c", [alert()], region="eu-west-1")["blocks"][2]["text"]["text"]


def test_long_text_is_cut_within_slack_limits_with_a_note():
    # GIVEN a 100 kB message, a very long application name and many alerts
    huge = "x" * 100_000
    alerts = [alert(i, text=huge, app="a" * 400 + str(i)) for i in range(200)]
    # WHEN rendered asking for more messages than a Slack message may hold
    payload = render("#oncall", alerts, region="us-east-1", max_messages=500)
    # THEN every limit holds and the cut is announced
    assert len(payload["blocks"]) <= MAX_BLOCKS
    assert len(payload["blocks"][0]["text"]["text"]) <= MAX_HEADER_CHARS
    for text in texts(payload):
        assert len(text) <= MAX_SECTION_CHARS
    assert all(len(e["text"]) <= 2000 for b in payload["blocks"] if b["type"] == "context" for e in b["elements"])
    assert len(payload["blocks"][1]["elements"]) <= 10
    assert "more characters, full text in the audit table" in texts(payload)[1]
    assert len(payload["text"]) <= 3000


def test_mrkdwn_control_characters_are_escaped():
    payload = render("#c", [alert(text="a <script> & <!channel> b")], region="us-east-1")
    assert "a &lt;script&gt; &amp; &lt;!channel&gt; b" in payload["blocks"][2]["text"]["text"]


def test_post_delivers_json(hook):
    # GIVEN a webhook that answers 200
    delivery = post(hook.url("/oncall"), {"text": "hi"}, sleep=lambda s: None)
    # THEN one request with the JSON body arrived
    assert delivery.attempts == 1
    assert hook.delivered("/oncall") == [{"text": "hi"}]
    assert hook.attempts()[0].headers["content-type"].startswith("application/json")


def test_post_honours_retry_after_on_429(hook):
    # GIVEN a webhook rate limiting the first request for 7 seconds
    hook.rate_limit(retry_after=7)
    waits: list[float] = []
    # WHEN posting
    delivery = post(hook.url(), {"text": "hi"}, sleep=waits.append)
    # THEN it waited exactly what Retry-After said, then delivered
    assert waits == [7.0]
    assert delivery.statuses == [429, 200]
    assert len(hook.delivered()) == 1


def test_post_retries_5xx_with_growing_backoff_then_gives_up(hook):
    # GIVEN a webhook that keeps answering 500
    hook.fail(500)
    waits: list[float] = []
    # WHEN posting with 4 attempts
    with pytest.raises(WebhookError, match="after 4 attempt") as caught:
        post(hook.url(), {"text": "hi"}, max_attempts=4, base_delay_s=1.0, sleep=waits.append)
    # THEN it tried 4 times, waiting longer each time (jittered exponential backoff)
    assert len(hook.attempts()) == 4
    assert len(waits) == 3 and 0.5 <= waits[0] <= 1.0 and 1.0 <= waits[1] <= 2.0 and 2.0 <= waits[2] <= 4.0
    assert caught.value.retryable


def test_post_does_not_retry_a_rejected_payload(hook):
    hook.respond(400, body=b"invalid_blocks")
    with pytest.raises(WebhookError, match="HTTP 400") as caught:
        post(hook.url(), {"text": "hi"}, sleep=lambda s: None)
    assert len(hook.attempts()) == 1
    assert not caught.value.retryable


def test_post_times_out_on_a_hanging_webhook_and_retries(hook):
    # GIVEN a webhook that hangs on the first request
    hook.hang(5.0)
    started = time.monotonic()
    # WHEN posting with a 0.3 s timeout
    delivery = post(hook.url(), {"text": "hi"}, timeout_s=0.3, sleep=lambda s: None)
    # THEN the first attempt timed out quickly and the second delivered
    assert delivery.statuses == ["timeout", 200]
    assert time.monotonic() - started < 3


def test_post_stops_before_the_deadline(hook):
    # GIVEN an outage and only 1 s left before the deadline
    hook.fail(503)
    now = [100.0]
    # WHEN the next backoff plus timeout would pass the deadline
    with pytest.raises(WebhookError, match="no time left"):
        post(hook.url(), {"text": "hi"}, timeout_s=5, deadline=101.0, clock=lambda: now[0], sleep=lambda s: None)
    # THEN it gave up after one attempt instead of overrunning the invocation
    assert len(hook.attempts()) == 1


def test_unreachable_webhook_is_retryable():
    with WebhookServer() as server:
        url = server.url()
    with pytest.raises(WebhookError, match="connection failed"):
        post(url, {"text": "x"}, max_attempts=2, sleep=lambda s: None)


HOSTILE = "ping <!channel> <!here> <@U123ABC> <#C42|general> <https://evil.example/login|Reset password> a&b <x>"


def test_the_fallback_text_is_escaped_like_the_blocks():
    # GIVEN a log line with Slack control sequences (mentions, a channel link, a disguised link)
    payload = render("#c", [alert(text=HOSTILE)], region="us-east-1")
    # THEN neither the blocks nor the notification fallback carry a raw "<", ">" or "&" from it
    for text in [payload["text"]] + texts(payload):
        assert "<!channel>" not in text and "<!here>" not in text and "<@U123ABC>" not in text
        assert "<https://evil.example" not in text and "<#C42" not in text
    assert "&lt;!channel&gt; &lt;!here&gt; &lt;@U123ABC&gt;" in payload["text"]
    assert "a&amp;b &lt;x&gt;" in payload["text"]


@pytest.mark.parametrize("limit", [3000, 2999, 2998, 2997, 2996])
def test_a_cut_never_splits_an_entity(limit):
    from log_alerts.slack import fit

    # GIVEN text of "&" and "<" only, far longer than the limit
    cut = fit("&<" * 3000, limit)
    # THEN it is within the limit and every "&" starts a whole entity
    assert len(cut) <= limit
    body = cut.split("…[cut:")[0]
    assert body.replace("&amp;", "").replace("&lt;", "") == ""


def test_every_section_fits_with_512_character_group_and_stream_names():
    # GIVEN the longest log group and stream names CloudWatch Logs allows, and a long text
    long = alert(text="x" * 10_000, group="/" + "g" * 511)
    long = Alert(**{**long.__dict__, "log_stream": "[$LATEST]" + "s" * 503})
    payload = render("#c", [long], region="us-east-1")
    # THEN every section stays within Slack's 3,000 characters, header line included
    sections = [b["text"]["text"] for b in payload["blocks"] if b["type"] == "section"]
    assert sections and all(len(text) <= MAX_SECTION_CHARS for text in sections)
    assert sections[0].startswith(":rotating_light: *CRITICAL*") and "more characters" in sections[0]
    assert len(payload["text"]) <= 3000


def test_lone_surrogates_are_replaced_before_rendering_and_posting(hook):
    # GIVEN text with lone surrogates (a JSON "\ud800" decoded)
    payload = render("#c", [alert(text="bad \ud800 and \udfff")], region="us-east-1")
    # WHEN rendered and posted / THEN the webhook receives U+FFFD in their place
    post(hook.url("/c"), payload, sleep=lambda s: None)
    assert "bad \ufffd and \ufffd" in json.dumps(hook.delivered("/c"), ensure_ascii=False)


def test_a_redirect_is_refused_not_followed(hook):
    # GIVEN a webhook that redirects to another URL
    hook.respond(302, headers={"Location": hook.url("/elsewhere")})
    # WHEN posting / THEN it fails at once and nothing reaches the redirect target
    with pytest.raises(WebhookError, match="redirect refused") as caught:
        post(hook.url("/c"), {"text": "hi"}, sleep=lambda s: None)
    assert not caught.value.retryable
    assert [r.path for r in hook.attempts()] == ["/c"]


@pytest.mark.parametrize("url", ["/T0KEN-relative", "http://127.0.0.1:1/a T0KEN", "http://127.0.0.1:1/a\x00T0KEN"])
def test_post_refuses_an_invalid_url_without_quoting_it(url):
    # GIVEN a URL urllib or http.client refuse (their errors quote the URL, which is the secret)
    # WHEN it is posted to THEN the error says the URL is invalid, and nothing of it
    with pytest.raises(WebhookError, match="^webhook URL is not valid$") as caught:
        post(url, {"text": "x"}, max_attempts=1)
    assert not caught.value.retryable and caught.value.__cause__ is None and caught.value.__suppress_context__
