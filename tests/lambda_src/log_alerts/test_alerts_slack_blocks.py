"""Every payload the alerts function sends to Slack, validated with Slack's own models (slack_sdk) and
Slack's documented limits, for arbitrary log lines: full messages, the minimal message sent after an
HTTP 400, and the notice for an alert that cannot be rendered.

Limits (Slack's reference pages):
- section text ≤ 3,000 characters: https://api.slack.com/reference/block-kit/blocks#section
- header plain_text ≤ 150 characters: https://docs.slack.dev/reference/block-kit/blocks/header-block
- ≤ 50 blocks per message: https://docs.slack.dev/reference/block-kit/blocks
- top-level ``text`` is the notification fallback when blocks are sent:
  https://api.slack.com/methods/chat.postMessage
- context elements ≤ 10 and URLs ≤ 3,000 characters: limit as enforced by slack_sdk's models.
"""
from __future__ import annotations

import re
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from slack_sdk.models.blocks import Block

from log_alerts.items import Alert
from log_alerts.slack import minimal, render_messages, unrenderable

MAX_SECTION = 3000
MAX_HEADER = 150
MAX_BLOCKS = 50
MAX_CONTEXT_ELEMENTS = 10
MAX_URL = 3000
MAX_TEXT = 3000  # the function's own bound on the fallback text (Slack truncates far later)
CONTROL = ["<!channel>", "<!here>", "<@U123>", "<https://x|y>", "&", "<", ">", "```", "`", "*", "\ud800", "\udfff"]
LINK = re.compile(r"<(https://[^|>]*)\|")


def strings(value: Any) -> list[str]:
    """Every ``text`` string in a block, in order (what Slack shows)."""
    if isinstance(value, dict):
        return [t for k, v in value.items() for t in ([v] if k == "text" and isinstance(v, str) else strings(v))]
    if isinstance(value, list):
        return [t for v in value for t in strings(v)]
    return []


def assert_valid(payload: dict[str, Any], *, raw: list[str]) -> None:
    """``payload`` passes slack_sdk's models and Slack's limits; none of ``raw`` (log-line control
    sequences) reaches Slack unescaped."""
    assert isinstance(payload.get("text"), str) and payload["text"].strip()
    assert len(payload["text"]) <= MAX_TEXT
    blocks = payload.get("blocks", [])
    assert len(blocks) <= MAX_BLOCKS
    for block in blocks:
        model = Block.parse(block)
        assert model is not None, f"slack_sdk does not know the block {block!r}"
        model.validate_json()
        assert strings(model.to_dict()) == strings(block)
        if block["type"] == "section":
            assert len(block["text"]["text"]) <= MAX_SECTION
            assert all(len(url) <= MAX_URL for url in LINK.findall(block["text"]["text"]))
        elif block["type"] == "header":
            assert block["text"]["type"] == "plain_text" and len(block["text"]["text"]) <= MAX_HEADER
        elif block["type"] == "context":
            assert 1 <= len(block["elements"]) <= MAX_CONTEXT_ELEMENTS
    shown = [payload["text"]] + [t for b in blocks for t in strings(b)]
    for text in shown:
        assert not re.search("[\ud800-\udfff]", text)
        for sequence in raw:
            assert sequence not in text


def make(i: int, text: str, *, group: str, stream: str, marker: str = "CRITICAL", app: str = "orders") -> Alert:
    return Alert(log_id=f"id{i}", epoch_ms=1_751_191_260_000 + i, marker=marker, message=text, text=text,
                 app_name=app, log_group=group, log_stream=stream, account="123456789012", channel="#oncall")


any_text = st.text(alphabet=st.characters(codec=None, exclude_categories=()), max_size=200)
pieces = st.one_of(any_text, st.sampled_from(CONTROL), st.integers(0, 12_000).map(lambda n: "&" * n),
                   st.integers(0, 40_000).map(lambda n: "x" * n))
log_line = st.lists(pieces, max_size=8).map("".join)
name = st.one_of(st.just("/aws/lambda/orders"), st.text(min_size=1, max_size=512),
                 st.integers(1, 512).map(lambda n: ("/<!here>&" * 512)[:n]))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(lines=st.lists(log_line, min_size=1, max_size=4), group=name, stream=name, app=name,
       copies=st.integers(1, 70), max_messages=st.integers(0, 100),
       marker=st.sampled_from(["CRITICAL", "ALERT"]))
def test_every_message_of_arbitrary_log_lines_passes_slacks_models(lines, group, stream, app, copies,
                                                                   max_messages, marker):
    # GIVEN alerts of arbitrary log lines (lone surrogates, mentions, links, "&", very long text)
    # from up to 512-character log group and stream names, more alerts than a message may show
    alerts = [make(i, lines[i % len(lines)], group=group, stream=stream, marker=marker, app=f"{app}{i % 12}")
              for i in range(copies)]
    # WHEN rendered as the handler renders them, and as the minimal message after an HTTP 400
    messages = render_messages("#oncall", alerts, region="eu-west-1", max_messages=max_messages)
    # THEN every alert is in one message, and every payload passes slack_sdk and Slack's limits
    assert sorted(a.log_id for part, _ in messages for a in part) == sorted(a.log_id for a in alerts)
    assert "blocks" in messages[0][1]  # real alerts get the full message, not the notice
    for part, payload in messages:
        assert_valid(payload, raw=["<!channel>", "<!here>", "<@U123>", "<https://x|y>"])
        assert_valid(minimal(part), raw=["<", ">"])


@settings(max_examples=40, deadline=None)
@given(marker=any_text, app=any_text, log_id=any_text)
def test_the_unrenderable_notice_passes_slacks_models_whatever_the_fields(marker, app, log_id):
    # GIVEN an alert whose fields are arbitrary text (surrogates, control sequences)
    odd = make(0, "x", group="g", stream="s", marker=marker + "<!channel>", app=app + "&<@U123>")
    odd = Alert(**{**odd.__dict__, "log_id": log_id})
    # WHEN its notice is built / THEN it is a valid text-only payload with nothing unescaped
    notice = unrenderable(odd)
    assert set(notice) == {"text"}
    assert_valid(notice, raw=["<", ">"])


class Exploding:
    """An alert-like input whose every attribute read raises (not an ``AttributeError``)."""

    def __getattr__(self, name: str) -> Any:
        raise RuntimeError(f"{name} cannot be read")


def test_an_alert_whose_fields_raise_gets_the_notice_and_the_others_their_full_message():
    # GIVEN two ordinary alerts and one input whose attribute reads raise
    good = [make(i, f"database down {i}", group="/aws/lambda/orders", stream="s") for i in range(2)]
    bad = Exploding()
    # WHEN rendered together
    messages = render_messages("#oncall", [good[0], bad, good[1]], region="us-east-1")
    # THEN the good alerts share a full message and the bad one gets a valid notice of its own
    assert [len(part) for part, _ in messages] == [2, 1] and messages[1][0][0] is bad
    assert_valid(messages[0][1], raw=[])
    assert "database down 0" in messages[0][1]["blocks"][2]["text"]["text"]
    notice = messages[1][1]
    assert_valid(notice, raw=[])
    assert notice["text"].startswith("? alert from ? could not be shown here")
