"""log_subscription: decoding CloudWatch Logs subscription payloads, and naming what is wrong."""
from __future__ import annotations

import base64
import gzip
import json

import pytest

from log_subscription import CONTROL_MESSAGE, PayloadError, decode_payload
from tests.support.subscription import encode_payload


def _raw(data: bytes) -> dict:
    return {"awslogs": {"data": base64.b64encode(data).decode()}}


def test_round_trip_keeps_every_event_in_order():
    events = [{"id": str(i), "timestamp": 1_700_000_000_000 + i, "message": f"m{i}"} for i in range(50)]
    batch = decode_payload(encode_payload("/aws/lambda/orders", "2026/01/01/[$LATEST]abc", events))
    assert batch.log_group == "/aws/lambda/orders" and batch.owner == "123456789012"
    assert [e.message for e in batch.events] == [f"m{i}" for i in range(50)] and not batch.invalid


def test_control_message_is_recognised():
    batch = decode_payload(encode_payload("", "", [], message_type=CONTROL_MESSAGE))
    assert batch.is_control and not batch.events


@pytest.mark.parametrize("event, stage", [
    ({}, "missing awslogs.data"),
    ({"awslogs": {}}, "missing awslogs.data"),
    ({"awslogs": {"data": 42}}, "not base64"),
    ({"awslogs": {"data": "%%%not-base64%%%"}}, "not base64"),
    (_raw(b"plain text, not gzip"), "not gzip"),
    (_raw(gzip.compress(b"\xff\xfe\xfa")), "not UTF-8"),
    (_raw(gzip.compress(b"{not json")), "not JSON"),
    (_raw(gzip.compress(b"[1, 2]")), "not a JSON object"),
    (_raw(gzip.compress(json.dumps({"messageType": "DATA_MESSAGE", "owner": "1"}).encode())), "missing keys"),
    (_raw(gzip.compress(json.dumps({"messageType": "DATA_MESSAGE", "owner": "1", "logGroup": "g",
                                    "logStream": "s", "logEvents": {}}).encode())), "malformed"),
])
def test_undecodable_payloads_name_the_stage(event, stage):
    with pytest.raises(PayloadError) as raised:
        decode_payload(event)
    assert raised.value.stage == stage and str(raised.value).startswith(f"subscription payload is {stage}")


def test_truncated_gzip_is_not_gzip():
    data = gzip.compress(json.dumps({"logEvents": []}).encode())
    with pytest.raises(PayloadError, match="not gzip"):
        decode_payload(_raw(data[: len(data) // 2]))


def test_bad_events_are_kept_apart_from_good_ones():
    events = [
        {"id": "1", "timestamp": 1, "message": "ok"},
        {"id": "2", "timestamp": "yesterday", "message": "bad ts"},
        {"id": "3", "timestamp": 3},
        "not an object",
        {"id": "5", "timestamp": 5, "message": {"nested": True}},
        {"id": "6", "timestamp": True, "message": "bool ts"},
    ]
    batch = decode_payload(encode_payload("/g", "s", events))
    assert [e.id for e in batch.events] == ["1"]
    assert [i.reason for i in batch.invalid] == [
        "timestamp is str, not a number", "event lacks message", "event is str, not an object",
        "message is dict, not a string", "timestamp is bool, not a number"]
    assert batch.invalid[0].raw == events[1]


def test_empty_log_events_is_an_empty_batch():
    batch = decode_payload(encode_payload("/g", "s", []))
    assert batch.events == [] and batch.invalid == [] and not batch.is_control


def test_timestamps_outside_years_1_to_9999_are_invalid_events():
    # GIVEN timestamps no datetime can hold / WHEN decoded / THEN those events are reported, the good one kept
    events = [{"id": "ok", "timestamp": 253_402_300_799_999, "message": "last ms of 9999"},
              {"id": "late", "timestamp": 253_402_300_800_000, "message": "year 10000"},
              {"id": "early", "timestamp": -62_135_596_800_001, "message": "year 0"}]
    batch = decode_payload(encode_payload("/g", "s", events))
    assert [e.id for e in batch.events] == ["ok"]
    assert [i.reason for i in batch.invalid] == ["timestamp 253402300800000 ms is outside years 1-9999",
                                                  "timestamp -62135596800001 ms is outside years 1-9999"]
