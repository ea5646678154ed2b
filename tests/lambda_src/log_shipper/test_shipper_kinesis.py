"""The log shipper with Kinesis batches as the ingestion streams' event source mappings deliver them,
against the emulator (Firehose to S3, SQS dead-letter queue, faults from the proxy)."""
from __future__ import annotations

import base64
import gzip
import json
from collections import Counter
from dataclasses import dataclass, field

import pytest

from log_shipper import handler as shipper
from tests.lambda_src.log_shipper.test_shipper import (  # noqa: F401
    Context, attributes, env, events, fail_some, record_puts)
from tests.support.fault_proxy import json_error
from tests.support.subscription import encode_payload, kinesis_event

CENTRAL = "123456789012"  # the pipeline's account: the shipper's own (Context.invoked_function_arn)
STREAMS = {"log-constructs-central-eu-west-1": "eu-west-1", "log-constructs-central-us-east-1": "us-east-1"}


def stream_arn(region: str, *, name: str | None = None) -> str:
    return f"arn:aws:kinesis:us-east-1:{CENTRAL}:stream/{name or f'log-constructs-central-{region}'}"


@pytest.fixture
def kinesis(env, monkeypatch):  # noqa: F811
    # GIVEN the shipper configured with the two ingestion streams and the region each serves
    monkeypatch.setenv("INGESTION_STREAM_REGIONS", json.dumps(STREAMS))
    return env


@dataclass
class Clock:
    """A Lambda context whose remaining time drops by ``step_ms`` at every look."""

    remaining_ms: int
    step_ms: int
    looks: list[int] = field(default_factory=list)

    def get_remaining_time_in_millis(self) -> int:
        self.looks.append(self.remaining_ms)
        value, self.remaining_ms = self.remaining_ms, self.remaining_ms - self.step_ms
        return value


@dataclass
class TimedContext(Context):
    clock: Clock = field(default_factory=lambda: Clock(900_000, 0))

    def get_remaining_time_in_millis(self) -> int:
        return self.clock.get_remaining_time_in_millis()


def invoke(event: dict, clock: Clock | None = None) -> dict:
    return shipper.handler(event, TimedContext(clock=clock or Clock(900_000, 0)))


def sequence_numbers(event: dict) -> list[str]:
    return [record["kinesis"]["sequenceNumber"] for record in event["Records"]]


def retry_from(event: dict, result: dict) -> dict:
    """What Lambda re-delivers after a partial batch response: the records from the first reported one."""
    first = min(f["itemIdentifier"] for f in result["batchItemFailures"])
    return {"Records": [r for r in event["Records"] if r["kinesis"]["sequenceNumber"] >= first]}


def test_payloads_from_three_accounts_and_two_regions_carry_their_account_and_region(kinesis):
    # GIVEN payloads of three member accounts, arriving on the streams of two source regions
    sent = {}
    batches = {}
    for region in STREAMS.values():
        payloads = []
        for account in ("222222222222", "333333333333", "444444444444"):
            batch = events(3, prefix=f"{account}-{region}-")
            sent.update({e["id"]: (account, region) for e in batch})
            payloads.append(encode_payload(f"/aws/lambda/orders-{account}", "s", batch, owner=account))
        batches[region] = kinesis_event(payloads, stream_arn(region))
    # WHEN each stream's event source mapping invokes the shipper
    results = [invoke(event) for event in batches.values()]
    # THEN nothing is reported, and every document says which account and region it came from
    assert results == [{"batchItemFailures": []}] * 2
    docs = kinesis.documents()
    assert {d["id"]: (d["account"], d["region"]) for d in docs} == sent and len(docs) == 18
    assert {d["log_group"] for d in docs} == {f"/aws/lambda/orders-{a}" for a in
                                              ("222222222222", "333333333333", "444444444444")}


def test_the_region_comes_from_the_stream_not_from_the_record(kinesis):
    # GIVEN a record whose awsRegion field (any value) differs from the region its stream serves
    event = kinesis_event([encode_payload("/g", "s", events(1), owner="222222222222")], stream_arn("us-east-1"))
    event["Records"][0]["awsRegion"] = "ap-south-1"
    # WHEN shipped / THEN the document's region is the stream's
    invoke(event)
    assert [d["region"] for d in kinesis.documents()] == ["us-east-1"]


def test_the_stored_kinesis_event_ships_its_data_and_drops_its_control_message(kinesis, events_dir):
    # GIVEN a Kinesis batch as Lambda delivers it: a control message, then a payload of two events
    event = json.loads((events_dir / "kinesis" / "cloudwatch_logs_records.json").read_text())
    # WHEN shipped by the pipeline's shipper (account 111111111111, eu-west-1, where the stream is)
    result = shipper.handler(event, TimedContext(
        invoked_function_arn="arn:aws:lambda:eu-west-1:111111111111:function:log-shipper"))
    # THEN the control message is dropped, the two events arrive from the member account and us-east-1
    assert result == {"batchItemFailures": []}
    docs = kinesis.documents()
    assert sorted(d["level"] for d in docs) == ["ERROR", "INFO"]
    assert {(d["account"], d["region"]) for d in docs} == {("222222222222", "us-east-1")}
    assert kinesis.dead_letters() == []


def test_one_poisoned_record_in_500_is_dead_lettered_and_the_other_499_are_shipped(kinesis):
    # GIVEN a batch of 500 records, the 251st of which is not a CloudWatch Logs payload
    payloads = [encode_payload("/aws/lambda/orders", f"s{n}", events(2, prefix=f"r{n:03d}-"), owner="222222222222")
                for n in range(500)]
    event = kinesis_event(payloads, stream_arn("eu-west-1"))
    poison = base64.b64encode(b"plain text, not gzip").decode()
    event["Records"][250]["kinesis"]["data"] = poison
    # WHEN shipped
    result = invoke(event)
    # THEN nothing is reported (no shard is blocked), and every event of the other 499 arrives once
    assert result == {"batchItemFailures": []}
    counts = Counter(d["id"] for d in kinesis.documents())
    assert len(counts) == 998 and set(counts.values()) == {1}
    assert not any(i.startswith("r250-") for i in counts)
    # AND the poisoned record is in the dead-letter queue, whole, with its reason
    (letter,) = kinesis.dead_letters()
    attrs = attributes(letter)
    assert attrs["kind"] == "record" and attrs["stage"] == "not gzip" and attrs["reason"]
    assert attrs["sequence_number"] == event["Records"][250]["kinesis"]["sequenceNumber"]
    assert json.loads(letter["Body"]) == event["Records"][250]


def test_a_record_from_an_unknown_stream_is_dead_lettered_and_the_rest_shipped(kinesis):
    # GIVEN two records, on a stream the configuration does not map to a region
    event = kinesis_event([encode_payload("/g", "s", events(1))] * 2, stream_arn("x", name="someone-elses"))
    # WHEN shipped / THEN both are dead-lettered as records, none reported, nothing shipped
    assert invoke(event) == {"batchItemFailures": []}
    letters = kinesis.dead_letters()
    assert [attributes(m)["stage"] for m in letters] == ["unknown stream"] * 2
    assert kinesis.documents() == []


def test_the_records_of_a_batch_share_put_record_batch_calls(kinesis):
    record_puts(kinesis)
    # GIVEN a batch of 100 records of 50 events each (5,000 documents)
    payloads = [encode_payload("/g", f"s{n}", events(50, prefix=f"b{n:03d}-")) for n in range(100)]
    # WHEN shipped
    assert invoke(kinesis_event(payloads, stream_arn("eu-west-1"))) == {"batchItemFailures": []}
    # THEN the calls are documents ÷ 500 (the per-call limit), not one or more per record
    assert [len(put) for put in kinesis.puts] == [500] * 10
    assert Counter(d["id"] for d in kinesis.documents()) == Counter(
        f"b{n:03d}-{i:06d}" for n in range(100) for i in range(50))


def test_a_firehose_throttle_mid_batch_loses_nothing_and_ships_nothing_twice(kinesis):
    # GIVEN Firehose accepts the first two calls, then throttles every call
    calls = []

    def throttle_after_two(request, forward):
        calls.append(1)
        return None if len(calls) <= 2 else json_error("ThrottlingException", "Rate exceeded")

    kinesis.aws.proxy.add("PutRecordBatch", throttle_after_two)
    # AND six records of 400 events: the first two calls (1,000 documents) carry records 0-1 and half of 2
    payloads = [encode_payload("/g", f"s{n}", events(400, prefix=f"t{n}-"), owner="333333333333") for n in range(6)]
    event = kinesis_event(payloads, stream_arn("us-east-1"))
    # WHEN shipped
    result = invoke(event)
    # THEN exactly the records not fully delivered are reported
    assert [f["itemIdentifier"] for f in result["batchItemFailures"]] == sequence_numbers(event)[2:]
    assert len(kinesis.documents()) == 1000
    # WHEN Lambda retries from the first reported record, Firehose recovered
    kinesis.aws.proxy.clear()
    assert invoke(retry_from(event, result)) == {"batchItemFailures": []}
    # THEN every event arrived exactly once
    assert Counter(d["id"] for d in kinesis.documents()) == Counter(f"t{n}-{i:06d}" for n in range(6) for i in range(400))


def test_only_the_record_whose_events_fail_is_reported_and_the_retry_sends_only_them(kinesis):
    # GIVEN five records, and Firehose refusing the events of the middle one every time
    payloads = [encode_payload("/g", f"s{n}", events(3, prefix=f"m{n}-")) for n in range(5)]
    event = kinesis_event(payloads, stream_arn("eu-west-1"))
    fail_some(kinesis, {f"m2-{i:06d}" for i in range(3)})
    # WHEN shipped
    result = invoke(event)
    # THEN only that record is named; the later ones were delivered
    assert [f["itemIdentifier"] for f in result["batchItemFailures"]] == [sequence_numbers(event)[2]]
    assert len(kinesis.documents()) == 12
    # WHEN Lambda re-delivers from it (records 2, 3, 4) and Firehose accepts them
    kinesis.aws.proxy.clear()
    kinesis.puts.clear()
    record_puts(kinesis)
    assert invoke(retry_from(event, result)) == {"batchItemFailures": []}
    # THEN only record 2's events are sent again (3 and 4 are remembered as done); each event arrived once
    assert [len(put) for put in kinesis.puts] == [3]
    assert Counter(d["id"] for d in kinesis.documents()) == Counter(f"m{n}-{i:06d}" for n in range(5) for i in range(3))


def test_a_dead_letter_queue_out_of_reach_reports_the_record_instead_of_losing_it(kinesis):
    # GIVEN a poisoned record and SQS refusing every call
    kinesis.aws.proxy.add("SendMessage", lambda req, fwd: json_error("AccessDenied", "denied", 400))
    event = kinesis_event([encode_payload("/g", "s", events(1))] * 2, stream_arn("eu-west-1"))
    event["Records"][0]["kinesis"]["data"] = "!!"
    # WHEN shipped / THEN the record is reported for Lambda's retry; the good one is delivered
    assert [f["itemIdentifier"] for f in invoke(event)["batchItemFailures"]] == sequence_numbers(event)[:1]
    assert len(kinesis.documents()) == 1


# --- time: calls start only while the margin is left ----------------------------------------

def test_records_not_reached_before_the_deadline_are_reported_and_the_retry_ships_only_them(kinesis):
    # GIVEN five records of 400 events (four calls) and time for two calls only
    payloads = [encode_payload("/g", f"s{n}", events(400, prefix=f"d{n}-")) for n in range(5)]
    event = kinesis_event(payloads, stream_arn("eu-west-1"))
    clock = Clock(remaining_ms=80_000, step_ms=35_000)
    # WHEN shipped
    result = invoke(event, clock)
    # THEN the records not fully delivered are reported: record 2 half-way, 3 and 4 not started
    assert [f["itemIdentifier"] for f in result["batchItemFailures"]] == sequence_numbers(event)[2:]
    assert len(kinesis.documents()) == 1000
    # WHEN Lambda retries from there with time enough
    assert invoke(retry_from(event, result)) == {"batchItemFailures": []}
    # THEN every event arrived exactly once
    assert Counter(d["id"] for d in kinesis.documents()) == Counter(f"d{n}-{i:06d}" for n in range(5) for i in range(400))


def test_a_record_cut_by_the_deadline_mid_way_is_reported_and_its_retry_sends_only_the_rest(kinesis):
    record_puts(kinesis)
    # GIVEN one record of 1,200 events (three PutRecordBatch calls) and time for the first two calls only
    batch = events(1200, prefix="m")
    event = kinesis_event([encode_payload("/g", "s", batch)], stream_arn("eu-west-1"))
    clock = Clock(remaining_ms=80_000, step_ms=35_000)  # first call: fine; second: fine; third: short
    # WHEN shipped / THEN the record is reported, 1,000 events went out
    assert [f["itemIdentifier"] for f in invoke(event, clock)["batchItemFailures"]] == sequence_numbers(event)
    assert [len(put) for put in kinesis.puts] == [500, 500]
    # WHEN Lambda retries it in the same execution environment
    assert invoke(event) == {"batchItemFailures": []}
    # THEN only the other 200 are sent, and every event arrived once
    assert [len(put) for put in kinesis.puts] == [500, 500, 200]
    assert Counter(d["id"] for d in kinesis.documents()) == Counter(e["id"] for e in batch)


def test_a_direct_subscription_cut_by_the_deadline_dead_letters_the_rest_for_redrive(kinesis):
    # GIVEN a direct subscription payload of 1,200 events and time for the first chunk only
    batch = events(1200, prefix="x")
    payload = encode_payload("/aws/lambda/orders", "s", batch)
    # WHEN shipped
    result = invoke(payload, Clock(remaining_ms=60_000, step_ms=40_001))
    # THEN 500 are delivered and the other 700 wait in the dead-letter queue as deferred, reason deadline
    assert result["status"] == "deferred" and result["delivered"] == 500 and result["deferred"] == 700
    letters = kinesis.dead_letters()
    assert {(attributes(m)["kind"], attributes(m)["reason"]) for m in letters} == {("deferred", "deadline")}
    # WHEN redriven as the runbook does (re-invoking the shipper with each requestPayload)
    for letter in letters:
        redriven = json.loads(letter["Body"])["requestPayload"]
        assert invoke(redriven)["status"] == "shipped"
    # THEN every event arrived exactly once, from the function's own region
    docs = kinesis.documents()
    assert Counter(d["id"] for d in docs) == Counter(e["id"] for e in batch)
    assert {d["region"] for d in docs} == {"us-east-1"}


def test_deferred_events_too_large_for_one_message_are_split_into_redrivable_payloads(kinesis):
    # GIVEN 40 events of 20 KiB of incompressible text, and no time at all
    import os
    batch = [{"id": f"big{i}", "timestamp": 1, "message": base64.b64encode(os.urandom(15_000)).decode()}
             for i in range(40)]
    # WHEN shipped
    result = invoke(encode_payload("/g", "s", batch), Clock(remaining_ms=1_000, step_ms=0))
    # THEN nothing is delivered; several messages each hold a valid subscription event
    assert result["delivered"] == 0 and result["deferred"] == 40
    letters = kinesis.dead_letters()
    assert len(letters) > 1 and all(len(m["Body"]) <= 256 * 1024 for m in letters)
    ids = []
    for letter in letters:
        data = json.loads(letter["Body"])["requestPayload"]["awslogs"]["data"]
        ids.extend(e["id"] for e in json.loads(gzip.decompress(base64.b64decode(data)))["logEvents"])
    assert sorted(ids) == sorted(e["id"] for e in batch)


# --- a 10-minute Firehose outage on the Kinesis path (time compressed) ---------------------------

def test_a_ten_minute_firehose_outage_loses_nothing_and_the_iterator_age_alarm_comes_first(kinesis):
    """The mapping as the construct configures it (retry until the maximum record age, batches of
    BATCH_SIZE, restart from the first reported record), driven in virtual time: one step is 30 s."""
    from log_constructs.pipeline.ingestion import BATCH_SIZE, DEFAULT_MAX_RECORD_AGE, iterator_age_alarm_ms

    step_ms, outage_ms = 30_000, 10 * 60_000
    max_age_ms = int(DEFAULT_MAX_RECORD_AGE.to_seconds() * 1000)
    alarm_ms = iterator_age_alarm_ms(DEFAULT_MAX_RECORD_AGE)
    # GIVEN Firehose refuses every call during the first 10 virtual minutes
    now = {"ms": 0}
    kinesis.aws.proxy.add("PutRecordBatch", lambda request, forward: (
        json_error("ServiceUnavailableException", "injected outage", 503) if now["ms"] < outage_ms else None))
    # AND one record (3 events) arriving on the stream every virtual 30 s for 15 minutes
    arn = stream_arn("eu-west-1")
    stream: list[tuple[int, dict]] = []  # (arrival ms, Kinesis record)
    sent: set[str] = set()
    checkpoint = 0
    alarm_at = aged_out = None
    while now["ms"] <= 15 * 60_000 or checkpoint < len(stream):
        if now["ms"] <= 15 * 60_000:
            batch = events(3, prefix=f"t{now['ms']:07d}-")
            sent.update(e["id"] for e in batch)
            (record,) = kinesis_event([encode_payload("/aws/lambda/orders", "s", batch, owner="222222222222")],
                                      arn)["Records"]
            record["kinesis"]["sequenceNumber"] = f"{len(stream):021d}"
            stream.append((now["ms"], record))
        # WHEN the mapping polls: the iterator age is that of the oldest record not yet checkpointed
        if checkpoint < len(stream):
            age = now["ms"] - stream[checkpoint][0]
            if age > alarm_ms and alarm_at is None:
                alarm_at = now["ms"]
            if age > max_age_ms and aged_out is None:
                aged_out = now["ms"]
            pending = [record for _, record in stream[checkpoint:checkpoint + BATCH_SIZE]]
            # (a fresh invocation's time: 25 s left, so each attempt is bounded and nothing sleeps long)
            result = invoke({"Records": pending}, Clock(25_000, 0))
            failed = {f["itemIdentifier"] for f in result["batchItemFailures"]}
            done = next((i for i, r in enumerate(pending) if r["kinesis"]["sequenceNumber"] in failed), len(pending))
            checkpoint += done
        now["ms"] += step_ms
        assert now["ms"] < max_age_ms, "the outage outlasted the maximum record age"

    # THEN every event arrived (duplicates allowed: delivery is at least once), none went to the dead-letter queue
    delivered = {d["id"] for d in kinesis.documents()}
    assert sent <= delivered
    assert kinesis.dead_letters() == []
    # AND the iterator-age alarm's condition was met during the outage, long before any record could age out
    assert alarm_at is not None and alarm_at < outage_ms
    assert aged_out is None
