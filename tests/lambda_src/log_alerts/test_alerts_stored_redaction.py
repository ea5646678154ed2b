"""No raw copy of a secret anywhere: the item read back from the table (emulator via the fault proxy),
the Slack payloads and the SNS messages are redacted alike."""
from __future__ import annotations

import json

import pytest

from tests.support.alerts import FakeContext, drain, load_handler, log_event, scan
from tests.support.subscription import encode_payload

GROUP = "/aws/lambda/orders-api"
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NSJ9.c2lnbmF0dXJlMTIz"
SECRETS = {
    "hunter2-db", "cs_9f8e7d6c5b", "ann@example.com", "bob@example.org", "4111 1111 1111 1111",
    "AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "eyJzdWIiOiIxMjM0NSJ9",
    "Sup3rS3cret", "xoxb-123456789012-abcdefghijkl", "MIIEvQIBADANBgkqhkiG9w0", "dXNlcjpwYXNzd29yZA==",
}


@pytest.fixture
def handler(aws, hook, monkeypatch):
    module = load_handler(aws, monkeypatch, {"default": hook.url("/alerts")})
    yield module
    module.SECRETS.clear_cache()


def test_every_stored_attribute_slack_and_sns_are_free_of_planted_secrets(aws, hook, handler):
    # GIVEN alerts carrying secrets as text, as JSON (keys, values, JSON nested in a string, escaped),
    # as a dict repr, and an e-mail address in the log stream name
    nested = json.dumps({"db_password": "hunter2-db", "to": "bob@example.org",
                         "key": "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0\n-----END PRIVATE KEY-----"})
    lines = [
        "[CRITICAL] charge failed card=4111 1111 1111 1111 for ann@example.com key AKIAIOSFODNN7EXAMPLE "
        "aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        json.dumps({"level": "CRITICAL", "message": f"auth failed token={JWT}", "clientSecret": "cs_9f8e7d6c5b",
                    "request": nested, "headers": {"Authorization": "Basic dXNlcjpwYXNzd29yZA=="}}),
        "[ALERT] connect postgres://app:Sup3rS3cret@db:5432 ctx {'slack': 'xoxb-123456789012-abcdefghijkl'}",
    ]
    event = encode_payload(GROUP, "2025/06/29/ann@example.com", [log_event(i, line) for i, line in enumerate(lines)])
    # WHEN the function handles them
    handler.handler(event, FakeContext())
    # THEN no secret substring survives in any attribute of any stored item, in Slack or in SNS
    items = scan(aws)
    assert len(items) == 3
    outputs = {"table": json.dumps(items, default=str, ensure_ascii=False),
               "slack": json.dumps(hook.delivered(), ensure_ascii=False),
               "sns": json.dumps(drain(aws, handler.env["PAGER_QUEUE_URL"]), ensure_ascii=False)}
    for where, text in outputs.items():
        for secret in SECRETS:
            assert secret not in text and json.dumps(secret)[1:-1] not in text, (where, secret)
    # AND the stored JSON line is still JSON, masked where the secrets were
    stored = json.loads(items[log_event(1, "")["id"]]["message"])
    assert stored["clientSecret"] == "[REDACTED:password_json]"
    assert json.loads(stored["request"])["db_password"] == "[REDACTED:password_json]"
    assert all(item["log_stream"] == "2025/06/29/[REDACTED:email]" for item in items.values())


def test_lines_that_decode_lossily_or_hide_data_in_numbers_and_escapes_are_masked(aws, hook, handler):
    # GIVEN a JSON line that repeats its message key (decoding keeps the empty last one), a card number
    # written as a JSON number, and a URL-encoded e-mail address
    lines = [
        '{"level":"CRITICAL","message":"db password=hunter2-dup ...","message":""}',
        '{"level":"CRITICAL","message":"charge declined","pan":4111111111111111}',
        "[CRITICAL] unsubscribe failed GET /u?to=alice%40example.com",
    ]
    event = encode_payload(GROUP, "2025/06/29/x", [log_event(i, line) for i, line in enumerate(lines)])
    # WHEN the function handles them
    handler.handler(event, FakeContext())
    # THEN none of them reaches the table or Slack
    items = scan(aws)
    assert len(items) == 3
    outputs = {"table": json.dumps(items, default=str), "slack": json.dumps(hook.delivered())}
    for where, text in outputs.items():
        for secret in ("hunter2-dup", "4111111111111111", "alice%40example.com"):
            assert secret not in text, (where, secret)
    # AND the masks say which rule took each
    stored = {item["message"] for item in items.values()}
    assert any("[REDACTED:password_kv]" in m for m in stored)
    assert any(json.loads(m).get("pan") == "[REDACTED:card]" for m in stored if m.startswith("{"))
    assert any("[REDACTED:email]" in m for m in stored)
