"""The log group governor's function against the AWS emulator (every call through the fault proxy)."""
from __future__ import annotations

import functools
import json
import logging
from pathlib import Path
from typing import Any

import pytest

from log_group_governor import handler as governor
from log_group_governor.ratelimit import RateLimiter
from tests.support.fault_proxy import Request, Response
from tests.support.governor_fixtures import (
    TARGET_RETENTION,
    FakeContext,
    create_central_destination,
    create_lambda_destination,
    seed,
    snapshot,
)

FAST = "DescribeLogGroups=2000,DescribeSubscriptionFilters=2000,PutRetentionPolicy=2000,PutSubscriptionFilter=2000"


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, aws: Any) -> Any:
    queue_url = aws.client("sqs", direct=True).create_queue(QueueName="governor-dlq")["QueueUrl"]
    settings = {
        "RETENTION_DAYS": str(TARGET_RETENTION),
        "RETENTION_MODE": "missing",
        "DRY_RUN": "false",
        "RATE_LIMITS": FAST,
        "TIME_RESERVE_MS": "30000",
        "DEAD_LETTER_QUEUE_URL": queue_url,
        "EXCLUDE": "/aws/sandbox/",
        "FILTER_NAME": "log-constructs-governor",
    }
    for key, value in settings.items():
        monkeypatch.setenv(key, value)
    for key in ("DESTINATION_ARN", "INCLUDE", "ALWAYS_EXCLUDE"):
        monkeypatch.delenv(key, raising=False)
    return settings


class Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    @property
    def messages(self) -> list[str]:
        return [r.getMessage() for r in self.records]


@pytest.fixture
def logged() -> Any:
    """The governor's log records (Powertools writes them to the stdout it saw at import)."""
    records = Records()
    governor.logger.addHandler(records)
    yield records
    governor.logger.removeHandler(records)


def dead_letters(aws: Any, queue_url: str) -> list[dict[str, Any]]:
    messages = aws.client("sqs", direct=True).receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)
    return [json.loads(m["Body"]) for m in messages.get("Messages", [])]


def capture_invokes(aws: Any) -> list[dict[str, Any]]:
    """Answer Lambda Invoke calls like the service does for InvocationType=Event, keeping the payloads."""
    payloads: list[dict[str, Any]] = []

    def respond(request: Request, forward: Any) -> Response | None:
        if not request.path.endswith("/invocations"):
            return None
        payloads.append(json.loads(request.body))
        return Response(202, {"Content-Type": "application/json"}, b"")

    aws.proxy.add("*", respond)
    return payloads


MIXED = {"no_retention": 300, "longer": 200, "shorter": 200, "compliant": 300, "subscribed": 300,
         "one_foreign": 200, "both_slots_taken": 200, "excluded_by_user": 150, "library": 150}


def test_sweep_brings_2000_log_groups_in_mixed_states_into_compliance(aws: Any, env: Any, monkeypatch: Any) -> None:
    # GIVEN 2,000 log groups in every state, a Lambda destination, and an include that also names the
    # library's own prefix (which must not win over the always-excluded loop-prone groups)
    ours = create_lambda_destination(aws, "shipper")
    foreign = create_lambda_destination(aws, "someone-elses-archiver")
    population = seed(aws, MIXED, ours=ours, foreign=foreign)
    monkeypatch.setenv("DESTINATION_ARN", ours)
    monkeypatch.setenv("INCLUDE", "/aws/,/log-constructs/")
    before = snapshot(aws)
    aws.proxy.clear()

    # WHEN one sweep runs
    result = governor.handler({"action": "sweep"}, FakeContext())

    # THEN every group that needed something got exactly that, and nothing else was touched
    after = snapshot(aws)
    for name, state in population.names.items():
        old, new = before[name], after[name]
        if state in ("excluded_by_user", "library"):
            assert new == old, name
            continue
        expected_retention = TARGET_RETENTION if old["retention"] is None else old["retention"]
        assert new["retention"] == expected_retention, name
        for filter_name, destination in old["filters"].items():  # foreign filters are never removed or replaced
            assert new["filters"][filter_name] == destination, name
        if state == "both_slots_taken":
            assert new["filters"] == old["filters"], name
        else:
            assert ours in new["filters"].values(), name
    counts = {state: len(population.of(state)) for state in MIXED}
    needs_subscription = sum(counts[s] for s in ("no_retention", "longer", "shorter", "compliant", "one_foreign"))
    governed = sum(counts.values()) - counts["excluded_by_user"] - counts["library"]
    assert result["status"] == "done"
    assert result["summary"]["sweep_total"] == {
        "scanned": 2000, "excluded": 300, "pages": 40,
        "retention_set": counts["no_retention"] + counts["both_slots_taken"],
        "subscribed": needs_subscription,
        "skipped_no_slot": counts["both_slots_taken"], "skipped_foreign_filter": 0, "opted_out": 0,
        "compliant": counts["subscribed"], "failed": 0,
    }
    # AND the calls are exactly the pages, one filter lookup per governed group, and the changes
    assert aws.proxy.calls["DescribeLogGroups"] == 40
    assert aws.proxy.calls["DescribeSubscriptionFilters"] == governed
    assert aws.proxy.calls["PutRetentionPolicy"] == counts["no_retention"] + counts["both_slots_taken"]
    assert aws.proxy.calls["PutSubscriptionFilter"] == needs_subscription


def test_retention_only_sweep_makes_no_call_for_a_compliant_group_and_max_mode_shortens(aws: Any, env: Any,
                                                                                     monkeypatch: Any) -> None:
    # GIVEN groups without retention, with a longer and with a shorter one, and compliant ones; "max" mode
    population = seed(aws, {"no_retention": 60, "longer": 70, "shorter": 40, "compliant": 130})
    monkeypatch.setenv("RETENTION_MODE", "max")
    aws.proxy.clear()

    # WHEN a sweep runs
    result = governor.handler({"action": "sweep"}, FakeContext())

    # THEN longer retention is shortened, missing set, shorter left alone
    after = snapshot(aws, with_filters=False)
    assert {n for n in population.names if after[n]["retention"] == TARGET_RETENTION} == set(
        population.of("no_retention") + population.of("longer") + population.of("compliant"))
    assert all(after[n]["retention"] == 7 for n in population.of("shorter"))
    # AND calls = pages read + groups that needed a change, nothing else
    assert aws.proxy.calls["DescribeLogGroups"] == 6  # 300 groups / 50 per page
    assert aws.proxy.calls["PutRetentionPolicy"] == 130
    assert sum(aws.proxy.calls.values()) == 6 + 130
    assert result["summary"]["sweep_total"]["compliant"] == 170


def test_dry_run_reports_what_would_change_and_changes_nothing(aws: Any, env: Any, monkeypatch: Any,
                                                                logged: Any) -> None:
    # GIVEN groups that need retention and a subscription, and dry_run on
    ours = create_lambda_destination(aws, "shipper")
    seed(aws, {"no_retention": 30, "compliant": 20})
    monkeypatch.setenv("DESTINATION_ARN", ours)
    monkeypatch.setenv("DRY_RUN", "true")
    before = snapshot(aws)
    aws.proxy.clear()

    # WHEN a sweep runs
    result = governor.handler({"action": "sweep"}, FakeContext())

    # THEN nothing changed, no write call was made, and the summary says what would have changed
    assert snapshot(aws) == before
    assert aws.proxy.calls["PutRetentionPolicy"] == aws.proxy.calls["PutSubscriptionFilter"] == 0
    assert result["summary"]["dry_run"] is True
    assert result["summary"]["sweep_total"]["retention_set"] == 30
    assert result["summary"]["sweep_total"]["subscribed"] == 50
    assert logged.messages.count("dry run: would set retention") == 30
    assert logged.messages.count("dry run: would subscribe") == 50


def test_throttled_calls_are_retried_with_backoff_and_nothing_is_lost(aws: Any, env: Any, capsys: Any) -> None:
    # GIVEN 20 groups without retention and CloudWatch Logs throttling the next 3 PutRetentionPolicy calls
    population = seed(aws, {"no_retention": 20})
    aws.proxy.clear()
    aws.proxy.throttle("PutRetentionPolicy", times=3)

    # WHEN a sweep runs
    result = governor.handler({"action": "sweep"}, FakeContext())

    # THEN every group got its retention; the 3 throttled calls were retried, none failed
    after = snapshot(aws, with_filters=False)
    assert all(after[n]["retention"] == TARGET_RETENTION for n in population.names)
    assert aws.proxy.calls["PutRetentionPolicy"] == 23
    assert result["summary"]["throttled_retries"] == 3
    assert result["summary"]["sweep_total"]["failed"] == 0
    # AND the EMF metrics of the run were printed
    output = capsys.readouterr().out
    emf = [json.loads(line) for line in output.splitlines() if '"_aws"' in line]
    assert emf and emf[-1]["RetentionSet"] in ([20.0], 20.0)


def test_a_group_still_throttled_after_every_retry_is_counted_failed_and_the_sweep_goes_on(aws: Any, env: Any,
                                                                                       monkeypatch: Any) -> None:
    # GIVEN 5 groups and a PutRetentionPolicy that is throttled 6 times in a row (the retry budget)
    population = seed(aws, {"no_retention": 5})
    monkeypatch.setattr(governor, "RateLimiter", functools.partial(RateLimiter, base_delay=0.01))
    aws.proxy.clear()
    aws.proxy.throttle("PutRetentionPolicy", times=6)

    # WHEN a sweep runs
    result = governor.handler({"action": "sweep"}, FakeContext())

    # THEN the first group is counted failed, the other four are fixed
    after = snapshot(aws, with_filters=False)
    names = sorted(population.names)
    assert after[names[0]]["retention"] is None
    assert all(after[n]["retention"] == TARGET_RETENTION for n in names[1:])
    assert result["summary"]["sweep_total"]["failed"] == 1
    assert result["summary"]["sweep_total"]["retention_set"] == 4


def test_sweep_cut_short_by_the_timeout_continues_in_a_fresh_invocation_without_doing_anything_twice(
        aws: Any, env: Any, monkeypatch: Any) -> None:
    # GIVEN 300 groups needing retention and a subscription, and a Lambda whose time runs short after 120 of them
    ours = create_lambda_destination(aws, "shipper")
    population = seed(aws, {"no_retention": 300})
    monkeypatch.setenv("DESTINATION_ARN", ours)
    aws.proxy.clear()
    invokes = capture_invokes(aws)

    def remaining() -> int:
        return 60_000 if aws.proxy.calls["PutSubscriptionFilter"] < 120 else 20_000  # below the 30 s reserve

    # WHEN the first invocation runs out of time
    first = governor.handler({"action": "sweep"}, FakeContext(remaining))

    # THEN it hands a cursor to a fresh asynchronous invocation of itself
    assert first["status"] == "continued"
    assert len(invokes) == 1 and invokes[0]["cursor"]["counters"]["retention_set"] == 120

    # WHEN that invocation runs (with plenty of time)
    second = governor.handler(invokes[0], FakeContext())

    # THEN the sweep completes, every group complies, and no group was looked at or changed twice:
    # 300 calls of each kind for 300 groups that all needed both changes means one of each per group
    assert second["status"] == "done"
    assert len(invokes) == 1
    after = snapshot(aws)
    assert all(after[n] == {"retention": TARGET_RETENTION, "filters": {"log-constructs-governor": ours}}
               for n in population.names)
    assert aws.proxy.calls["PutRetentionPolicy"] == 300
    assert aws.proxy.calls["PutSubscriptionFilter"] == 300
    assert aws.proxy.calls["DescribeSubscriptionFilters"] == 300
    assert second["summary"]["sweep_total"]["retention_set"] == 300
    assert second["summary"]["sweep_total"]["scanned"] == 300
    assert second["summary"]["this_invocation"]["retention_set"] == 180


def load(events_dir: Path, name: str) -> dict[str, Any]:
    return json.loads((events_dir / name).read_text())


def test_create_log_group_event_governs_the_new_group_at_once(aws: Any, env: Any, monkeypatch: Any,
                                                             events_dir: Path) -> None:
    # GIVEN a new log group and a destination
    ours = create_lambda_destination(aws, "shipper")
    monkeypatch.setenv("DESTINATION_ARN", ours)
    aws.client("logs", direct=True).create_log_group(logGroupName="/aws/lambda/orders-api")
    aws.proxy.clear()

    # WHEN its CloudTrail CreateLogGroup event arrives
    result = governor.handler(load(events_dir, "governor_create_log_group.json"), FakeContext())

    # THEN it has the retention and the subscription
    group = snapshot(aws)["/aws/lambda/orders-api"]
    assert group == {"retention": TARGET_RETENTION, "filters": {"log-constructs-governor": ours}}
    assert result["summary"]["this_invocation"]["retention_set"] == 1
    assert result["summary"]["this_invocation"]["subscribed"] == 1


@pytest.mark.parametrize("event_file, reason", [
    ("governor_create_log_group_other_account.json", "account 210987654321"),
    ("governor_create_log_group_other_region.json", "region eu-west-1"),
    ("governor_create_log_group_failed_call.json", "ResourceAlreadyExistsException"),
])
def test_events_for_another_account_or_region_or_a_failed_call_are_ignored_with_a_log_line(
        aws: Any, env: Any, events_dir: Path, logged: Any, event_file: str, reason: str) -> None:
    # GIVEN a log group with that name in this account and region (it must not be touched)
    aws.client("logs", direct=True).create_log_group(logGroupName="/aws/lambda/orders-api")
    aws.proxy.clear()

    # WHEN the event arrives
    result = governor.handler(load(events_dir, event_file), FakeContext())

    # THEN it is ignored, logged with the reason, and no call was made
    assert result["status"] == "ignored" and reason in result["reason"]
    assert sum(aws.proxy.calls.values()) == 0
    assert "event ignored" in logged.messages
    assert dead_letters(aws, env["DEAD_LETTER_QUEUE_URL"]) == []


@pytest.mark.parametrize("event", [
    "governor_create_log_group_malformed.json",
    {"source": "aws.logs", "detail-type": "AWS API Call via CloudTrail", "detail": "not an object"},
    {"hello": "world"},
    {"action": "sweep", "cursor": "not an object"},
    ["not", "a", "mapping"],
])
def test_malformed_events_go_to_the_dead_letter_queue_and_never_crash(aws: Any, env: Any, events_dir: Path,
                                                                       event: Any) -> None:
    # GIVEN a malformed event
    payload = load(events_dir, event) if isinstance(event, str) else event

    # WHEN it arrives
    result = governor.handler(payload, FakeContext())

    # THEN the handler returns normally and the event is in the dead-letter queue with the reason
    assert result["status"] == "dead-lettered"
    letters = dead_letters(aws, env["DEAD_LETTER_QUEUE_URL"])
    assert len(letters) == 1 and letters[0]["event"] == payload and letters[0]["reason"]


def test_a_new_log_group_of_the_library_itself_is_never_subscribed(aws: Any, env: Any, monkeypatch: Any,
                                                                   events_dir: Path) -> None:
    # GIVEN the shipper's own log group is created (subscribing it to the shipper would loop)
    ours = create_lambda_destination(aws, "shipper")
    monkeypatch.setenv("DESTINATION_ARN", ours)
    monkeypatch.setenv("INCLUDE", "/")
    aws.client("logs", direct=True).create_log_group(logGroupName="/log-constructs/LoggingPlatform-Shipper")
    event = load(events_dir, "governor_create_log_group.json")
    event["detail"]["requestParameters"]["logGroupName"] = "/log-constructs/LoggingPlatform-Shipper"
    aws.proxy.clear()

    # WHEN its CreateLogGroup event arrives
    result = governor.handler(event, FakeContext())

    # THEN nothing is changed on it
    assert result["summary"]["this_invocation"]["excluded"] == 1
    assert aws.proxy.calls["PutSubscriptionFilter"] == aws.proxy.calls["PutRetentionPolicy"] == 0
    assert snapshot(aws)["/log-constructs/LoggingPlatform-Shipper"] == {"retention": None, "filters": {}}


def test_a_foreign_filter_with_the_governors_name_and_another_destination_is_left_alone(
        aws: Any, env: Any, monkeypatch: Any) -> None:
    # GIVEN a log group whose filter has the governor's name but sends elsewhere (someone else's filter)
    ours = create_lambda_destination(aws, "shipper")
    theirs = create_lambda_destination(aws, "someone-elses-archiver")
    logs = aws.client("logs", direct=True)
    logs.create_log_group(logGroupName="/aws/lambda/orders-api")
    logs.put_subscription_filter(logGroupName="/aws/lambda/orders-api", filterName="log-constructs-governor",
                                 filterPattern="", destinationArn=theirs)
    monkeypatch.setenv("DESTINATION_ARN", ours)
    aws.proxy.clear()

    # WHEN the governor sweeps
    result = governor.handler({"action": "sweep"}, FakeContext())

    # THEN that filter still sends to its destination, counted as a skipped foreign filter
    assert snapshot(aws)["/aws/lambda/orders-api"]["filters"] == {"log-constructs-governor": theirs}
    assert aws.proxy.calls["PutSubscriptionFilter"] == 0
    assert result["summary"]["this_invocation"]["skipped_foreign_filter"] == 1


def test_two_governors_with_the_same_filter_name_do_not_swap_each_others_logs(
        aws: Any, env: Any, monkeypatch: Any) -> None:
    # GIVEN two governors (same filter name, different destinations) and log groups neither has subscribed
    first = create_lambda_destination(aws, "first-shipper")
    second = create_lambda_destination(aws, "second-shipper")
    logs = aws.client("logs", direct=True)
    for name in ("/aws/lambda/orders-api", "/aws/lambda/billing-api"):
        logs.create_log_group(logGroupName=name)

    # WHEN the first sweeps, then the second, then the first again
    summaries = []
    for destination in (first, second, first):
        monkeypatch.setenv("DESTINATION_ARN", destination)
        summaries.append(governor.handler({"action": "sweep"}, FakeContext())["summary"]["this_invocation"])

    # THEN every group still ships to the first governor's destination: the second never replaced it
    groups = snapshot(aws)
    assert all(groups[n]["filters"] == {"log-constructs-governor": first}
               for n in ("/aws/lambda/orders-api", "/aws/lambda/billing-api"))
    assert [s["subscribed"] for s in summaries] == [2, 0, 0]
    assert summaries[1]["skipped_foreign_filter"] == 2 and summaries[2]["compliant"] == 2


def test_a_library_log_group_in_always_exclude_is_neither_shortened_nor_subscribed(
        aws: Any, env: Any, monkeypatch: Any) -> None:
    # GIVEN max mode and the audit trail's log group (a generated name, 365 days) listed in ALWAYS_EXCLUDE
    ours = create_lambda_destination(aws, "shipper")
    trail = "Platform-AuditLogGroup1A2B3C4D-AbCdEfGhIjKl"
    logs = aws.client("logs", direct=True)
    logs.create_log_group(logGroupName=trail)
    logs.put_retention_policy(logGroupName=trail, retentionInDays=365)
    monkeypatch.setenv("DESTINATION_ARN", ours)
    monkeypatch.setenv("RETENTION_MODE", "max")
    monkeypatch.setenv("ALWAYS_EXCLUDE", f"/aws/lambda/shipper,{trail}")
    aws.proxy.clear()

    # WHEN the governor sweeps
    result = governor.handler({"action": "sweep"}, FakeContext())

    # THEN the group keeps its retention and gets no filter
    assert snapshot(aws)[trail] == {"retention": 365, "filters": {}}
    assert aws.proxy.calls["PutSubscriptionFilter"] == aws.proxy.calls["PutRetentionPolicy"] == 0
    assert result["summary"]["this_invocation"]["excluded"] == 1


def test_a_destination_of_the_central_account_is_subscribed_with_the_senders_role_and_recognised_as_ours(
        aws: Any, env: Any, monkeypatch: Any) -> None:
    # GIVEN the central account's destination, the member's sender role, and member log groups: an
    # application's, the library's own, and one whose governor-named filter sends to another destination
    central = create_central_destination(aws)
    other = create_central_destination(aws, "another-central")
    sender = aws.client("iam", direct=True).create_role(
        RoleName="CloudWatchLogsCanSend", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    logs = aws.client("logs", direct=True)
    for name in ("/aws/lambda/orders-api", "/log-constructs/Member-Forwarder-Function", "/aws/lambda/billing-api"):
        logs.create_log_group(logGroupName=name)
    logs.put_subscription_filter(logGroupName="/aws/lambda/billing-api", filterName="log-constructs-governor",
                                 filterPattern="", destinationArn=other)
    monkeypatch.setenv("DESTINATION_ARN", central)
    monkeypatch.setenv("DESTINATION_ROLE_ARN", sender)
    requests: list[dict[str, Any]] = []
    aws.proxy.clear()
    aws.proxy.add("PutSubscriptionFilter", lambda request, forward: (requests.append(request.json()), forward(request))[1])

    # WHEN the governor sweeps twice
    first = governor.handler({"action": "sweep"}, FakeContext())["summary"]["this_invocation"]
    second = governor.handler({"action": "sweep"}, FakeContext())["summary"]["this_invocation"]

    # THEN only the application's group ships to the central destination, through the sender's role
    groups = snapshot(aws)
    assert groups["/aws/lambda/orders-api"]["filters"] == {"log-constructs-governor": central}
    assert groups["/log-constructs/Member-Forwarder-Function"]["filters"] == {}
    assert groups["/aws/lambda/billing-api"]["filters"] == {"log-constructs-governor": other}
    assert [(r["destinationArn"], r["roleArn"]) for r in requests] == [(central, sender)]
    assert central.startswith("arn:aws:logs:us-east-1:111111111111:destination:")
    # AND the second sweep sees its filter (destination ARN equal) as its own: no call, nothing skipped twice
    assert first["subscribed"] == 1 and first["skipped_foreign_filter"] == 1
    assert second["subscribed"] == 0 and second["compliant"] >= 1 and len(requests) == 1
