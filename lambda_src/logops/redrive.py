"""Redrive what an ingestion stream's event source mapping gave up on: re-read the records, re-invoke the shipper.

    logops redrive --queue-url QUEUE_URL --function FUNCTION [--dry-run]

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

What it trusts: only streams the function reads through its own event source mappings
(``ListEventSourceMappings``), compared by whole ARN (account, region, name) and read by that ARN; a
message naming any other stream is kept and reported. Each message is handled once per run: it stays
invisible while it is worked (``ChangeMessageVisibility`` before each invocation), a kept one stays
hidden until the run ends and is then made visible again for the next run. The invocation is made
once (no SDK retry), with a read timeout above the function's own timeout, so a slow batch is never
sent twice.
"""
from __future__ import annotations

import argparse
import base64
import json
import sys
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Optional, Sequence

import boto3
from botocore.config import Config

HELP = "re-read from the stream the batches an ingestion mapping gave up on, and invoke the shipper with them"
# Records per invocation: the mappings' batch size.
BATCH_RECORDS = 100
# GetRecords answers at most this many records per call.
GET_RECORDS_LIMIT = 1000
# The invocation's read timeout is the function's timeout plus this (Lambda answers a synchronous
# invoke at the latest when the function times out).
READ_TIMEOUT_MARGIN_S = 30
# How long a message received stays invisible before it is worked (each invocation extends it).
RECEIVE_VISIBILITY_S = 60
# A kept message is hidden this long (and made visible again when the run ends).
HOLD_VISIBILITY_S = 900


def invoke_config(function_timeout_s: int) -> Config:
    """One attempt, read timeout above the function's timeout: an invocation is never sent twice by the SDK."""
    return Config(read_timeout=function_timeout_s + READ_TIMEOUT_MARGIN_S, connect_timeout=10,
                  retries={"total_max_attempts": 1})


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

    @property
    def where(self) -> str:
        return f"{self.stream_arn} {self.shard_id} {self.start}..{self.end}"

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
    iterator = kinesis.get_shard_iterator(StreamARN=info.stream_arn, ShardId=info.shard_id,
                                          ShardIteratorType="AT_SEQUENCE_NUMBER",
                                          StartingSequenceNumber=info.start)["ShardIterator"]
    end = int(info.end)
    records: list[dict[str, Any]] = []
    done = False
    while iterator and not done:
        answer = kinesis.get_records(ShardIterator=iterator, Limit=GET_RECORDS_LIMIT, StreamARN=info.stream_arn)
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


def mapped_streams(lambda_client: Any, function: str) -> frozenset[str]:
    """The ARNs of the Kinesis streams ``function`` reads through its event source mappings."""
    arns: set[str] = set()
    for page in lambda_client.get_paginator("list_event_source_mappings").paginate(FunctionName=function):
        arns.update(m["EventSourceArn"] for m in page.get("EventSourceMappings", [])
                    if ":kinesis:" in m.get("EventSourceArn", ""))
    return frozenset(arns)


def redrive_message(info: BatchInfo, *, kinesis: Any, lambda_client: Any, function: str, dry_run: bool,
                    keep_invisible: Callable[[], None] = lambda: None) -> int:
    """Re-invoke ``function`` with the batch's records; the number of records. Raises ``RuntimeError``
    (or a client error) when a record was not shipped. ``keep_invisible`` runs before each invocation."""
    records = read_batch(kinesis, info)
    if dry_run:
        return len(records)
    for chunk in _chunks(records, BATCH_RECORDS):
        keep_invisible()
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
            streams: frozenset[str], visibility_s: int = RECEIVE_VISIBILITY_S + READ_TIMEOUT_MARGIN_S,
            dry_run: bool = False, say: Callable[[str], None] = print) -> Outcome:
    """Every Kinesis on-failure message of ``queue_url`` whose stream is one of ``streams``, once each.

    ``visibility_s`` keeps a message invisible while one invocation runs (at least the read timeout).
    A message kept, skipped or seen again is hidden for the rest of the run, then made visible again.
    """
    outcome = Outcome()
    seen: set[str] = set()
    parked: dict[str, str] = {}  # message id -> receipt handle: visible again when the run ends

    def hide(message: dict[str, Any], seconds: int) -> None:
        sqs.change_message_visibility(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"],
                                      VisibilityTimeout=seconds)

    try:
        while True:
            messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0,
                                           VisibilityTimeout=RECEIVE_VISIBILITY_S).get("Messages", [])
            if not messages:
                return outcome
            for message in messages:
                parked[message["MessageId"]] = message["ReceiptHandle"]
                if message["MessageId"] in seen:  # came back during this run: never twice
                    hide(message, HOLD_VISIBILITY_S)
                    continue
                seen.add(message["MessageId"])
                handled = _handle(message, function=function, streams=streams, kinesis_for=kinesis_for,
                                  lambda_client=lambda_client, dry_run=dry_run, say=say, outcome=outcome,
                                  keep_invisible=lambda: hide(message, visibility_s))
                if handled:
                    sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
                    del parked[message["MessageId"]]
                else:
                    hide(message, HOLD_VISIBILITY_S)
    finally:
        for receipt in parked.values():  # the next run (or the queue's other redrive) sees them again
            try:
                sqs.change_message_visibility(QueueUrl=queue_url, ReceiptHandle=receipt, VisibilityTimeout=0)
            except Exception as error:  # the message shows again when its hold ends
                say(f"could not make a kept message visible again: {error}")


def _handle(message: dict[str, Any], *, function: str, streams: frozenset[str], kinesis_for: Callable[[str], Any],
            lambda_client: Any, dry_run: bool, say: Callable[[str], None], outcome: Outcome,
            keep_invisible: Callable[[], None]) -> bool:
    """Work one message; whether it may be deleted."""
    info = BatchInfo.from_message(message["Body"])
    if info is None:
        outcome.skipped += 1
        return False
    if info.stream_arn not in streams:
        reason = (f"{info.where}: not a stream {function} reads (its event source mappings: "
                  f"{', '.join(sorted(streams)) or 'none'})")
        outcome.kept.append(reason)
        say(f"kept {reason}")
        return False
    try:
        count = redrive_message(info, kinesis=kinesis_for(info.region), lambda_client=lambda_client,
                                function=function, dry_run=dry_run, keep_invisible=keep_invisible)
    except Exception as error:  # kept: the reason is printed, the message stays for another run
        outcome.kept.append(f"{info.where}: {error}")
        say(f"kept {info.where}: {error}")
        return False
    outcome.records += count
    if dry_run:
        say(f"would redrive {info.where}: {count} record(s)")
        return False
    outcome.redriven += 1
    say(f"redriven {info.where}: {count} record(s)")
    return True


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--queue-url", required=True, help="the shipper's dead-letter (on-failure) queue")
    parser.add_argument("--function", required=True, help="the shipper function's name or ARN")
    parser.add_argument("--dry-run", action="store_true", help="read the records, invoke nothing, delete nothing")


def run(args: argparse.Namespace) -> int:
    control = boto3.client("lambda")
    timeout_s = int(control.get_function_configuration(FunctionName=args.function)["Timeout"])
    outcome = redrive(args.queue_url, args.function, sqs=boto3.client("sqs"),
                      kinesis_for=lambda region: boto3.client("kinesis", region_name=region),
                      lambda_client=boto3.client("lambda", config=invoke_config(timeout_s)),
                      streams=mapped_streams(control, args.function),
                      visibility_s=timeout_s + 2 * READ_TIMEOUT_MARGIN_S, dry_run=args.dry_run)
    print(f"{outcome.redriven} batch(es) redriven, {outcome.records} record(s); {len(outcome.kept)} kept; "
          f"{outcome.skipped} other message(s) left alone", file=sys.stderr)
    return 1 if outcome.kept else 0


def main(argv: Optional[Sequence[str]] = None) -> int:
    """``logops redrive`` with ``argv`` (its options only)."""
    parser = argparse.ArgumentParser(prog="logops redrive", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(parser)
    return run(parser.parse_args(argv))
