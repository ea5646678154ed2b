"""Property-based tests of the subscription payload decoding every subscribed function shares.

Whatever arrives, ``decode_payload`` returns a batch or raises ``PayloadError`` (which the handlers
dead-letter), never anything else; in a decodable payload every valid event is returned, in order,
and every invalid entry is reported with a reason, so ``events + invalid`` accounts for every entry.
"""
from __future__ import annotations

import base64
import gzip
import json
import math
from typing import Any

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from log_subscription import MAX_TIMESTAMP_MS, MIN_TIMESTAMP_MS, CONTROL_MESSAGE, DATA_MESSAGE, LogBatch, LogEvent, PayloadError, decode_payload
from tests.support.subscription import encode_payload

PROPERTY = settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Timestamps CloudWatch Logs can carry: milliseconds since the epoch up to year 9999.
MAX_TIMESTAMP_MS = 253_402_300_799_999
json_scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text()
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)
# Odd unicode on purpose: lone surrogates, NUL, RTL marks, emoji, combining characters.
odd_text = st.text(alphabet=st.characters(codec=None, exclude_categories=()), max_size=200) | st.sampled_from(
    ["", "\x00", "\udc80\udcff", "\ufeff[ERROR] bom", "‮evil", "👩‍👩‍👧‍👦", "e\u0301", "\\udc80", "\n\t\r"])
valid_events = st.fixed_dictionaries(
    {"id": st.text(max_size=60), "timestamp": st.integers(0, MAX_TIMESTAMP_MS), "message": odd_text},
    optional={"extra": json_values},
)
_not_number = json_values.filter(lambda v: isinstance(v, bool) or not isinstance(v, (int, float)))
invalid_events = st.one_of(
    json_values.filter(lambda v: not isinstance(v, dict)),  # not an object at all
    valid_events.flatmap(lambda e: st.sampled_from(["id", "timestamp", "message"]).map(
        lambda k: {key: value for key, value in e.items() if key != k})),  # a key missing
    valid_events.flatmap(lambda e: _not_number.map(lambda t: {**e, "timestamp": t})),  # timestamp not a number
    valid_events.flatmap(lambda e: json_values.filter(lambda m: not isinstance(m, str)).map(
        lambda m: {**e, "message": m})),  # message not a string
)


def _decodes_or_reports(event: Any) -> LogBatch | None:
    """The only two outcomes allowed: a batch, or a PayloadError naming its stage."""
    try:
        batch = decode_payload(event)
    except PayloadError as error:
        assert error.stage and str(error)
        return None
    assert isinstance(batch, LogBatch)
    for invalid in batch.invalid:
        assert invalid.reason
    return batch


def _payload(data: bytes) -> dict[str, Any]:
    return {"awslogs": {"data": base64.b64encode(data).decode("ascii")}}


@PROPERTY
@given(entries=st.lists(st.one_of(valid_events.map(lambda e: (True, e)), invalid_events.map(lambda e: (False, e))),
                        max_size=30),
       log_group=odd_text, log_stream=odd_text)
def test_every_valid_event_is_returned_and_every_invalid_one_reported(entries, log_group, log_stream):
    # GIVEN a payload mixing valid events and invalid entries (missing keys, wrong types, not objects)
    raw = [entry for _, entry in entries]
    payload = encode_payload(log_group, log_stream, raw)
    # WHEN it is decoded
    batch = decode_payload(payload)
    # THEN the valid events come back in order, unchanged ...
    assert batch.events == [LogEvent(str(e["id"]), e["timestamp"], e["message"]) for ok, e in entries if ok]
    # ... every invalid entry is reported as it was, with a reason, and nothing is lost
    assert json.dumps([i.raw for i in batch.invalid]) == json.dumps([e for ok, e in entries if not ok])  # NaN-safe
    assert all(i.reason for i in batch.invalid)
    assert len(batch.events) + len(batch.invalid) == len(raw)
    assert (batch.log_group, batch.log_stream, batch.message_type) == (log_group, log_stream, DATA_MESSAGE)


@PROPERTY
@given(timestamp=st.floats(allow_nan=True, allow_infinity=True), message=odd_text)
def test_float_timestamps_are_events_or_reported(timestamp, message):
    # GIVEN an event whose timestamp is any float, NaN and infinities included (JSON allows them here)
    payload = encode_payload("g", "s", [{"id": "1", "timestamp": timestamp, "message": message}])
    # WHEN decoded / THEN a finite one within years 1-9999 is an event, any other is reported; nothing raises
    batch = _decodes_or_reports(payload)
    assert batch is not None
    if math.isfinite(timestamp) and MIN_TIMESTAMP_MS <= timestamp <= MAX_TIMESTAMP_MS:
        assert batch.events == [LogEvent("1", int(timestamp), message)]
    else:
        assert batch.events == [] and len(batch.invalid) == 1


@PROPERTY
@given(data=st.text(max_size=300) | st.binary(max_size=300).map(lambda b: b.decode("latin-1")))
def test_any_awslogs_data_string_decodes_or_is_reported(data):
    # GIVEN an arbitrary string where the base64 data belongs / THEN a batch or a PayloadError
    _decodes_or_reports({"awslogs": {"data": data}})


@PROPERTY
@given(blob=st.binary(max_size=2000))
def test_random_bytes_and_gzip_of_random_bytes_are_reported(blob):
    # GIVEN base64 of random bytes, and of gzip-compressed random bytes
    # THEN neither raises anything but PayloadError (random bytes are not gzip; gzip of them not JSON)
    assert _decodes_or_reports(_payload(blob)) is None or blob[:2] == b"\x1f\x8b"
    _decodes_or_reports(_payload(gzip.compress(blob)))


@PROPERTY
@given(value=json_values)
def test_any_json_document_decodes_or_is_reported(value):
    # GIVEN a well-formed payload whose JSON is anything at all (lists, scalars, objects with odd keys)
    batch = _decodes_or_reports(_payload(gzip.compress(json.dumps(value).encode())))
    # THEN a batch comes back only for an object that is a control message or carries the four keys
    if batch is not None:
        assert isinstance(value, dict)
        assert value.get("messageType") == CONTROL_MESSAGE or {"owner", "logGroup", "logStream", "logEvents"} <= set(value)


@PROPERTY
@given(events=st.lists(valid_events, min_size=1, max_size=10), cut=st.floats(0, 1, exclude_max=True))
def test_truncated_gzip_is_reported(events, cut):
    # GIVEN a valid payload whose gzip stream is cut short anywhere
    compressed = gzip.compress(json.dumps({"messageType": DATA_MESSAGE, "owner": "1", "logGroup": "g",
                                           "logStream": "s", "logEvents": events}).encode())
    truncated = compressed[: int(len(compressed) * cut)]
    # WHEN decoded / THEN it is reported, never half-decoded
    assert _decodes_or_reports(_payload(truncated)) is None


@PROPERTY
@given(envelope=json_values | st.dictionaries(st.text(max_size=8), json_values, max_size=3).map(lambda d: {"awslogs": d})
       | json_values.map(lambda v: {"awslogs": {"data": v}}))
def test_envelopes_of_the_wrong_shape_are_reported(envelope):
    # GIVEN an invocation event that is not {"awslogs": {"data": "<base64>"}} (wrong types, keys missing)
    assume(isinstance(envelope, dict))  # the Lambda event of a subscription is always a JSON object
    # THEN it is reported as a PayloadError or (if it happens to be valid) decoded; nothing else escapes
    _decodes_or_reports(envelope)


@PROPERTY
@given(depth=st.sampled_from([1, 10, 500, 5_000, 200_000]), where=st.sampled_from(["extra", "event", "message"]),
       size=st.sampled_from([0, 1_000, 300_000]))
def test_deep_and_huge_json_is_decoded_or_reported(depth, where, size):
    # GIVEN a payload with a deeply nested value (beside the events, or inside one) or a huge message
    nested = "[" * depth + "]" * depth
    message = "x" * size if where != "message" else nested + "x" * size
    event = f'{{"id": "1", "timestamp": 1, "message": {json.dumps(message)}' + (
        f', "deep": {nested}}}' if where == "event" else "}")
    extra = f', "deep": {nested}' if where == "extra" else ""
    text = (f'{{"messageType": "DATA_MESSAGE", "owner": "1", "logGroup": "g", "logStream": "s", '
            f'"logEvents": [{event}]{extra}}}')
    # WHEN decoded
    batch = _decodes_or_reports(_payload(gzip.compress(text.encode())))
    # THEN either the whole payload is reported (too deep for the JSON parser), or the event is intact
    if batch is not None:
        assert batch.events == [LogEvent("1", 1, message)]
    else:
        assert where != "message" and depth >= 500
