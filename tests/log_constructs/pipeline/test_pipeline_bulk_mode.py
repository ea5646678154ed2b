"""LogPipeline(delivery_mode="bulk"): the shipper indexes with _bulk, Firehose archives to S3 only.

Both shapes (public domain, VPC domain) are synthesized once with the five cdk-nag packs, then
checked by cfn-lint and checkov as `make test` checks the example app."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import aws_cdk as cdk
import pytest
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk.assertions import Template
from cdk_nag import AwsSolutionsChecks, HIPAASecurityChecks, NIST80053R5Checks, PCIDSS321Checks, ServerlessChecks

from log_constructs import LogPipeline, PropError
from log_constructs.secure import alarm_topic

ROOT = Path(__file__).resolve().parents[3]
ENV = cdk.Environment(account="111122223333", region="eu-west-1")
CHECKOV = ROOT / ".venv-checkov" / "bin" / "checkov"


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> SimpleNamespace:
    out = tmp_path_factory.mktemp("cdk.out")
    app = cdk.App(outdir=str(out))
    public = cdk.Stack(app, "Bulk", env=ENV)
    actions = [cw_actions.SnsAction(alarm_topic(public, "Alarms"))]
    pipeline = LogPipeline(public, "Logs", delivery_mode="bulk", bulk_max_mib=8, index="app-logs",
                           alarm_actions=actions)
    private = cdk.Stack(app, "BulkVpc", env=ENV)
    flow_logs = logs.LogGroup(private, "FlowLogs", encryption_key=kms.Key(private, "FlowLogsKey",
                                                                         enable_key_rotation=True))
    vpc = ec2.Vpc(private, "Vpc", max_azs=2, flow_logs={"All": ec2.FlowLogOptions(
        destination=ec2.FlowLogDestination.to_cloud_watch_logs(flow_logs))})
    in_vpc = LogPipeline(private, "Logs", delivery_mode="bulk", vpc=vpc,
                         alarm_actions=[cw_actions.SnsAction(alarm_topic(private, "Alarms"))])
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app), NIST80053R5Checks(app), HIPAASecurityChecks(app),
                                        PCIDSS321Checks(app), ServerlessChecks(app))
    try:
        app.synth()
    except RuntimeError as error:  # ValidationFailed: the VPC of the test itself has findings (see the report)
        assert "ValidationFailed" in str(error), error
    report = json.loads((out / "validation-report.json").read_text())
    return SimpleNamespace(out=out, report=report, pipeline=pipeline, in_vpc=in_vpc,
                           public=Template.from_json(json.loads((out / "Bulk.template.json").read_text())),
                           private=Template.from_json(json.loads((out / "BulkVpc.template.json").read_text())))


def _shipper(template: Template) -> dict:
    (shipper,) = [f for f in template.find_resources("AWS::Lambda::Function").values()
                  if f["Properties"]["Handler"] == "log_shipper.handler.handler"]
    return shipper["Properties"]


def test_firehose_archives_to_s3_only_with_records_as_they_come(built):
    (stream,) = built.public.find_resources("AWS::KinesisFirehose::DeliveryStream").values()
    props = stream["Properties"]
    assert "AmazonopensearchserviceDestinationConfiguration" not in props
    s3 = props["ExtendedS3DestinationConfiguration"]
    assert s3["CompressionFormat"] == "UNCOMPRESSED"  # the shipper's records are gzip members already
    assert s3["Prefix"] == "archive/!{timestamp:yyyy/MM/dd}/"
    assert s3["EncryptionConfiguration"]["KMSEncryptionConfig"]["AWSKMSKeyARN"]
    assert props["DeliveryStreamEncryptionConfigurationInput"]["KeyType"] == "CUSTOMER_MANAGED_CMK"


def test_the_shipper_is_configured_for_bulk_and_may_only_post_bulk(built):
    variables = _shipper(built.public)["Environment"]["Variables"]
    assert variables["DELIVERY_MODE"] == "bulk"
    assert variables["INDEX_NAME"] == "app-logs" and variables["INDEX_ROTATION"] == "day"
    assert variables["BULK_MAX_BYTES"] == str(8 * 1024 * 1024)
    assert variables["DOMAIN_ENDPOINT"] == {"Fn::GetAtt": [_domain_id(built.public), "DomainEndpoint"]}
    assert "ALLOW_LOOPBACK_HTTP" not in variables
    statements = [s for p in built.public.find_resources("AWS::IAM::ManagedPolicy").values()
                  for s in p["Properties"]["PolicyDocument"]["Statement"]]
    (bulk,) = [s for s in statements if s.get("Sid") == "BulkIndex"]
    assert bulk["Action"] == "es:ESHttpPost"
    assert bulk["Resource"] == {"Fn::Join": ["", [{"Fn::GetAtt": [_domain_id(built.public), "Arn"]}, "/_bulk"]]}
    # AND Firehose's role may write the archive only: no es: action at all
    firehose_policy = [p for p in built.public.find_resources("AWS::IAM::ManagedPolicy").values()
                       if "DeliveryRole" in json.dumps(p["Properties"]["Roles"])]
    assert firehose_policy and "es:" not in json.dumps(firehose_policy)


def _domain_id(template: Template) -> str:
    (domain_id,) = template.find_resources("AWS::OpenSearchService::Domain")
    return domain_id


def test_the_domain_maps_the_shipper_as_its_writer(built):
    (setup,) = built.public.find_resources("Custom::OpenSearchSetup").values()
    shipper_role = _shipper(built.public)["Role"]
    assert setup["Properties"]["Security"]["WriterBackendRoles"] == [shipper_role]


def test_alarms_on_refused_documents_and_bulk_failures(built):
    alarms = {a["Properties"]["MetricName"]: a["Properties"] for a in
              built.public.find_resources("AWS::CloudWatch::Alarm").values()}
    for name in ("DocumentsRefused", "BulkFailures"):
        assert alarms[name]["Namespace"] == "LogConstructs"
        assert alarms[name]["Dimensions"] == [{"Name": "service", "Value": "log-shipper"}]
        assert alarms[name]["AlarmActions"]
    # AND Firehose's alarms watch the archive, not an OpenSearch destination
    assert "DeliveryToS3.Success" in alarms and "DeliveryToAmazonOpenSearchService.Success" not in alarms
    assert {a.metric_name for a in [built.pipeline.metric_documents_delivered(),
                                    built.pipeline.metric_duplicates_skipped(),
                                    built.pipeline.metric_documents_retried()]} == {
        "DocumentsDelivered", "DuplicatesSkipped", "DocumentsRetried"}


def test_in_a_vpc_the_shipper_reaches_the_domain_from_inside(built):
    shipper = _shipper(built.private)
    (group_ref,) = shipper["VpcConfig"]["SecurityGroupIds"]
    group_id = group_ref["Fn::GetAtt"][0]
    assert group_id.startswith("LogsShipperSecurityGroup")
    ingress = [r["Properties"] for r in built.private.find_resources("AWS::EC2::SecurityGroupIngress").values()]
    assert any(i["SourceSecurityGroupId"] == {"Fn::GetAtt": [group_id, "GroupId"]} and i["FromPort"] == 443
               for i in ingress)


def test_the_five_packs_cfn_lint_and_checkov_pass(built):
    # (the test's own VPC has findings of its own: only the library's resources count here)
    library = [(v["ruleName"], c["constructPath"]) for p in built.report["pluginReports"]
               for v in p.get("violations", []) for c in v["violatingConstructs"]
               if c["constructPath"].split("/")[1] not in ("Vpc", "FlowLogs", "FlowLogsKey")]
    assert library == []
    assert any(p.get("violations") for p in built.report["pluginReports"])  # the gate did look
    templates = [str(built.out / f"{name}.template.json") for name in ("Bulk", "BulkVpc")]
    lint = subprocess.run([str(Path(sys.executable).parent / "cfn-lint"), *templates], capture_output=True, text=True,
                          cwd=ROOT)  # with the project's .cfnlintrc
    # cfn-lint's exit code is a bit mask: 2 errors, 4 warnings. This App has neither cdk.json's feature flags
    # (aws-cdk-lib's legacy access-log bucket ACL, W3045) nor context lookups (placeholder AZs, W3010): errors only.
    assert lint.returncode & 2 == 0, lint.stdout[-3000:]
    assert CHECKOV.exists(), "make test installs checkov into .venv-checkov"
    scan = subprocess.run([str(CHECKOV), "--framework", "cloudformation", "--quiet", "--compact", "--skip-download",
                           *[arg for t in templates for arg in ("-f", t)]], capture_output=True, text=True)
    assert scan.returncode == 0, scan.stdout[-3000:]


@pytest.mark.parametrize("props, message", [
    ({"delivery_mode": "direct"}, "LogPipeline: delivery_mode must be one of 'firehose', 'bulk', got 'direct'"),
    ({"delivery_mode": "bulk", "bulk_max_mib": 200}, "LogPipeline: bulk_max_mib must be between 1 and 100 MiB, "
                                                      "got 200 MiB"),
    ({"delivery_mode": "bulk", "retry_seconds": 60}, "LogPipeline: retry_seconds applies to delivery_mode='firehose' "
                                                      "only (Firehose does not index in bulk mode"),
    ({"delivery_mode": "bulk", "backup_mode": "failed"}, "LogPipeline: backup_mode applies to "
                                                          "delivery_mode='firehose' only (bulk mode archives every"),
    ({"bulk_max_mib": 8}, "LogPipeline: bulk_max_mib applies to delivery_mode='bulk' only, got 8"),
])
def test_props_of_the_other_mode_are_refused_by_name(props, message):
    with pytest.raises(PropError) as raised:
        LogPipeline(cdk.Stack(cdk.App(), "Bad", env=ENV), "Logs", **props)
    assert str(raised.value).startswith(message)
