"""logship handlers: cost of ``logger.info`` in the calling thread, and records delivered per second.

Each logship handler is measured next to a handler that calls the same API once per record in the
calling thread (what a naive ``logging.Handler`` does), in the same run, against the same emulator
(moto in server mode behind the fault proxy on 127.0.0.1, no faults injected).

- calling-thread cost: ``logger.info`` with a message argument and two ``extra`` fields, timed call
  by call with ``perf_counter_ns``, while the handler ships in the background (median and p99), at a
  steady 2,000 records/s ("steady") and as fast as the loop goes ("burst"). In a burst the calling
  thread never releases the GIL, so the sender thread takes it by force (the interpreter's 5 ms
  switch interval) and the calls that happen to be interrupted make the burst p99.
- records/s delivered: the burst's records, then ``flush()``; the rate counts from the first call
  until the destination has accepted the last record.
- the floor: ``logger.info`` with a ``NullHandler`` in the same run (what the stdlib costs anyway).

The emulator runs in this process (``bench.common.emulator()``); every measurement runs in a child
process of its own, so that moto's request handling does not compete for the calling thread's GIL.
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

from bench.common import ROOT, Row, emulator

STREAM = "bench-logs"
BUCKET = "bench-logs-backup"
GROUP = "/bench/logship"
OURS_RECORDS = 20_000
STEADY_RECORDS = 4_000
STEADY_INTERVAL_S = 0.0005
BASELINE_RECORDS = 300


class _PerRecord(logging.Handler):
    """Baseline: one API call per record, in the calling thread."""

    def __init__(self, client: Any, formatter: logging.Formatter) -> None:
        super().__init__()
        self.client = client
        self.setFormatter(formatter)
        self.delivered_records = 0


class PerRecordFirehose(_PerRecord):
    """One ``PutRecord`` per record."""

    def emit(self, record: logging.LogRecord) -> None:
        self.client.put_record(DeliveryStreamName=STREAM, Record={"Data": (self.format(record) + "\n").encode()})
        self.delivered_records += 1


class PerRecordCloudWatch(_PerRecord):
    """One ``PutLogEvents`` per record."""

    def emit(self, record: logging.LogRecord) -> None:
        self.client.put_log_events(logGroupName=GROUP, logStreamName="baseline",
                                   logEvents=[{"timestamp": int(record.created * 1000), "message": self.format(record)}])
        self.delivered_records += 1


def _measure(handler: logging.Handler, count: int, interval_s: float = 0.0) -> tuple[list[float], float]:
    """Per-call cost (µs) of ``count`` logger.info calls and the delivered records per second."""
    logger = logging.getLogger(f"bench.{type(handler).__name__}")
    logger.setLevel(logging.INFO)
    logger.propagate = False
    logger.addHandler(handler)
    costs: list[float] = []
    clock = time.perf_counter_ns
    try:
        started = time.perf_counter()
        for seq in range(count):
            before = clock()
            logger.info("order %s accepted", seq, extra={"seq": seq, "customer": "c-42"})
            costs.append((clock() - before) / 1000)
            if interval_s:
                time.sleep(interval_s)
        handler.flush()
        elapsed = time.perf_counter() - started
    finally:
        logger.removeHandler(handler)
    delivered = getattr(handler, "delivered_records", count)
    return costs, delivered / elapsed


def _p99(values: list[float]) -> float:
    return statistics.quantiles(values, n=100)[98]


def _handler(kind: str) -> logging.Handler:
    """Built in the child process; the endpoint comes from ``AWS_ENDPOINT_URL`` (the emulator)."""
    import boto3
    from botocore.config import Config

    from logship import CloudWatchLogsHandler, FirehoseHandler, JsonFormatter

    def client(service: str) -> Any:
        return boto3.client(service, config=Config(retries={"max_attempts": 1, "mode": "standard"}))

    if kind == "null":
        return logging.NullHandler()
    if kind == "FirehoseHandler":
        return FirehoseHandler(STREAM, client=client("firehose"), max_queue_records=OURS_RECORDS)
    if kind == "CloudWatchLogsHandler":
        return CloudWatchLogsHandler(GROUP, log_stream_name=f"ours-{os.getpid()}", client=client("logs"),
                                     max_queue_records=OURS_RECORDS)
    if kind == "PerRecordFirehose":
        return PerRecordFirehose(client("firehose"), JsonFormatter())
    return PerRecordCloudWatch(client("logs"), JsonFormatter())


def _child(kind: str, count: int, interval_s: float) -> None:
    handler = _handler(kind)
    costs, rate = _measure(handler, count, interval_s)
    delivered = getattr(handler, "delivered_records", count)
    handler.close()
    print(json.dumps({"median": statistics.median(costs), "p99": _p99(costs), "rate": rate,
                      "lost": count - delivered}))


def _in_child(kind: str, count: int, interval_s: float = 0.0) -> dict[str, float]:
    result = subprocess.run([sys.executable, "-m", "bench.bench_logship", kind, str(count), str(interval_s)],
                            cwd=ROOT, env={**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{ROOT / 'lambda_src'}"},
                            capture_output=True, text=True, timeout=600, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def run() -> list[Row]:
    emu = emulator()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # the emulator's access log
    try:
        emu.client("s3", direct=True).create_bucket(Bucket=BUCKET)
        emu.client("firehose", direct=True).create_delivery_stream(
            DeliveryStreamName=STREAM, DeliveryStreamType="DirectPut",
            ExtendedS3DestinationConfiguration={"RoleARN": "arn:aws:iam::123456789012:role/firehose",
                                                "BucketARN": f"arn:aws:s3:::{BUCKET}"})
        logs = emu.client("logs", direct=True)
        logs.create_log_group(logGroupName=GROUP)
        logs.create_log_stream(logGroupName=GROUP, logStreamName="baseline")

        floor = _in_child("null", OURS_RECORDS)
        steady_floor = _in_child("null", STEADY_RECORDS, STEADY_INTERVAL_S)
        floor_note = (f"floor (NullHandler, same run): median {steady_floor['median']:.1f} µs, "
                      f"p99 {steady_floor['p99']:.1f} µs")
        burst_floor_note = f"floor (NullHandler, same run): median {floor['median']:.1f} µs, p99 {floor['p99']:.1f} µs"
        rows: list[Row] = []
        for name, baseline_kind in (("FirehoseHandler", "PerRecordFirehose"),
                                    ("CloudWatchLogsHandler", "PerRecordCloudWatch")):
            steady = _in_child(name, STEADY_RECORDS, STEADY_INTERVAL_S)
            burst = _in_child(name, OURS_RECORDS)
            base = _in_child(baseline_kind, BASELINE_RECORDS)
            bench_name = f"logship {name}"
            rows += [
                Row(bench_name, "logger.info median, steady 2,000/s", steady["median"], base["median"], "µs",
                    higher_is_better=False, note=f"{STEADY_RECORDS:,} records; {floor_note}"),
                Row(bench_name, "logger.info p99, steady 2,000/s", steady["p99"], base["p99"], "µs",
                    higher_is_better=False, note="expected under 50 µs"),
                Row(bench_name, "logger.info median, burst", burst["median"], base["median"], "µs",
                    higher_is_better=False, note=f"{OURS_RECORDS:,} records as fast as possible; {burst_floor_note}"),
                Row(bench_name, "logger.info p99, burst", burst["p99"], base["p99"], "µs", higher_is_better=False,
                    note="includes calls interrupted by the sender thread taking the GIL"),
                Row(bench_name, "records delivered per second", burst["rate"], base["rate"], "records/s",
                    note=f"burst, {burst['lost']:.0f} not delivered (queue {OURS_RECORDS:,}); baseline: "
                         f"{BASELINE_RECORDS} records, one API call each in the calling thread; expected ≥ 50×"),
            ]
        return rows
    finally:
        emu.proxy.stop()
        emu.server.stop()


if __name__ == "__main__":
    _child(sys.argv[1], int(sys.argv[2]), float(sys.argv[3]))
