"""Realistic events for the deployed functions, shaped as AWS delivers them to each handler."""
from __future__ import annotations

import base64
import gzip
import json
import time
from typing import Optional

SHIPPER = "log_shipper.handler.handler"
ALERTS = "log_alerts.handler.handler"
GOVERNOR = "log_group_governor.handler.handler"
SETUP = "opensearch_setup.handler.handler"


def logs_payload(account: str, log_group: str, messages: list[str]) -> dict:
    """The decoded body of a CloudWatch Logs subscription delivery."""
    now = int(time.time() * 1000)
    return {
        "messageType": "DATA_MESSAGE", "owner": account, "logGroup": log_group,
        "logStream": "2026/12/07/[$LATEST]rehearsal", "subscriptionFilters": ["rehearsal"],
        "logEvents": [{"id": f"{37767123306426012345678901234567890123456789012345678900 + i}",
                       "timestamp": now + i, "message": message} for i, message in enumerate(messages)],
    }


def encoded(payload: dict) -> str:
    return base64.b64encode(gzip.compress(json.dumps(payload).encode())).decode()


def subscription_event(account: str, log_group: str, messages: list[str]) -> dict:
    return {"awslogs": {"data": encoded(logs_payload(account, log_group, messages))}}


def kinesis_event(account: str, region: str, stream: str, log_group: str, messages: list[str]) -> dict:
    return {"Records": [{
        "kinesis": {"kinesisSchemaVersion": "1.0", "partitionKey": "rehearsal", "approximateArrivalTimestamp": time.time(),
                    "sequenceNumber": "49590000000000000000000000000000000000000000000000000000",
                    "data": encoded(logs_payload(account, log_group, messages))},
        "eventSource": "aws:kinesis", "eventVersion": "1.0", "eventName": "aws:kinesis:record",
        "eventID": "shardId-000000000000:49590000000000000000000000000000000000000000000000000000",
        "awsRegion": region, "eventSourceARN": f"arn:aws:kinesis:{region}:{account}:stream/{stream}",
    }]}


def events_for(handler: str, account: str, region: str, environment: dict) -> list[tuple[str, Optional[dict]]]:
    """(label, event) pairs to call a handler with; ``None`` imports only."""
    line = '{"level": "INFO", "message": "order 42 accepted", "service": "shop"}'
    if handler == SHIPPER:
        runs = [("CloudWatch Logs subscription", subscription_event(account, "/applications/rehearsal", [line]))]
        streams = json.loads(environment.get("INGESTION_STREAM_REGIONS") or "{}")
        for stream in sorted(streams)[:1]:
            runs.append((f"Kinesis record from {stream}",
                         kinesis_event(account, region, stream, "/applications/rehearsal", [line])))
        return runs
    if handler == ALERTS:
        marker = "[CRITICAL] payment provider down: order 42 not charged (card 4111111111111111)"
        return [("marker line", subscription_event(account, "/applications/rehearsal", [marker]))]
    if handler == GOVERNOR:
        return [("sweep", {"action": "sweep"})]
    return [("import", None)]
