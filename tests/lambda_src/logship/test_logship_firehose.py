"""logship.firehose: records within Firehose's limits, batches within the per-call limits."""
from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from logship.firehose import (
    MAX_BATCH_BYTES,
    MAX_BATCH_RECORDS,
    MAX_RECORD_BYTES,
    TRUNCATION_MARK,
    encode_document,
    iter_batches,
)


def test_small_document_is_one_json_line():
    # GIVEN a document / WHEN encoded / THEN it is one newline-terminated JSON object, unchanged
    data = encode_document({"message": "héllo", "level": "INFO"})
    assert data.endswith(b"\n") and data.count(b"\n") == 1
    assert json.loads(data) == {"message": "héllo", "level": "INFO"}


@pytest.mark.parametrize("size", [MAX_RECORD_BYTES, 1024 * 1024, 3 * 1024 * 1024])
def test_oversized_message_is_truncated_and_flagged_not_dropped(size):
    document = {"@timestamp": "2026-01-01T00:00:00Z", "id": "e1", "log_group": "/g", "message": "x" * size}
    data = encode_document(document)
    decoded = json.loads(data)
    assert len(data) <= MAX_RECORD_BYTES
    assert decoded["truncated"] is True and decoded["original_bytes"] > MAX_RECORD_BYTES
    assert decoded["message"].endswith(TRUNCATION_MARK) and decoded["message"].startswith("xxx")
    assert decoded["id"] == "e1" and decoded["log_group"] == "/g"


def test_multibyte_and_escaped_text_still_fits():
    # JSON escaping (\" and \u0000) and 4-byte characters make the encoded text longer than the input
    document = {"message": ('"\x00😀' * 400_000)}
    data = encode_document(document)
    assert len(data) <= MAX_RECORD_BYTES and json.loads(data)["truncated"] is True


def test_structured_document_without_text_field_keeps_its_body_as_text():
    document = {"id": "e2", "fields": {"blob": "y" * (2 * MAX_RECORD_BYTES)}}
    decoded = json.loads(encode_document(document))
    assert decoded["id"] == "e2" and decoded["truncated"] is True and '"blob"' in decoded["message"]


def test_lone_surrogates_do_not_raise():
    decoded = json.loads(encode_document({"message": "bad \udcff byte"}))
    assert decoded["message"].startswith("bad ")


def test_batches_respect_the_record_count_limit_in_order():
    records = [f"{i}\n".encode() for i in range(1234)]
    batches = list(iter_batches(records))
    assert [len(b) for b in batches] == [MAX_BATCH_RECORDS, MAX_BATCH_RECORDS, 234]
    assert [r for b in batches for r in b] == records


def test_batches_respect_the_byte_limit():
    record = b"z" * (900 * 1024)
    batches = list(iter_batches([record] * 10))
    assert all(sum(map(len, b)) <= MAX_BATCH_BYTES for b in batches)
    assert [len(b) for b in batches] == [4, 4, 2]


def test_no_records_no_batches():
    assert list(iter_batches([])) == []


@settings(max_examples=300, deadline=None)
@given(chunk=st.text(alphabet=st.sampled_from(['"', "\\", "\x00", "\n", "u", "a", "é", "€", "😀", "\udcff"]),
                     min_size=1, max_size=40),
       repeat=st.integers(min_value=0, max_value=300), limit=st.integers(min_value=300, max_value=2000),
       extra=st.booleans())
def test_a_cut_text_is_a_prefix_that_fills_the_record_up_to_a_whole_character_and_escape(chunk, repeat, limit, extra):
    # GIVEN a text too long for the limit, of quotes, backslashes, control, multi-byte and non-UTF-8 characters
    text = chunk * (limit // len(chunk) + 1 + repeat)
    document = {"@timestamp": "2026-01-01T00:00:00Z", "message": text, "id": "e1"}
    if extra:
        document["fields"] = {"blob": "y" * limit}
    # WHEN it is encoded
    data = encode_document(document, limit=limit)
    # THEN the record is valid JSON within the limit
    assert len(data) <= limit and data.endswith(b"\n")
    decoded = json.loads(data)
    kept = text.encode("utf-8", "replace").decode("utf-8")
    # AND the message is a prefix of the text, flagged, cut at most one escape short of the room
    assert decoded["truncated"] is True and decoded["message"].endswith(TRUNCATION_MARK)
    assert kept.startswith(decoded["message"][:-len(TRUNCATION_MARK)])
    assert decoded["original_bytes"] == len(json.dumps(document, ensure_ascii=False, separators=(",", ":"))
                                            .encode("utf-8", "replace")) + 1
    assert len(data) >= limit - 8 - 5
