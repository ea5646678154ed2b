"""Log group governor: a sweep over 5,000 log groups of which 90% already comply, next to a naive sweep.

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

from bench.common import Row

GROUPS = 5_000
COMPLIANT_SHARE = 0.9
PAGE = 50


def max_per_second(history: list[tuple[float, str]], operation: str) -> int:
    """The most calls of ``operation`` in any window of 1 s (half-open) in the proxy's history."""
    times = sorted(t for t, op in history if op == operation)
    best = 0
    for i, start in enumerate(times):
        best = max(best, bisect.bisect_left(times, start + 1.0) - i)
    return best


def run() -> list[Row]:
    from bench.common import emulator

    aws = emulator()
    try:
        from tests.support.governor_fixtures import FakeContext, seed

        # Needs the emulator's endpoint in the environment before its boto3 clients are created.
        from log_group_governor import handler as governor
        from log_group_governor.contract import DEFAULT_RATE_LIMITS as DEFAULT_RATES

        needing = round(GROUPS * (1 - COMPLIANT_SHARE))
        seed(aws, {"no_retention": needing, "compliant": GROUPS - needing})
        os.environ.update({"RETENTION_DAYS": "30", "RETENTION_MODE": "missing", "DRY_RUN": "false",
                           "DEAD_LETTER_QUEUE_URL": "unused", "TIME_RESERVE_MS": "30000"})
        for key in ("DESTINATION_ARN", "INCLUDE", "EXCLUDE", "RATE_LIMITS", "ALWAYS_EXCLUDE"):
            os.environ.pop(key, None)

        # --- ours ------------------------------------------------------------------------------
        aws.proxy.clear()
        started = time.perf_counter()
        result = governor.handler({"action": "sweep"}, FakeContext(budget_ms=3_600_000))
        ours_seconds = time.perf_counter() - started
        ours_calls = dict(aws.proxy.calls)
        ours_history = list(aws.proxy.history)
        pages = math.ceil(GROUPS / PAGE)
        total = result["summary"]["sweep_total"]
        assert total["retention_set"] == needing and total["compliant"] == GROUPS - needing, total
        assert ours_calls == {"DescribeLogGroups": pages, "PutRetentionPolicy": needing}, ours_calls
        ours_peak = {op: max_per_second(ours_history, op) for op in ("DescribeLogGroups", "PutRetentionPolicy")}
        for op, peak in ours_peak.items():
            assert peak <= DEFAULT_RATES[op], (op, peak, DEFAULT_RATES[op])

        # --- naive: PutRetentionPolicy on every group -------------------------------------------
        import boto3

        logs = boto3.client("logs", endpoint_url=aws.url)
        aws.proxy.clear()
        started = time.perf_counter()
        for page in logs.get_paginator("describe_log_groups").paginate(PaginationConfig={"PageSize": PAGE}):
            for group in page["logGroups"]:
                logs.put_retention_policy(logGroupName=group["logGroupName"], retentionInDays=30)
        naive_seconds = time.perf_counter() - started
        naive_calls = dict(aws.proxy.calls)
        naive_history = list(aws.proxy.history)
        naive_peak = {op: max_per_second(naive_history, op) for op in ("DescribeLogGroups", "PutRetentionPolicy")}
    finally:
        aws.proxy.stop()
        aws.server.stop()

    def at_quota(calls: dict[str, int]) -> float:
        # The least wall time a sweep needs if it never exceeds the configured rates.
        per_op: dict[str, float] = defaultdict(float)
        for op, n in calls.items():
            per_op[op] = n / DEFAULT_RATES[op]
        return sum(per_op.values())

    name = "governor sweep (5,000 log groups, 90% compliant)"
    return [
        Row(name, "CloudWatch Logs API calls", sum(ours_calls.values()), sum(naive_calls.values()), "calls",
            higher_is_better=False,
            note=f"ours = {pages} pages + {needing} groups needing a change; naive = pages + a put per group"),
        Row(name, "wall time, measured", ours_seconds, naive_seconds, "s", higher_is_better=False,
            note="ours is paced by its rate limiter; the emulator never throttles the naive sweep"),
        Row(name, "least wall time within the rate limits", at_quota(ours_calls), at_quota(naive_calls), "s",
            higher_is_better=False, note="calls / configured rate per API (5 and 3 calls/s): what the naive sweep "
                                          "would need if it did not get throttled"),
        Row(name, "max PutRetentionPolicy calls in any 1 s", ours_peak["PutRetentionPolicy"],
            naive_peak["PutRetentionPolicy"], "calls/s", higher_is_better=False,
            note=f"configured limit {DEFAULT_RATES['PutRetentionPolicy']:g}/s (from the proxy's call history)"),
        Row(name, "max DescribeLogGroups calls in any 1 s", ours_peak["DescribeLogGroups"],
            naive_peak["DescribeLogGroups"], "calls/s", higher_is_better=False,
            note=f"configured limit {DEFAULT_RATES['DescribeLogGroups']:g}/s"),
    ]
