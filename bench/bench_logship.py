"""logship handlers against watchtower: cost of ``logger.info`` in the calling thread, records
delivered per second by the sender, and records dropped, in one 50,000-record burst.

Every handler talks to an in-process client, so only the handlers' own work counts, in two views
measured in the same run:

- emulator view (``bench.common.EMULATOR_VIEW``; here: the client answers at once);
- modelled view (``bench.common.MODELLED_VIEW``): each call sleeps the modelled round trip of ``bench/latency.py``
  (``PutLogEvents`` 10 ms, ``PutRecordBatch`` 20 ms) before answering.

Each side runs at its default settings: ``logship.CloudWatchLogsHandler`` and
``logship.FirehoseHandler`` as they come, ``watchtower.CloudWatchLogHandler`` (the handler users
pick instead, unbounded queue, one sender thread per stream) with only ``boto3_client`` given and
``create_log_group=False`` (the stub has no paginators). watchtower ships to CloudWatch Logs only:
it is the baseline of both logship handlers.

- calling-thread cost: ``logger.info`` with a message argument and two ``extra`` fields, timed call
  by call with ``perf_counter_ns`` while the handler ships in the background (median and p99);
- records/s delivered: from the first call until the client has received the last record (the
  burst, then ``flush()``);
- dropped: the burst's records the client never received.

Each measurement runs in a child process of its own; the three handlers run interleaved, round
after round, and each figure is the median over the rounds. ``BENCH_LOGSHIP_SRC`` points the child
processes at another copy of ``lambda_src`` (to measure an older logship in the same run).
"""
from __future__ import annotations

import json
import logging
import os
import statistics
import subprocess
import sys
import time
from typing import Any

from bench.common import MODELLED_VIEW, ROOT, VIEWS, Row
from bench.latency import round_trip_seconds

RECORDS = 50_000
ROUNDS = 3
GROUP = "/bench/logship"
STREAM = "bench-logs"
KINDS = ("watchtower", "CloudWatchLogsHandler", "FirehoseHandler")


class StubLogs:
    """An in-process CloudWatch Logs client: counts the events it is given, after ``delay`` seconds."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.received = 0

    def put_log_events(self, **kwargs: Any) -> dict[str, Any]:
        if self.delay:
            time.sleep(self.delay)
        self.received += len(kwargs["logEvents"])
        return {}

    def create_log_stream(self, **kwargs: Any) -> dict[str, Any]:
        return {}

    def create_log_group(self, **kwargs: Any) -> dict[str, Any]:
        return {}

    def describe_log_streams(self, **kwargs: Any) -> dict[str, Any]:
        return {"logStreams": []}


class StubFirehose:
    """An in-process Firehose client: accepts every record, after ``delay`` seconds."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.received = 0

    def put_record_batch(self, **kwargs: Any) -> dict[str, Any]:
        if self.delay:
            time.sleep(self.delay)
        self.received += len(kwargs["Records"])
        return {"FailedPutCount": 0, "Encrypted": False}


def _handler(kind: str, modelled: bool) -> tuple[logging.Handler, Any]:
    if kind == "null":
        return logging.NullHandler(), None
    if kind == "watchtower":
        import watchtower

        client = StubLogs(round_trip_seconds("logs") if modelled else 0.0)
        return watchtower.CloudWatchLogHandler(log_group_name=GROUP, log_stream_name="bench", boto3_client=client,
                                               create_log_group=False), client
    import logship

    if kind == "FirehoseHandler":
        client = StubFirehose(round_trip_seconds("firehose") if modelled else 0.0)
        return logship.FirehoseHandler(STREAM, client=client), client
    client = StubLogs(round_trip_seconds("logs") if modelled else 0.0)
    return logship.CloudWatchLogsHandler(GROUP, log_stream_name="bench", client=client), client


def _child(kind: str, modelled: bool, count: int) -> dict[str, float]:
    handler, client = _handler(kind, modelled)
    logger = logging.getLogger("bench.logship")
    logger.setLevel(logging.INFO)
    logger.propagate = False
    logger.addHandler(handler)
    costs = [0.0] * count
    clock = time.perf_counter_ns
    started = time.perf_counter()
    for seq in range(count):
        before = clock()
        logger.info("order %s accepted", seq, extra={"seq": seq, "customer": "c-42"})
        costs[seq] = (clock() - before) / 1000
    handler.flush()
    received = client.received if client else count
    elapsed = time.perf_counter() - started
    logger.removeHandler(handler)
    handler.close()
    return {"median": statistics.median(costs), "p99": statistics.quantiles(costs, n=100)[98],
            "rate": received / elapsed, "dropped": count - received}


def _in_child(kind: str, modelled: bool, count: int = RECORDS) -> dict[str, float]:
    src = os.environ.get("BENCH_LOGSHIP_SRC", str(ROOT / "lambda_src"))
    result = subprocess.run([sys.executable, "-m", "bench.bench_logship", kind, str(int(modelled)), str(count)],
                            cwd=ROOT, env={**os.environ, "PYTHONPATH": f"{src}{os.pathsep}{ROOT}"},
                            capture_output=True, text=True, timeout=600, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def _median(runs: list[dict[str, float]]) -> dict[str, float]:
    return {key: statistics.median(run[key] for run in runs) for key in runs[0]}


def run() -> list[Row]:
    floor = _median([_in_child("null", False) for _ in range(ROUNDS)])
    floor_note = f"floor (NullHandler): median {floor['median']:.1f} µs, p99 {floor['p99']:.1f} µs"
    rows: list[Row] = []
    for view in VIEWS:  # the same labels as every benchmark, so the picture and the table tell the views apart
        modelled = view == MODELLED_VIEW
        runs: dict[str, list[dict[str, float]]] = {kind: [] for kind in KINDS}
        for _ in range(ROUNDS):  # interleaved: the machine's load changes during the run
            for kind in KINDS:
                runs[kind].append(_in_child(kind, modelled))
        base = _median(runs["watchtower"])
        for kind in KINDS[1:]:
            ours = _median(runs[kind])
            name = f"logship {kind} vs watchtower"
            trip = "" if not modelled else (f"; {round_trip_seconds('firehose' if kind == 'FirehoseHandler' else 'logs') * 1000:.0f} ms "
                                            f"per call (watchtower {round_trip_seconds('logs') * 1000:.0f} ms)")
            rows += [
                Row(name, f"logger.info median, burst {view}", ours["median"], base["median"], "µs", higher_is_better=False,
                    note=f"{RECORDS:,} records as fast as possible, median of {ROUNDS}; {floor_note}"),
                Row(name, f"logger.info p99, burst {view}", ours["p99"], base["p99"], "µs", higher_is_better=False),
                Row(name, f"records delivered per second {view}", ours["rate"], base["rate"], "records/s",
                    note=f"first call until the client received the last record{trip}"),
                Row(name, f"records dropped {view}", ours["dropped"], base["dropped"], f"of {RECORDS:,}", higher_is_better=False,
                    note="default settings (logship: 8 MiB queue; watchtower: unbounded queue)"),
            ]
    return rows


if __name__ == "__main__":
    if os.environ.get("BENCH_LOGSHIP_SRC"):  # ahead of the lambda_src that bench.common put first
        sys.path.insert(0, os.environ["BENCH_LOGSHIP_SRC"])
    print(json.dumps(_child(sys.argv[1], sys.argv[2] == "1", int(sys.argv[3]))))
