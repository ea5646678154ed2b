"""Shared set-up for the LogAlerts function in tests and benchmarks: emulator resources, env, context."""
from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any, Optional

TABLE = "log-alerts-test"
SECRET = "log-alerts-webhooks"


@dataclass
class FakeContext:
    """The attributes Powertools reads from a Lambda context."""

    function_name: str = "log-alerts"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:log-alerts"
    aws_request_id: str = ""
    remaining_ms: int = 90_000

    def __post_init__(self) -> None:
        self.aws_request_id = self.aws_request_id or str(uuid.uuid4())

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


def create_resources(aws: Any, webhooks: Any, *, topic: bool = False) -> dict[str, str]:
    """Table (with the construct's key schema, GSI and TTL), secret, dead-letter queue, optional topic
    subscribed by a queue; returns the function's environment (as the construct would set it)."""
    dynamodb = aws.client("dynamodb", direct=True)
    dynamodb.create_table(
        TableName=TABLE,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "log_id", "AttributeType": "S"},
                              {"AttributeName": "app_name", "AttributeType": "S"},
                              {"AttributeName": "epoch_ms", "AttributeType": "N"}],
        KeySchema=[{"AttributeName": "log_id", "KeyType": "HASH"}],
        GlobalSecondaryIndexes=[{"IndexName": "by_app_time", "Projection": {"ProjectionType": "ALL"},
                                 "KeySchema": [{"AttributeName": "app_name", "KeyType": "HASH"},
                                               {"AttributeName": "epoch_ms", "KeyType": "RANGE"}]}],
    )
    secrets = aws.client("secretsmanager", direct=True)
    value = webhooks if isinstance(webhooks, str) else json.dumps(webhooks)
    secret_arn = secrets.create_secret(Name=SECRET, SecretString=value)["ARN"]
    sqs = aws.client("sqs", direct=True)
    dlq_url = sqs.create_queue(QueueName="log-alerts-dlq")["QueueUrl"]
    env = {
        "TABLE_NAME": TABLE, "WEBHOOK_SECRET_ID": secret_arn, "DEAD_LETTER_QUEUE_URL": dlq_url,
        "MARKERS": "CRITICAL,ALERT", "DEFAULT_CHANNEL": "#alerts", "ROUTES": "[]", "RETENTION_DAYS": "30",
        "MAX_MESSAGES": "5", "REDACT": "true", "SECRET_TTL_SECONDS": "300", "WEBHOOK_TIMEOUT_SECONDS": "2",
        "WEBHOOK_MAX_ATTEMPTS": "3", "ALLOW_LOOPBACK_HTTP": "1",
    }
    if topic:
        sns = aws.client("sns", direct=True)
        topic_arn = sns.create_topic(Name="log-alerts-pager")["TopicArn"]
        pager_url = sqs.create_queue(QueueName="pager")["QueueUrl"]
        pager_arn = sqs.get_queue_attributes(QueueUrl=pager_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=pager_arn, Attributes={"RawMessageDelivery": "true"})
        env.update(TOPIC_ARN=topic_arn, PAGER_QUEUE_URL=pager_url)
    return env


def drain(aws: Any, queue_url: str, *, limit: int = 1000) -> list[str]:
    """Every message body in a queue (deleted as read)."""
    sqs = aws.client("sqs", direct=True)
    bodies: list[str] = []
    while len(bodies) < limit:
        messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])
        if not messages:
            break
        for message in messages:
            bodies.append(message["Body"])
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    return bodies


def scan(aws: Any, table: str = TABLE) -> dict[str, dict[str, Any]]:
    """The table's items in plain Python types, by log_id."""
    from boto3.dynamodb.types import TypeDeserializer

    deserialize = TypeDeserializer().deserialize
    items: dict[str, dict[str, Any]] = {}
    for page in aws.client("dynamodb", direct=True).get_paginator("scan").paginate(TableName=table):
        for item in page["Items"]:
            plain = {k: deserialize(v) for k, v in item.items()}
            items[plain["log_id"]] = plain
    return items


def log_event(i: int, message: str, *, base_ms: int = 1_751_191_260_000) -> dict[str, Any]:
    """A log event as CloudWatch Logs delivers it (56-digit id, epoch ms, message)."""
    return {"id": f"{37_000_000_000_000_000_000_000_000_000_000_000_000_000_000_000 + i:056d}",
            "timestamp": base_ms + i, "message": message}


def destination_record(event: dict[str, Any], error: Optional[str] = "DeliveryFailed") -> dict[str, Any]:
    """What Lambda puts in an on-failure destination after the last retry of an async invocation."""
    return {
        "version": "1.0",
        "requestContext": {"requestId": str(uuid.uuid4()), "condition": "RetriesExhausted", "approximateInvokeCount": 3,
                           "functionArn": "arn:aws:lambda:us-east-1:123456789012:function:log-alerts:$LATEST"},
        "requestPayload": event,
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
        "responsePayload": {"errorMessage": error, "errorType": "DeliveryFailed"},
    }


def load_handler(aws: Any, monkeypatch: Any, webhooks: Any, *, topic: bool = True,
                 routes: Optional[list[dict[str, str]]] = None) -> Any:
    """The handler module with its environment pointing at fresh emulator resources and ``webhooks``
    (its secret cache cleared; ``module.env`` holds the environment)."""
    env = create_resources(aws, webhooks, topic=topic)
    if routes is not None:
        env["ROUTES"] = json.dumps(routes)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    from log_alerts import handler as module

    module.SECRETS.clear_cache()
    module.env = env
    return module
