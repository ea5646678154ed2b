"""The log shipper function against the AWS emulator: a real Firehose stream (S3 destination in moto),
a real SQS dead-letter queue, faults injected on the wire by the proxy."""
from __future__ import annotations

import base64
import gzip
import io
import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest

from log_shipper import handler as shipper
from log_shipper.dead_letter import join_parts
from tests.support.subscription import encode_payload
from logship.firehose import MAX_BATCH_BYTES, MAX_BATCH_RECORDS, MAX_RECORD_BYTES
from tests.support.fault_proxy import Request, Response, json_error

SAMPLES = Path(__file__).resolve().parents[2] / "events" / "cloudwatch_logs"
STREAM = "app-logs"
BUCKET = "app-logs-delivered"
QUEUE = "log-shipper-dlq"


@dataclass
class Context:
    """The attributes of Lambda's context object that Powertools reads."""

    function_name: str = "log-shipper"
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:log-shipper"
    aws_request_id: str = "5f0c6d3e-8a7b-4c2d-9e1f-0a1b2c3d4e5f"


@dataclass
class Env:
    aws: object
    queue_url: str
    puts: list  # the PutRecordBatch request bodies the proxy saw (decoded records per call)

    def invoke(self, event: dict) -> dict:
        return shipper.handler(event, Context())

    def documents(self) -> list[dict]:
        """Every document Firehose delivered to its S3 destination."""
        s3 = self.aws.client("s3", direct=True)
        docs = []
        for obj in s3.list_objects_v2(Bucket=BUCKET).get("Contents", []):
            body = s3.get_object(Bucket=BUCKET, Key=obj["Key"])["Body"].read()
            if body[:2] == b"\x1f\x8b":  # bulk mode's archive: gzip members of newline-delimited documents
                body = gzip.decompress(body)
            docs.extend(json.loads(line) for line in body.decode("utf-8").splitlines())
        return docs

    def dead_letters(self) -> list[dict]:
        sqs = self.aws.client("sqs", direct=True)
        messages = []
        while True:
            got = sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10,
                                      MessageAttributeNames=["All"]).get("Messages", [])
            if not got:
                return messages
            messages.extend(got)
            sqs.delete_message_batch(QueueUrl=self.queue_url, Entries=[
                {"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(got)])

    def calls(self, operation: str = "PutRecordBatch") -> int:
        return self.aws.proxy.calls[operation]


def attributes(message: dict) -> dict[str, str]:
    return {k: v["StringValue"] for k, v in message.get("MessageAttributes", {}).items()}


def decoded_records(request: Request) -> list[bytes]:
    return [base64.b64decode(r["Data"]) for r in request.json()["Records"]]


@pytest.fixture
def env(aws, monkeypatch) -> Env:
    # GIVEN a Firehose stream delivering to S3, a dead-letter queue, and the shipper configured for both
    s3 = aws.client("s3", direct=True)
    s3.create_bucket(Bucket=BUCKET)
    aws.client("firehose", direct=True).create_delivery_stream(
        DeliveryStreamName=STREAM,
        DeliveryStreamType="DirectPut",
        ExtendedS3DestinationConfiguration={"RoleARN": "arn:aws:iam::123456789012:role/firehose",
                                            "BucketARN": f"arn:aws:s3:::{BUCKET}"},
    )
    queue_url = aws.client("sqs", direct=True).create_queue(QueueName=QUEUE)["QueueUrl"]
    monkeypatch.setenv("DELIVERY_STREAM_NAME", STREAM)
    monkeypatch.setenv("DEAD_LETTER_QUEUE_URL", queue_url)
    shipper.forget_progress()
    return Env(aws, queue_url, [])


def record_puts(env: Env) -> None:
    """Keep the records of every PutRecordBatch call (the proxy forwards them unchanged)."""
    def respond(request: Request, forward) -> None:
        env.puts.append(decoded_records(request))
        return None

    env.aws.proxy.add("PutRecordBatch", respond)


def fail_some(env: Env, failing_ids: set[str], *, times: int | None = None) -> None:
    """Forward the other records upstream; answer FailedPutCount for those whose document id is listed."""
    def respond(request: Request, forward) -> Response:
        body = request.json()
        records = decoded_records(request)
        env.puts.append(records)
        fails = [json.loads(data)["id"] in failing_ids for data in records]
        keep = [r for r, fail in zip(body["Records"], fails) if not fail]
        upstream = []
        if keep:
            answer = forward(Request(request.method, request.path, request.headers,
                                     json.dumps({**body, "Records": keep}).encode()))
            upstream = json.loads(answer.body)["RequestResponses"]
        it = iter(upstream)
        responses = [{"ErrorCode": "ServiceUnavailableException", "ErrorMessage": "Slow down."} if fail
                     else next(it) for fail in fails]
        payload = {"FailedPutCount": sum(fails), "Encrypted": False, "RequestResponses": responses}
        return Response(200, {"Content-Type": "application/x-amz-json-1.1"}, json.dumps(payload).encode())

    env.aws.proxy.add("PutRecordBatch", respond, times=times)


@pytest.fixture
def log_lines():
    """The JSON log lines the shipper writes during the test."""
    stream = io.StringIO()
    previous = shipper.logger.registered_handler.setStream(stream)

    def lines() -> list[dict]:
        return [json.loads(line) for line in stream.getvalue().splitlines() if line.startswith("{")]

    yield lines
    shipper.logger.registered_handler.setStream(previous)


def sample_payload(name: str) -> tuple[dict, dict]:
    body = json.loads((SAMPLES / f"{name}.json").read_text())
    return body, encode_payload(body["logGroup"], body["logStream"], body["logEvents"], owner=body["owner"],
                                message_type=body["messageType"])


def raw_payload(data: bytes) -> dict:
    return {"awslogs": {"data": base64.b64encode(data).decode()}}


def events(n: int, *, prefix: str = "e", size: int = 0) -> list[dict]:
    return [{"id": f"{prefix}{i:06d}", "timestamp": 1763775838000 + i,
             "message": f"[INFO] event {i} " + "p" * size} for i in range(n)]


# --- documents arrive one per event -----------------------------------------------------------

def test_documents_arrive_one_per_event_with_the_right_fields(env, log_lines):
    record_puts(env)
    samples = ["lambda_python_text", "lambda_node_text", "powertools_json", "lambda_json_format"]
    sent = []
    # WHEN CloudWatch Logs invokes the shipper with four real-shaped batches
    for name in samples:
        body, payload = sample_payload(name)
        result = env.invoke(payload)
        assert result["status"] == "shipped" and result["delivered"] == len(body["logEvents"])
        sent.extend((body, event) for event in body["logEvents"])
    # THEN the stream received one document per event, each with the right fields
    docs = {d["id"]: d for d in env.documents()}
    assert len(env.documents()) == len(sent) == len(docs)
    for body, event in sent:
        doc = docs[event["id"]]
        assert doc["log_group"] == body["logGroup"] and doc["log_stream"] == body["logStream"]
        assert doc["account"] == "123456789012"
        assert doc["@timestamp"].endswith("Z") and doc["@timestamp"].startswith("2026-11-22T01:")
    powertools = docs["38652468544022735211564715523144789015451289731932467201"]
    assert powertools["level"] == "CRITICAL" and powertools["json"]["order_id"] == "o-1011"
    assert powertools["message"].startswith("[CRITICAL] payment provider unreachable")
    assert docs["38652468543352605400431268133212352102364823764012367874"]["level"] == "ERROR"
    assert docs["38652468543129586254412476931221262371066463616345767939"]["level"] == "ERROR"
    assert "level" not in docs["38652468543129586254412476931221262371066463616345767936"]
    # AND one PutRecordBatch per batch, whose records are exactly the delivered documents
    assert env.calls() == len(samples) and len(env.puts) == len(samples)
    assert sorted(json.loads(r)["id"] for put in env.puts for r in put) == sorted(docs)
    assert [line["message"] for line in log_lines() if line["level"] == "INFO"] == ["Shipped log events"] * 4


def test_the_stored_encoded_sample_event_is_shipped(env, events_dir):
    # GIVEN the Lambda event exactly as CloudWatch Logs sends it (base64 of gzip of JSON)
    event = json.loads((events_dir / "cloudwatch_logs" / "subscription_event.json").read_text())
    # WHEN invoked / THEN its four Node.js events arrive
    assert env.invoke(event)["delivered"] == 4
    assert sorted(d["level"] for d in env.documents()) == ["ERROR", "INFO", "INFO", "WARN"]


def test_a_large_batch_is_split_within_the_put_record_batch_limits(env):
    record_puts(env)
    # GIVEN 1,200 small events and 8 events of ~900 KiB in one payload (gzip makes it small)
    batch = events(1200) + events(8, prefix="big", size=900 * 1024)
    # WHEN shipped
    result = env.invoke(encode_payload("/aws/lambda/bulk", "s", batch))
    # THEN every call respects ≤ 500 records and ≤ 4 MiB, and all 1,208 documents arrive once
    assert result["delivered"] == 1208
    assert all(len(put) <= MAX_BATCH_RECORDS and sum(map(len, put)) <= MAX_BATCH_BYTES for put in env.puts)
    assert [len(put) for put in env.puts] == [500, 500, 204, 4]  # 4 records of 900 KiB fill 4 MiB
    assert env.calls() == 4
    assert Counter(d["id"] for d in env.documents()) == Counter(e["id"] for e in batch)


# --- bad input: the payload as a whole --------------------------------------------------------

BAD_PAYLOADS = {
    "not base64": ({"awslogs": {"data": "this is *not* base64 %%%"}}, "not base64"),
    "not gzip": (raw_payload(b'{"messageType": "DATA_MESSAGE"}'), "not gzip"),
    "not JSON": (raw_payload(gzip.compress(b"messageType=DATA_MESSAGE; logEvents=[]")), "not JSON"),
    "JSON but not an object": (raw_payload(gzip.compress(b'["DATA_MESSAGE"]')), "not a JSON object"),
    "missing keys": (raw_payload(gzip.compress(b'{"messageType": "DATA_MESSAGE", "owner": "1", "logEvents": []}')),
                     "missing keys"),
    "logEvents not a list": (raw_payload(gzip.compress(
        b'{"messageType":"DATA_MESSAGE","owner":"1","logGroup":"/g","logStream":"s","logEvents":{}}')),
        "malformed"),
    "non-UTF-8 outside strings": (raw_payload(gzip.compress(b'{"messageType":"DATA_MESSAGE"\xff}')), "not JSON"),
    "no awslogs key": ({"Records": [{"body": "an SQS event"}]}, "missing awslogs.data"),
    "awslogs.data not a string": ({"awslogs": {"data": 12345}}, "not base64"),
}


@pytest.mark.parametrize("case", sorted(BAD_PAYLOADS))
def test_an_undecodable_payload_goes_to_the_dead_letter_queue_as_received(env, log_lines, case):
    event, stage = BAD_PAYLOADS[case]
    # WHEN the shipper is invoked with a payload that cannot be decoded
    result = env.invoke(event)
    # THEN the invocation succeeds, nothing is sent to Firehose...
    assert result == {"status": "dead-lettered", "stage": stage, "dead_letter_messages": 1}
    assert env.calls() == 0
    # ...the event is in the dead-letter queue exactly as received, with the reason
    (message,) = env.dead_letters()
    assert json.loads(message["Body"]) == event
    attrs = attributes(message)
    assert attrs["kind"] == "payload" and attrs["stage"] == stage and attrs["source"] == "log-shipper"
    assert attrs["reason"]
    # ...and a clear ERROR log line says why
    errors = [line for line in log_lines() if line["level"] == "ERROR"]
    assert len(errors) == 1 and errors[0]["stage"] == stage
    assert errors[0]["message"].startswith("Undecodable subscription payload")


def test_an_undecodable_payload_over_256_kib_is_kept_whole_in_parts(env):
    # GIVEN a 700 KiB payload that is not gzip
    event = raw_payload(bytes(range(256)) * (700 * 4))
    # WHEN shipped
    result = env.invoke(event)
    # THEN it is split into messages SQS accepts, that join back to the event as received
    messages = env.dead_letters()
    assert result["dead_letter_messages"] == len(messages) >= 4
    parts = {int(attributes(m)["part"]): m["Body"] for m in messages}
    assert json.loads(join_parts(parts)) == event
    assert {attributes(m)["parts"] for m in messages} == {str(len(messages))}


def test_a_dead_letter_queue_that_cannot_be_reached_fails_the_invocation(env, log_lines):
    # GIVEN the dead-letter queue answers 500 to every SendMessage
    env.aws.proxy.server_error("SendMessage")
    # WHEN an undecodable payload arrives / THEN the invocation fails (Lambda retries, nothing lost)
    with pytest.raises(Exception, match="SendMessage"):
        env.invoke({"awslogs": {"data": "%%%"}})
    assert env.calls("SendMessage") == 3  # botocore's standard retries of SQS
    assert any(line["level"] == "ERROR" for line in log_lines())


# --- bad input: inside a decodable batch ------------------------------------------------------

def test_empty_log_events_are_logged_and_nothing_is_sent(env, log_lines):
    # WHEN a data message without events arrives
    result = env.invoke(encode_payload("/aws/lambda/x", "s", []))
    # THEN success, no call to Firehose or SQS, and an INFO line saying so
    assert result == {"status": "empty", "events": 0}
    assert env.calls() == 0 and env.calls("SendMessage") == 0
    assert any("empty logEvents" in line["message"] for line in log_lines())


def test_a_control_message_is_dropped_with_a_log_line(env, log_lines):
    # WHEN CloudWatch Logs' control message arrives
    result = env.invoke(sample_payload("control_message")[1])
    # THEN nothing is sent anywhere and the drop is logged
    assert result == {"status": "control-message"}
    assert env.calls() == 0 and env.calls("SendMessage") == 0 and env.documents() == []
    assert any("CONTROL_MESSAGE" in line["message"] for line in log_lines())


def test_invalid_events_go_to_the_dead_letter_queue_and_the_valid_ones_are_delivered(env, log_lines):
    # GIVEN a batch mixing valid events with events missing keys, of the wrong types, or out of range
    bad = [{"id": "no-ts", "message": "x"}, {"id": "str-ts", "timestamp": "yesterday", "message": "x"},
           {"id": "num-msg", "timestamp": 1, "message": 42}, "not an object",
           {"id": "far", "timestamp": 10**17, "message": "x"}]
    good = events(3)
    payload = encode_payload("/aws/lambda/mixed", "s", [good[0], *bad[:3], good[1], *bad[3:], good[2]])
    # WHEN shipped
    result = env.invoke(payload)
    # THEN the valid events arrive, the invalid ones are in one dead-letter message with their reasons
    assert sorted(d["id"] for d in env.documents()) == [e["id"] for e in good]
    assert result["dead_lettered"] == 5
    (message,) = env.dead_letters()
    body = json.loads(message["Body"])
    assert [e["event"] for e in body["events"]] == bad
    assert body["logGroup"] == "/aws/lambda/mixed" and attributes(message)["kind"] == "events"
    assert all(e["reason"] for e in body["events"])
    assert any(line["level"] == "WARNING" and line["invalid_events"] == 5 for line in log_lines())


def test_non_utf8_bytes_are_delivered_flagged_with_the_original_bytes(env, log_lines):
    # GIVEN a payload whose message contains bytes that are not UTF-8
    body = (b'{"messageType":"DATA_MESSAGE","owner":"123456789012","logGroup":"/g","logStream":"s",'
            b'"logEvents":[{"id":"1","timestamp":0,"message":"[ERROR] bad \xc3\x28 byte"},'
            b'{"id":"2","timestamp":1,"message":"clean"}]}')
    # WHEN shipped
    result = env.invoke(raw_payload(gzip.compress(body)))
    # THEN both events arrive; the bad bytes are replaced, flagged and kept in base64
    assert result["delivered"] == 2
    docs = {d["id"]: d for d in env.documents()}
    assert docs["1"]["message"] == "[ERROR] bad \ufffd( byte" and docs["1"]["invalid_utf8"] is True
    assert base64.b64decode(docs["1"]["message_base64"]) == b"[ERROR] bad \xc3\x28 byte"
    assert docs["2"] == {"@timestamp": "1970-01-01T00:00:00.001Z", "message": "clean", "log_group": "/g",
                         "log_stream": "s", "account": "123456789012", "id": "2", "region": "us-east-1"}
    assert any("not UTF-8" in line["message"] for line in log_lines())


def test_1_mib_messages_are_delivered_truncated_and_flagged(env, log_lines):
    record_puts(env)
    # GIVEN two 1 MiB messages (one text, one Powertools JSON) and a small one
    big_text = "[ERROR] " + "t" * (1024 * 1024)
    big_json = json.dumps({"level": "WARNING", "message": "dump", "blob": "j" * (1024 * 1024)})
    payload = encode_payload("/g", "s", [{"id": "a", "timestamp": 0, "message": big_text},
                                         {"id": "b", "timestamp": 0, "message": big_json},
                                         {"id": "c", "timestamp": 0, "message": "small"}])
    # WHEN shipped
    result = env.invoke(payload)
    # THEN all three arrive; each record sent was within 1,000 KiB; the big ones are flagged
    assert result["delivered"] == 3 and result["truncated"] == 2
    assert all(len(r) <= MAX_RECORD_BYTES for put in env.puts for r in put)
    docs = {d["id"]: d for d in env.documents()}
    assert docs["a"]["truncated"] is True and docs["a"]["original_bytes"] > 1024 * 1024
    assert docs["a"]["level"] == "ERROR" and docs["a"]["message"].endswith("...[truncated]")
    assert docs["b"]["truncated"] is True and docs["b"]["message"].startswith('{"level": "WARNING"')
    assert "truncated" not in docs["c"]
    assert any(line.get("truncated_events") == 2 for line in log_lines())


# --- Firehose failures ------------------------------------------------------------------------

def test_partial_failures_are_retried_until_delivered_without_duplicates(env):
    # GIVEN Firehose refuses 4 of 10 records in the first two calls (FailedPutCount > 0)
    batch = events(10)
    fail_some(env, {e["id"] for e in batch[::3]}, times=2)
    # WHEN shipped
    result = env.invoke(encode_payload("/g", "s", batch))
    # THEN only the refused records are re-sent, and each document arrives exactly once
    assert result["delivered"] == 10 and result["put_record_batch_calls"] == 3
    assert [len(put) for put in env.puts] == [10, 4]  # the third call went through unrecorded
    assert Counter(d["id"] for d in env.documents()) == Counter(e["id"] for e in batch)


def test_a_failure_response_that_does_not_say_which_records_failed_resends_them_all(env):
    # GIVEN a first PutRecordBatch answer with FailedPutCount > 0 but one response for five records
    def respond(request: Request, forward) -> Response:
        body = json.dumps({"FailedPutCount": 1, "Encrypted": False,
                           "RequestResponses": [{"ErrorCode": "InternalFailure", "ErrorMessage": "?"}]})
        return Response(200, {"Content-Type": "application/x-amz-json-1.1"}, body.encode())

    env.aws.proxy.add("PutRecordBatch", respond, times=1)
    batch = events(5)
    # WHEN shipped / THEN all five are re-sent (none assumed delivered) and each arrives once
    result = env.invoke(encode_payload("/g", "s", batch))
    assert result["delivered"] == 5 and env.calls() == 2
    assert Counter(d["id"] for d in env.documents()) == Counter(e["id"] for e in batch)


def test_records_that_keep_failing_fail_the_invocation_and_the_retry_sends_only_them(env, log_lines):
    # GIVEN Firehose keeps refusing 3 of 10 records
    batch = events(10)
    failing = {batch[1]["id"], batch[5]["id"], batch[9]["id"]}
    fail_some(env, failing)
    payload = encode_payload("/aws/lambda/flaky", "s", batch)
    # WHEN shipped / THEN the invocation fails after 5 attempts, naming the count and the error
    with pytest.raises(shipper.DeliveryError, match="3 of 10 records not delivered to app-logs: "
                                                    "ServiceUnavailableException"):
        env.invoke(payload)
    assert env.calls() == shipper.PUT_MAX_ATTEMPTS
    assert sorted(d["id"] for d in env.documents()) == sorted(e["id"] for e in batch if e["id"] not in failing)
    (error,) = [line for line in log_lines() if line["level"] == "ERROR"]
    assert error["failed"] == 3 and error["delivered"] == 7
    # WHEN Lambda retries the same event after Firehose recovered
    env.aws.proxy.clear()
    env.puts.clear()
    record_puts(env)
    result = env.invoke(payload)
    # THEN only the three missing records are sent, and every event is delivered exactly once
    assert result["delivered"] == 3 and result["already_delivered"] == 7 and result["retry"] is True
    assert [sorted(json.loads(r)["id"] for r in put) for put in env.puts] == [sorted(failing)]
    assert Counter(d["id"] for d in env.documents()) == Counter(e["id"] for e in batch)


def test_a_retry_in_a_new_execution_environment_delivers_at_least_once(env):
    # GIVEN an invocation that failed for 2 of 5 records
    batch = events(5)
    fail_some(env, {batch[0]["id"], batch[1]["id"]})
    payload = encode_payload("/g", "s", batch)
    with pytest.raises(shipper.DeliveryError):
        env.invoke(payload)
    # WHEN Lambda's retry lands in a fresh execution environment (nothing remembered) and succeeds
    env.aws.proxy.clear()
    shipper.forget_progress()
    env.invoke(payload)
    # THEN every event is delivered, the 3 already delivered a second time (same `id`: at least once)
    counts = Counter(d["id"] for d in env.documents())
    assert counts == Counter({e["id"]: 1 if e in batch[:2] else 2 for e in batch})


@pytest.mark.parametrize(
    "fault",
    [
        pytest.param(dict(code="ThrottlingException", status=400), id="throttling"),
        pytest.param(dict(code="ServiceUnavailableException", status=503), id="503"),
        pytest.param(dict(code="InternalFailure", status=500), id="500"),
    ],
)
def test_transient_call_failures_are_retried(env, fault):
    # GIVEN the next two PutRecordBatch calls answer throttling or a 5xx
    env.aws.proxy.add("PutRecordBatch", lambda req, fwd: json_error(fault["code"], "injected", fault["status"]),
                      times=2)
    batch = events(25)
    # WHEN shipped / THEN the third call delivers everything, once
    result = env.invoke(encode_payload("/g", "s", batch))
    assert result["delivered"] == 25 and env.calls() == 3
    assert Counter(d["id"] for d in env.documents()) == Counter(e["id"] for e in batch)


def test_persistent_throttling_fails_the_invocation_and_loses_nothing(env, log_lines):
    # GIVEN Firehose throttles every call
    env.aws.proxy.throttle("PutRecordBatch")
    payload = encode_payload("/g", "s", events(7))
    # WHEN shipped / THEN the invocation fails after the attempts, nothing delivered, ERROR logged
    with pytest.raises(shipper.DeliveryError, match="7 of 7 records not delivered.*ThrottlingException"):
        env.invoke(payload)
    assert env.calls() == shipper.PUT_MAX_ATTEMPTS and env.documents() == []
    assert any(line["level"] == "ERROR" and line["failed"] == 7 for line in log_lines())
    # AND Lambda's retry, once the throttling is over, delivers all of it
    env.aws.proxy.clear()
    assert env.invoke(payload)["delivered"] == 7 and len(env.documents()) == 7


def test_a_stream_that_does_not_exist_fails_the_invocation_after_one_call(env, monkeypatch, log_lines):
    # GIVEN the shipper points at a stream that does not exist
    monkeypatch.setenv("DELIVERY_STREAM_NAME", "no-such-stream")
    batch = events(1200)  # three PutRecordBatch batches
    # WHEN shipped / THEN it fails with the service's error, without trying the other batches
    with pytest.raises(shipper.DeliveryError, match="1200 of 1200 records not delivered to no-such-stream: "
                                                    "ResourceNotFoundException"):
        env.invoke(encode_payload("/g", "s", batch))
    assert env.calls() == 1
    (error,) = [line for line in log_lines() if line["level"] == "ERROR"]
    assert error["stream"] == "no-such-stream" and "ResourceNotFoundException" in error["errors"][0]


def test_missing_configuration_fails_clearly(env, monkeypatch):
    # GIVEN the function's environment lacks the stream name
    monkeypatch.delenv("DELIVERY_STREAM_NAME")
    # WHEN invoked / THEN a clear error, and nothing sent
    with pytest.raises(shipper.ConfigurationError, match="DELIVERY_STREAM_NAME not set"):
        env.invoke(encode_payload("/g", "s", events(1)))
    assert env.calls() == 0


# --- a chunk's calls end before the invocation does ---------------------------------------------

@pytest.mark.parametrize("budget_s", [1, 3, 10, 15, 16, 30, 45, 60, 90, 115, 200, 400, 900])
def test_the_worst_case_of_a_chunk_fits_the_time_it_is_given(budget_s):
    # GIVEN the time a chunk may take / WHEN its calls are planned
    from log_shipper.delivery import plan_calls
    from logship.retry import Backoff

    backoff = Backoff(max_attempts=5)
    plan = plan_calls(budget_s, backoff)
    # THEN every attempt timing out, with every backoff at its cap, still ends in time
    assert plan.worst_case_s(backoff) <= budget_s
    assert plan.attempts >= 1 and plan.resends >= 1
    # AND without a clock, every attempt is made
    assert (plan_calls(None, backoff).attempts, plan_calls(None, backoff).resends) == (5, 5)


def test_a_hanging_firehose_call_ends_before_the_invocation_does(env):
    # GIVEN Firehose answers every PutRecordBatch only after 5 s, and the invocation has 4 s left
    # (a 2 s margin, 1 s kept for the dead-letter queue: the chunk may take 3 s)
    import os
    import time

    from log_shipper.contract import ShipperConfig
    from log_shipper.delivery import Deadline, DeliveryError, Shipper

    def hang(request, forward):  # never forwarded: a late answer must not reach a later test's bucket
        time.sleep(5)
        return json_error("ServiceUnavailableException", "answered too late", 503)

    env.aws.proxy.add("PutRecordBatch", hang)
    ends = time.monotonic() + 4
    deadline = Deadline(lambda: int((ends - time.monotonic()) * 1000), margin_ms=2000, reserve_ms=1000)
    ship = Shipper(shipper.firehose, shipper.sqs, ShipperConfig.from_environment(os.environ),
                   firehose_for=shipper.firehose_for)
    # WHEN a payload is shipped
    with pytest.raises(DeliveryError):
        ship.ship(encode_payload("/aws/lambda/x", "s", events(3)), deadline=deadline)
    # THEN the one attempt that fits gave up before the invocation's end (Lambda would retry it),
    # instead of being cut by the timeout
    assert time.monotonic() < ends
    assert env.calls() == 1
