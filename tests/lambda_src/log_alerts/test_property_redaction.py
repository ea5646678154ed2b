"""Property and hostile-input tests of the redaction: a planted secret never survives, and no pattern
backtracks catastrophically (a bad pattern makes these inputs take minutes, so the test hangs)."""
from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from redaction import Redactor

REDACTOR = Redactor.build()
PROPERTY = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# Values without quotes or backslashes, so every line shape below can carry them unchanged.
token = st.text(alphabet="ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789", min_size=12, max_size=24)
words = st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\\\"'"), max_size=60)


def _luhn_complete(body: str) -> str:
    total = 0
    for index, char in enumerate(reversed(body)):
        value = int(char) * (2 if index % 2 == 0 else 1)
        total += value - 9 if value > 9 else value
    return body + str((10 - total % 10) % 10)


# Each family: (strategy of the distinctive part, how it appears in a line).
FAMILIES = {
    "password_kv": (token, lambda v: f"DB_PASSWORD={v}"),
    "password_json": (token, lambda v: None),  # planted as a JSON / dict key's value
    "private_key": (token, lambda v: f"-----BEGIN RSA PRIVATE KEY-----\nMIIE{v}\n-----END RSA PRIVATE KEY-----"),
    "url_credentials": (token, lambda v: f"postgres://app:{v}@db.internal:5432/orders"),
    "bearer": (token, lambda v: f"Authorization: Bearer 9{v}"),
    "jwt": (token, lambda v: f"eyJhbGciOiJIUzI1NiJ9.eyJ{v}.sig{v}"),
    "vendor_token": (st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789", min_size=36, max_size=40),
                     lambda v: f"ghp_{v}"),
    "aws_secret": (st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/+",
                           min_size=40, max_size=40), lambda v: f"aws secret access key: {v}"),
    "card": (st.text(alphabet="0123456789", min_size=15, max_size=15).map(lambda d: _luhn_complete("4" + d[1:]))
             .map(lambda n: " ".join(n[i:i + 4] for i in range(0, 16, 4))), lambda v: v),
    "email": (token.map(lambda v: f"{v}@example.com"), lambda v: v),
}


@st.composite
def planted(draw):
    family = draw(st.sampled_from(sorted(FAMILIES)))
    values, render = FAMILIES[family]
    secret = draw(values)
    before, after = draw(words), draw(words)
    assume(secret not in before + after)  # the random text itself is no secret
    cut = draw(st.integers(0, len(before)))
    snippet = render(secret)
    shape = draw(st.sampled_from(["text", "json", "nested", "repr"]))
    if snippet is None:  # a secret-named key
        key = draw(st.sampled_from(["password", "db_password", "clientSecret", "x-api-key", "API_TOKEN"]))
        fields = {"message": before, key: secret, "extra": after}
        snippet = f"{key}={secret}"
    else:
        fields = {"message": f"{before[:cut]} {snippet} {before[cut:]}", "extra": after}
    if shape == "text":
        line = f"[CRITICAL] {before[:cut]} {snippet} {before[cut:]} {after}"
    elif shape == "json":
        line = json.dumps({"level": "CRITICAL", **fields}, ensure_ascii=draw(st.booleans()))
    elif shape == "nested":
        line = json.dumps({"level": "CRITICAL", "body": json.dumps(fields)})
    else:
        line = f"[CRITICAL] context {fields!r}"
    return family, secret, line


@PROPERTY
@given(case=planted())
def test_a_planted_secret_never_survives(case):
    # GIVEN a random log line (text, JSON, JSON in a JSON string, dict repr) with a secret planted in it
    family, secret, line = case
    # WHEN it is redacted
    result, counts = REDACTOR.redact(line)
    # THEN the secret's distinctive part is gone, in every form it could take
    assert secret not in result, (family, line, result)
    assert json.dumps(secret)[1:-1] not in result
    assert counts


HOSTILE = [
    "a" * 100_000,
    "a" * 100_000 + "@",
    "a." * 50_000 + "@example",
    "eyJ" * 40_000,
    "eyJ" + "a" * 100_000 + ".",
    "_eyJaaaaa" * 10_000,
    "-----BEGIN PRIVATE KEY-----" * 5_000,
    "-----BEGIN PRIVATE KEY-----" + "-" * 100_000,
    "x://" * 30_000,
    "postgres://u:" + "p" * 100_000,
    "password=" * 20_000,
    "password:" * 20_000,
    "key=key=" * 20_000,
    '"a":"' * 20_000,
    '"password": "' * 20_000,
    "\\" * 100_000 + '"',
    '\\"token\\": \\"' + "\\" * 100_000,
    "4" * 100_000,
    "4 " * 50_000,
    "4111-" * 30_000,
    "Bearer " * 20_000,
    "Authorization: " * 10_000 + "Basic",
    "secret key " * 10_000 + " " * 50_000,
    "ghp_" * 30_000,
    "{" * 100_000,
    "[" * 50_000 + "]" * 50_000,
]


@pytest.mark.parametrize("line", HOSTILE, ids=[f"{line[:12]!r}x{len(line)}" for line in HOSTILE])
def test_hostile_input_is_redacted_in_one_pass(line):
    # GIVEN a long line built to make a backtracking pattern explode
    # WHEN it is redacted / THEN it returns (a bad pattern would take minutes) with text of similar size
    result, _ = REDACTOR.redact(line)
    assert isinstance(result, str) and len(result) <= len(line) + 64 * (1 + len(line) // 8)


def test_nesting_beyond_the_decoder_is_redacted_as_text():
    # GIVEN JSON nested deeper than the walk goes, with a password inside
    line = '{"a":' * 200 + '{"password":"hunter2"}' + "}" * 200
    # WHEN redacted / THEN the text rules still mask it
    result, counts = REDACTOR.redact(line)
    assert "hunter2" not in result and counts == {"password_json": 1}
