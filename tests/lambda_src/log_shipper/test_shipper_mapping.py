"""The shipper's documents against the set-up function's index template: no log line can make the
shared daily index refuse later documents (OpenSearch's mapping rules modelled in tests.support)."""
from __future__ import annotations

import json

import pytest

from log_shipper.transform import MAX_JSON_DEPTH, MAX_JSON_KEYS, OVERFLOW_FIELD, sanitize_fields, to_records
from log_subscription import LogBatch, LogEvent
from opensearch_setup import documents
from opensearch_setup.props import IndexTemplateSettings
from tests.support.opensearch_mapping import Index, Refused

TEMPLATE = IndexTemplateSettings("logs", ("logs*",), shards=1, replicas=0, field_limit=2000)


def shipped(*messages: str, log_group: str = "/aws/lambda/orders") -> list[dict]:
    batch = LogBatch("123456789012", log_group, "2026/11/22/[$LATEST]abc", "DATA_MESSAGE",
                     [LogEvent(f"id-{n}", 1763775838123 + n, m) for n, m in enumerate(messages)])
    return [json.loads(data) for _, data in to_records(batch).records]


def index_of(mappings: dict | None = None) -> Index:
    return Index(mappings or documents.index_template(TEMPLATE)["template"]["mappings"], TEMPLATE.field_limit)


def without_json_mapping() -> dict:
    """The template as it was before ``json`` was mapped: dynamic, with date detection."""
    mappings = json.loads(json.dumps(documents.index_template(TEMPLATE)["template"]["mappings"]))
    del mappings["properties"]["json"], mappings["date_detection"]
    return mappings


def depth(value) -> int:
    if isinstance(value, dict):
        return 1 + max((depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((depth(v) for v in value), default=0)
    return 0


CONFLICTS = [
    pytest.param({"user": {"id": 7}}, {"user": "alice"}, id="object-vs-string"),
    pytest.param({"user": "alice"}, {"user": {"id": 7}}, id="string-vs-object"),
    pytest.param({"status": 200}, {"status": "ok"}, id="long-vs-string"),
    pytest.param({"at": "2026-11-22"}, {"at": "yesterday"}, id="detected-date-vs-string"),
]


@pytest.mark.parametrize("first, second", CONFLICTS)
def test_two_services_logging_one_key_with_different_types_are_both_indexed(first, second):
    # GIVEN two services that log the same JSON key with different types, into one daily index
    orders = shipped(json.dumps({"message": "a", **first}), log_group="/aws/lambda/orders")
    billing = shipped(json.dumps({"message": "b", **second}), log_group="/aws/lambda/billing")
    index = index_of()
    # WHEN both are indexed, in either order / THEN neither is refused, and the fields stay in _source
    index.index(orders[0])
    index.index(billing[0])
    assert (orders[0]["json"], billing[0]["json"]) == (first, second)
    # (the model refuses the second one with json mapped dynamically: the test can tell)
    old = index_of(without_json_mapping())
    old.index(orders[0])
    with pytest.raises(Refused):
        old.index(billing[0])


def test_a_document_with_5000_distinct_keys_is_accepted_and_later_documents_too():
    # GIVEN a log line with 5,000 distinct keys
    fields = {f"key_{n}": n for n in range(5000)}
    doc, = shipped(json.dumps({"message": "wide", **fields}))
    # THEN at most MAX_JSON_KEYS keys stay structured; the rest are one JSON string, nothing is lost
    assert len(doc["json"]) == MAX_JSON_KEYS
    overflow = json.loads(doc[OVERFLOW_FIELD])
    assert {**doc["json"], **overflow} == fields
    # AND the index accepts it, and later wide documents with other keys, far from the field limit
    later = [shipped(json.dumps({f"{name}_{n}": n for n in range(5000)}))[0] for name in ("b", "c")]
    index = index_of()
    for each in (doc, *later):
        index.index(each)
    assert len(index.types) < 100
    # (with json mapped dynamically, the field limit refuses the second, even with the keys capped)
    old = index_of(without_json_mapping())
    old.index(doc)
    with pytest.raises(Refused, match="total fields"):
        old.index(later[0])


def test_keys_are_capped_across_nested_objects_with_their_path():
    # GIVEN nested objects holding more keys than the cap in total
    fields = {"a": {f"k{n}": n for n in range(MAX_JSON_KEYS)}, "b": {"c": 1}, "d": 2}
    clean, overflow = sanitize_fields(fields)
    # THEN the first MAX_JSON_KEYS keys (counting "a") stay, the rest are kept by dotted path
    assert len(clean["a"]) == MAX_JSON_KEYS - 1
    assert overflow == {f"a.k{MAX_JSON_KEYS - 1}": MAX_JSON_KEYS - 1, "b": {"c": 1}, "d": 2}


@pytest.mark.parametrize("fields, expected", [
    pytest.param({"": 1}, {"_": 1}, id="empty"),
    pytest.param({" ": 1}, {"_": 1}, id="blank"),
    pytest.param({".a": 1}, {"_.a": 1}, id="leading-dot"),
    pytest.param({"a.": 1}, {"a._": 1}, id="trailing-dot"),
    pytest.param({"a..b": 1}, {"a._.b": 1}, id="double-dot"),
    pytest.param({".": 1, "...": 2}, {"_._": 1, "_._._._": 2}, id="only-dots"),
    pytest.param({"a. .b": 1}, {"a._.b": 1}, id="blank-part"),
    pytest.param({"x": {"": {"y.": 1}}}, {"x": {"_": {"y._": 1}}}, id="nested"),
    pytest.param({"": 1, "_": 2}, {"__": 1, "_": 2}, id="no-key-lost-on-a-clash"),
    pytest.param({"log.level": "info", "a": [{"": 1}]}, {"log.level": "info", "a": [{"_": 1}]}, id="kept-and-in-arrays"),
])
def test_keys_opensearch_refuses_are_renamed(fields, expected):
    # GIVEN a JSON log line with keys OpenSearch's document parser refuses
    doc, = shipped(json.dumps(fields))
    # THEN they are renamed, values kept, and the document is accepted
    assert doc["json"] == expected
    index_of().index(doc)
    # (the model refuses the original keys, under the same template)
    if fields != expected:
        with pytest.raises(Refused):
            index_of().index({"json": fields})


def test_objects_nested_deeper_than_the_depth_limit_are_kept_as_json_text():
    # GIVEN a JSON log line nested 30 levels deep, with a sibling at the top
    deep: dict = {"leaf": 1}
    for level in range(30):
        deep = {f"l{level}": deep}
    doc, = shipped(json.dumps({"top": "kept", **deep}))
    # THEN `json` (level 1) holds at most MAX_JSON_DEPTH levels; the deeper part is its JSON text
    assert depth(doc["json"]) == MAX_JSON_DEPTH
    node = doc["json"]
    while isinstance(node, dict):
        (key, node), = ((k, v) for k, v in node.items() if k != "top")
    assert isinstance(node, str) and json.loads(node)
    assert doc["json"]["top"] == "kept"
    index_of().index(doc)
    with pytest.raises(Refused, match="depth"):
        index_of().index({"json": {"top": "kept", **deep}})


def test_arrays_and_dotted_keys_count_towards_the_depth():
    # GIVEN nesting through arrays, and one key with more dots than the depth limit allows
    nested: list = [1]
    for _ in range(30):
        nested = [nested]
    dotted = ".".join(f"p{n}" for n in range(25))
    clean, _ = sanitize_fields({"list": nested, dotted: 1})
    # THEN both are within the limit and the document is accepted
    assert depth(clean) <= MAX_JSON_DEPTH
    assert clean[dotted.replace(".", "_")] == 1
    index_of().index({"json": clean})


def test_ordinary_fields_are_passed_through_unchanged():
    # GIVEN a typical structured log line / THEN the shipper keeps its fields exactly
    fields = {"level": "INFO", "service": "orders", "cold_start": True, "items": [{"sku": "a", "qty": 2}],
              "http": {"status": 200, "path": "/orders"}, "log.level": "info"}
    clean, overflow = sanitize_fields(fields)
    assert clean == fields and overflow == {}
