"""logship.firehose: records within Firehose's limits, batches within the per-call limits."""
from __future__ import annotations

import json

import pytest

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
