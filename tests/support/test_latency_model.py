"""The latency model of the benchmark harness: the fault proxy's per-service round trip, the webhook's delay."""
from __future__ import annotations

import time
import urllib.request

import pytest

from tests.support.fault_proxy import Request
from tests.support.webhook import WebhookServer


@pytest.fixture
def modelled(aws):
    yield aws
    aws.proxy.model_latency(None)


def _timed(call):
    started = time.perf_counter()
    result = call()
    return result, time.perf_counter() - started


def test_a_modelled_call_waits_its_round_trip_and_is_still_counted_and_answered(modelled):
    # GIVEN a table, and the proxy modelling 200 ms per DynamoDB call (nothing for SQS)
    modelled.client("dynamodb", direct=True).create_table(
        TableName="t", BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}])
    modelled.proxy.model_latency({"dynamodb": 0.2})
    dynamodb, sqs = modelled.client("dynamodb"), modelled.client("sqs")

    # WHEN an item is written and read back through the proxy, and an SQS call is made
    _, put_s = _timed(lambda: dynamodb.put_item(TableName="t", Item={"k": {"S": "a"}, "v": {"N": "1"}}))
    item, get_s = _timed(lambda: dynamodb.get_item(TableName="t", Key={"k": {"S": "a"}})["Item"])
    sqs.list_queues()

    # THEN each DynamoDB call took at least the round trip, the SQS call did not, and all were counted
    assert put_s >= 0.2 and get_s >= 0.2
    assert modelled.proxy.held == {"PutItem": 0.2, "GetItem": 0.2}
    assert item == {"k": {"S": "a"}, "v": {"N": "1"}}
    assert modelled.proxy.calls["PutItem"] == 1 and modelled.proxy.calls["GetItem"] == 1
    assert modelled.proxy.calls["ListQueues"] == 1


def test_turning_the_model_off_stops_the_wait(modelled):
    # GIVEN the model on, then off
    modelled.proxy.model_latency({"sqs": 0.5})
    modelled.proxy.model_latency(None)

    # WHEN an SQS call is made
    modelled.client("sqs").list_queues()

    # THEN it is answered and not held
    assert modelled.proxy.calls["ListQueues"] == 1
    assert modelled.proxy.held["ListQueues"] == 0


@pytest.mark.parametrize(("headers", "service"), [
    ({"authorization": "AWS4-HMAC-SHA256 Credential=AKID/20261202/us-east-1/sns/aws4_request, "
                       "SignedHeaders=host, Signature=00"}, "sns"),
    ({"x-amz-target": "Firehose_20150804.PutRecordBatch"}, "firehose"),
    ({"x-amz-target": "Logs_20140328.PutLogEvents"}, "logs"),
    ({"x-amz-target": "secretsmanager.GetSecretValue"}, "secretsmanager"),
    ({}, None),
])
def test_the_service_comes_from_the_credential_scope_or_the_target(headers, service):
    # GIVEN a request with these headers / WHEN its service is read / THEN it is the expected one
    assert Request("POST", "/", headers, b"").service == service


def test_the_webhook_holds_each_answer_for_its_delay():
    # GIVEN a webhook server with a 200 ms delay
    with WebhookServer(delay_s=0.2) as hook:
        # WHEN a message is posted
        request = urllib.request.Request(hook.url("/alerts"), data=b'{"text": "hi"}', method="POST")
        answer, seconds = _timed(lambda: urllib.request.urlopen(request, timeout=5).read())

    # THEN the answer came after the delay and the request was recorded as delivered
    assert seconds >= 0.2 and answer == b"ok"
    assert hook.delivered("/alerts") == [{"text": "hi"}]
