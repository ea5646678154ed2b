"""Redaction of secrets and personal data in alert text (log_alerts.redaction)."""
from __future__ import annotations

import json

import pytest

from redaction import BUILTIN_NAMES, Redactor, luhn_ok

REDACTOR = Redactor.build()


def redact(text: str) -> str:
    return REDACTOR.redact(text)[0]


@pytest.mark.parametrize("number", ["4111111111111111", "4111 1111 1111 1111", "5500-0000-0000-0004",
                                    "378282246310005", "6011111111111117"])
def test_luhn_valid_card_numbers_are_masked(number):
    # GIVEN a log line with a card number that passes the Luhn check
    line = f"payment declined for card {number} at checkout"
    # WHEN it is redacted
    result = redact(line)
    # THEN the number is gone and the rest of the line is intact
    assert number not in result
    assert result == "payment declined for card [REDACTED:card] at checkout"


@pytest.mark.parametrize("number", ["4111111111111112", "1234 5678 9012 3456", "2025-06-29-1001-0000"])
def test_digit_runs_failing_luhn_are_kept(number):
    # GIVEN a long number that is not a valid card number (order ids, dates, ...)
    line = f"order {number} shipped"
    # WHEN / THEN it is not masked
    assert redact(line) == line


def test_luhn_checksum():
    assert luhn_ok("79927398713")
    assert not luhn_ok("79927398710")


def test_jwt_and_bearer_tokens_are_masked():
    jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"
    # GIVEN a bare JWT and an Authorization header with an opaque bearer token
    result = redact(f"token {jwt} rejected; Authorization: Bearer abcdef0123456789xyz")
    # THEN neither survives
    assert jwt not in result and "abcdef0123456789xyz" not in result
    assert "[REDACTED:jwt]" in result
    assert "Bearer [REDACTED:bearer]" in result


def test_aws_access_key_id_and_secret_key_are_masked():
    # GIVEN credentials leaked in key=value and JSON form
    line = ('boto failed AKIAIOSFODNN7EXAMPLE aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY '
            '{"SecretAccessKey": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}')
    # WHEN redacted
    result, counts = REDACTOR.redact(line)
    # THEN the key id and both copies of the secret key are masked
    assert "AKIAIOSFODNN7EXAMPLE" not in result
    assert "wJalrXUtnFEMI" not in result
    assert counts["aws_key_id"] == 1 and counts["aws_secret"] == 2


@pytest.mark.parametrize("line, leaked", [
    ("login failed user=bob password=hunter2 ip=10.0.0.1", "hunter2"),
    ("db url pwd: s3cr3t!; retrying", "s3cr3t!"),
    ("api_key=AbC123xyz&user=1", "AbC123xyz"),
    ('{"user": "bob", "password": "hunter2 with spaces", "ok": false}', "hunter2 with spaces"),
    ('{"client_secret":"x\\"y-z","n":1}', 'x\\"y-z'),
])
def test_passwords_in_key_value_and_json_are_masked(line, leaked):
    # GIVEN a secret-looking key with a value
    result = redact(line)
    # THEN the value is masked, the key name is kept (useful when investigating)
    assert leaked not in result
    assert "[REDACTED:password_" in result


def test_json_stays_valid_json_after_redaction():
    # GIVEN a structured log line with a password and an e-mail address
    line = json.dumps({"level": "CRITICAL", "message": "signup failed for ann@example.com",
                       "password": "p@ss w0rd", "card": "4111111111111111"})
    # WHEN redacted
    result = redact(line)
    # THEN it is still JSON, with the sensitive values masked
    document = json.loads(result)
    assert document["password"] == "[REDACTED:password_json]"
    assert document["message"] == "signup failed for [REDACTED:email]"
    assert document["card"] == "[REDACTED:card]"


def test_email_addresses_are_masked():
    assert redact("mail to first.last+tag@sub.example.co.uk bounced") == "mail to [REDACTED:email] bounced"


def test_rules_can_be_disabled_and_extended():
    # GIVEN a redactor without e-mail masking and with a custom rule for internal ids
    redactor = Redactor.build(disabled=["email"], extra={"customer_id": r"CUST-\d{6}"})
    # WHEN a line with both is redacted
    result, counts = redactor.redact("customer CUST-123456 <ann@example.com>")
    # THEN only the custom rule applied
    assert result == "customer [REDACTED:customer_id] <ann@example.com>"
    assert counts == {"customer_id": 1}


def test_unknown_rule_names_are_refused():
    with pytest.raises(ValueError, match="unknown redaction rule"):
        Redactor.build(disabled=["emails"])
    assert "card" in BUILTIN_NAMES


@pytest.mark.parametrize("line, secret", [
    ('{"credentials":{"user":"svc","value":"hunter2"},"a":1,"a":2}', "hunter2"),
    ('{"apiKeys":["sk-abc123def456"],"n":1,"n":2}', "sk-abc123def456"),
    ('{"pass\\u0077ord":"hunter2","n":1,"n":2}', "hunter2"),
    ('{"password":"hunter2","password":"swordfish"}', "swordfish"),
    ('{"msg":"ok","msg":{"token":"t0k3n-value"}}', "t0k3n-value"),
])
def test_a_repeated_key_is_walked_pair_by_pair_not_redacted_as_text(line, secret):
    # GIVEN a JSON line that repeats a key (merged logger fields) and holds a secret the JSON rules mask
    # WHEN redacted
    redacted = redact(line)
    # THEN the secret is gone, every pair is still there, and the line is still JSON of the same shape
    assert secret not in redacted and "hunter2" not in redacted
    assert redacted.count('"n"') == line.count('"n"') and redacted.count('"a"') == line.count('"a"')
    json.loads(redacted)


@pytest.mark.parametrize("line", [
    '{"amount":12.5,"pan":4111111111111111.0}',
    '{"amount":12.5,"pan":4.111111111111111e15}',
    '{"pan":4111111111111111}',
])
def test_a_card_number_written_as_a_json_float_is_masked_like_an_integer(line):
    redacted = redact(line)
    assert "4111111111111111" not in redacted and "4.111111111111111" not in redacted
    assert json.loads(redacted)["pan"] == "[REDACTED:card]"


def test_other_numbers_stay_as_written():
    line = '{"amount":12.5,"ratio":1e-3,"big":1234567890123.5,"id":12345}'
    assert redact(line) == line
