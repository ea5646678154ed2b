"""Log group governor: a sweep over 1,000 log groups (500 with --quick) of which 90% already comply, next to a naive sweep.

Both sweeps run in both views (bench.common.VIEWS). The latency model adds a CloudWatch Logs round
trip to every call: the naive sweep slows by that much per call, ours hardly at all, because its
rate limiter already spaces the calls further apart (200 and 333 ms) than a round trip (10 ms).

Ours: the governor's handler with its default rate limits (DescribeLogGroups 5/s, PutRetentionPolicy 3/s).
Naive: page through every log group and call PutRetentionPolicy on each, as fast as it can.
Both run against the emulator through the fault proxy, which timestamps every call; the maximum
number of calls in any 1 s window comes from that history.
"""
from __future__ import annotations

import bisect
import math
import os
import time
from collections import defaultdict

from bench.common import EMULATOR_VIEW, MODELLED_VIEW, VIEWS, Row, quick, view
from bench.latency import ROUND_TRIP_MS

# Ours is paced by its rate limiter (about GROUPS / 50 / 5 + GROUPS / 10 / 3 seconds per sweep) and
# runs once per view: 1,000 groups keep `make bench` within its 10 minutes on a slow shared machine.
GROUPS = 500 if quick() else 1_000
OPERATIONS = ("DescribeLogGroups", "PutRetentionPolicy")
COMPLIANT_SHARE = 0.9
PAGE = 50


def max_per_second(history: list[tuple[float, str]], operation: str) -> int:
    """The most calls of ``operation`` in any window of 1 s (half-open) in the proxy's history."""
    times = sorted(t for t, op in history if op == operation)
    best = 0
    for i, start in enumerate(times):
        best = max(best, bisect.bisect_left(times, start + 1.0) - i)
    return best


def _ours(aws, governor, needing: int, rates: dict[str, float]) -> tuple[float, dict[str, int], dict[str, int]]:
    """(seconds, calls, peak calls in 1 s) of one sweep by the governor's handler."""
    from tests.support.governor_fixtures import FakeContext

    aws.proxy.clear()
    started = time.perf_counter()
    result = governor.handler({"action": "sweep"}, FakeContext(budget_ms=3_600_000))
    seconds = time.perf_counter() - started
    calls = dict(aws.proxy.calls)
    total = result["summary"]["sweep_total"]
    assert total["retention_set"] == needing and total["compliant"] == GROUPS - needing, total
    assert calls == {"DescribeLogGroups": math.ceil(GROUPS / PAGE), "PutRetentionPolicy": needing}, calls
    peak = {op: max_per_second(list(aws.proxy.history), op) for op in OPERATIONS}
    for op, n in peak.items():
        assert n <= rates[op], (op, n, rates[op])
    return seconds, calls, peak


def _naive(aws, logs) -> tuple[float, dict[str, int], dict[str, int]]:
    """The same for the naive sweep: PutRetentionPolicy on every group."""
    aws.proxy.clear()
    started = time.perf_counter()
    for page in logs.get_paginator("describe_log_groups").paginate(PaginationConfig={"PageSize": PAGE}):
        for group in page["logGroups"]:
            logs.put_retention_policy(logGroupName=group["logGroupName"], retentionInDays=30)
    seconds = time.perf_counter() - started
    return seconds, dict(aws.proxy.calls), {op: max_per_second(list(aws.proxy.history), op) for op in OPERATIONS}


def run() -> list[Row]:
    from bench.common import emulator

    aws = emulator()
    try:
        from tests.support.governor_fixtures import seed

        # Needs the emulator's endpoint in the environment before its boto3 clients are created.
        from log_group_governor import handler as governor
        from log_group_governor.contract import DEFAULT_RATE_LIMITS as DEFAULT_RATES

        import boto3

        needing = round(GROUPS * (1 - COMPLIANT_SHARE))
        os.environ.update({"RETENTION_DAYS": "30", "RETENTION_MODE": "missing", "DRY_RUN": "false",
                           "DEAD_LETTER_QUEUE_URL": "unused", "TIME_RESERVE_MS": "30000"})
        for key in ("DESTINATION_ARN", "INCLUDE", "EXCLUDE", "RATE_LIMITS", "ALWAYS_EXCLUDE"):
            os.environ.pop(key, None)

        logs = boto3.client("logs", endpoint_url=aws.url)
        runs = {}
        for name in VIEWS:
            for who in ("ours", "naive"):
                aws.reset()
                seed(aws, {"no_retention": needing, "compliant": GROUPS - needing})  # direct, not modelled
                with view(name, aws):
                    runs[name, who] = (_ours(aws, governor, needing, DEFAULT_RATES) if who == "ours"
                                       else _naive(aws, logs))
    finally:
        aws.proxy.stop()
        aws.server.stop()

    def at_quota(calls: dict[str, int]) -> float:
        # The least wall time a sweep needs if it never exceeds the configured rates.
        per_op: dict[str, float] = defaultdict(float)
        for op, n in calls.items():
            per_op[op] = n / DEFAULT_RATES[op]
        return sum(per_op.values())

    ours_calls, naive_calls = runs[EMULATOR_VIEW, "ours"][1], runs[EMULATOR_VIEW, "naive"][1]
    ours_peak, naive_peak = runs[EMULATOR_VIEW, "ours"][2], runs[EMULATOR_VIEW, "naive"][2]
    pages = math.ceil(GROUPS / PAGE)
    name = f"governor sweep ({GROUPS:,} log groups, {COMPLIANT_SHARE:.0%} compliant)"
    rows = [
        Row(name, "CloudWatch Logs API calls", sum(ours_calls.values()), sum(naive_calls.values()), "calls",
            higher_is_better=False,
            note=f"ours = {pages} pages + {needing} groups needing a change; naive = pages + a put per group"),
        Row(name, "least wall time within the rate limits", at_quota(ours_calls), at_quota(naive_calls), "s",
            higher_is_better=False, note="calls / configured rate per API (5 and 3 calls/s): what the naive sweep "
                                          "would need if it did not get throttled"),
    ]
    for view_name in VIEWS:
        ours_s, naive_s = runs[view_name, "ours"][0], runs[view_name, "naive"][0]
        model = ("the emulator never throttles the naive sweep" if view_name == EMULATOR_VIEW else
                 f"+ {ROUND_TRIP_MS['logs']:g} ms per call: the naive sweep pays it {sum(naive_calls.values()):,} "
                 f"times; ours hides it in the limiter's spacing")
        rows.append(Row(name, f"wall time, measured {view_name}", ours_s, naive_s, "s", higher_is_better=False,
                        note=f"ours is paced by its rate limiter; {model}"))
    return rows + [
        Row(name, "max PutRetentionPolicy calls in any 1 s", ours_peak["PutRetentionPolicy"],
            naive_peak["PutRetentionPolicy"], "calls/s", higher_is_better=False,
            note=f"configured limit {DEFAULT_RATES['PutRetentionPolicy']:g}/s (from the proxy's call history, "
                 f"emulator view; asserted in both)"),
        Row(name, "max DescribeLogGroups calls in any 1 s", ours_peak["DescribeLogGroups"],
            naive_peak["DescribeLogGroups"], "calls/s", higher_is_better=False,
            note=f"configured limit {DEFAULT_RATES['DescribeLogGroups']:g}/s"),
    ]
