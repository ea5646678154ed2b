"""``python -m logops smoke`` against the emulator (moto behind the fault proxy) and the OpenSearch stand-in.

The platform is set up the way its deployment leaves it: the attach points (names, and the legacy
ARNs no consumer reads), the shipper and alerts functions with the environments the constructs write,
subscription filters on an application log group. While smoke runs, a delivery thread plays
CloudWatch Logs: it reads what smoke wrote back from the emulator's log group and invokes the REAL
shipper handler (bulk mode, into the stand-in, SigV4 checked) and the REAL alerts handler (into the
emulator's DynamoDB table, posting to a local webhook), so the document and the alert really appear.
"""
from __future__ import annotations

import io
import json
import re
import threading
import zipfile
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Iterator

import pytest

from log_alerts import handler as alerts_handler
from log_shipper import handler as shipper_handler
from log_shipper.contract import MODE_BULK, ShipperConfig
from logops.__main__ import main
from tests.lambda_src.log_shipper.test_shipper import Context
from tests.support.alerts import FakeContext, create_resources, scan
from tests.support.emulator import ACCOUNT, REGION
from tests.support.opensearch_stub import OpenSearchStub
from tests.support.subscription import encode_payload
from tests.support.webhook import WebhookServer

ROOT = Path(__file__).resolve().parents[3]
PIPELINE, ALERTS = "platform-logs", "platform-alerts"
SHIPPER_FN, ALERTS_FN = "platform-logs-shipper", "platform-alerts-function"
GROUP, UNSHIPPED = "/applications/orders", "/applications/aaa-not-shipped"
INDEX = "app-logs"
ARCHIVE, BUCKET = "platform-logs-archive", "platform-logs-archive-bucket"
HOPS = ["platform", "log group", "line", "index", "marker", "alert"]
# One hop line: status, hop, seconds, what it found (report.Hops.line).
HOP_LINE = re.compile(r"^ {0,4}(?P<status>ok|FAIL)  (?P<hop>platform|log group|line|index|marker|alert) *"
                      r" +\d+\.\d{2}s  (?P<detail>\S.*)$")
HEADER = re.compile(r"^logops smoke [0-9a-f-]{36}: pipeline \S+(, alerts \S+| \(no --alerts: alert hops skipped\))$")
SMOKE_LINE = re.compile(r"^(logops smoke |smoke |  likely cause: | {0,4}(ok|FAIL)  )")
PASSED = re.compile(r"^smoke passed in \d+\.\d{2}s$")


def function_arn(name: str) -> str:
    return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"


def create_function(aws: Any, name: str, environment: dict[str, str]) -> None:
    iam = aws.client("iam", direct=True)
    role = iam.create_role(RoleName=f"{name}-role", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                "Principal": {"Service": "lambda.amazonaws.com"}}]}))["Role"]["Arn"]
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("index.py", "def handler(event, context):\n    return None\n")
    aws.client("lambda", direct=True).create_function(
        FunctionName=name, Runtime="python3.13", Role=role, Handler="index.handler", Architectures=["arm64"],
        Code={"ZipFile": code.getvalue()}, Environment={"Variables": environment})


class Delivery(threading.Thread):
    """CloudWatch Logs in the test: every new event of the log group goes to the real shipper, and the
    events its alerts filter would pass (``[CRITICAL]``) to the real alerts function."""

    def __init__(self, aws: Any, group: str) -> None:
        super().__init__(daemon=True)
        self.aws, self.group = aws, group
        self.stop = threading.Event()
        self.errors: list[BaseException] = []
        self.shipped = 0

    def run(self) -> None:
        logs = self.aws.client("logs", direct=True)
        seen: set[str] = set()
        while not self.stop.wait(0.1):
            try:
                events = [e for e in logs.filter_log_events(logGroupName=self.group)["events"]
                          if e["eventId"] not in seen]
                for event in events:
                    seen.add(event["eventId"])
                    batch = [{"id": f"{37 * 10 ** 54 + int(event['eventId']):056d}",
                              "timestamp": event["timestamp"], "message": event["message"]}]
                    shipper_handler.handler(encode_payload(self.group, event["logStreamName"], batch,
                                                           filters=("log-constructs-pipeline",)), Context())
                    self.shipped += 1
                    if "[CRITICAL]" in event["message"]:
                        alerts_handler.handler(encode_payload(self.group, event["logStreamName"], batch,
                                                              filters=("log-constructs-alerts",)), FakeContext())
            except BaseException as error:  # reported by the test
                self.errors.append(error)
                return


@pytest.fixture
def platform(aws, monkeypatch) -> Iterator[Any]:
    # GIVEN a platform as its deployment leaves it: a bulk pipeline (OpenSearch stand-in, S3 archive stream),
    # alerts with their table and a webhook, both publishing their attach points, one application log group
    # shipped and watched, and one that is not
    with OpenSearchStub(secret_keys={"testing": "testing"}) as domain, WebhookServer() as hook:
        alerts_env = create_resources(aws, {"default": hook.url("/alerts")})
        aws.client("s3", direct=True).create_bucket(Bucket=BUCKET)
        aws.client("firehose", direct=True).create_delivery_stream(
            DeliveryStreamName=ARCHIVE, DeliveryStreamType="DirectPut",
            ExtendedS3DestinationConfiguration={"RoleARN": f"arn:aws:iam::{ACCOUNT}:role/firehose",
                                                "BucketARN": f"arn:aws:s3:::{BUCKET}"})
        shipper_env = ShipperConfig(ARCHIVE, alerts_env["DEAD_LETTER_QUEUE_URL"], mode=MODE_BULK,
                                    domain_endpoint=domain.url, index=INDEX, rotation="day").to_environment()
        create_function(aws, SHIPPER_FN, shipper_env)
        create_function(aws, ALERTS_FN, {k: v for k, v in alerts_env.items() if k != "ALLOW_LOOPBACK_HTTP"})
        ssm = aws.client("ssm", direct=True)
        for name, value in {f"/log-constructs/pipeline/{PIPELINE}/shipper-function-name": SHIPPER_FN,
                            f"/log-constructs/pipeline/{PIPELINE}/shipper-function-arn": function_arn(SHIPPER_FN),
                            f"/log-constructs/alerts/{ALERTS}/function-name": ALERTS_FN,
                            f"/log-constructs/alerts/{ALERTS}/function-arn": function_arn(ALERTS_FN)}.items():
            ssm.put_parameter(Name=name, Value=value, Type="String")
        logs = aws.client("logs", direct=True)
        logs.create_log_group(logGroupName=UNSHIPPED)
        logs.create_log_group(logGroupName=GROUP)
        logs.put_subscription_filter(logGroupName=GROUP, filterName="log-constructs-pipeline", filterPattern="",
                                     destinationArn=function_arn(SHIPPER_FN))
        logs.put_subscription_filter(logGroupName=GROUP, filterName="log-constructs-alerts",
                                     filterPattern='?"[CRITICAL]" ?"[ALERT]"', destinationArn=function_arn(ALERTS_FN))
        # the functions' own process environment (in Lambda: theirs; here: this process's)
        for name, value in {**alerts_env, **shipper_env, "ALLOW_LOOPBACK_HTTP": "1"}.items():
            monkeypatch.setenv(name, value)
        alerts_handler.SECRETS.clear_cache()
        shipper_handler.forget_progress()
        yield SimpleNamespace(domain=domain, hook=hook, aws=aws)
        assert domain.spec_violations == []


def smoke(capsys, *extra: str, timeout: float = 20) -> tuple[int, list[str]]:
    status = main(["smoke", "--pipeline", PIPELINE, "--timeout-seconds", str(timeout), "--poll-seconds", "0.1",
                   "--region", REGION, *extra])
    # this process's stdout also holds the functions' JSON log lines (Powertools) and the emulator's warnings
    return status, [line for line in capsys.readouterr().out.splitlines() if SMOKE_LINE.match(line)]


def delivered(aws: Any) -> Delivery:
    delivery = Delivery(aws, GROUP)
    delivery.start()
    return delivery


def test_smoke_proves_every_hop_with_the_real_shipper_and_alerts_function(platform, capsys):
    # GIVEN CloudWatch Logs delivering the application log group to the real functions
    delivery = delivered(platform.aws)
    try:
        # WHEN smoke runs with the pipeline's and the alerts' names
        status, lines = smoke(capsys, "--alerts", ALERTS)
    finally:
        delivery.stop.set()
        delivery.join(10)
    assert delivery.errors == []
    # THEN it passes, printing every hop in order, each with its time, in the format the deploy guide shows
    assert status == 0, "\n".join(lines)
    assert HEADER.match(lines[0]) and PASSED.match(lines[-1])
    matches = [HOP_LINE.match(line) for line in lines[1:-1]]
    assert [line for line, m in zip(lines[1:-1], matches) if not m] == []
    assert [m["hop"] for m in matches] == HOPS and {m["status"] for m in matches} == {"ok"}
    token = lines[0].split()[2].rstrip(":")
    found = {m["hop"]: m["detail"] for m in matches}
    assert f"shipper {SHIPPER_FN} (bulk) -> index {INDEX}* on {platform.domain.url}" in found["platform"]
    assert f"alerts {ALERTS_FN} -> table log-alerts-test" in found["platform"]
    assert found["log group"] == f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{GROUP} ships to {SHIPPER_FN}"
    assert re.fullmatch(rf"document \d{{56}} in {INDEX}-\d{{4}}-\d{{2}}-\d{{2}}", found["index"])
    assert re.fullmatch(r"alert \d{56} in log-alerts-test, notified", found["alert"])
    # AND the document and the alert are really there: indexed by the shipper, stored and posted by the alerts
    documents = [d for d in platform.domain.all_documents().values() if token in d["message"]]
    assert len(documents) == 2 and {d["log_group"] for d in documents} == {GROUP}
    searches = [r for r in platform.domain.requests if r.route.endswith("/_search")]
    assert searches and all(r.signature_ok and r.signature_scope["service"] == "es" for r in searches)
    (item,) = [i for i in scan(platform.aws).values() if token in i["log_stream"]]
    assert item["marker"] == "CRITICAL" and item["notified"] is True and item["app_name"] == "orders"
    assert len(platform.hook.delivered("/alerts")) == 1


def test_the_readme_sample_is_the_output_of_a_run(platform, capsys):
    # GIVEN the deploy guide's sample of a smoke run
    text = (ROOT / "docs" / "deploy.md").read_text()
    sample = text.split("<!-- smoke sample -->", 1)[1].split("```text\n", 1)[1].split("```", 1)[0].splitlines()
    # THEN it has the lines a run prints, in the format the test above holds a real run to
    assert HEADER.match(sample[0]) and PASSED.match(sample[-1])
    matches = [HOP_LINE.match(line) for line in sample[1:-1]]
    assert all(matches) and [m["hop"] for m in matches] == HOPS
    assert "python -m logops smoke --pipeline" in text


def test_a_missing_attach_point_names_the_hop_and_the_parameter(platform, capsys):
    # WHEN smoke is given a pipeline name nothing published
    status = main(["smoke", "--pipeline", "platform-logz", "--region", REGION])
    lines = [line for line in capsys.readouterr().out.splitlines() if SMOKE_LINE.match(line)]
    # THEN it exits 1 at the platform hop, naming the parameter and what to check
    assert status == 1
    assert HOP_LINE.match(lines[1])["status"] == "FAIL" and HOP_LINE.match(lines[1])["hop"] == "platform"
    assert "SSM parameter /log-constructs/pipeline/platform-logz/shipper-function-name not found in " \
           f"{ACCOUNT}/{REGION}" in lines[1]
    assert lines[-2].startswith("smoke FAILED at hop 'platform'")
    assert lines[-1] == ("  likely cause: wrong --pipeline name or --region, or the platform stack is not deployed "
                         "in this account and region (aws ssm get-parameters-by-path --path /log-constructs/ "
                         "--recursive lists what is)")


def test_a_403_from_opensearch_names_the_reader_role_mapping(platform, capsys):
    # GIVEN a domain whose fine-grained access control refuses the caller's searches
    platform.domain.fail_next(1000, status=403, path_prefix=f"/{INDEX}")
    # WHEN smoke runs
    status, lines = smoke(capsys)
    # THEN it fails at the index hop at the first answer (no waiting for the timeout), naming the role mapping
    assert status == 1
    failed = HOP_LINE.match(lines[-3])
    assert failed["status"] == "FAIL" and failed["hop"] == "index" and "answered HTTP 403" in failed["detail"]
    assert float(lines[-3].split("s  ")[0].split()[-1]) < 5
    assert "is not mapped to a reader role in OpenSearch fine-grained access control" in lines[-1]
    assert f"arn:aws:sts::{ACCOUNT}:" in lines[-1] or f"arn:aws:iam::{ACCOUNT}:" in lines[-1]


def test_no_document_in_time_names_the_index_hop_and_the_shippers_log_group(platform, capsys):
    # GIVEN nothing delivers the log group (a shipper that fails, say)
    # WHEN smoke runs with a short timeout
    status, lines = smoke(capsys, timeout=1)
    # THEN it fails at the index hop, naming the index and where the shipper's errors are
    assert status == 1
    failed = HOP_LINE.match(lines[-3])
    assert failed["status"] == "FAIL" and failed["hop"] == "index"
    assert re.search(rf"no document with [0-9a-f-]{{36}} in {INDEX}\* after 1 s", failed["detail"])
    assert f"see its errors in the log group(s) /log-constructs/pipeline/{PIPELINE}/shipper" in lines[-1]
    # AND the line was written to the shipped log group before it waited
    assert [HOP_LINE.match(line)["hop"] for line in lines[1:-2]] == ["platform", "log group", "line", "index"]


def test_a_log_group_that_is_not_shipped_is_named(platform, capsys):
    # WHEN smoke is pointed at a log group without the pipeline's subscription filter
    status, lines = smoke(capsys, "--log-group", UNSHIPPED)
    # THEN it fails at the log group hop, before writing anything
    assert status == 1 and HOP_LINE.match(lines[-3])["hop"] == "log group"
    assert f"{UNSHIPPED} has no subscription filter to the shipper {function_arn(SHIPPER_FN)}" in lines[-3]
    assert "the log group is not shipped" in lines[-1]
    assert platform.aws.client("logs", direct=True).describe_log_streams(logGroupName=UNSHIPPED)["logStreams"] == []


def test_an_alert_stored_but_never_notified_names_the_webhook_secret(platform, capsys, monkeypatch):
    # GIVEN the webhook secret still holds the empty value the deployment creates
    platform.aws.client("secretsmanager", direct=True).put_secret_value(
        SecretId="log-alerts-webhooks", SecretString=json.dumps({"default": ""}))
    alerts_handler.SECRETS.clear_cache()
    delivery = delivered(platform.aws)
    try:
        # WHEN smoke runs
        status, lines = smoke(capsys, "--alerts", ALERTS, timeout=3)
    finally:
        delivery.stop.set()
        delivery.join(10)
    # THEN the document hop passed; the alert hop fails naming the webhook secret and the function's log group
    assert status == 1
    assert [HOP_LINE.match(line)["status"] for line in lines[1:-2]] == ["ok"] * 5 + ["FAIL"]
    assert "was not notified after 3 s" in lines[-3]
    assert "the webhook secret is empty" in lines[-1] and f"/log-constructs/alerts/{ALERTS}/function" in lines[-1]


def forward_stream_description(aws: Any, destination: dict[str, Any]) -> None:
    """The emulator has no OpenSearch destinations: its proxy answers DescribeDeliveryStream as Firehose does."""
    from tests.support.fault_proxy import Response

    def respond(request: Any, forward: Any) -> Response:
        name = request.json()["DeliveryStreamName"]
        body = {"DeliveryStreamDescription": {
            "DeliveryStreamName": name, "DeliveryStreamStatus": "ACTIVE", "DeliveryStreamType": "DirectPut",
            "DeliveryStreamARN": f"arn:aws:firehose:{REGION}:{ACCOUNT}:deliverystream/{name}", "VersionId": "1",
            "Destinations": [{"DestinationId": "destinationId-000000000001", **destination}],
            "HasMoreDestinations": False}}
        return Response(200, {"Content-Type": "application/x-amz-json-1.1"}, json.dumps(body).encode())

    aws.proxy.add("DescribeDeliveryStream", respond)


@pytest.mark.parametrize("sink", ["domain", "serverless"])
def test_in_firehose_mode_the_index_is_found_behind_the_delivery_stream(platform, capsys, sink):
    # GIVEN a pipeline in Firehose mode: the shipper names its stream, the stream's destination names the index
    aws = platform.aws
    aws.client("lambda", direct=True).update_function_configuration(FunctionName=SHIPPER_FN, Environment={
        "Variables": ShipperConfig("platform-logs-stream", "https://sqs.example/dlq").to_environment()})
    if sink == "domain":
        aws.client("opensearch", direct=True).create_domain(DomainName="platform-logs-domain")
        forward_stream_description(aws, {"AmazonopensearchserviceDestinationDescription": {
            "RoleARN": f"arn:aws:iam::{ACCOUNT}:role/delivery", "IndexName": "logs", "IndexRotationPeriod": "OneDay",
            "DomainARN": f"arn:aws:es:{REGION}:{ACCOUNT}:domain/platform-logs-domain"}})
        expected = (f"shipper {SHIPPER_FN} (firehose) -> index logs* on https://platform-logs-domain.{REGION}."
                    "es.amazonaws.com (stream platform-logs-stream -> domain platform-logs-domain)")
    else:
        forward_stream_description(aws, {"AmazonOpenSearchServerlessDestinationDescription": {
            "RoleARN": f"arn:aws:iam::{ACCOUNT}:role/delivery", "IndexName": "logs",
            "CollectionEndpoint": f"https://abc123.{REGION}.aoss.amazonaws.com"}})
        expected = (f"shipper {SHIPPER_FN} (firehose) -> index logs* on https://abc123.{REGION}.aoss.amazonaws.com "
                    "(stream platform-logs-stream -> collection)")
    # WHEN smoke runs against a log group that is not shipped (it stops before any search)
    status, lines = smoke(capsys, "--log-group", UNSHIPPED)
    # THEN the platform hop found the index from the stream's destination (and the domain's endpoint)
    platform_hop = HOP_LINE.match(lines[1])
    assert platform_hop["hop"] == "platform" and platform_hop["status"] == "ok"
    assert platform_hop["detail"] == expected
    assert status == 1 and HOP_LINE.match(lines[2])["hop"] == "log group"
