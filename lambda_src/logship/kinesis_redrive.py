"""Redrive what an ingestion stream's event source mapping gave up on: re-read the records, re-invoke the shipper.

    python -m logship.kinesis_redrive --queue-url QUEUE_URL --function FUNCTION [--dry-run]

When a Kinesis mapping gives up on a batch (its records older than the maximum record age), its
on-failure destination gets only where the batch was: ``KinesisBatchInfo`` (``streamArn``,
``shardId``, ``startSequenceNumber``, ``endSequenceNumber``), not the data. The data is still in the
stream until its retention ends. For every such message of the queue this reads the batch again
(``GetShardIterator`` at the start sequence number, ``GetRecords`` to the end one), invokes the
function synchronously with a Kinesis event of those records in the shape Lambda gives it, with
``eventSourceARN`` the stream's ARN (the shipper takes the source region from it), and deletes the
message only when every record was shipped (no ``batchItemFailures``, no function error).

A message is kept, with the reason printed, when the records are no longer all in the stream (the
first one read is later than the start: retention ended, those records are lost, and the message
says which), when the function fails or reports records, or when a call fails. Messages that are not
Kinesis on-failure records (the shipper's own dead letters) are left alone for the queue's other
redrive. Exit status 1 when any message was kept.
"""
from __future__ import annotations

import argparse
import base64
import json
import sys
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Optional, Sequence

import boto3

# Records per invocation: the mappings' batch size.
BATCH_RECORDS = 100
# GetRecords answers at most this many records per call.
GET_RECORDS_LIMIT = 1000


@dataclass(frozen=True)
class BatchInfo:
    """Where a batch the mapping gave up on was: ``KinesisBatchInfo`` of the on-failure record."""

    stream_arn: str
    shard_id: str
    start: str
    end: str

    @property
    def region(self) -> str:
        return self.stream_arn.split(":")[3]

    @property
    def stream_name(self) -> str:
        return self.stream_arn.split(":stream/", 1)[1]

    @classmethod
    def from_message(cls, body: str) -> Optional["BatchInfo"]:
        try:
            info = json.loads(body).get("KinesisBatchInfo")
            return cls(info["streamArn"], info["shardId"], info["startSequenceNumber"], info["endSequenceNumber"])
        except (ValueError, AttributeError, KeyError, TypeError):
            return None


@dataclass
class Outcome:
    redriven: int = 0
    records: int = 0
    kept: list[str] = field(default_factory=list)
    skipped: int = 0


def read_batch(kinesis: Any, info: BatchInfo) -> list[dict[str, Any]]:
    """The batch's records, from its start to its end sequence number; raises ``LookupError`` when the
    first record the stream still holds is later than the start (retention ended for some)."""
    iterator = kinesis.get_shard_iterator(StreamName=info.stream_name, ShardId=info.shard_id,
                                          ShardIteratorType="AT_SEQUENCE_NUMBER",
                                          StartingSequenceNumber=info.start)["ShardIterator"]
    end = int(info.end)
    records: list[dict[str, Any]] = []
    done = False
    while iterator and not done:
        answer = kinesis.get_records(ShardIterator=iterator, Limit=GET_RECORDS_LIMIT)
        for record in answer["Records"]:
            if int(record["SequenceNumber"]) > end:
                done = True
                break
            records.append(record)
        done = done or (int(answer.get("MillisBehindLatest", 0)) == 0 and not answer["Records"])
        iterator = answer.get("NextShardIterator")
    if not records or records[0]["SequenceNumber"] != info.start:
        raise LookupError(f"records from {info.start} on shard {info.shard_id} are no longer in the stream "
                          f"(first found: {records[0]['SequenceNumber'] if records else 'none'}): retention ended")
    return records


def kinesis_event(info: BatchInfo, records: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The event Lambda gives the function for ``records`` of ``info``'s stream."""
    return {"Records": [{
        "eventSource": "aws:kinesis",
        "eventVersion": "1.0",
        "eventSourceARN": info.stream_arn,
        "awsRegion": info.region,
        "eventID": f"{info.shard_id}:{record['SequenceNumber']}",
        "eventName": "aws:kinesis:record",
        "kinesis": {
            "kinesisSchemaVersion": "1.0",
            "partitionKey": record["PartitionKey"],
            "sequenceNumber": record["SequenceNumber"],
            "data": base64.b64encode(record["Data"]).decode("ascii"),
            "approximateArrivalTimestamp": record["ApproximateArrivalTimestamp"].timestamp(),
        },
    } for record in records]}


def _chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def redrive_message(info: BatchInfo, *, kinesis: Any, lambda_client: Any, function: str, dry_run: bool) -> int:
    """Re-invoke ``function`` with the batch's records; the number of records. Raises ``RuntimeError``
    (or a client error) when a record was not shipped."""
    records = read_batch(kinesis, info)
    if dry_run:
        return len(records)
    for chunk in _chunks(records, BATCH_RECORDS):
        answer = lambda_client.invoke(FunctionName=function, InvocationType="RequestResponse",
                                      Payload=json.dumps(kinesis_event(info, chunk)).encode())
        payload = answer["Payload"].read()
        if answer.get("FunctionError"):
            raise RuntimeError(f"the function failed: {payload[:300].decode('utf-8', 'replace')}")
        failures = (json.loads(payload or b"{}") or {}).get("batchItemFailures") or []
        if failures:
            raise RuntimeError(f"the function reported {len(failures)} record(s) not shipped, from "
                               f"{failures[0].get('itemIdentifier')}")
    return len(records)


def redrive(queue_url: str, function: str, *, sqs: Any, kinesis_for: Callable[[str], Any], lambda_client: Any,
            dry_run: bool = False, say: Callable[[str], None] = print) -> Outcome:
    """Every Kinesis on-failure message of ``queue_url``, once each (a kept message stays invisible until
    its visibility timeout ends, so the loop ends)."""
    outcome = Outcome()
    while True:
        messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0,
                                       VisibilityTimeout=300).get("Messages", [])
        if not messages:
            return outcome
        for message in messages:
            info = BatchInfo.from_message(message["Body"])
            if info is None:
                outcome.skipped += 1
                continue
            where = f"{info.stream_name} {info.shard_id} {info.start}..{info.end}"
            try:
                count = redrive_message(info, kinesis=kinesis_for(info.region), lambda_client=lambda_client,
                                        function=function, dry_run=dry_run)
            except Exception as error:  # kept: the reason is printed, the message stays for another try
                outcome.kept.append(f"{where}: {error}")
                say(f"kept {where}: {error}")
                continue
            outcome.records += count
            if dry_run:
                say(f"would redrive {where}: {count} record(s)")
                continue
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
            outcome.redriven += 1
            say(f"redriven {where}: {count} record(s)")


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m logship.kinesis_redrive", description=__doc__.split("\n")[0])
    parser.add_argument("--queue-url", required=True, help="the shipper's dead-letter (on-failure) queue")
    parser.add_argument("--function", required=True, help="the shipper function's name or ARN")
    parser.add_argument("--dry-run", action="store_true", help="read the records, invoke nothing, delete nothing")
    args = parser.parse_args(argv)
    outcome = redrive(args.queue_url, args.function, sqs=boto3.client("sqs"),
                      kinesis_for=lambda region: boto3.client("kinesis", region_name=region),
                      lambda_client=boto3.client("lambda"), dry_run=args.dry_run)
    print(f"{outcome.redriven} batch(es) redriven, {outcome.records} record(s); {len(outcome.kept)} kept; "
          f"{outcome.skipped} other message(s) left alone", file=sys.stderr)
    return 1 if outcome.kept else 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
