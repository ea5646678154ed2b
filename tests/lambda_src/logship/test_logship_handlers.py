"""FirehoseHandler and CloudWatchLogsHandler against the AWS emulator, faults injected on the wire.

What arrives is read back from the emulator (S3 behind the Firehose stream, the log stream's
events); what was sent is captured at the proxy, call by call, to check the API limits and order.
"""
from __future__ import annotations

import base64
import json
import logging
import logging.config
import os
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import Any, Callable, Optional

import pytest

from logship import CloudWatchLogsHandler, FirehoseHandler
from logship.cloudwatch import EVENT_OVERHEAD_BYTES
from tests.support.emulator import ACCOUNT, Emulator
from tests.support.fault_proxy import Response, json_error
from tests.support.silent_server import SilentServer

ROOT = Path(__file__).resolve().parents[3]
STREAM = "app-logs"
BUCKET = "app-logs-backup"
GROUP = "/applications/shop"


# --- destinations ----------------------------------------------------------------------------
class Destination:
    """One handler kind: how to build it, what it sends on the wire, and what arrived."""

    operation: str

    def __init__(self, aws: Emulator) -> None:
        self.aws = aws
        self.calls: list[list[dict[str, Any]]] = []  # per API call that reached the emulator: the items sent

    def capture(self, fault: Optional[Callable[[], Optional[Response]]] = None) -> None:
        """Record every call that is forwarded to the emulator (after any fault rule added before);
        ``fault()`` may answer a call instead (the proxy applies one rule per call)."""

        def respond(request: Any, forward: Callable) -> Optional[Response]:
            injected = fault() if fault else None
            if injected is not None:
                return injected
            response = forward(request)
            if response.status == 200:
                self.calls.append(self.items_of(request.json()))
            return response

        self.aws.proxy.add(self.operation, respond)

    def items_of(self, body: dict[str, Any]) -> list[dict[str, Any]]:
        raise NotImplementedError

    def handler(self, **options: Any) -> Any:
        raise NotImplementedError

    def documents(self) -> list[dict[str, Any]]:
        raise NotImplementedError

    def sent(self) -> list[dict[str, Any]]:
        """The documents in the order the API received them."""
        return [json.loads(item["text"]) for call in self.calls for item in call]


class Firehose(Destination):
    operation = "PutRecordBatch"

    def __init__(self, aws: Emulator) -> None:
        super().__init__(aws)
        aws.client("s3", direct=True).create_bucket(Bucket=BUCKET)
        aws.client("firehose", direct=True).create_delivery_stream(
            DeliveryStreamName=STREAM,
            DeliveryStreamType="DirectPut",
            ExtendedS3DestinationConfiguration={
                "RoleARN": f"arn:aws:iam::{ACCOUNT}:role/firehose",
                "BucketARN": f"arn:aws:s3:::{BUCKET}",
            },
        )

    def items_of(self, body: dict[str, Any]) -> list[dict[str, Any]]:
        return [{"text": base64.b64decode(r["Data"]).decode(), "bytes": len(base64.b64decode(r["Data"]))}
                for r in body["Records"]]

    def handler(self, **options: Any) -> FirehoseHandler:
        options.setdefault("client", self.aws.client("firehose"))
        return FirehoseHandler(STREAM, service="orders", **options)

    def documents(self) -> list[dict[str, Any]]:
        s3 = self.aws.client("s3", direct=True)
        lines: list[str] = []
        for obj in s3.list_objects_v2(Bucket=BUCKET).get("Contents", []):
            body = s3.get_object(Bucket=BUCKET, Key=obj["Key"])["Body"].read().decode()
            assert body.endswith("\n"), "every record is one newline-terminated document"
            lines.extend(body.splitlines())
        return [json.loads(line) for line in lines]


class CloudWatch(Destination):
    operation = "PutLogEvents"
    stream = "worker-1"

    def items_of(self, body: dict[str, Any]) -> list[dict[str, Any]]:
        return [{"text": e["message"], "timestamp": e["timestamp"], "bytes": len(e["message"].encode())}
                for e in body["logEvents"]]

    def handler(self, **options: Any) -> CloudWatchLogsHandler:
        options.setdefault("client", self.aws.client("logs"))
        options.setdefault("log_stream_name", self.stream)
        return CloudWatchLogsHandler(GROUP, service="orders", **options)

    def documents(self, stream: Optional[str] = None) -> list[dict[str, Any]]:
        logs = self.aws.client("logs", direct=True)
        events: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {"logGroupName": GROUP, "logStreamName": stream or self.stream, "startFromHead": True}
        while True:
            page = logs.get_log_events(**kwargs)
            events.extend(page["events"])
            if not page["events"] or page.get("nextForwardToken") == kwargs.get("nextToken"):
                break
            kwargs["nextToken"] = page["nextForwardToken"]
        return [json.loads(e["message"]) for e in events]


@pytest.fixture(params=[Firehose, CloudWatch], ids=["firehose", "cloudwatch"])
def dest(request: pytest.FixtureRequest, aws: Emulator) -> Destination:
    return request.param(aws)


@pytest.fixture
def logger(request: pytest.FixtureRequest) -> logging.Logger:
    log = logging.getLogger(f"test.{request.node.name}")
    log.setLevel(logging.DEBUG)
    log.propagate = False
    yield log
    for handler in list(log.handlers):
        log.removeHandler(handler)
        handler.close()


def seqs(documents: list[dict[str, Any]]) -> list[int]:
    return [d["seq"] for d in documents if "seq" in d]


# --- tests -----------------------------------------------------------------------------------
def test_documents_arrive_intact_and_in_order(dest: Destination, logger: logging.Logger) -> None:
    # GIVEN a handler on a logger, sending every 0.2 s
    dest.capture()
    handler = dest.handler(flush_seconds=0.2)
    logger.addHandler(handler)

    # WHEN records with extra fields, unicode and an exception are logged over several flush periods
    for seq in range(60):
        logger.info("order %s accepted – ✓", seq, extra={"seq": seq, "order": {"id": f"o-{seq}", "items": 2}})
        if seq % 20 == 19:
            time.sleep(0.6)  # three times the flush age: each group goes out on its own
    try:
        raise ValueError("card declined")
    except ValueError:
        logger.exception("payment failed", extra={"seq": 60})
    handler.close()

    # THEN every document arrived once, in logging order (S3 object keys do not keep the order
    # of Firehose calls: the order there is the order the API received them), with the documented fields
    documents = sorted(dest.documents(), key=lambda d: d["seq"]) if isinstance(dest, Firehose) else dest.documents()
    assert seqs(documents) == list(range(61))
    assert seqs(dest.sent()) == list(range(61))
    assert len(dest.calls) >= 3, "records logged over several flush periods were sent in several calls"
    first = documents[0]
    assert list(first)[:4] == ["@timestamp", "level", "logger", "message"]
    assert first["message"] == "order 0 accepted – ✓"
    assert first["level"] == "INFO" and first["logger"] == logger.name
    assert first["service"] == "orders" and first["host"]
    assert first["order"] == {"id": "o-0", "items": 2}
    assert first["@timestamp"].endswith("+00:00")
    assert set(first) == {"@timestamp", "level", "logger", "message", "service", "host", "seq", "order"}
    last = documents[-1]
    assert last["level"] == "ERROR" and last["message"] == "payment failed"
    assert last["exception"].startswith("Traceback (most recent call last):")
    assert "ValueError: card declined" in last["exception"]
    assert handler.delivered_records == 61 and handler.dropped_records == 0


def test_firehose_limits_on_large_and_many_records(aws: Emulator, logger: logging.Logger) -> None:
    # GIVEN a Firehose handler that sends only on close
    dest = Firehose(aws)
    dest.capture()
    handler = dest.handler(flush_seconds=60, batch_records=100_000, max_queue_records=100_000,
                           max_queue_bytes=64 * 1024 * 1024)
    logger.addHandler(handler)

    # WHEN 1,200 small records, 12 records of 600 KiB and one of 2 MiB are logged
    for seq in range(1200):
        logger.info("small %s", seq, extra={"seq": seq})
    for seq in range(1200, 1212):
        logger.info("x" * 600 * 1024, extra={"seq": seq})
    logger.info("y" * 2 * 1024 * 1024, extra={"seq": 1212})
    handler.close()

    # THEN each call holds at most 500 records and 4 MiB, each record at most 1,000 KiB
    for call in dest.calls:
        assert len(call) <= 500
        assert sum(item["bytes"] for item in call) <= 4 * 1024 * 1024
        assert all(item["bytes"] <= 1000 * 1024 for item in call)
    assert len(dest.calls) >= 5
    # AND everything arrived once (calls in flight at once may arrive in either order); the
    # oversized record is truncated and flagged, not dropped
    documents = dest.documents()
    assert sorted(seqs(documents)) == list(range(1213))
    assert sorted(seqs(dest.sent())) == list(range(1213))
    huge = next(d for d in documents if d.get("seq") == 1212)
    assert huge["truncated"] is True and huge["original_bytes"] > 2 * 1024 * 1024
    assert huge["message"].startswith("yyyy") and huge["message"].endswith("...[truncated]")
    assert all(len(d["message"]) == 600 * 1024 for d in documents if 1200 <= d.get("seq", 0) < 1212)


@pytest.mark.parametrize("concurrent_calls", [None, 1])
def test_firehose_calls_overlap_up_to_the_limit_and_one_at_a_time_keeps_the_order(
        aws: Emulator, logger: logging.Logger, concurrent_calls: Optional[int]) -> None:
    # GIVEN each PutRecordBatch held 0.5 s on the wire, and a Firehose handler at its default
    # (4 calls at once) or sending one call at a time
    dest = Firehose(aws)
    dest.capture()
    aws.proxy.model_latency({"firehose": 0.5})
    options = {} if concurrent_calls is None else {"max_concurrent_calls": concurrent_calls}
    handler = dest.handler(flush_seconds=60, **options)
    logger.addHandler(handler)
    try:
        # WHEN 2,000 records (four calls of 500) are logged and flushed
        for seq in range(2000):
            logger.info("event %s", seq, extra={"seq": seq})
        handler.flush()
    finally:
        aws.proxy.model_latency(None)

    # THEN every record was sent once, in four calls that were on the wire together (or one at a
    # time, in logging order)
    assert handler.delivered_records == 2000 and handler.queued_records == 0
    assert [len(call) for call in dest.calls] == [500] * 4
    assert aws.proxy.most_in_flight["PutRecordBatch"] == (concurrent_calls or 4)
    assert sorted(seqs(dest.sent())) == list(range(2000))
    if concurrent_calls == 1:
        assert seqs(dest.sent()) == list(range(2000))


def test_cloudwatch_limits_on_large_and_many_records(aws: Emulator, logger: logging.Logger) -> None:
    # GIVEN a CloudWatch Logs handler that sends only on close
    dest = CloudWatch(aws)
    dest.capture()
    handler = dest.handler(flush_seconds=60, batch_records=100_000, max_queue_records=100_000,
                           max_queue_bytes=64 * 1024 * 1024)
    logger.addHandler(handler)

    # WHEN 12,000 small records, 8 of 200 KiB, one of 400 KiB, and three records made 30 h, 20 h and
    # 10 h ago (handed over late, e.g. by a QueueListener) are logged
    now = time.time()
    for seq, hours_ago in enumerate((30, 20, 10)):
        record = logger.makeRecord(logger.name, logging.INFO, __file__, 1, "late %s", (seq,), None,
                                   extra={"seq": seq})
        record.created = now - hours_ago * 3600
        logger.handle(record)
    for seq in range(3, 12_003):
        logger.info("small %s", seq, extra={"seq": seq})
    for seq in range(12_003, 12_011):
        logger.info("x" * 200 * 1024, extra={"seq": seq})
    logger.info("y" * 400 * 1024, extra={"seq": 12_011})
    handler.close()

    # THEN each call holds at most 10,000 events and 1,048,576 bytes counting 26 per event, in time
    # order, spanning less than 24 hours, with no event over 256 KiB
    for call in dest.calls:
        assert len(call) <= 10_000
        assert sum(item["bytes"] + EVENT_OVERHEAD_BYTES for item in call) <= 1_048_576
        stamps = [item["timestamp"] for item in call]
        assert stamps == sorted(stamps)
        assert stamps[-1] - stamps[0] < 24 * 3600 * 1000
        assert all(item["bytes"] + EVENT_OVERHEAD_BYTES <= 256 * 1024 for item in call)
    assert len(dest.calls) >= 4
    # AND everything arrived once; the oversized event is truncated and flagged
    documents = dest.documents()
    assert seqs(documents) == list(range(12_012))
    huge = documents[-1]
    assert huge["seq"] == 12_011 and huge["truncated"] is True and huge["original_bytes"] > 400 * 1024
    assert handler.rejected_records == 0


def test_firehose_partial_failures_are_retried(aws: Emulator, logger: logging.Logger) -> None:
    # GIVEN Firehose accepts only the first half of the records of the first two calls
    dest = Firehose(aws)

    def half(request: Any, forward: Callable) -> Response:
        body = request.json()
        keep = len(body["Records"]) // 2
        request.body = json.dumps({**body, "Records": body["Records"][:keep]}).encode()
        forward(request)
        answers = [{"RecordId": f"r{i}"} for i in range(keep)] + [
            {"ErrorCode": "ServiceUnavailableException", "ErrorMessage": "slow down"}
        ] * (len(body["Records"]) - keep)
        payload = {"FailedPutCount": len(answers) - keep, "Encrypted": False, "RequestResponses": answers}
        return Response(200, {"Content-Type": "application/x-amz-json-1.1"}, json.dumps(payload).encode())

    aws.proxy.add("PutRecordBatch", half, times=2)
    handler = dest.handler(flush_seconds=60)
    logger.addHandler(handler)

    # WHEN 40 records are logged and the handler is closed
    for seq in range(40):
        logger.info("event %s", seq, extra={"seq": seq})
    handler.close()

    # THEN the failed halves were re-sent: every record arrived exactly once
    assert aws.proxy.calls["PutRecordBatch"] >= 3
    assert sorted(seqs(dest.documents())) == list(range(40))
    assert handler.delivered_records == 40


@pytest.mark.parametrize("fault", ["server_error", "throttle"])
def test_destination_failing_for_a_while_loses_nothing_that_fits(
    dest: Destination, logger: logging.Logger, fault: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN the destination answers 5xx (or throttles) every call for 2.5 s, then recovers
    error = (json_error("ServiceUnavailableException", "injected", 503) if fault == "server_error"
             else json_error("ThrottlingException", "Rate exceeded"))
    until = time.monotonic() + 2.5
    dest.capture(fault=lambda: error if time.monotonic() < until else None)
    handler = dest.handler(flush_seconds=0.1, max_queue_records=1000)
    logger.addHandler(handler)

    # WHEN records keep coming while it fails (and it is given time to recover, up to a minute)
    for seq in range(300):
        logger.info("event %s", seq, extra={"seq": seq})
        time.sleep(0.01)
    deadline = time.monotonic() + 60
    while handler.delivered_records < 300 and time.monotonic() < deadline:
        time.sleep(0.1)
    delivered_before_close = handler.delivered_records
    handler.close()

    # THEN nothing was lost or duplicated (CloudWatch Logs: in order; Firehose sends several calls
    # at once, so a batch put back after a failure may follow a later one), and the outage was
    # reported at most once on stderr
    assert dest.aws.proxy.calls[dest.operation] > len(dest.calls), "some calls failed"
    documents = dest.documents()
    assert sorted(seqs(documents)) == list(range(300))
    assert sorted(seqs(dest.sent())) == list(range(300))
    if isinstance(dest, CloudWatch):
        assert seqs(documents) == seqs(dest.sent()) == list(range(300))
    assert handler.dropped_records == 0
    # (an outage the per-call retries absorb is not worth a notice; a longer one is reported once)
    assert capsys.readouterr().err.count("cannot deliver") <= 1
    # AND it recovered by itself: everything was delivered before the handler was closed
    assert delivered_before_close == 300


def test_full_queue_drops_the_oldest_counts_them_and_says_so_at_a_limited_rate(
        dest: Destination, logger: logging.Logger, capsys: pytest.CaptureFixture[str]) -> None:
    # GIVEN a handler that keeps about 100 records (by bytes: the records are all the same size), would send only after 60 s, and
    # tells drops on stderr at most once every 0.5 s
    probe = dest.handler(flush_seconds=60)
    logger.addHandler(probe)
    logger.info("event %03d", 0, extra={"probe": 0})  # no seq: not counted below
    one_record = probe.stats.queued_bytes
    logger.removeHandler(probe)
    probe.close()
    handler = dest.handler(flush_seconds=60, max_queue_bytes=100 * one_record + one_record // 2,
                           drop_notice_seconds=0.5)
    logger.addHandler(handler)

    # WHEN 350 records are logged before anything is sent (the oldest 250 cannot all be kept),
    # then 10 more after the notice interval
    for seq in range(350):
        logger.info("event %03d", seq, extra={"seq": seq})
    first = handler.stats
    notices = capsys.readouterr().err
    time.sleep(0.6)
    for seq in range(350, 360):
        logger.info("event %03d", seq, extra={"seq": seq})
    second = capsys.readouterr().err
    report = handler.close()

    # THEN the oldest were dropped and counted as they happened, and readable at once
    assert (first.dropped, first.queued, first.delivered) == (250, 100, 0)
    assert first.queued_bytes <= handler.max_queue_bytes
    # AND stderr said so at the first drop, then once after 0.5 s with the count since (249 + the next one)
    assert notices.count("since the last notice") == 1 and "dropped 1 record(s) since the last notice" in notices
    assert second.count("since the last notice") == 1 and "dropped 250 record(s) since the last notice" in second
    # AND the newest 100 arrived; close() reports the 260 others as dropped because the queue was full
    assert sorted(seqs(dest.documents())) == list(range(260, 360))
    assert report.delivered == 100 and report.reasons == {"queue full": 260} and not report.ok
    assert handler.stats.dropped == 260


def test_close_reports_each_record_not_delivered_while_the_destination_fails(
        dest: Destination, logger: logging.Logger, capsys: pytest.CaptureFixture[str]) -> None:
    # GIVEN a destination that answers 503 to every call once it is told to fail
    failing: list[bool] = []
    dest.capture(fault=lambda: json_error("ServiceUnavailableException", "injected", 503) if failing else None)
    handler = dest.handler(flush_seconds=60, flush_timeout_seconds=2)
    logger.addHandler(handler)

    # WHEN 5 records are delivered, 20 more are logged, and the handler is closed
    for seq in range(5):
        logger.info("event %s", seq, extra={"seq": seq})
    handler.flush()
    failing.append(True)
    for seq in range(5, 25):
        logger.info("event %s", seq, extra={"seq": seq})
    report = handler.close()

    # THEN the report holds exactly the 20 undelivered records, as their documents, and why
    assert report.delivered == 5
    assert seqs([json.loads(text) for text in report.undelivered]) == list(range(5, 25))
    assert report.reasons == {"not delivered before close": 20}
    assert "ServiceUnavailable" in report.last_error
    assert handler.stats.failed == 20 and handler.report is report
    # AND stderr says so, and closing again returns the same report
    assert "20 not delivered: 20 not delivered before close" in capsys.readouterr().err
    assert handler.close() is report


def test_block_policy_waits_for_room_then_drops(dest: Destination, logger: logging.Logger) -> None:
    # GIVEN a handler with overflow="block" whose small queue the sender drains in batches of 5
    handler = dest.handler(flush_seconds=0.05, batch_records=5, max_queue_bytes=20 * 600,
                           overflow="block", block_ms=5000)
    logger.addHandler(handler)

    # WHEN 200 records are logged as fast as possible
    for seq in range(200):
        logger.info("event %s", seq, extra={"seq": seq})
    handler.flush()

    # THEN the logging calls waited for room instead of dropping: everything arrived
    assert handler.stats.dropped == 0
    assert sorted(seqs(dest.documents())) == list(range(200))
    logger.removeHandler(handler)
    handler.close()

    # GIVEN a blocking handler whose full queue is never drained (sending only after 60 s)
    stuck = dest.handler(flush_seconds=60, max_queue_bytes=600, overflow="block", block_ms=300)
    logger.addHandler(stuck)
    logger.info("first", extra={"seq": 1000})

    # WHEN one more record is logged
    started = time.monotonic()
    logger.info("second", extra={"seq": 1001})
    waited = time.monotonic() - started

    # THEN the call waited about block_ms (generous bounds), then dropped the oldest and counted it
    assert 0.2 <= waited < 5
    assert stuck.stats.dropped == 1
    report = stuck.close()
    assert report.reasons == {"queue full after blocking": 1}


def test_flushing_sends_before_the_function_returns(dest: Destination, logger: logging.Logger) -> None:
    # GIVEN a handler that would wait 60 s, and Lambda-style functions decorated with flushing()
    from logship import flushing

    handler = dest.handler(flush_seconds=60)
    logger.addHandler(handler)

    @flushing(handler)
    def lambda_handler(event: dict, context: Any) -> dict:
        for seq in range(event["count"]):
            logger.info("event %s", seq, extra={"seq": seq})
        return {"logged": event["count"]}

    @flushing()  # every live logship handler
    def failing(event: dict, context: Any) -> None:
        logger.error("about to fail", extra={"seq": 100})
        raise RuntimeError("boom")

    # WHEN the first returns
    assert lambda_handler({"count": 30}, None) == {"logged": 30}

    # THEN its records had arrived before it returned
    assert sorted(seqs(dest.documents())) == list(range(30))

    # WHEN the second raises THEN the exception propagates and its record arrived first
    with pytest.raises(RuntimeError, match="boom"):
        failing({}, None)
    assert 100 in seqs(dest.documents())

    # WHEN used as a context manager THEN the block's records arrive when it ends
    with flushing(handler):
        logger.info("in a block", extra={"seq": 200})
    assert 200 in seqs(dest.documents())
    assert handler.stats.queued == 0


def test_flush_and_close_send_everything(dest: Destination, logger: logging.Logger) -> None:
    # GIVEN a handler that would wait 60 s or 100,000 records before sending
    handler = dest.handler(flush_seconds=60, batch_records=100_000, max_queue_records=100_000,
                           max_queue_bytes=64 * 1024 * 1024)
    logger.addHandler(handler)

    # WHEN 1,234 records are logged and flush() is called
    for seq in range(1234):
        logger.info("event %s", seq, extra={"seq": seq})
    handler.flush()

    # THEN they all arrived at once
    assert sorted(seqs(dest.documents())) == list(range(1234))

    # WHEN 66 more are logged and the handler is closed
    for seq in range(1234, 1300):
        logger.info("event %s", seq, extra={"seq": seq})
    handler.close()

    # THEN those arrived too, and a closed handler ignores further records without raising
    assert sorted(seqs(dest.documents())) == list(range(1300))
    logger.info("after close", extra={"seq": -1})
    assert handler.queued_records == 0


EXIT_SCRIPT = textwrap.dedent(
    """
    import logging, sys
    from logship import CloudWatchLogsHandler, FirehoseHandler
    kind, count = sys.argv[1], int(sys.argv[2])
    if kind == "firehose":
        handler = FirehoseHandler("{stream}", flush_seconds=60)
    else:
        handler = CloudWatchLogsHandler("{group}", flush_seconds=60)  # stream: <hostname>/<pid>
    log = logging.getLogger("exiting")
    log.setLevel(logging.INFO)
    log.addHandler(handler)
    for seq in range(count):
        log.info("event %s", seq, extra={{"seq": seq}})
    print(getattr(handler, "log_stream_name", ""))
    # no flush(), no close(): the interpreter exits with everything still queued
    """
).format(stream=STREAM, group=GROUP)


def test_interpreter_exit_flushes_everything(dest: Destination) -> None:
    # GIVEN two processes that log 700 records each and exit without flushing or closing
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'lambda_src'}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    kind = "firehose" if isinstance(dest, Firehose) else "cloudwatch"
    processes = [
        subprocess.Popen([sys.executable, "-c", EXIT_SCRIPT, kind, "700"], env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=60) for p in processes]

    # THEN both exited cleanly, silently, and every record of each arrived
    assert [p.returncode for p in processes] == [0, 0], outputs
    assert all(err == "" for _, err in outputs), outputs
    if isinstance(dest, CloudWatch):
        # each process wrote its own stream of the shared group, in order
        streams = [out.strip() for out, _ in outputs]
        assert len(set(streams)) == 2
        for stream in streams:
            assert seqs(dest.documents(stream)) == list(range(700))
    else:
        assert sorted(seqs(dest.documents())) == sorted(list(range(700)) * 2)


def test_dict_config_by_class_path(aws: Emulator) -> None:
    # GIVEN logging configured by dictConfig with the handler's class path and options
    dest = CloudWatch(aws)
    logging.config.dictConfig({
        "version": 1,
        "disable_existing_loggers": False,
        "handlers": {
            "ship": {"class": "logship.CloudWatchLogsHandler", "level": "INFO", "log_group_name": GROUP,
                     "log_stream_name": CloudWatch.stream, "service": "billing", "flush_seconds": 0.2},
        },
        "loggers": {"billing": {"handlers": ["ship"], "level": "DEBUG", "propagate": False}},
    })
    log = logging.getLogger("billing")
    handler = log.handlers[0]
    try:
        # WHEN it logs at DEBUG and INFO
        log.debug("not shipped", extra={"seq": -1})
        log.info("invoice sent", extra={"seq": 0})
        handler.flush()
        # THEN only the INFO record arrived, with the configured service
        documents = dest.documents()
        assert seqs(documents) == [0]
        assert documents[0]["service"] == "billing"
    finally:
        log.removeHandler(handler)
        handler.close()


def test_own_aws_calls_never_feed_back(dest: Destination) -> None:
    # GIVEN the handler on the root logger with botocore and urllib3 at DEBUG (the in-process
    # emulator's own access log, which a real AWS endpoint does not write here, is muted)
    root = logging.getLogger()
    saved = root.level, logging.getLogger("botocore").level, logging.getLogger("urllib3").level
    werkzeug = logging.getLogger("werkzeug")
    werkzeug_level = werkzeug.level
    werkzeug.setLevel(logging.ERROR)
    handler = dest.handler(flush_seconds=0.1)
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    logging.getLogger("botocore").setLevel(logging.DEBUG)
    logging.getLogger("urllib3").setLevel(logging.DEBUG)
    try:
        # WHEN the application logs 5 records and the handler keeps running for a while
        app = logging.getLogger("app.feedback")
        for seq in range(5):
            app.info("event %s", seq, extra={"seq": seq})
        time.sleep(0.6)
        handler.flush()
        calls = dest.aws.proxy.calls[dest.operation]
        time.sleep(0.5)
    finally:
        root.removeHandler(handler)
        root.setLevel(saved[0])
        logging.getLogger("botocore").setLevel(saved[1])
        logging.getLogger("urllib3").setLevel(saved[2])
        werkzeug.setLevel(werkzeug_level)
        handler.close()

    # THEN only the application's records were shipped, and no call followed the last delivery
    documents = dest.documents()
    assert seqs(documents) == list(range(5))
    assert not [d for d in documents if d["logger"].startswith(("botocore", "urllib3", "boto3"))]
    assert dest.aws.proxy.calls[dest.operation] == calls


def test_unreachable_destination_is_reported_once_and_never_blocks(
    dest: Destination, logger: logging.Logger, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a handler whose endpoint refuses connections
    import boto3
    from botocore.config import Config

    service = "firehose" if isinstance(dest, Firehose) else "logs"
    client = boto3.client(service, endpoint_url="http://127.0.0.1:9", region_name="us-east-1",
                          config=Config(retries={"max_attempts": 1}, connect_timeout=1))
    handler = dest.handler(client=client, flush_seconds=0.05, max_queue_records=50)
    logger.addHandler(handler)

    # WHEN 80 records are logged over a few failed attempts
    started = time.perf_counter()
    for seq in range(80):
        logger.info("event %s", seq, extra={"seq": seq})
    elapsed = time.perf_counter() - started
    time.sleep(2.5)

    # THEN logging did not wait for the network, the newest 50 records are kept (between two
    # attempts: during one they are in flight), and stderr says so once
    assert elapsed < 0.5
    deadline = time.monotonic() + 10
    while handler.queued_records != 50 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert handler.queued_records == 50
    assert handler.dropped_records == 30
    assert capsys.readouterr().err.count("cannot deliver") == 1
    report = handler.close()
    assert seqs([json.loads(text) for text in report.undelivered]) == list(range(30, 80))
    assert report.not_delivered == 80 and report.reasons["not delivered before close"] == 50
    assert "not delivered before close" in capsys.readouterr().err


def test_forked_child_writes_its_own_stream_with_its_own_records(aws: Emulator) -> None:
    # GIVEN a CloudWatch Logs handler with the default per-process stream, 5 records queued
    dest = CloudWatch(aws)
    logger = logging.getLogger("test.fork")
    logger.setLevel(logging.INFO)
    logger.propagate = False
    handler = CloudWatchLogsHandler(GROUP, flush_seconds=60)
    logger.addHandler(handler)
    for seq in range(5):
        logger.info("parent %s", seq, extra={"seq": seq})
    parent_stream = handler.log_stream_name

    # WHEN the process forks; the child logs 10 records and closes, the parent 5 more
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never return into pytest
        code = 1
        try:
            for seq in range(100, 110):
                logger.info("child %s", seq, extra={"seq": seq})
            handler.close()
            os.write(write, handler.log_stream_name.encode())
            code = 0 if handler.delivered_records == 10 else 2
        finally:
            os._exit(code)
    os.close(write)
    _, status = os.waitpid(pid, 0)
    child_stream = os.read(read, 1000).decode()
    os.close(read)
    for seq in range(5, 10):
        logger.info("parent %s", seq, extra={"seq": seq})
    logger.removeHandler(handler)
    handler.close()

    # THEN each process wrote its own stream: the parent's records once, the child's only its own
    assert os.waitstatus_to_exitcode(status) == 0
    assert child_stream == f"{parent_stream.rsplit('/', 1)[0]}/{pid}" != parent_stream
    assert seqs(dest.documents(parent_stream)) == list(range(10))
    assert seqs(dest.documents(child_stream)) == list(range(100, 110))


# --- close() accounts for every accepted record -------------------------------------------------
def _silent_handler(kind: str, url: str, **options: Any) -> Any:
    """A handler with its default client (15 s read timeout, 3 attempts) pointed at ``url``."""
    if kind == "firehose":
        return FirehoseHandler(STREAM, endpoint_url=url, **options)
    return CloudWatchLogsHandler(GROUP, log_stream_name="worker-1", endpoint_url=url, **options)


@pytest.mark.parametrize("kind", ["firehose", "cloudwatch"])
def test_a_hung_endpoint_counts_records_in_flight_and_close_reports_them(
        aws: Emulator, logger: logging.Logger, kind: str, capsys: pytest.CaptureFixture[str]) -> None:
    # GIVEN a handler whose endpoint accepts connections and never answers
    with SilentServer() as server:
        handler = _silent_handler(kind, server.url, flush_seconds=60, flush_timeout_seconds=1)
        logger.addHandler(handler)
        # WHEN 1,000 records are logged and sent (the calls hang)
        for seq in range(1000):
            logger.info("event %s", seq, extra={"seq": seq})
        handler.flush()
        stats = handler.stats
        # THEN stats count them as in flight, not as nothing
        assert (stats.queued, stats.in_flight, stats.delivered, stats.failed) == (0, 1000, 0, 0)
        assert stats.accepted == 1000
        # WHEN the handler is closed while the calls still hang
        report = handler.close()
        # THEN the report accounts for every record, as their documents, and says so on stderr
        assert report.delivered == 0 and report.reasons == {"in flight at close, no answer": 1000}
        assert not report.ok and report.delivered + report.not_delivered == 1000
        assert sorted(seqs([json.loads(text) for text in report.undelivered])) == list(range(1000))
        assert "1000 not delivered: 1000 in flight at close, no answer" in capsys.readouterr().err
    # AND when the hung calls fail afterwards (the server closed), nothing is counted twice
    for _ in range(20):
        after = handler.stats
        assert (after.accepted, after.delivered, after.failed, after.queued) == (1000, 0, 1000, 0)
        time.sleep(0.05)


@pytest.mark.parametrize("fault", ["outage", "hang"])
def test_close_accounts_for_every_accepted_record(dest: Destination, logger: logging.Logger, fault: str) -> None:
    # GIVEN a destination that answers 503 to every call (an outage), or answers only after 3 s (a hang)
    if fault == "outage":
        dest.aws.proxy.server_error(dest.operation, status=503, code="ServiceUnavailableException")
    else:
        def late(request: Any, forward: Callable) -> Response:  # never forwarded: no later test sees these records
            time.sleep(3)
            return json_error("ServiceUnavailableException", "answered too late", 503)

        dest.aws.proxy.add(dest.operation, late)
    handler = dest.handler(flush_seconds=0.05, flush_timeout_seconds=0.5)
    logger.addHandler(handler)
    # WHEN 1,000 records are logged while it lasts, then the handler is closed
    for seq in range(1000):
        logger.info("event %s", seq, extra={"seq": seq})
    report = handler.close()
    # THEN delivered and reported records are all 1,000, and each reported one is listed
    assert report.delivered + report.not_delivered == 1000 == handler.stats.accepted
    assert len(report.undelivered) == report.not_delivered
    reasons = {"outage": {"not delivered before close", "in flight at close, no answer"},
               "hang": {"in flight at close, no answer", "not delivered before close"}}[fault]
    assert set(report.reasons) <= reasons and report.not_delivered > 0


SILENT_EXIT_SCRIPT = textwrap.dedent(
    """
    import logging, sys
    from logship import FirehoseHandler
    handler = FirehoseHandler("{stream}", endpoint_url=sys.argv[1], flush_seconds=60, flush_timeout_seconds=1)
    log = logging.getLogger("exiting")
    log.setLevel(logging.INFO)
    log.addHandler(handler)
    for seq in range(1000):
        log.info("event %s", seq, extra={{"seq": seq}})
    # no flush(), no close(): the interpreter exits while the calls hang
    """
).format(stream=STREAM)


def test_interpreter_exit_with_a_hung_endpoint_reports_every_record(aws: Emulator) -> None:
    # GIVEN a process whose endpoint never answers, exiting with 1,000 records logged
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'lambda_src'}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    with SilentServer() as server:
        process = subprocess.run([sys.executable, "-c", SILENT_EXIT_SCRIPT, server.url], env=env,
                                 capture_output=True, text=True, timeout=60)
    # THEN it exits and says on stderr that all 1,000 were not delivered, and why
    assert process.returncode == 0, process.stderr
    assert "0 record(s) delivered, 1000 not delivered: 1000 in flight at close, no answer" in process.stderr


def test_a_child_forked_while_another_thread_holds_the_lock_can_log_and_close(aws: Emulator) -> None:
    # GIVEN a handler whose lock another thread holds (an emit or a count in progress) when the process forks
    dest = CloudWatch(aws)
    logger = logging.getLogger("test.fork-lock")
    logger.setLevel(logging.INFO)
    logger.propagate = False
    handler = dest.handler(flush_seconds=60, flush_timeout_seconds=5)
    logger.addHandler(handler)
    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        with handler._lock:
            held.set()
            release.wait(0.3)

    holder = threading.Thread(target=hold)
    holder.start()
    assert held.wait(5)
    # WHEN the process forks, and the child logs, counts and closes
    pid = os.fork()
    if pid == 0:  # the child: never return into pytest
        code = 1
        try:
            for seq in range(3):
                logger.info("child %s", seq, extra={"seq": seq})
            report = handler.close()
            code = 0 if report.delivered == 3 and handler.stats.accepted == 3 else 2
        finally:
            os._exit(code)
    holder.join()
    # THEN the child did not deadlock on a lock held by a thread it does not have
    deadline = time.monotonic() + 30
    while (done := os.waitpid(pid, os.WNOHANG))[0] == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    if done[0] == 0:
        os.kill(pid, 9)
        os.waitpid(pid, 0)
    assert done[0] == pid and os.waitstatus_to_exitcode(done[1]) == 0
    logger.removeHandler(handler)
    handler.close()
