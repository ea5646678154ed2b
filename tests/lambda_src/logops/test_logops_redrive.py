"""The Kinesis redrive against the emulator: an ingestion stream (moto), the on-failure queue, and the
shipper's invocations answered by the fault proxy (the emulator would need Docker to run a function)."""
from __future__ import annotations

import base64
import io
import json
import threading
import time
import zipfile

import pytest

from logops import redrive as kinesis_redrive
from logops.redrive import BatchInfo, invoke_config, main, redrive
from tests.support.emulator import ACCOUNT, REGION
from tests.support.fault_proxy import Response

FUNCTION = "LoggingPlatform-LogsShipper"
INVOKE = f"POST /2015-03-31/functions/{FUNCTION}/invocations"
STREAM = "log-constructs-ingestion-eu-west-1"


@pytest.fixture
def ingestion(aws):
    kinesis = aws.client("kinesis", direct=True)
    kinesis.create_stream(StreamName=STREAM, ShardCount=1)
    arn = kinesis.describe_stream_summary(StreamName=STREAM)["StreamDescriptionSummary"]["StreamARN"]
    shard = kinesis.list_shards(StreamName=STREAM)["Shards"][0]["ShardId"]
    sequences = [kinesis.put_record(StreamName=STREAM, Data=f"payload-{n}".encode(), PartitionKey=f"k{n}")
                 ["SequenceNumber"] for n in range(8)]
    sqs = aws.client("sqs", direct=True)
    queue = sqs.create_queue(QueueName="shipper-dlq")["QueueUrl"]
    return arn, shard, sequences, queue


def on_failure(arn: str, shard: str, start: str, end: str) -> str:
    """What a Kinesis event source mapping puts on its on-failure destination: where the batch was, no data."""
    return json.dumps({
        "requestContext": {"requestId": "r-1", "functionArn": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{FUNCTION}",
                           "condition": "RecordAgeExceeded", "approximateInvokeCount": 4},
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": None},
        "version": "1.0", "timestamp": "2026-11-21T14:00:00.000Z",
        "KinesisBatchInfo": {"shardId": shard, "startSequenceNumber": start, "endSequenceNumber": end,
                             "approximateArrivalOfFirstRecord": "2026-11-21T08:00:00Z",
                             "approximateArrivalOfLastRecord": "2026-11-21T08:00:01Z", "batchSize": 3,
                             "streamArn": arn},
    })


def run(aws, queue: str, *, streams=None, **options):
    said: list[str] = []
    if streams is None:
        streams = frozenset({aws.client("kinesis", direct=True).describe_stream_summary(StreamName=STREAM)
                             ["StreamDescriptionSummary"]["StreamARN"]})
    outcome = redrive(queue, FUNCTION, sqs=aws.client("sqs"), kinesis_for=lambda region: aws.client("kinesis"),
                      lambda_client=aws.client("lambda"), streams=streams, say=said.append, **options)
    return outcome, said


def left(aws, queue: str) -> int:
    counts = aws.client("sqs", direct=True).get_queue_attributes(
        QueueUrl=queue, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])
    return sum(int(v) for v in counts["Attributes"].values())


def test_a_batch_the_mapping_gave_up_on_is_read_again_and_shipped(aws, ingestion):
    # GIVEN an on-failure record of records 2..4 of the stream, and a shipper that ships everything
    arn, shard, sequences, queue = ingestion
    aws.client("sqs", direct=True).send_message(QueueUrl=queue, MessageBody=on_failure(arn, shard, sequences[2],
                                                                                      sequences[4]))
    invoked: list[dict] = []

    def ship(request, forward):
        invoked.append(json.loads(request.body))
        assert request.headers.get("x-amz-invocation-type") == "RequestResponse"
        return Response(200, {"Content-Type": "application/json"}, b'{"batchItemFailures": []}')

    aws.proxy.add(INVOKE, ship)
    # WHEN the redrive runs
    outcome, said = run(aws, queue)
    # THEN the shipper got exactly those records, as Lambda hands them over, with the stream's ARN (its region)
    (event,) = invoked
    records = event["Records"]
    assert [r["kinesis"]["sequenceNumber"] for r in records] == sequences[2:5]
    assert [base64.b64decode(r["kinesis"]["data"]) for r in records] == [b"payload-2", b"payload-3", b"payload-4"]
    assert {r["eventSourceARN"] for r in records} == {arn} and {r["eventSource"] for r in records} == {"aws:kinesis"}
    # AND the message is gone
    assert (outcome.redriven, outcome.records, outcome.kept) == (1, 3, [])
    assert left(aws, queue) == 0 and said[0].startswith("redriven ")


def test_a_batch_the_shipper_reports_again_stays_in_the_queue(aws, ingestion):
    # GIVEN an on-failure record, and a shipper whose Firehose still fails (it reports a record)
    arn, shard, sequences, queue = ingestion
    aws.client("sqs", direct=True).send_message(QueueUrl=queue, MessageBody=on_failure(arn, shard, sequences[0],
                                                                                      sequences[1]))
    failure = json.dumps({"batchItemFailures": [{"itemIdentifier": sequences[1]}]}).encode()
    aws.proxy.add(INVOKE, lambda request, forward: Response(200, {"Content-Type": "application/json"}, failure))
    # WHEN the redrive runs THEN the message stays, with the reason printed
    outcome, said = run(aws, queue)
    assert outcome.redriven == 0 and len(outcome.kept) == 1 and "1 record(s) not shipped" in said[0]
    assert left(aws, queue) == 1


def test_records_past_the_retention_are_named_not_silently_skipped(aws, ingestion):
    # GIVEN an on-failure record whose start the stream no longer holds (a sequence number before its first)
    arn, shard, sequences, queue = ingestion
    gone = str(int(sequences[0]) - 1)
    info = BatchInfo(arn, shard, gone, sequences[1])
    aws.client("sqs", direct=True).send_message(QueueUrl=queue, MessageBody=on_failure(arn, shard, gone, sequences[1]))
    aws.proxy.add(INVOKE, lambda request, forward: pytest.fail("nothing may be invoked"))
    # WHEN the redrive runs THEN the message stays and says the records are no longer in the stream
    outcome, said = run(aws, queue)
    assert outcome.kept and "no longer in the stream" in said[0] and info.start in said[0]
    assert left(aws, queue) == 1


def test_other_messages_are_left_alone(aws, ingestion):
    # GIVEN one of the shipper's own dead letters (an undecodable payload)
    *_, queue = ingestion
    aws.client("sqs", direct=True).send_message(QueueUrl=queue, MessageBody=json.dumps({"awslogs": {"data": "x"}}))
    # WHEN the redrive runs THEN it is not touched
    outcome, _ = run(aws, queue)
    assert (outcome.redriven, outcome.skipped, outcome.kept) == (0, 1, [])
    assert left(aws, queue) == 1


# --- trust and exactly-once per run ------------------------------------------------------------------
def _shipper(aws, arn: str, *, timeout: int) -> None:
    """The shipper as the emulator knows it: its configuration and its event source mapping on ``arn``."""
    role = aws.client("iam", direct=True).create_role(
        RoleName="shipper", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}))["Role"]["Arn"]
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("index.py", "def handler(event, context):\n    return {}\n")
    client = aws.client("lambda", direct=True)
    client.create_function(FunctionName=FUNCTION, Runtime="python3.13", Role=role, Handler="index.handler",
                           Code={"ZipFile": code.getvalue()}, Timeout=timeout)
    client.create_event_source_mapping(FunctionName=FUNCTION, EventSourceArn=arn, StartingPosition="LATEST")


def _messages(aws, queue: str, arn: str, shard: str, sequences: list[str], count: int) -> None:
    sqs = aws.client("sqs", direct=True)
    for n in range(count):
        sqs.send_message(QueueUrl=queue, MessageBody=on_failure(arn, shard, sequences[n], sequences[n]))


def test_the_invoke_client_makes_one_attempt_with_a_read_timeout_above_the_functions():
    config = invoke_config(120)
    assert config.retries == {"total_max_attempts": 1}
    assert config.read_timeout > 120


def test_a_batch_whose_answer_is_lost_is_invoked_once(aws, ingestion, monkeypatch):
    # GIVEN the shipper (timeout 3 s) with its mapping, one on-failure message, and an answer lost on the
    # way back after the function ran (a 502 the SDK would retry)
    arn, shard, sequences, queue = ingestion
    _shipper(aws, arn, timeout=3)
    _messages(aws, queue, arn, shard, sequences, 1)
    invoked: list[float] = []

    def ran_then_lost(request, forward):
        invoked.append(time.monotonic())
        time.sleep(1)
        return Response(502, {"Content-Type": "application/json"}, b'{"message": "Bad Gateway"}')

    aws.proxy.add(INVOKE, ran_then_lost)
    monkeypatch.delenv("AWS_MAX_ATTEMPTS", raising=False)
    # WHEN the command runs as an operator runs it
    code = main(["--queue-url", queue, "--function", FUNCTION])
    # THEN the batch was invoked exactly once, the message is kept and visible again for the next run
    assert len(invoked) == 1 and code == 1
    assert left(aws, queue) == 1
    visible = aws.client("sqs", direct=True).receive_message(QueueUrl=queue, VisibilityTimeout=0)
    assert len(visible.get("Messages", [])) == 1


def test_batches_that_stay_unshipped_are_invoked_once_each_per_run(aws, ingestion, monkeypatch):
    # GIVEN five messages, a shipper that takes longer than the receive's visibility and reports a record
    # each time (Firehose still down)
    arn, shard, sequences, queue = ingestion
    _messages(aws, queue, arn, shard, sequences, 5)
    monkeypatch.setattr(kinesis_redrive, "RECEIVE_VISIBILITY_S", 1)
    invoked: list[str] = []
    failure = json.dumps({"batchItemFailures": [{"itemIdentifier": "x"}]}).encode()

    def slow_failure(request, forward):
        invoked.append(json.loads(request.body)["Records"][0]["kinesis"]["sequenceNumber"])
        time.sleep(1.5)
        return Response(200, {"Content-Type": "application/json"}, failure)

    aws.proxy.add(INVOKE, slow_failure)
    # WHEN the redrive runs (it must end by itself)
    result: list = []
    worker = threading.Thread(target=lambda: result.append(run(aws, queue, visibility_s=5)), daemon=True)
    worker.start()
    worker.join(60)
    assert not worker.is_alive(), "the redrive did not end"
    outcome, _ = result[0]
    # THEN every batch was invoked exactly once, all five are kept and left in the queue
    assert sorted(invoked) == sorted(sequences[:5]) and len(outcome.kept) == 5
    assert left(aws, queue) == 5


def test_a_message_naming_a_stream_the_function_does_not_read_is_kept_unread(aws, ingestion):
    # GIVEN a message naming a stream of the same name in another region (where a forged payload could wait)
    arn, shard, sequences, queue = ingestion
    forged_arn = arn.replace(f":{REGION}:", ":us-west-2:")
    aws.client("sqs", direct=True).send_message(QueueUrl=queue, MessageBody=on_failure(forged_arn, shard, sequences[0],
                                                                                      sequences[0]))
    aws.proxy.add(INVOKE, lambda request, forward: pytest.fail("nothing may be invoked"))
    # WHEN the redrive runs with the function's mapped streams THEN the message is kept, naming why
    outcome, said = run(aws, queue, streams=frozenset({arn}))
    assert outcome.kept and "not a stream" in said[0] and forged_arn in said[0]
    assert left(aws, queue) == 1
