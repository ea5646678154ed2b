"""The Kinesis redrive against the emulator: an ingestion stream (moto), the on-failure queue, and the
shipper's invocations answered by the fault proxy (the emulator would need Docker to run a function)."""
from __future__ import annotations

import base64
import json

import pytest

from logship.kinesis_redrive import BatchInfo, redrive
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


def run(aws, queue: str, **options):
    said: list[str] = []
    outcome = redrive(queue, FUNCTION, sqs=aws.client("sqs"), kinesis_for=lambda region: aws.client("kinesis"),
                      lambda_client=aws.client("lambda"), say=said.append, **options)
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
