"""Property-based tests of the log shipper's decoding and transformation (payload → Firehose records).

For any payload: decoding succeeds or raises ``PayloadError`` (dead-lettered whole); a decoded batch
becomes exactly one record per valid event and one report per invalid entry, every record is one
JSON document within Firehose's record limit carrying the event's id, and a message survives: as
it was, moved out of its JSON, cut and flagged when too large, or its bytes kept in base64.
"""
from __future__ import annotations

import base64
import codecs
import gzip
import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from log_subscription import DATA_MESSAGE, PayloadError, decode_payload
from tests.support.subscription import encode_payload

from log_shipper import transform
from logship import firehose

PROPERTY = settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
MAX_TIMESTAMP_MS = 253_402_300_799_999
LEVELS = ["TRACE", "DEBUG", "INFO", "WARN", "WARNING", "ERROR", "ERR", "CRITICAL", "FATAL", "error", "Info"]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=10,
)
any_text = st.text(alphabet=st.characters(codec=None, exclude_categories=()), max_size=300)
# Plain text: no JSON object, no tab (Lambda's text format), no lone surrogates: must come out unchanged.
plain_text = st.text(alphabet=st.characters(codec="utf-8", exclude_characters="{\t"), max_size=300)
messages = st.one_of(
    any_text,
    plain_text,
    st.builds(lambda level, text: f"[{level}] {text}", st.sampled_from(LEVELS), any_text),
    st.builds(lambda level, rid, text: f"2026-11-22T01:02:03.004Z\t{rid}\t{level}\t{text}",
              st.sampled_from(LEVELS), st.uuids().map(str), any_text),
    st.dictionaries(st.sampled_from(["level", "message", "msg", "severity", "levelname", "x", "@timestamp", "_id"]),
                    json_values, max_size=6).map(json.dumps),  # structured (Powertools-like) messages
    st.sampled_from([1_100_000, 1_024_000, 1_023_000]).map(lambda n: "é" * (n // 2)),  # near/over the record limit
    st.binary(max_size=200).map(lambda b: b.decode("utf-8", "surrogateescape")),  # bytes that are not UTF-8
)
valid_events = st.fixed_dictionaries(
    {"id": st.text(min_size=1, max_size=60), "timestamp": st.integers(0, MAX_TIMESTAMP_MS), "message": messages})
invalid_entries = st.one_of(
    json_values.filter(lambda v: not isinstance(v, dict)),
    st.fixed_dictionaries({"id": st.text(max_size=5), "message": any_text}),  # no timestamp
    st.fixed_dictionaries({"id": st.text(max_size=5), "timestamp": st.text(max_size=5), "message": any_text}),
    st.fixed_dictionaries({"id": st.text(max_size=5), "timestamp": st.integers(0, 10), "message": json_values.filter(
        lambda m: not isinstance(m, str))}),
    st.fixed_dictionaries({"id": st.text(min_size=1, max_size=5), "timestamp": st.integers(MAX_TIMESTAMP_MS + 1),
                           "message": any_text}),  # beyond year 9999: decodes, but has no ISO timestamp
)


def _bytes_or_json_escape(error: UnicodeEncodeError) -> tuple[bytes, int]:
    """U+DC80..U+DCFF stand for raw (non-UTF-8) bytes; any other lone surrogate becomes a JSON \\uXXXX escape."""
    out = b""
    for char in error.object[error.start:error.end]:
        code = ord(char)
        out += bytes([code - 0xDC00]) if 0xDC80 <= code <= 0xDCFF else f"\\u{code:04x}".encode()
    return out, error.end


codecs.register_error("test_bytes_or_json_escape", _bytes_or_json_escape)


def _raw_payload(entries: list[Any], log_group: str = "/aws/lambda/orders") -> dict[str, Any]:
    """The payload CloudWatch Logs sends, with message bytes that need not be UTF-8."""
    body = json.dumps({"messageType": DATA_MESSAGE, "owner": "123456789012", "logGroup": log_group,
                       "logStream": "2026/11/22/[$LATEST]abc", "subscriptionFilters": ["f"], "logEvents": entries},
                      ensure_ascii=False)
    data = gzip.compress(body.encode("utf-8", "test_bytes_or_json_escape"))
    return {"awslogs": {"data": base64.b64encode(data).decode("ascii")}}


def _ship(payload: dict[str, Any]):
    batch = decode_payload(payload, strict_utf8=False)
    return batch, transform.to_records(batch)


@PROPERTY
@given(entries=st.lists(st.one_of(valid_events.map(lambda e: (True, e)), invalid_entries.map(lambda e: (False, e))),
                        max_size=12))
def test_every_valid_event_becomes_one_record_and_every_invalid_one_is_reported(entries):
    # GIVEN a batch of valid events (odd unicode, levels, JSON, huge, non-UTF-8) and invalid entries
    raw = [entry for _, entry in entries]
    # WHEN the shipper decodes and transforms it
    batch, out = _ship(_raw_payload(raw))
    # THEN every entry is accounted for exactly once: a record or an invalid report with a reason
    assert len(out.records) + len(out.invalid) == len(raw)
    assert all(report.reason for report in out.invalid)
    in_range = [e for ok, e in entries if ok]
    assert [event_id for event_id, _ in out.records] == [str(e["id"]) for e in in_range]
    for (event_id, data), event in zip(out.records, in_range):
        # AND each record is one JSON document within Firehose's record limit, for that event
        assert len(data) <= firehose.MAX_RECORD_BYTES
        document = json.loads(data)
        assert document["id"] == event_id and document["log_group"] == "/aws/lambda/orders"
        assert document["account"] == "123456789012"
        # AND it always carries its timestamp and never a custom _id (a metadata field OpenSearch refuses in
        # a document's source, and which a serverless time-series collection assigns itself)
        assert document["@timestamp"].endswith("Z") and "_id" not in document
        _assert_message_survives(event["message"], document)


def _assert_message_survives(message: str, document: dict[str, Any]) -> None:
    if document.get("truncated"):
        assert document["original_bytes"] > firehose.MAX_RECORD_BYTES // 2
        assert document["message"].endswith(firehose.TRUNCATION_MARK)
        return
    if document.get("invalid_utf8"):
        original = base64.b64decode(document["message_base64"])
        assert original in (message.encode("utf-8", "surrogateescape") if _escapable(message) else b"",
                            message.encode("utf-8", "surrogatepass"))
        return
    if "json" in document:  # structured: the text moved to "message", the rest under "json"
        fields = dict(document["json"])
        if document["message"] != message:
            assert any(json.loads(_json_tail(message)).get(key) == document["message"] for key in ("message", "msg"))
        assert isinstance(fields, dict)
        return
    assert document["message"] == message


def _escapable(text: str) -> bool:
    try:
        text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return False
    return True


def _json_tail(message: str) -> str:
    return message.split("\t", 3)[3] if message.count("\t") >= 3 and not message.lstrip().startswith("{") else message


@PROPERTY
@given(message=plain_text, level=st.sampled_from(LEVELS))
def test_plain_text_is_shipped_unchanged_with_its_level(message, level):
    # GIVEN a plain message with a level marker at the start
    text = f"[{level}] {message}"
    _, out = _ship(encode_payload("g", "s", [{"id": "e1", "timestamp": 1_700_000_000_000, "message": text}]))
    # THEN the record carries the text unchanged and the normalized level
    document = json.loads(out.records[0][1])
    assert document["message"] == text
    assert document["level"] == {"WARNING": "WARN", "ERR": "ERROR"}.get(level.upper(), level.upper())


@PROPERTY
@given(blob=st.binary(max_size=1500), cut=st.floats(0, 1))
def test_undecodable_payloads_are_refused_whole_never_crash(blob, cut):
    # GIVEN random bytes, gzip of random bytes, and a valid payload's gzip cut short
    valid = base64.b64decode(encode_payload("g", "s", [{"id": "1", "timestamp": 1, "message": "m"}])["awslogs"]["data"])
    for data in (blob, gzip.compress(blob), valid[: int(len(valid) * cut)]):
        event = {"awslogs": {"data": base64.b64encode(data).decode("ascii")}}
        # WHEN the shipper decodes it / THEN it is a PayloadError (dead-lettered whole) or a batch it can transform
        try:
            _ship(event)
        except PayloadError as error:
            assert error.stage
