"""The test matcher for CloudWatch Logs JSON filter patterns, against the documented examples."""

import pytest

from tests.support.cwl_filter import PatternSyntaxError, compile_pattern, matches

# The example events of the CloudWatch Logs User Guide, "Filter and pattern syntax".
DOC_EVENT = {
    "eventType": "UpdateTrail",
    "sourceIPAddress": "111.111.111.111",
    "arrayKey": ["value", "another value"],
    "objectList": [{"name": "a", "id": 1}, {"name": "b", "id": 2}],
    "SomeObject": None,
    "ThisFlag": True,
}
COMPOUND_EVENT = {
    "user": {"id": 1, "email": "John.Stiles@example.com"},
    "users": [{"id": 2, "email": "John.Doe@example.com"}, {"id": 3, "email": "Jane.Doe@example.com"}],
    "actions": ["GET", "PUT", "DELETE"],
    "coordinates": [[0, 1, 2], [4, 5, 6], [7, 8, 9]],
}


@pytest.mark.parametrize(
    "pattern",
    [
        '{ $.eventType = "UpdateTrail" }',
        "{ $.sourceIPAddress != 123.123.* }",
        '{ $.arrayKey[0] = "value" }',
        "{ $.objectList[1].id = 2 }",
        "{ $.SomeObject IS NULL }",
        "{ $.SomeOtherObject NOT EXISTS }",
        "{ $.ThisFlag IS TRUE }",
    ],
)
def test_documented_patterns_match_the_documented_event(pattern):
    # GIVEN the documented example event
    # WHEN a documented pattern is applied
    # THEN it matches
    assert matches(pattern, DOC_EVENT)


@pytest.mark.parametrize(
    "pattern, expected",
    [
        ('{ ($.user.id = 1) && ($.users[0].email = "John.Doe@example.com") }', True),
        ('{ ($.user.id = 2 && $.users[0].email = "nonmatch") || $.actions[2] = "GET" }', False),
        ('{ $.user.email = "John.Stiles@example.com" || $.coordinates[0][1] = nonmatch && $.actions[2] = nomatch }', True),
        ('{ ($.user.email = "John.Stiles@example.com" || $.coordinates[0][1] = nonmatch) && $.actions[2] = nomatch }', False),
    ],
)
def test_compound_conditions_follow_the_documented_precedence(pattern, expected):
    # GIVEN the documented compound example event
    # WHEN a documented compound pattern is applied
    # THEN && binds tighter than ||, and parentheses override it, as documented
    assert matches(pattern, COMPOUND_EVENT) is expected


@pytest.mark.parametrize(
    "value, pattern, expected",
    [
        ("PutEvent", "*Event", True),
        ("GetEvent", "*Event", True),
        ("EventName", "*Event", False),
        ("EventId", "Event*", True),
        ("PutEventX", "*Event*", True),
        ("Ev*ent", "Ev*ent", True),
        ("Event", "Ev*ent", False),
        ("anything", "*", True),
        ("Client.UnauthorizedOperation", '"*UnauthorizedOperation"', True),
        ("AccessDeniedException", '"AccessDenied*"', True),
        ("accessdenied", '"AccessDenied*"', False),
    ],
)
def test_wildcards_match_at_the_start_and_end_only(value, pattern, expected):
    # GIVEN an event whose field has a value
    # WHEN a string with a wildcard is compared to it
    # THEN * matches any text before or after, a * inside is literal, and case matters
    assert matches(f"{{ $.name = {pattern} }}", {"name": value}) is expected


@pytest.mark.parametrize(
    "event",
    [{}, {"x": None}, {"x": {"y": "No"}}, {"x": ["No"]}],
    ids=["missing", "null", "object", "array"],
)
def test_comparisons_on_non_value_nodes_are_false_for_both_operators(event):
    # GIVEN an event where the selector reaches no string or number
    # WHEN it is compared with = and with !=
    # THEN neither matches: the selector must point to a value node
    assert not matches('{ $.x = "Yes" }', event)
    assert not matches('{ $.x != "Yes" }', event)


def test_not_exists_and_is_null_tell_absence_from_null():
    # GIVEN one event without the field and one with it set to null
    absent, null = {"a": 1}, {"a": 1, "b": None}
    # THEN NOT EXISTS matches only the absent field, IS NULL only the null one
    assert matches("{ $.b NOT EXISTS }", absent) and not matches("{ $.b NOT EXISTS }", null)
    assert matches("{ $.b IS NULL }", null) and not matches("{ $.b IS NULL }", absent)


def test_numeric_comparisons_compare_numbers():
    # GIVEN an event with a numeric field
    event = {"latency": 1500, "code": 400}
    # THEN the numeric operators compare numerically
    assert matches("{ $.latency >= 500 }", event)
    assert matches("{ $.latency > +1000 }", event)
    assert not matches("{ $.latency < 10e2 }", event)
    assert matches("{ $.code = 400 } ", event)
    assert matches("{ $.code != 500 }", event)
    assert not matches("{ $.latency > 1 }", {"latency": "2000"})


def test_booleans_match_is_true_and_is_false():
    # GIVEN events with a boolean field
    # THEN IS TRUE and IS FALSE test it, and a string "true" is no boolean
    assert matches("{ $.f IS FALSE }", {"f": False})
    assert not matches("{ $.f IS TRUE }", {"f": False})
    assert not matches("{ $.f IS TRUE }", {"f": "true"})


def test_text_events_are_decoded_and_non_json_never_matches():
    # GIVEN an event as text and a line that is not JSON
    # THEN the text is decoded first, and the non-JSON line matches no JSON pattern
    assert matches("{ $.a = b }", '{"a": "b"}')
    assert not matches("{ $.a NOT EXISTS }", "plain text line")


@pytest.mark.parametrize(
    "pattern, message",
    [
        ("$.a = b", "enclosed in { }"),
        ("{ $.a }", "expected op"),
        ("{ $.a = }", "expected word"),
        ("{ ($.a = b }", "expected rparen"),
        ("{ $.a = b && }", "expected selector"),
        ("{ $.a IS MAYBE }", "expected NULL, TRUE or FALSE"),
        ("{ $.a > abc }", "needs a number"),
        ("{ $.a = b c }", "unexpected 'c'"),
    ],
)
def test_malformed_patterns_are_rejected(pattern, message):
    # WHEN a malformed pattern is compiled
    # THEN it is rejected with a message saying what is wrong
    with pytest.raises(PatternSyntaxError, match=message):
        compile_pattern(pattern)
