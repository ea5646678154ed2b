"""The shipper's fast paths give exactly what the general ones give, for any message.

* A record written from parts (``to_records``) is byte for byte ``encode_document(document(...))``.
* The cheap checks in front of the level regexes never change a result: the same levels as the
  regexes run on every message.
* ``sanitize_fields``' shortcut for clean fields gives what the full sanitizer gives, and the text the
  fields were parsed from (which can spare the look at their values) never changes its verdict.
* ``json_object``, which parses in place, finds the object ``json.loads`` finds in the stripped message.
"""
from __future__ import annotations

import json

import pytest

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from log_shipper import fields as shipper_fields
from log_shipper import levels
from log_shipper.transform import document, to_records
from log_subscription import LogBatch, LogEvent, json_object
from logship.firehose import encode_document

PROPERTY = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
LEVELS = list(levels.LEVEL_NAMES) + ["error", "Info", "warnıng", "ſevere"]
any_text = st.text(alphabet=st.characters(codec=None, exclude_categories=()), max_size=200)
keys = st.text(alphabet=" .\t_aé\u3000", max_size=4) | st.sampled_from(["level", "message", "msg", "severity"])
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | any_text,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(keys, children, max_size=4), max_leaves=8)
json_objects = st.dictionaries(keys, json_values, max_size=6)
messages = st.one_of(
    any_text,
    st.builds(lambda level, text: f"[{level}] {text}", st.sampled_from(LEVELS), any_text),
    st.builds(lambda level, text: f"{level}:root:{text}", st.sampled_from(LEVELS), any_text),
    st.builds(lambda a, b, level, tail: f"{a}\t{b}\t{level}\t{tail}", any_text, any_text, st.sampled_from(LEVELS),
              any_text | json_objects.map(json.dumps)),
    st.builds(lambda pad, obj: pad + json.dumps(obj, ensure_ascii=False) + pad, st.sampled_from(["", " ", "\n"]),
              json_objects),
    st.binary(max_size=100).map(lambda b: b.decode("utf-8", "surrogateescape")),
)


def _regex_only_text_level(message: str) -> str | None:
    """The three regexes, each run on every message (what the cheap checks must agree with)."""
    match = levels.LAMBDA_TEXT.match(message)
    if match:
        return levels.normalize(match.group(3))
    head = message[:levels.MARKER_WINDOW]
    match = levels.MARKER.search(head) or levels.PY_DEFAULT.match(head)
    return levels.normalize(match.group(1)) if match else None


@PROPERTY
@given(events=st.lists(st.tuples(any_text.filter(bool), st.integers(-62_135_596_800_000, 253_402_300_799_999),
                                 messages), max_size=6),
       group=any_text, stream=any_text, owner=any_text)
def test_records_written_from_parts_are_the_general_paths_bytes(events, group, stream, owner):
    # GIVEN a batch of arbitrary messages and metadata (odd unicode, JSON, text formats, bad bytes)
    batch = LogBatch(owner, group, stream, "DATA_MESSAGE", [LogEvent(i, t, m) for i, t, m in events])
    # WHEN it becomes records
    records = to_records(batch).records
    # THEN each record is exactly what the general path (a dict, then encode_document) gives
    assert [data for _, data in records] == [encode_document(document(event, batch)) for event in batch.events]


@PROPERTY
@given(message=messages)
def test_the_cheap_checks_before_the_level_regexes_never_change_the_level(message):
    # GIVEN any message / WHEN its level is read / THEN it is the level the regexes alone give
    assert levels.text_level(message) == _regex_only_text_level(message)
    match = levels.LAMBDA_TEXT.match(message)
    assert levels.lambda_text(message) == (match.groups() if match else None)


def _loaded_object(message: str) -> object:
    stripped = message.strip()
    if not stripped.startswith("{"):
        return None
    try:
        value = json.loads(stripped)
    except (ValueError, RecursionError):
        return None
    return value if isinstance(value, dict) else None


@PROPERTY
@given(message=messages | st.builds(lambda pad, obj, tail: pad + json.dumps(obj) + tail,
                                    st.sampled_from(["", " ", "\u3000", "\x1c"]), json_objects,
                                    st.sampled_from(["", "\n", " \t", "\u2028", "x", "}", " {}"])))
def test_the_json_object_of_a_message_is_what_json_loads_finds_in_it_stripped(message):
    # GIVEN any message, JSON objects among them with whitespace (and not only whitespace) around
    # WHEN its JSON object is read / THEN it is json.loads' object of the stripped text, or None for both
    assert json_object(message) == _loaded_object(message)


@PROPERTY
@given(fields=json_objects)
def test_the_shortcut_for_clean_fields_gives_what_the_full_sanitizer_gives(fields):
    # GIVEN any decoded JSON object / WHEN sanitized / THEN the same as without the shortcut
    reference = shipper_fields._Sanitizer()
    expected = (reference.object(fields, 1, ""), reference.overflow)
    assert shipper_fields.sanitize_fields(dict(fields)) == expected


@PROPERTY
@given(fields=json_objects, prefix=st.sampled_from(["", " ", "2026-11-22T01:45:00.000Z\tr-1\tINFO\t"]),
       ensure_ascii=st.booleans())
def test_the_text_fields_were_parsed_from_never_changes_whether_they_are_clean(fields, prefix, ensure_ascii):
    # GIVEN any decoded JSON object and a text that holds it (as a JSON line or Lambda's text format's tail)
    source = prefix + json.dumps(fields, ensure_ascii=ensure_ascii)
    # WHEN its cleanliness is judged with the text's help / THEN it is the verdict without it
    assert shipper_fields.is_clean(fields, source) == shipper_fields.is_clean(fields)


def _nested(depth: int, leaf: object) -> object:
    value = leaf
    for level in range(depth):
        value = {f"k{level}": value} if level % 3 else [value]
    return value


@pytest.mark.parametrize("depth", [17, 18, 19, 20, 21, 22])
@pytest.mark.parametrize("leaf", [1, {"a": 1}, [1, {"b": [2]}]])
def test_the_shortcut_agrees_with_the_sanitizer_at_the_depth_limit(depth, leaf):
    # GIVEN objects and arrays nested around the depth limit / WHEN sanitized / THEN as without the shortcut
    fields = {"top": _nested(depth, leaf), "other": "x"}
    reference = shipper_fields._Sanitizer()
    assert shipper_fields.sanitize_fields(fields) == (reference.object(fields, 1, ""), reference.overflow)


@pytest.mark.parametrize("keys", [shipper_fields.MAX_JSON_KEYS - 2, shipper_fields.MAX_JSON_KEYS - 1,
                                  shipper_fields.MAX_JSON_KEYS, shipper_fields.MAX_JSON_KEYS + 1])
def test_the_shortcut_agrees_with_the_sanitizer_at_the_key_budget_across_levels(keys):
    # GIVEN keys spread over nested objects and arrays, around the key budget
    fields = {"a": {f"n{i}": i for i in range(keys // 2)}, "b": [{f"m{i}": i for i in range(keys - keys // 2 - 2)}]}
    reference = shipper_fields._Sanitizer()
    # WHEN sanitized / THEN as without the shortcut: overflow exactly when the budget is passed
    result = shipper_fields.sanitize_fields(fields)
    assert result == (reference.object(fields, 1, ""), reference.overflow)
    assert bool(result[1]) == (keys > shipper_fields.MAX_JSON_KEYS)
