"""Log shipper throughput: decode → transform → batched PutRecordBatch, next to a naive shipper.

Both run in the same process against the same emulator (moto's server behind the fault proxy, the
proxy counting the API calls), on the same 10,000 real-shaped log events in 10 subscription
payloads of 1,000 events (Lambda text format, Python runtime text, Powertools JSON).

* ours: the shipper's handler (``log_shipper.handler.handler``) invoked once per payload.
* naive: the same decoding and the same documents, but one ``PutRecord`` call per event (on the
  first payload only: see ``NAIVE_PAYLOADS``).
* kinesis: the same handler on the cross-account path: Kinesis batches as the event source mapping
  delivers them, 100 records each carrying a CloudWatch Logs payload of 50 events.

Ours and naive run in both views (bench.common.VIEWS): the emulator as it is, and with the latency
model (every Firehose call also waits its round trip, bench/latency.py).

Bulk mode runs the same handler with ``DELIVERY_MODE=bulk``: ``_bulk`` requests to the local
OpenSearch stand-in (tests/support/opensearch_stub.py: SigV4 verified, documents kept per ``_id``)
and the archive through an S3-only Firehose stream of the emulator, next to Firehose mode in the
same run; then the same window is replayed twice through ``_bulk`` into a fresh stand-in.

Each stream delivers into its own S3 bucket; the run checks that both delivered every event.
"""
from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import statistics
import time
from dataclasses import dataclass

from bench.common import EMULATOR_VIEW, MODELLED_VIEW, VIEWS, Row, emulator, quick, view
from bench.latency import ROUND_TRIP_MS

N_EVENTS = 10_000
EVENTS_PER_PAYLOAD = 1_000
# The naive shipper makes one call per event (~15 ms each through the proxy to moto on a shared
# 2-core machine): it ships the first NAIVE_PAYLOADS payloads only, to keep the run short; its rate
# is per event, and its calls per 10,000 events are measured calls scaled (one PutRecord per event).
# With the latency model each PutRecord also waits a Firehose round trip: one payload there.
NAIVE_PAYLOADS = {EMULATOR_VIEW: 1 if quick() else 2, MODELLED_VIEW: 1}
OURS_RUNS = 3
ACCOUNT = "123456789012"


@dataclass
class Context:
    function_name: str = "log-shipper"
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:log-shipper"
    aws_request_id: str = "00000000-0000-4000-8000-000000000000"


def _message(i: int) -> str:
    request = f"7d5c8a4e-1f2b-4c3d-9e8f-{i:012d}"
    kind = i % 3
    if kind == 0:
        level = ("INFO", "WARN", "ERROR")[i % 7 % 3]
        return f"2026-11-22T01:45:00.{i % 1000:03d}Z\t{request}\t{level}\tcart loaded items={i % 9} user=u-{i}\n"
    if kind == 1:
        return json.dumps({"level": "INFO", "location": "handler:18", "message": "order accepted",
                           "timestamp": "2026-11-22 01:46:40,100+0000", "service": "payments",
                           "cold_start": False, "function_request_id": request, "order_id": f"o-{i}",
                           "items": i % 5, "xray_trace_id": f"1-673fe1a0-{i:024x}"}) + "\n"
    return f"[ERROR]\t2026-11-22T01:43:58.460Z\t{request}\tpayment provider timed out after {i % 30} s\n"


def payloads(encode_payload) -> list[dict]:
    out = []
    for start in range(0, N_EVENTS, EVENTS_PER_PAYLOAD):
        events = [{"id": f"{36000000000000000000000000000000000000000000000000000000 + i}",
                   "timestamp": 1795311838000 + i, "message": _message(i)}
                  for i in range(start, min(start + EVENTS_PER_PAYLOAD, N_EVENTS))]
        out.append(encode_payload(f"/aws/lambda/bench-{start // EVENTS_PER_PAYLOAD}",
                                  "2026/11/22/[$LATEST]0a1b2c3d", events, owner=ACCOUNT))
    return out


KINESIS_RECORDS = 100  # the mapping's batch size
KINESIS_EVENTS_PER_RECORD = 50
KINESIS_STREAM = f"arn:aws:kinesis:us-east-1:{ACCOUNT}:stream/log-constructs-central-eu-west-1"


def kinesis_batches(encode_payload, kinesis_event) -> list[dict]:
    """The same messages as :func:`payloads`, as Kinesis batches of 100 records of 50 events."""
    records = []
    for start in range(0, N_EVENTS, KINESIS_EVENTS_PER_RECORD):
        events = [{"id": f"{37000000000000000000000000000000000000000000000000000000 + i}",
                   "timestamp": 1795311838000 + i, "message": _message(i)}
                  for i in range(start, min(start + KINESIS_EVENTS_PER_RECORD, N_EVENTS))]
        records.append(encode_payload(f"/aws/lambda/member-{start % 7}", "2026/11/22/[$LATEST]0a1b2c3d", events,
                                      owner="210987654321"))
    return [kinesis_event(records[i:i + KINESIS_RECORDS], KINESIS_STREAM)
            for i in range(0, len(records), KINESIS_RECORDS)]


def _stream(emu, name: str) -> str:
    bucket = f"{name}-delivered"
    emu.client("s3", direct=True).create_bucket(Bucket=bucket)
    emu.client("firehose", direct=True).create_delivery_stream(
        DeliveryStreamName=name, DeliveryStreamType="DirectPut",
        ExtendedS3DestinationConfiguration={"RoleARN": f"arn:aws:iam::{ACCOUNT}:role/firehose",
                                            "BucketARN": f"arn:aws:s3:::{bucket}"})
    return bucket


def _delivered(emu, bucket: str) -> tuple[int, int]:
    """(S3 objects, documents) in a destination bucket."""
    s3 = emu.client("s3", direct=True)
    objects = documents = 0
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for obj in page.get("Contents", []):
            objects += 1
            documents += s3.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read().count(b"\n")
    return objects, documents


def _runs(emu, domain, shipper, invocations: list[dict]) -> tuple[list[float], list[dict], int]:
    """OURS_RUNS timed runs of the handler over ``invocations``: events/s per run, the last run's
    answers and its calls (_bulk requests + PutRecordBatch)."""
    rates = []
    for _ in range(OURS_RUNS):
        emu.proxy.clear()
        domain.clear_requests()
        shipper.forget_progress()
        started = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()):
            results = [shipper.handler(invocation, Context()) for invocation in invocations]
        rates.append(N_EVENTS / (time.perf_counter() - started))
    return rates, results, len(domain.requests) + emu.proxy.calls["PutRecordBatch"]


def _bulk_mode(emu, shipper, batch_payloads, batches, firehose_rates) -> list[Row]:
    """Bulk mode next to Firehose mode (same payloads, same run), and a window replayed twice."""
    from botocore.credentials import Credentials

    from opensearch_client.bulk import BulkTarget, BulkWriter
    from logops.replay import replay_bulk
    from opensearch_client.signed_http import SignedClient
    from tests.support.opensearch_stub import OpenSearchStub

    archive_bucket = _stream(emu, "bench-archive")
    saved = {k: os.environ.get(k) for k in ("DELIVERY_STREAM_NAME", "DELIVERY_MODE", "DOMAIN_ENDPOINT", "INDEX_NAME",
                                            "ALLOW_LOOPBACK_HTTP")}
    rows: list[Row] = []
    with OpenSearchStub(secret_keys={"testing": "testing"}) as domain:
        os.environ.update(DELIVERY_STREAM_NAME="bench-archive", DELIVERY_MODE="bulk", DOMAIN_ENDPOINT=domain.url,
                          INDEX_NAME="bench", ALLOW_LOOPBACK_HTTP="1")
        try:
            for name in VIEWS:
                with view(name, emu):
                    domain.delay_s = ROUND_TRIP_MS["opensearch"] / 1000.0 if name == MODELLED_VIEW else 0.0
                    direct, direct_results, bulk_calls = _runs(emu, domain, shipper, batch_payloads)
                    kinesis, kinesis_results, kinesis_calls = _runs(emu, domain, shipper, batches)
                    assert sum(r["delivered"] + r["duplicates"] for r in direct_results) == N_EVENTS
                    assert not [f for r in kinesis_results for f in r["batchItemFailures"]]
                    domain.delay_s = 0.0
                rtt = "" if name == EMULATOR_VIEW else (f"; + {ROUND_TRIP_MS['firehose']:g} ms per Firehose call, "
                                                        f"{ROUND_TRIP_MS['opensearch']:g} ms per _bulk request")
                rows.append(Row("shipper, bulk mode", f"events/s, decode → transform → _bulk + archive {name}",
                                statistics.median(direct), firehose_rates[name]["direct"], "events/s",
                                note=f"{N_EVENTS:,} events in {len(batch_payloads)} payloads{rtt}; baseline: Firehose "
                                     f"mode (one record per event) in the same run; median of {OURS_RUNS}"))
                rows.append(Row("shipper, bulk mode", f"events/s, Kinesis batches (100 records × 50 events) {name}",
                                statistics.median(kinesis), statistics.median(direct), "events/s",
                                note=f"{len(batches)} batches, {kinesis_calls} calls (_bulk + archive){rtt}; baseline: "
                                     f"bulk mode's direct path in the same run; expected ≥ 0.8×"))
                if name == EMULATOR_VIEW:
                    rows.append(Row("shipper, bulk mode", "calls per 10,000 events (_bulk + archive PutRecordBatch)",
                                    bulk_calls * 10_000 / N_EVENTS, firehose_rates[name]["calls"] * 10_000 / N_EVENTS,
                                    "calls", higher_is_better=False,
                                    note=f"{len(batch_payloads)} payloads of {EVENTS_PER_PAYLOAD:,}; baseline: Firehose "
                                         "mode's PutRecordBatch calls; the same in both views"))
            assert domain.document_count() == 2 * N_EVENTS and not domain.spec_violations
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value

    # What the archive weighs: gzip members of documents (inputs of the cost model).
    s3 = emu.client("s3", direct=True)
    archive_bytes = sum(o["Size"] for page in s3.get_paginator("list_objects_v2").paginate(Bucket=archive_bucket)
                        for o in page.get("Contents", []))
    from log_subscription import decode_payload
    from log_shipper.transform import to_records
    document_bytes = sum(len(d) for p in batch_payloads for _, d in to_records(decode_payload(p, strict_utf8=False)).records)
    runs = 2 * OURS_RUNS * len(VIEWS)  # direct and Kinesis runs each archived all 10,000 documents
    rows.append(Row("shipper, bulk mode", "archive bytes per document byte (gzip members)",
                    archive_bytes / (runs * document_bytes), None, "ratio",
                    note=f"{archive_bytes:,} archived bytes for {runs} × {document_bytes:,} document bytes"))

    # Replay: the archive (copied under backup/<event day>/, where the stream's prefix would put it) twice.
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=archive_bucket):
        for number, obj in enumerate(page.get("Contents", [])):
            s3.copy_object(Bucket=archive_bucket, Key=f"backup/2026/11/22/archive-{number}-{obj['Key'].replace('/', '-')}",
                           CopySource={"Bucket": archive_bucket, "Key": obj["Key"]})
    from logops.replay import parse_time
    window = {"bucket": archive_bucket, "start": parse_time("2026-11-22T00:00:00Z"), "end": parse_time("2026-11-23T00:00:00Z")}
    with OpenSearchStub(secret_keys={"testing": "testing"}) as fresh:
        writer = BulkWriter(SignedClient(fresh.url, "us-east-1", lambda: Credentials("testing", "testing")),
                            BulkTarget("bench", "day"))
        first = replay_bulk(s3, writer, **window)
        after_first = fresh.document_count()
        second = replay_bulk(s3, writer, **window)
        after_second = fresh.document_count()
    assert after_first == after_second == 2 * N_EVENTS and second.replayed == 0
    rows.append(Row("shipper, bulk mode", "replay of the same window twice: documents added by the second", 0, None,
                    "documents", higher_is_better=False,
                    note=f"first replay {first.replayed:,} written (+{first.duplicates:,} duplicates of the archive's "
                         f"repeated runs), count {after_first:,}; second: {second.replayed} written, "
                         f"{second.duplicates:,} duplicates skipped, count {after_second:,}"))
    return rows


def run() -> list[Row]:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's per-request access log
    emu = emulator()  # sets AWS_ENDPOINT_URL & co. before the handler module creates its clients
    try:
        return _measure(emu)
    finally:
        emu.proxy.stop()
        emu.server.stop()


def _measure(emu) -> list[Row]:
    import boto3
    from botocore.config import Config

    from log_subscription import decode_payload
    from tests.support.subscription import encode_payload, kinesis_event

    ours_bucket = _stream(emu, "bench-ours")
    naive_bucket = _stream(emu, "bench-naive")
    queue_url = emu.client("sqs", direct=True).create_queue(QueueName="bench-dlq")["QueueUrl"]
    os.environ.update(DELIVERY_STREAM_NAME="bench-ours", DEAD_LETTER_QUEUE_URL=queue_url,
                      POWERTOOLS_METRICS_NAMESPACE="Bench", POWERTOOLS_SERVICE_NAME="bench",
                      INGESTION_STREAM_REGIONS=json.dumps({KINESIS_STREAM.rsplit("/", 1)[1]: "eu-west-1"}))
    from log_shipper import handler as shipper
    from log_shipper.transform import to_records

    shipper.logger.registered_handler.setStream(io.StringIO())  # keep the output readable
    batch_payloads = payloads(encode_payload)
    batches = kinesis_batches(encode_payload, kinesis_event)

    # ours (the handler, batched PutRecordBatch) and naive (one PutRecord per event), in each view
    firehose = boto3.client("firehose", endpoint_url=emu.url,
                            config=Config(retries={"mode": "standard", "total_max_attempts": 1}))
    per_10k = 10_000 / N_EVENTS
    note = f"{N_EVENTS:,} events in {len(batch_payloads)} payloads, moto via the proxy"
    rows: list[Row] = []
    ours_docs_expected = naive_sent = 0
    rates: dict[str, dict[str, float]] = {}
    for name in VIEWS:
        with view(name, emu):
            ours_rates = []
            for _ in range(OURS_RUNS):
                emu.proxy.clear()
                shipper.forget_progress()
                started = time.perf_counter()
                with contextlib.redirect_stdout(io.StringIO()):  # the EMF metrics lines
                    shipped = sum(shipper.handler(p, Context())["delivered"] for p in batch_payloads)
                ours_rates.append(shipped / (time.perf_counter() - started))
                ours_calls = sum(emu.proxy.calls.values())
                ours_puts = emu.proxy.calls["PutRecordBatch"]
            assert shipped == N_EVENTS and ours_calls == ours_puts
            ours_docs_expected += OURS_RUNS * N_EVENTS

            kinesis_rates = []
            for _ in range(OURS_RUNS):
                emu.proxy.clear()
                shipper.forget_progress()
                started = time.perf_counter()
                with contextlib.redirect_stdout(io.StringIO()):
                    failures = [f for b in batches for f in shipper.handler(b, Context())["batchItemFailures"]]
                kinesis_rates.append(N_EVENTS / (time.perf_counter() - started))
                kinesis_puts = emu.proxy.calls["PutRecordBatch"]
            assert not failures and kinesis_puts >= len(batches)
            ours_docs_expected += OURS_RUNS * N_EVENTS

            emu.proxy.clear()
            started = time.perf_counter()
            sent = 0
            for payload in batch_payloads[:NAIVE_PAYLOADS[name]]:
                for _, data in to_records(decode_payload(payload, strict_utf8=False)).records:
                    firehose.put_record(DeliveryStreamName="bench-naive", Record={"Data": data})
                    sent += 1
            naive_rate = sent / (time.perf_counter() - started)
            naive_calls = sum(emu.proxy.calls.values())
            naive_sent += sent
        rates[name] = {"direct": statistics.median(ours_rates), "kinesis": statistics.median(kinesis_rates),
                       "calls": ours_puts}
        rtt = "" if name == EMULATOR_VIEW else f"; + {ROUND_TRIP_MS['firehose']:g} ms per Firehose call"
        rows.append(Row("shipper", f"events/s, decode → transform → Firehose {name}", statistics.median(ours_rates),
                        naive_rate, "events/s",
                        note=f"{note}{rtt}; baseline: PutRecord per event, {sent:,} events; median of {OURS_RUNS}"))
        rows.append(Row("shipper", f"events/s, Kinesis batches (100 records × 50 events) {name}",
                        statistics.median(kinesis_rates), statistics.median(ours_rates), "events/s",
                        note=f"{len(batches)} batches, {kinesis_puts} PutRecordBatch calls{rtt}; baseline: the "
                             f"direct-subscription path (1,000-event payloads) in the same run; median of {OURS_RUNS}"))
        if name == EMULATOR_VIEW:  # the calls do not depend on the view
            rows.append(Row("shipper", "API calls per 10,000 events", ours_calls * per_10k,
                            naive_calls * 10_000 / sent, "calls", higher_is_better=False,
                            note=f"{ours_puts} PutRecordBatch for {N_EVENTS:,} events vs {naive_calls:,} PutRecord "
                                 f"for {sent:,}; the same in both views"))

    rows += _bulk_mode(emu, shipper, batch_payloads, batches, rates)

    ours_objects, ours_docs = _delivered(emu, ours_bucket)
    naive_objects, naive_docs = _delivered(emu, naive_bucket)
    assert ours_docs == ours_docs_expected and naive_docs == naive_sent == naive_objects, (ours_docs, naive_docs)

    # What an event and its document weigh: inputs of the cost model (bench/cost.py).
    documents = [d for p in batch_payloads for _, d in to_records(decode_payload(p, strict_utf8=False)).records]
    message_bytes = sum(len(e.message.encode()) for p in batch_payloads for e in decode_payload(p).events)
    rows += [
        Row("shipper", "bytes per event, log message", message_bytes / N_EVENTS, None, "bytes",
            note="mean UTF-8 size of this run's CloudWatch Logs messages"),
        Row("shipper", "bytes per Firehose record, document", sum(map(len, documents)) / N_EVENTS, None, "bytes",
            note="mean size of the JSON document (message + metadata fields), one Firehose record per event"),
    ]
    return rows
