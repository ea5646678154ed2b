"""The shipper's redaction, for any batch of messages:

* it never drops a document: one record per event, with the event's id, in order;
* a line the rules find nothing in is shipped byte for byte as with redaction off;
* the pre-check never says "no" for a line a rule masks, and its batch form agrees with the line form.
"""
from __future__ import annotations

import json
import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from log_shipper.contract import ShipperConfig
from log_shipper.redact import Redaction, redacted_records
from log_subscription import LogBatch, LogEvent
from redaction import Redactor
from redaction.precheck import LONG_LINE, PreCheck, _occurs, anchor_passes, literal_pattern

PROPERTY = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
REDACTION = Redaction.from_config(ShipperConfig("s", "q", redact_patterns={"customer_id": r"CUST-\d{6}"},
                                                redact_secret_keys=("ssn",)))
REDACTOR = Redactor.build(extra={"customer_id": r"CUST-\d{6}"}, secret_keys=("ssn",))
PRECHECK = PreCheck(REDACTOR)
# Fragments that make matches likely, mixed with anything.
FRAGMENTS = ["password=", "pass", '"token": "', "Bearer ", "abcdefgh12345", "@", "example.com", "4111 1111 1111 1111",
             "4111111111111111", "4.111111111111111e15", "AKIA", "IOSFODNN7EXAMPLE", "eyJ", "\\u0040", "%40", "ssn:",
             "CUST-123456", "://u:p@h", "9e8f", "-----BEGIN PRIVATE KEY-----", "ghp_", "0" * 13, " ", "\t", "\n", "{", "}"]
any_text = st.text(alphabet=st.characters(codec=None, exclude_categories=()), max_size=40)
pieces = st.lists(st.sampled_from(FRAGMENTS) | any_text, max_size=8).map("".join)
json_lines = st.dictionaries(st.sampled_from(["message", "password", "ssn", "card", "user", "p\\u0061ss"]),
                             st.integers() | st.floats(allow_nan=False) | pieces, max_size=4).map(
    lambda d: json.dumps(d).replace("p\\\\u0061ss", "p\\u0061ss"))
messages = pieces | json_lines | st.builds(lambda a, b: f"2026-11-22T01:45:07.007Z\t{a}\tINFO\t{b}", any_text, pieces)
long_messages = st.builds(lambda head, tail: head + "z" * LONG_LINE + tail, pieces, pieces)


def _batch(lines: list[str]) -> tuple[LogBatch, list[LogEvent]]:
    events = [LogEvent(f"{n:04d}", 1763775838000 + n, line) for n, line in enumerate(lines)]
    return LogBatch("123456789012", "/aws/lambda/x", "s", "DATA_MESSAGE", events), events


@PROPERTY
@given(st.lists(messages | long_messages, max_size=12))
def test_redaction_never_drops_a_document_and_never_changes_a_line_without_a_match(lines):
    # GIVEN any batch of messages
    batch, events = _batch(lines)
    # WHEN it is encoded with and without redaction
    masked, _ = redacted_records(REDACTION, batch, events, region="eu-west-1")
    plain, _ = redacted_records(None, batch, events, region="eu-west-1")
    # THEN every event has exactly one record, in order
    assert [event_id for event_id, _ in masked.records] == [event_id for event_id, _ in plain.records]
    assert len(masked.records) == len(events)
    for event, (_, data), (_, original) in zip(events, masked.records, plain.records):
        _, counts = REDACTOR.redact(event.message)
        if not counts:
            # AND a line with nothing to mask is shipped exactly as without redaction
            assert data == original
        else:
            assert json.loads(data)["redacted"] == sorted(counts)


@PROPERTY
@given(st.lists(messages | long_messages, max_size=12))
def test_the_pre_check_never_skips_a_line_a_rule_masks(lines):
    flags = PRECHECK.flags(lines)
    assert flags == [PRECHECK.maybe(line) for line in lines]
    for line, maybe in zip(lines, flags):
        if not maybe:
            assert REDACTOR.redact(line)[1] == {}, line


@PROPERTY
@given(data=st.data())
def test_a_literal_is_found_from_its_rarest_character_exactly_when_it_is_in_the_text(data):
    # GIVEN a literal of the pre-check and a text of its own characters (its rarest often more than 8 times)
    literal = data.draw(st.sampled_from(PRECHECK.literals))
    pieces = st.sampled_from([literal, literal[:-1], literal[1:], *literal, " "])
    text = "".join(data.draw(st.lists(pieces, max_size=40)))
    # WHEN it is looked for / THEN it is found exactly when ``in`` finds it
    assert _occurs(literal, text) == (literal in text)


@PROPERTY
@given(data=st.data())
def test_the_literal_patterns_find_one_exactly_when_one_is_in_the_text(data):
    # GIVEN some of the pre-check's literals and a text made of pieces of them (and of others)
    literals = data.draw(st.lists(st.sampled_from(PRECHECK.literals), min_size=1, max_size=8, unique=True))
    pieces = st.sampled_from([*PRECHECK.literals, *(literal[:-1] for literal in PRECHECK.literals), "\n", " "])
    text = "".join(data.draw(st.lists(pieces | any_text, max_size=12)))
    present = any(literal in text for literal in literals)
    # WHEN the pattern of them all searches it / THEN it finds a place exactly when a literal is in the text
    assert (literal_pattern(literals).search(text) is not None) == present
    # AND so do the patterns of each anchor, together
    assert any(pattern.search(text) is not None for _, pattern in anchor_passes(literals)) == present


def test_every_literal_is_anchored_once_and_the_anchors_are_few():
    # GIVEN the pre-check's literals / WHEN they are split into passes by anchor
    passes = anchor_passes(PRECHECK.literals)
    anchors = [anchor for anchor, _ in passes]
    # THEN each pattern starts with its anchor (re scans for it alone), there are fewer passes than
    # literals, and every literal is found by the pass of an anchor it holds
    assert all(pattern.pattern.startswith(re.escape(anchor)) for anchor, pattern in passes)
    assert len(set(anchors)) == len(anchors) < len(set(PRECHECK.literals)) / 2
    for literal in PRECHECK.literals:
        assert any(anchor in literal and pattern.search(literal) for anchor, pattern in passes), literal
