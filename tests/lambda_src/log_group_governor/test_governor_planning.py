"""The governor's pure logic: exclusions, retention and subscription decisions, cursor, rate limiter."""
from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from log_group_governor.events import Ignored, MalformedEvent, NewLogGroup, SweepRequest, decode
from log_group_governor.planning import (
    COMPLIANT,
    SKIPPED_FOREIGN_FILTER,
    SKIPPED_NO_SLOT,
    Config,
    ConfigError,
    Counters,
    Cursor,
    GovernorConfig,
    exclusion_reason,
    retention_needed,
    subscription_needed,
)
from log_group_governor.ratelimit import RateLimiter, TokenBucket, parse_rates

OURS = "arn:aws:lambda:us-east-1:123456789012:function:shipper"
OTHER = "arn:aws:lambda:us-east-1:123456789012:function:archiver"


def test_always_excluded_groups_win_over_include() -> None:
    # GIVEN an include that names everything, and the shipper's own group among the always-excluded
    config = Config(include=("/",), always_excluded_names=frozenset({"/aws/lambda/shipper"}))
    # THEN the library's and the destination's groups are excluded, others (even with that prefix) are not
    assert exclusion_reason("/log-constructs/LoggingPlatform-Governor", config)
    assert exclusion_reason("/aws/lambda/shipper", config)
    assert exclusion_reason("/aws/lambda/shipper-v2", config) is None
    assert exclusion_reason("/aws/lambda/orders", config) is None


@pytest.mark.parametrize("name, include, exclude, excluded", [
    ("/aws/lambda/orders", ("/aws/lambda/",), (), False),
    ("/aws/ecs/orders", ("/aws/lambda/",), (), True),
    ("/aws/lambda/tmp-123", (), ("/aws/lambda/tmp-*",), True),
    ("/aws/lambda/tmpl", (), ("/aws/lambda/tmp-*",), False),
    ("/aws/lambda/a1", ("/aws/lambda/a?",), (), False),
])
def test_include_and_exclude_take_prefixes_and_globs(name: str, include: tuple, exclude: tuple, excluded: bool) -> None:
    assert (exclusion_reason(name, Config(include=include, exclude=exclude)) is not None) is excluded


@pytest.mark.parametrize("mode, current, expected", [
    ("missing", None, 30), ("missing", 3653, None), ("missing", 7, None), ("missing", 30, None),
    ("max", None, 30), ("max", 3653, 30), ("max", 7, None), ("max", 30, None),
])
def test_retention_modes(mode: str, current: int | None, expected: int | None) -> None:
    group = {"logGroupName": "g"} if current is None else {"logGroupName": "g", "retentionInDays": current}
    assert retention_needed(group, Config(retention_days=30, retention_mode=mode)) == expected


def f(name: str, destination: str) -> dict[str, str]:
    return {"filterName": name, "destinationArn": destination}


@pytest.mark.parametrize("filters, filter_name, action, outcome", [
    ([], "log-constructs-governor", "subscribe", None),
    ([f("x", OURS)], "log-constructs-governor", None, COMPLIANT),  # already shipped there, any name
    ([f("a", OTHER)], "log-constructs-governor", "subscribe", None),
    ([f("a", OTHER), f("b", OTHER)], "log-constructs-governor", None, SKIPPED_NO_SLOT),
    # the governor's name, another destination: a second governor's (or anyone's) filter, never replaced
    ([f("log-constructs-governor", OTHER)], "log-constructs-governor", None, SKIPPED_FOREIGN_FILTER),
    ([f("log-constructs-pipeline", OTHER)], "log-constructs-pipeline", None, SKIPPED_FOREIGN_FILTER),
])
def test_subscription_decisions_never_take_a_foreign_filter(filters: list, filter_name: str,
                                                            action: str | None, outcome: str | None) -> None:
    config = Config(destination_arn=OURS, filter_name=filter_name)
    decision = subscription_needed(filters, config)
    assert (decision.action, decision.outcome) == (action, outcome)


def test_config_from_environment_rejects_a_retention_cloudwatch_logs_does_not_accept() -> None:
    with pytest.raises(ConfigError, match="RETENTION_DAYS must be one of"):
        GovernorConfig.from_environment({"RETENTION_DAYS": "31"})
    config = Config.from_contract(
        GovernorConfig.from_environment({"RETENTION_DAYS": "30", "INCLUDE": "/aws/, /ecs/", "ALWAYS_EXCLUDE": "/x"}))
    assert config.include == ("/aws/", "/ecs/") and config.always_excluded_names == {"/x"}
    assert config.always_excluded == ("/log-constructs/",)


def test_cursor_round_trips_and_rejects_garbage() -> None:
    cursor = Cursor(page_token="t", last_done="/aws/lambda/b", counters=Counters(scanned=3), invocation=2)
    assert Cursor.from_event(cursor.to_event()) == cursor
    with pytest.raises(ValueError):
        Cursor.from_event({"action": "sweep", "cursor": {"page_token": 5}})


def test_decode_recognises_sweeps_and_ignores_other_regions() -> None:
    assert isinstance(decode({}, account="1", region="r"), SweepRequest)
    event = {"source": "aws.logs", "detail-type": "AWS API Call via CloudTrail", "account": "1", "region": "r",
             "detail": {"eventSource": "logs.amazonaws.com", "eventName": "CreateLogGroup", "awsRegion": "r",
                        "recipientAccountId": "1", "requestParameters": {"logGroupName": "/a"}}}
    assert decode(event, account="1", region="r") == NewLogGroup("/a", "")
    assert isinstance(decode(event, account="1", region="other"), Ignored)
    event["detail"]["requestParameters"]["logGroupName"] = "bad name!"
    with pytest.raises(MalformedEvent):
        decode(event, account="1", region="r")


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.calls: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_token_bucket_spaces_calls_to_the_rate() -> None:
    # GIVEN a bucket of 4 calls/s on a fake clock
    clock = FakeClock()
    bucket = TokenBucket(4.0, clock=clock, sleep=clock.sleep)
    # WHEN 20 calls acquire back to back
    times = []
    for _ in range(20):
        bucket.acquire()
        times.append(clock.now)
    # THEN no window of 1 s holds more than 4 of them
    assert max(sum(1 for t in times if start <= t < start + 1.0) for start in times) == 4
    assert times[-1] == pytest.approx(19 / 4 * 1.10)  # paced 10% under the rate (jitter guard)


def test_rate_limiter_retries_throttling_only() -> None:
    clock = FakeClock()
    limiter = RateLimiter(rates={"Op": 100.0}, sleep=clock.sleep, max_attempts=3)
    attempts = []

    def throttled() -> str:
        attempts.append(1)
        if len(attempts) < 3:
            raise ClientError({"Error": {"Code": "ThrottlingException"}}, "Op")
        return "ok"

    assert limiter.call("Op", throttled) == "ok" and limiter.throttled == 2

    def denied() -> None:
        raise ClientError({"Error": {"Code": "AccessDeniedException"}}, "Op")

    with pytest.raises(ClientError):
        limiter.call("Op", denied)
    assert limiter.throttled == 2


def test_parse_rates_overrides_defaults() -> None:
    assert parse_rates("PutRetentionPolicy=1.5")["PutRetentionPolicy"] == 1.5
    with pytest.raises(ValueError):
        parse_rates("PutRetentionPolicy=0")
