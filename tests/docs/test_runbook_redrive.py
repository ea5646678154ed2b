"""The runbook's redrive procedure (docs/runbook.md §2.2), run as written with the AWS CLI against the
emulator: the function is taken from the runbook itself, so the document is what is tested.

Lambda invocations are answered by the fault proxy (the emulator would need Docker to run a
function); it records what the procedure sent.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.emulator import ACCOUNT, REGION
from tests.support.fault_proxy import Response, json_error

RUNBOOK = Path(__file__).resolve().parents[2] / "docs" / "runbook.md"
FUNCTION = "LoggingPlatform-LogsShipper"
INVOKE = f"POST /2015-03-31/functions/{FUNCTION}/invocations"

pytestmark = [
    pytest.mark.skipif(not (shutil.which("aws") and shutil.which("jq")), reason="needs the AWS CLI and jq"),
    pytest.mark.slow,  # one AWS CLI process per call
]


def redrive_function() -> str:
    text = RUNBOOK.read_text()
    match = re.search(r"^redrive\(\) \{.*?^\}$", text, re.S | re.M)
    assert match, "the runbook no longer defines redrive()"
    return match.group(0)


def on_failure_record(n: int) -> dict:
    """What Lambda puts on an on-failure destination after the retries of an asynchronous invocation."""
    return {
        "version": "1.0", "timestamp": "2026-11-21T14:00:00.000Z",
        "requestContext": {"requestId": f"req-{n}", "functionArn": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{FUNCTION}",
                           "condition": "RetriesExhausted", "approximateInvokeCount": 3},
        "requestPayload": {"awslogs": {"data": f"H4sIAAAAAAAA/{n}"}},
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
        "responsePayload": {"errorMessage": "DeliveryError: 3 records still failing"},
    }


@pytest.fixture
def queue(aws):
    sqs = aws.client("sqs", direct=True)
    url = sqs.create_queue(QueueName="shipper-dlq")["QueueUrl"]
    for n in (1, 2):
        sqs.send_message(QueueUrl=url, MessageBody=json.dumps(on_failure_record(n)))
    # What the shipper itself dead-letters: an undecodable payload, as received (not re-invocable as is).
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"awslogs": {"data": "not base64!"}}),
                     MessageAttributes={"kind": {"DataType": "String", "StringValue": "payload"},
                                        "stage": {"DataType": "String", "StringValue": "not base64"}})
    return url


def run_redrive(aws, queue_url: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "AWS_DEFAULT_REGION": REGION, "AWS_PAGER": ""}
    # Every `aws` call of the procedure goes to the emulator (the CLI here may predate AWS_ENDPOINT_URL).
    wrapper = f'aws() {{ command aws --endpoint-url "{aws.url}" "$@"; }}'
    script = f"{wrapper}\n{redrive_function()}\nredrive '{queue_url}' '{FUNCTION}'\n"
    return subprocess.run(["bash", "-c", script], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def test_redrive_reinvokes_on_failure_records_and_keeps_the_rest(aws, queue, tmp_path):
    # GIVEN two on-failure records and one undecodable payload in the queue, and a function that accepts
    invoked: list[dict] = []

    def accept(request, forward):
        invoked.append(json.loads(request.body))
        assert request.headers.get("x-amz-invocation-type") == "Event"
        return Response(202, {"Content-Type": "application/json"}, b"")

    aws.proxy.add(INVOKE, accept)
    # WHEN the runbook's redrive runs
    result = run_redrive(aws, queue, tmp_path)
    # THEN both original events were re-invoked asynchronously, exactly as Lambda had received them
    assert result.returncode == 0, result.stderr
    assert sorted(e["awslogs"]["data"] for e in invoked) == ["H4sIAAAAAAAA/1", "H4sIAAAAAAAA/2"]
    assert result.stdout.count("redriven ") == 2 and result.stdout.count("kept ") == 1
    # AND their messages are gone; the undecodable payload stays in the queue, with a copy to inspect
    attributes = aws.client("sqs", direct=True).get_queue_attributes(
        QueueUrl=queue, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])
    counts = attributes["Attributes"]
    assert int(counts["ApproximateNumberOfMessages"]) + int(counts["ApproximateNumberOfMessagesNotVisible"]) == 1
    kept = [json.loads(p.read_text()) for p in (tmp_path / "redrive").glob("*.kept.json")]
    assert len(kept) == 1 and kept[0]["attributes"]["kind"]["StringValue"] == "payload"


def test_a_refused_invocation_leaves_the_message_in_the_queue(aws, queue, tmp_path):
    # GIVEN a function that cannot be invoked (access denied)
    aws.proxy.add(INVOKE, lambda request, forward: json_error("AccessDeniedException", "not allowed", 403))
    # WHEN the redrive runs THEN nothing is deleted: all three messages are still in the queue
    result = run_redrive(aws, queue, tmp_path)
    assert "redriven" not in result.stdout
    counts = aws.client("sqs", direct=True).get_queue_attributes(
        QueueUrl=queue, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
    assert int(counts["ApproximateNumberOfMessages"]) + int(counts["ApproximateNumberOfMessagesNotVisible"]) == 3


def test_a_failing_receive_stops_the_redrive_with_an_error(aws, tmp_path):
    # GIVEN a queue URL that does not exist WHEN the redrive runs THEN it fails instead of ending quietly
    result = run_redrive(aws, f"{aws.direct_url}/{ACCOUNT}/no-such-queue", tmp_path)
    assert result.returncode == 1
    assert "NonExistentQueue" in result.stderr or "does not exist" in result.stderr
