"""A table of realistic log lines: secrets each rule must mask, and near-misses that must stay."""
from __future__ import annotations

import json

import pytest

from redaction import Redactor

REDACTOR = Redactor.build()
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"
AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
PEM_BODY = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7"
PEM = f"-----BEGIN RSA PRIVATE KEY-----\n{PEM_BODY}\nQ2xhdWRl\n-----END RSA PRIVATE KEY-----"
GH = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"

# (log line, the secret that must not survive, the rule expected to mask it)
SECRETS = [
    ("login failed DB_PASSWORD=hunter2 host=db", "hunter2", "password_kv"),
    ("env db_password=s3cr3t-Value user=app", "s3cr3t-Value", "password_kv"),
    ('config {"clientSecret": "cs_9f8e7d6c"}', "cs_9f8e7d6c", "password_json"),
    ("header x-api-key: k3y-abcdef123", "k3y-abcdef123", "password_kv"),
    ('request {"x-api-key":"k3y-abcdef123"}', "k3y-abcdef123", "password_json"),
    ("retry password='two words' later", "two words", "password_kv"),
    ('retry password="two words" later', "two words", "password_kv"),
    ("ctx {'password': 'hunter2', 'user': 'bob'}", "hunter2", "password_json"),
    ("ctx {'api_key': 'AbCdEf123456', 'n': 1}", "AbCdEf123456", "password_json"),
    ("ctx {'db_pass': 9876543}", "9876543", "password_json"),
    ('payload="{\\"password\\":\\"hunter2\\",\\"u\\":1}"', "hunter2", "password_json"),
    ("GET /cb?code=1&access_token=ya29.a0AfH6SM&state=x", "ya29.a0AfH6SM", "password_kv"),
    ("redirect=https://x.example/cb?refresh_token=rt-77aa99", "rt-77aa99", "password_kv"),
    ("spawn --password=hunter2 --verbose", "hunter2", "password_kv"),
    ("SESSION_TOKEN: FwoGZXIvYXdzEJr", "FwoGZXIvYXdzEJr", "password_kv"),
    ("set-cookie: sid=8f14e45fceea167a5a36dedd4bea2543", "8f14e45fceea167a5a36dedd4bea2543", "password_kv"),
    ("passphrase = correct-horse-battery", "correct-horse-battery", "password_kv"),
    ("X-Amz-Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7&",
     "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7", "password_kv"),
    (f"key dump {PEM} done", PEM_BODY, "private_key"),
    ("-----BEGIN PRIVATE KEY-----\\nMIIBVQIBADANBgkqhkiG9w0\\n-----END PRIVATE KEY-----",
     "MIIBVQIBADANBgkqhkiG9w0", "private_key"),
    ("-----BEGIN OPENSSH PRIVATE KEY----- b3BlbnNzaC1rZXktdjEAAAAA", "b3BlbnNzaC1rZXktdjEAAAAA", "private_key"),
    ("-----BEGIN EC PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nMHcCAQEEIBkg\n-----END EC PRIVATE KEY-----",
     "MHcCAQEEIBkg", "private_key"),
    ("connect postgres://app:Sup3rS3cret@db.internal:5432/orders", "Sup3rS3cret", "url_credentials"),
    ("broker amqps://guest:p@ss/w0rd@mq:5671", "p@ss/w0rd", "url_credentials"),
    ('{"url":"redis:\\/\\/default:r3dis-pw@cache:6379"}', "r3dis-pw", "url_credentials"),
    ("mongodb+srv://svc:Zx9-Qw8@cluster0.mongodb.net/db", "Zx9-Qw8", "url_credentials"),
    ("Authorization: Bearer abcdef0123456789xyz", "abcdef0123456789xyz", "bearer"),
    ("Authorization: Basic dXNlcjpwYXNzd29yZA==", "dXNlcjpwYXNzd29yZA==", "bearer"),
    ('{"headers": {"Authorization": "Basic YWxhZGRpbjpvcGVuc2VzYW1l"}}', "YWxhZGRpbjpvcGVuc2VzYW1l", "password_json"),
    ("proxy-authorization: Digest dXNlcjpwYXNz", "dXNlcjpwYXNz", "bearer"),
    ("curl -H 'Bearer 9f8e7d6c5b4a3210'", "9f8e7d6c5b4a3210", "bearer"),
    (f"token {JWT} rejected", JWT, "jwt"),
    (f"id_token_{JWT}", JWT, "jwt"),
    (f'{{"msg": "jwt={JWT}"}}', JWT, "jwt"),
    ("slack xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx", "xoxb-123456789012", "vendor_token"),
    ("webhook https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX",
     "T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX", "vendor_token"),
    (f"git clone failed {GH}", GH, "vendor_token"),
    (f"GITHUB_{GH}", GH, "vendor_token"),
    ("github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz", "github_pat_11ABCDEFG", "vendor_token"),
    ("charge with sk_live_4eC39HqLyjWDarjtT1zdp7dc", "sk_live_4eC39HqLyjWDarjtT1zdp7dc", "vendor_token"),
    ("stripe rk_test_51H8xyzABCDEFGHijklmnop", "rk_test_51H8xyzABCDEFGHijklmnop", "vendor_token"),
    ("maps AIzaSyDaGmWKa4JsXZ-HjGw7ISLn_3namBGewQe", "AIzaSyDaGmWKa4JsXZ-HjGw7ISLn_3namBGewQe", "vendor_token"),
    ("gitlab glpat-xxxxxxxxxxxxxxxxxxxx1234", "glpat-xxxxxxxxxxxxxxxxxxxx1234", "vendor_token"),
    ("npm npm_abcdefghijklmnopqrstuvwxyz0123456789", "npm_abcdefghijklmnopqrstuvwxyz0123456789", "vendor_token"),
    ("openai sk-proj-abcdefghijklmnopqrstuvwxyz0123456789ABCD", "abcdefghijklmnopqrstuvwxyz0123456789", "vendor_token"),
    ("boto AKIAIOSFODNN7EXAMPLE denied", "AKIAIOSFODNN7EXAMPLE", "aws_key_id"),
    ("key_ASIAY34FZKBOKMUTVV7A expired", "ASIAY34FZKBOKMUTVV7A", "aws_key_id"),
    (f"aws_secret_access_key={AWS_SECRET}", AWS_SECRET, "aws_secret"),
    (f"AWS-SECRET-ACCESS-KEY: {AWS_SECRET}", AWS_SECRET, "aws_secret"),
    (f"secret access key {AWS_SECRET}", AWS_SECRET, "aws_secret"),
    (f'creds {{"SecretAccessKey": "{AWS_SECRET}"}}', AWS_SECRET, "aws_secret"),
    ("card 4111 1111 1111 1111 declined", "4111 1111 1111 1111", "card"),
    ("card 4111-1111-1111-1111 declined", "4111-1111-1111-1111", "card"),
    ("card 4111.1111.1111.1111 declined", "4111.1111.1111.1111", "card"),
    ("card 4111111111111111 declined", "4111111111111111", "card"),
    ("amex 3782 822463 10005 ok", "3782 822463 10005", "card"),
    ("pan_5500000000000004_x", "5500000000000004", "card"),
    ("ref 0000 4000 0000 0000 0002 ok", "4000 0000 0000 0002", "card"),  # starts inside a failing run
    ("mail ann@example.com bounced", "ann@example.com", "email"),
    ("user_ann.lee+tag@sub.example.co.uk", "ann.lee+tag@sub.example.co.uk", "email"),
    ('{"msg":"to ann\\u0040example.com"}', "example.com", "email"),
    ('outer="{\\"to\\": \\"bob@example.org\\"}"', "bob@example.org", "email"),
    ("GET /unsubscribe?to=alice%40example.com", "alice%40example.com", "email"),
    ("mailto:alice.o%2Bx%40example.com", "example.com", "email"),
    # JSON whose decoding keeps a repeated key's last value: the line is redacted as text.
    ('{"level":"CRITICAL","message":"db password=hunter2 ...","message":""}', "hunter2", "password_kv"),
    ('{"level":"ERROR","ctx":{"password":"hunter2","password":null}}', "hunter2", "password_json"),
    ('{"level":"ERROR","body":"{\\"token\\":\\"t0k3n-abc\\",\\"token\\":null}"}', "t0k3n-abc", "password_json"),
    # Card numbers written as JSON numbers.
    ('{"level":"ERROR","pan": 4111111111111111}', "4111111111111111", "card"),
    ('{"payment":{"cards":[5500000000000004]}}', "5500000000000004", "card"),
]

NEAR_MISSES = [
    "order 4111111111111112 shipped",  # fails Luhn
    "order 1234 5678 9012 3456 shipped",
    "date 2025-06-29-1001-0000",
    "trace 41111111111111111111 (20 digits)",
    "version 1.2.3.4 released",
    "ip 10.0.0.1 port 8443",
    "token_count=42 model=small",
    "password_policy=strict",
    "secret_name=prod/db arn=arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/db",
    "author=alice tokenizer=bert keyword=cache",
    "passwordless login enabled",
    "basic authentication configured",
    "the bearer of bad news",
    "https://example.com:8443/health ok",
    "ssh git@github bastion",
    "user@localhost denied",
    "eyJ-not-a-token",
    "task-1234567890abcdefghijklmnopqrstuvwxyz finished",
    "a normal line with nothing to hide",
    '{"level": "CRITICAL", "message": "queue depth 9000", "tokens_used": 12}',
    '{"order_id": 4111111111111112, "epoch_ms": 1751155200000, "bytes": -9007199254740993}',  # Luhn fails
    "discount 40%40 off",
]


@pytest.mark.parametrize("line, secret, rule", SECRETS, ids=[f"{c[2]}-{i}" for i, c in enumerate(SECRETS)])
def test_secrets_are_masked(line, secret, rule):
    # GIVEN a realistic log line carrying a secret
    # WHEN it is redacted
    result, counts = REDACTOR.redact(line)
    # THEN the secret is gone and the rule that masked it is counted
    assert secret not in result
    assert f"[REDACTED:{rule}]" in result and counts.get(rule, 0) >= 1, (result, counts)


@pytest.mark.parametrize("line", NEAR_MISSES)
def test_near_misses_stay(line):
    # GIVEN a line that looks like a secret but is none
    # WHEN it is redacted / THEN nothing changed (JSON lines: the same document)
    result, counts = REDACTOR.redact(line)
    if line.startswith("{"):
        assert json.loads(result) == json.loads(line)
    else:
        assert result == line
    assert counts == {}


def test_json_keys_are_redacted_whatever_the_value_type_and_nested_json_strings_too():
    # GIVEN a JSON line with a numeric PIN, an object under a secret key and JSON inside a string
    inner = json.dumps({"db_password": "hunter2", "note": "card 4111111111111111"})
    line = json.dumps({"level": "CRITICAL", "pin_code": 1, "api_key": 123456, "credentials": {"user": "u"},
                       "body": inner, "password": None})
    # WHEN redacted
    result, counts = REDACTOR.redact(line)
    document = json.loads(result)
    # THEN the secret values are masked, nested JSON is decoded, redacted and re-encoded
    assert document["api_key"] == document["credentials"] == "[REDACTED:password_json]"
    assert document["password"] is None and document["pin_code"] == 1
    assert json.loads(document["body"]) == {"db_password": "[REDACTED:password_json]", "note": "card [REDACTED:card]"}
    assert "hunter2" not in result and counts == {"password_json": 3, "card": 1}


def test_rules_are_switched_off_by_name():
    # GIVEN a redactor without the key rules
    redactor = Redactor.build(disabled=["password_json", "password_kv"])
    # WHEN a JSON line with a password is redacted / THEN the password stays
    assert json.loads(redactor.redact('{"password": "hunter2"}')[0]) == {"password": "hunter2"}
    assert redactor.redact("password=hunter2")[0] == "password=hunter2"


def test_a_card_number_in_a_json_number_leaves_valid_json():
    # GIVEN a JSON line with a card number as a number next to other numbers
    line = '{"level": "ERROR", "pan": 4111111111111111, "amount": 1250, "ok": true}'
    # WHEN redacted / THEN it is still JSON, the card a mask string, the rest unchanged
    result, counts = REDACTOR.redact(line)
    assert json.loads(result) == {"level": "ERROR", "pan": "[REDACTED:card]", "amount": 1250, "ok": True}
    assert counts == {"card": 1}
