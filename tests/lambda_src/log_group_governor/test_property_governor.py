"""Property-based tests of the log group governor's event decoding and planning.

Any event is a new log group, an ignored one, a sweep, or a ``MalformedEvent`` (dead-lettered);
a sweep's cursor survives its round trip through the continuation event and a malformed one is a
``ValueError``; and whatever filters a log group already has, the governor never plans to take a
slot it must not take.
"""
from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from log_group_governor import events, planning

PROPERTY = settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
ACCOUNT, REGION = "111122223333", "eu-west-1"
DESTINATION = "arn:aws:lambda:eu-west-1:111122223333:function:shipper"

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12,
)
group_names = st.from_regex(r"[\.\-_/#A-Za-z0-9]{1,80}", fullmatch=True)


def _create_log_group(name: Any, *, account: str = ACCOUNT, region: str = REGION, **detail: Any) -> dict[str, Any]:
    return {
        "version": "0", "id": "e-1", "detail-type": "AWS API Call via CloudTrail", "source": "aws.logs",
        "account": account, "time": "2026-11-22T01:00:00Z", "region": region, "resources": [],
        "detail": {"eventSource": "logs.amazonaws.com", "eventName": "CreateLogGroup", "awsRegion": region,
                   "recipientAccountId": account, "requestParameters": {"logGroupName": name}, **detail},
    }


def _decoded_or_malformed(event: Any):
    try:
        return events.decode(event, account=ACCOUNT, region=REGION)
    except events.MalformedEvent as error:
        assert str(error)
        return None


@PROPERTY
@given(name=group_names)
def test_a_create_log_group_call_of_this_account_and_region_is_a_new_log_group(name):
    # GIVEN CloudTrail's CreateLogGroup event for a valid name / THEN that log group is to be governed
    assert events.decode(_create_log_group(name), account=ACCOUNT, region=REGION) == events.NewLogGroup(name, "e-1")


@PROPERTY
@given(name=group_names, account=st.text(max_size=12), region=st.text(max_size=12), error=st.none() | st.text(max_size=10))
def test_other_accounts_regions_and_failed_calls_are_ignored_not_governed(name, account, region, error):
    # GIVEN the same event for another account or region, or for a call that failed
    detail = {"errorCode": error} if error else {}
    decoded = _decoded_or_malformed(_create_log_group(name, account=account, region=region, **detail))
    # THEN only this account's and region's successful call yields a new log group; the rest is ignored
    if decoded is not None and not isinstance(decoded, events.Ignored):
        assert (account or "", region or "") in {(ACCOUNT, REGION)} and not error
        assert decoded == events.NewLogGroup(name, "e-1")


def _assert_decoded_or_malformed(event: Any) -> None:
    decoded = _decoded_or_malformed(event)
    # THEN it is one of the decoded kinds or a MalformedEvent; a new log group always has a valid name
    assert decoded is None or isinstance(decoded, (events.NewLogGroup, events.Ignored, events.SweepRequest))
    if isinstance(decoded, events.NewLogGroup):
        assert events.LOG_GROUP_NAME.match(decoded.name)


@PROPERTY
@given(event=json_values
       | json_values.map(lambda v: _create_log_group(v))
       | json_values.map(lambda v: {**_create_log_group("g"), "detail": v})
       | st.sampled_from(["detail-type", "source", "account", "region", "id"]).flatmap(
           lambda key: json_values.map(lambda v: {**_create_log_group("g"), key: v})))
def test_any_event_is_decoded_or_malformed(event):
    # GIVEN any event: not an object, names that are not strings, details and envelope fields of any type
    _assert_decoded_or_malformed(event)


@PROPERTY
@given(event=st.dictionaries(st.sampled_from(["source", "detail", "detail-type", "action", "id", "x"]),
                             json_values, max_size=5))
def test_any_partial_envelope_is_decoded_or_malformed(event):
    # GIVEN an object with any subset of EventBridge's envelope keys
    _assert_decoded_or_malformed(event)


counters = st.builds(planning.Counters, **{k: st.integers(0, 10**9) for k in planning.Counters().as_dict()})
cursors = st.builds(planning.Cursor, page_token=st.none() | st.text(max_size=50), last_done=st.none() | group_names,
                    counters=counters, invocation=st.integers(1, 10**6), started_at=st.none() | st.text(max_size=30))


@PROPERTY
@given(cursor=cursors)
def test_a_sweep_cursor_survives_its_continuation_event(cursor):
    # GIVEN where a sweep stopped / WHEN handed to a fresh invocation and read back / THEN nothing is lost
    event = cursor.to_event()
    assert events.is_sweep(event)
    assert planning.Cursor.from_event(event) == cursor


@PROPERTY
@given(raw=json_values | st.dictionaries(st.sampled_from(["page_token", "last_done", "counters", "invocation",
                                                          "started_at"]), json_values, max_size=5))
def test_a_malformed_cursor_is_reported(raw):
    # GIVEN a continuation event whose cursor has any shape
    # THEN a cursor, or the ValueError/TypeError the handler dead-letters ("malformed sweep cursor")
    try:
        planning.Cursor.from_event({"action": "sweep", "cursor": raw})
    except (ValueError, TypeError):
        pass


filters = st.lists(st.fixed_dictionaries({
    "filterName": st.sampled_from(["log-constructs-governor", "log-constructs-pipeline", "team-filter", "x"]),
    "destinationArn": st.sampled_from([DESTINATION, "arn:aws:lambda:eu-west-1:111122223333:function:other"]),
}), max_size=2)


@PROPERTY
@given(existing=filters)
def test_the_governor_never_takes_a_slot_it_must_not(existing):
    # GIVEN a log group's current filters (at most two)
    config = planning.Config(destination_arn=DESTINATION, role_arn=None)
    # WHEN it plans the subscription
    decision = planning.subscription_needed(existing, config)
    # THEN it subscribes only where not yet shipped there, and only into a free slot: never over a filter
    if decision.action == "subscribe":
        assert all(f["destinationArn"] != DESTINATION for f in existing)
        same_name = [f for f in existing if f["filterName"] == config.filter_name]
        assert not same_name and len(existing) < 2
    else:
        assert decision.outcome in (planning.COMPLIANT, planning.SKIPPED_NO_SLOT, planning.SKIPPED_FOREIGN_FILTER)
