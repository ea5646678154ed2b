"""The Lambda events CloudWatch Logs subscription filters send, built for tests and benchmarks."""
from __future__ import annotations

import base64
import gzip
import json
from typing import Any, Mapping

from log_subscription import DATA_MESSAGE


def encode_payload(log_group: str, log_stream: str, events: list[Mapping[str, Any]], *,
                   owner: str = "123456789012", message_type: str = DATA_MESSAGE,
                   filters: tuple[str, ...] = ("log-constructs",)) -> dict[str, Any]:
    """The Lambda event CloudWatch Logs would send for ``events``."""
    body = {"messageType": message_type, "owner": owner, "logGroup": log_group, "logStream": log_stream,
            "subscriptionFilters": list(filters), "logEvents": list(events)}
    data = base64.b64encode(gzip.compress(json.dumps(body).encode("utf-8"))).decode("ascii")
    return {"awslogs": {"data": data}}


def kinesis_record(payload: Mapping[str, Any], stream_arn: str, sequence: int, *,
                   data: str | None = None) -> dict[str, Any]:
    """One Kinesis record as Lambda delivers it, carrying the gzipped payload CloudWatch Logs put."""
    region, account = stream_arn.split(":")[3:5]
    shard = "shardId-000000000000"
    number = f"4959{sequence:052d}"
    return {
        "kinesis": {"kinesisSchemaVersion": "1.0", "partitionKey": f"partition-{sequence % 8}",
                    "sequenceNumber": number,
                    "data": payload["awslogs"]["data"] if data is None else data,
                    "approximateArrivalTimestamp": 1764664800.0 + sequence / 1000},
        "eventSource": "aws:kinesis", "eventVersion": "1.0", "eventID": f"{shard}:{number}",
        "eventName": "aws:kinesis:record",
        "invokeIdentityArn": f"arn:aws:iam::{account}:role/log-shipper", "awsRegion": region,
        "eventSourceARN": stream_arn,
    }


def kinesis_event(payloads: list[Mapping[str, Any]], stream_arn: str) -> dict[str, Any]:
    """The event a Kinesis event source mapping hands the shipper for ``payloads`` (subscription events
    as :func:`encode_payload` builds them), one record each, on the stream ``stream_arn``."""
    return {"Records": [kinesis_record(payload, stream_arn, n) for n, payload in enumerate(payloads)]}
