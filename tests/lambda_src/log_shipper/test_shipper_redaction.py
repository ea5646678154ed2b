"""The shipper masks secrets in every document before it leaves: Firehose records (emulator, through the
fault proxy) and their S3 copies, ``_bulk`` documents (OpenSearch stand-in) and the bulk archive."""
from __future__ import annotations

import gzip
import json

import pytest

from log_shipper.contract import ConfigurationError, ShipperConfig
from tests.lambda_src.log_shipper.test_shipper import BUCKET, env, record_puts  # noqa: F401
from tests.lambda_src.log_shipper.test_shipper_bulk import bulk, bulk_requests, domain  # noqa: F401
from tests.support.subscription import encode_payload

REQUEST = "7d5c8a4e-1f2b-4c3d-9e8f-000000000042"
AT = "2026-11-22T01:45:07.007Z"
GITHUB = "ghp_" + "a1B2c3D4e5" * 4
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"

# (the secret, a log line holding it): plain text, Lambda's text format, JSON lines.
CORPUS = [
    ("hunter2-plain", "login failed for bob password=hunter2-plain retrying"),
    ("abcDEF123456789tokenvalue", "GET /orders Authorization: Bearer abcDEF123456789tokenvalue"),
    ("alice.smith@example.com", "[INFO] mail sent to alice.smith@example.com"),
    ("4111 1111 1111 1111", "charging card 4111 1111 1111 1111 for order o-1"),
    ("AKIAIOSFODNN7EXAMPLE", "using key AKIAIOSFODNN7EXAMPLE for s3"),
    (AWS_SECRET, f"aws_secret_access_key={AWS_SECRET}"),
    ("s3cr3t-url-pw", "connecting to postgres://app:s3cr3t-url-pw@db.internal:5432/orders"),
    (GITHUB, f"cloning with {GITHUB}"),
    (JWT, f"session {JWT} accepted"),
    ("lambda-pw-123", f"{AT}\t{REQUEST}\tERROR\tlogin failed password=lambda-pw-123\n"),
    ("lambda-json-key-9", f'{AT}\t{REQUEST}\tINFO\t{{"message":"call","user":"bob","api_key":"lambda-json-key-9"}}\n'),
    ("py-runtime-secret", f"[WARNING]\t{AT}\t{REQUEST}\tclient_secret: py-runtime-secret\n"),
    ("nested-pw-77", json.dumps({"level": "INFO", "message": "db", "ctx": {"db": {"host": "h", "password": "nested-pw-77"}}})),
    ("dup-first-1", '{"level":"INFO","message":"dup","token":"dup-first-1","token":"dup-second-2"}'),
    ("dup-second-2", '{"level":"INFO","message":"dup2","token":"dup-first-1","token":"dup-second-2"}'),
    ("escaped-key-pw", '{"message":"escaped","p\\u0061ssword":"escaped-key-pw"}'),
    ("escaped-mail@example.org", '{"message":"to escaped-mail\\u0040example.org"}'),
    ("4111111111111111", '{"message":"paid","card":4111111111111111,"amount":12.5}'),
    ("4.111111111111111e15", '{"message":"paid as float","pan":4.111111111111111e15}'),
    ("inner-pw-5", json.dumps({"message": "nested json", "body": json.dumps({"password": "inner-pw-5"})})),
    ("carol@example.net", '{"level":"ERROR","message":"bounce from carol@example.net"}'),
    ("list-secret-8", '{"message":"list","items":[{"secret":"list-secret-8"},1,"x"]}'),
]
CLEAN = ["[INFO] cart loaded items=3 user=u-1 took 12 ms", f"{AT}\t{REQUEST}\tINFO\tnothing to see",
         '{"level":"INFO","message":"order accepted","order_id":"o-7","amount":19.5}']


def corpus_events() -> list[dict]:
    lines = [line for _, line in CORPUS] + CLEAN
    return [{"id": f"{i:06d}", "timestamp": 1763775838000 + i, "message": line} for i, line in enumerate(lines)]


def assert_no_secret(blobs: list[bytes]) -> None:
    text = b"\n".join(blobs).decode("utf-8")
    leaked = [secret for secret, _ in CORPUS if secret in text]
    assert leaked == [], f"secrets in the output: {leaked}"


def s3_objects(env) -> list[bytes]:  # noqa: F811
    s3 = env.aws.client("s3", direct=True)
    bodies = []
    for obj in s3.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        body = s3.get_object(Bucket=BUCKET, Key=obj["Key"])["Body"].read()
        bodies.append(gzip.decompress(body) if body[:2] == b"\x1f\x8b" else body)
    return bodies


def check_documents(documents: list[dict]) -> None:
    by_id = {d["id"]: d for d in documents}
    assert len(by_id) == len(CORPUS) + len(CLEAN)  # none dropped
    for n in range(len(CORPUS)):
        assert by_id[f"{n:06d}"].get("redacted"), by_id[f"{n:06d}"]  # says what was masked
    for n in range(len(CORPUS), len(CORPUS) + len(CLEAN)):
        doc = by_id[f"{n:06d}"]
        assert "redacted" not in doc
    assert by_id["000000"]["redacted"] == ["password_kv"]
    assert "[REDACTED:password_kv]" in by_id["000000"]["message"]


def test_firehose_mode_ships_no_secret_in_any_record_or_backup(env, capsys):  # noqa: F811
    record_puts(env)
    # WHEN the corpus is shipped in Firehose mode (the emulator's stream writes to S3)
    result = env.invoke(encode_payload("/aws/lambda/orders", "s", corpus_events()))
    assert result["status"] == "shipped" and result["delivered"] == len(CORPUS) + len(CLEAN)
    # THEN no secret is in any PutRecordBatch record, nor in any S3 object
    assert_no_secret([record for put in env.puts for record in put])
    assert_no_secret(s3_objects(env))
    # AND every document says which rules fired; clean lines carry no flag
    check_documents(env.documents())
    # AND per-rule counters went out as metrics (EMF, on stdout)
    emf = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    values = {k: sum(v) if isinstance(v, list) else v for blob in emf for k, v in blob.items()
              if k.startswith("Redactions_") or k == "DocumentsRedacted"}
    assert values["DocumentsRedacted"] == len(CORPUS) and values["Redactions_password_kv"] >= 1
    assert values["Redactions_card"] >= 3 and values["Redactions_email"] >= 3


def test_bulk_mode_indexes_and_archives_no_secret(bulk):  # noqa: F811
    # WHEN the corpus is shipped in bulk mode
    result = bulk.invoke(encode_payload("/aws/lambda/orders", "s", corpus_events()))
    assert result["status"] == "shipped" and result["delivered"] == len(CORPUS) + len(CLEAN)
    # THEN no secret is in any _bulk request, indexed document, archive record or archive object
    assert_no_secret([request.body for request in bulk_requests(bulk.domain)])
    stored = [doc for docs in bulk.domain.state.documents.values() for doc in docs.values()]
    assert_no_secret([json.dumps(doc, ensure_ascii=False).encode() for doc in stored])
    assert_no_secret([gzip.decompress(record) for put in bulk.puts for record in put])
    assert_no_secret(s3_objects(bulk))
    check_documents(stored)


def test_a_cloudtrail_stream_keeps_investigators_identifiers_and_masks_secrets(env):  # noqa: F811
    record_puts(env)
    trail = {"eventName": "CreateUser", "sourceIPAddress": "203.0.113.7",
             "userIdentity": {"arn": "arn:aws:sts::123456789012:assumed-role/Admin/jane@example.com",
                              "accessKeyId": "ASIAIOSFODNN7EXAMPLE"},
             "requestParameters": {"userName": "bob", "password": "trail-pw-1"}}
    event = {"id": "1", "timestamp": 1763775838000, "message": json.dumps(trail)}
    # WHEN a CloudTrail stream's events are shipped (CloudTrail names its streams <account>_CloudTrail_<region>)
    env.invoke(encode_payload("/org/trail", "123456789012_CloudTrail_eu-west-1", [event]))
    (doc,) = env.documents()
    # THEN the access key id, the principal ARN and the source IP stay; the password is masked
    fields = doc["json"]
    assert fields["userIdentity"]["accessKeyId"] == "ASIAIOSFODNN7EXAMPLE"
    assert fields["userIdentity"]["arn"].endswith("/jane@example.com")
    assert fields["sourceIPAddress"] == "203.0.113.7"
    assert fields["requestParameters"]["password"] == "[REDACTED:password_json]"
    assert doc["redacted"] == ["password_json"]


def test_rule_sets_by_log_group_prefix_and_extra_rules(env, monkeypatch):  # noqa: F811
    record_puts(env)
    # GIVEN the audit set for /security/, a pattern and a secret key name of the user's
    monkeypatch.setenv("REDACT_RULE_SETS", json.dumps({"/security/": "audit"}))
    monkeypatch.setenv("REDACT_PATTERNS", json.dumps({"customer_id": r"CUST-\d{6}"}))
    monkeypatch.setenv("REDACT_SECRET_KEYS", json.dumps(["ssn"]))
    line = "key AKIAIOSFODNN7EXAMPLE customer CUST-123456 ssn=078-05-1120 password=pw-9"
    # WHEN the same line is shipped from a /security/ group and from another one
    env.invoke(encode_payload("/security/vpn", "s", [{"id": "1", "timestamp": 1763775838000, "message": line}]))
    env.invoke(encode_payload("/aws/lambda/x", "s", [{"id": "2", "timestamp": 1763775838000, "message": line}]))
    docs = {d["id"]: d for d in env.documents()}
    # THEN the audit group keeps the access key id, the other masks it; both mask the rest
    assert "AKIAIOSFODNN7EXAMPLE" in docs["1"]["message"] and "AKIAIOSFODNN7EXAMPLE" not in docs["2"]["message"]
    for doc in docs.values():
        assert "CUST-123456" not in doc["message"] and "078-05-1120" not in doc["message"]
        assert "pw-9" not in doc["message"]
    assert docs["1"]["redacted"] == ["custom_key", "customer_id", "password_kv"]
    assert docs["2"]["redacted"] == ["aws_key_id", "custom_key", "customer_id", "password_kv"]


def test_redaction_off_ships_lines_as_written(env, monkeypatch):  # noqa: F811
    record_puts(env)
    monkeypatch.setenv("REDACT", "false")
    env.invoke(encode_payload("/g", "s", [{"id": "1", "timestamp": 1763775838000, "message": "password=kept"}]))
    (doc,) = env.documents()
    assert doc["message"] == "password=kept" and "redacted" not in doc


@pytest.mark.parametrize("name, value, message", [
    ("REDACT", "no", "REDACT is 'no'; valid: unset or 'true' (on), 'false'"),
    ("REDACT_RULE_SETS", '{"/a": "lenient"}', "REDACT_RULE_SETS names unknown rule set(s) ['lenient']; valid: default, audit"),
    ("REDACT_SECRET_KEYS", '{"a": "b"}', "REDACT_SECRET_KEYS must be a JSON list of strings"),
    ("REDACT_PATTERNS", "{", "REDACT_PATTERNS is not JSON"),
])
def test_malformed_redaction_settings_are_refused(name, value, message):
    environ = {"DELIVERY_STREAM_NAME": "s", "DEAD_LETTER_QUEUE_URL": "q", name: value}
    with pytest.raises(ConfigurationError, match=message.replace("(", r"\(").replace(")", r"\)")
                       .replace("[", r"\[").replace("]", r"\]")):
        ShipperConfig.from_environment(environ)


def test_the_environment_round_trips():
    config = ShipperConfig("s", "q", redact_patterns={"x": "X-\\d+"}, redact_secret_keys=("ssn",),
                           redact_rule_sets={"/security/": "audit"})
    assert ShipperConfig.from_environment(config.to_environment()) == config
    off = ShipperConfig("s", "q", redact=False)
    assert off.to_environment()["REDACT"] == "false" and not ShipperConfig.from_environment(off.to_environment()).redact
