"""Bulk mode's trust boundaries: applications never get the S3-only archive stream."""
from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk.assertions import Template

from log_constructs import LogPipeline, PropError

ENV = cdk.Environment(account="111122223333", region="eu-west-1")


def test_grant_put_records_is_refused_in_bulk_mode_naming_the_way_that_works():
    # GIVEN a bulk pipeline, and application roles in its stack and in another stack of the app
    app = cdk.App()
    platform = cdk.Stack(app, "Platform", env=ENV)
    pipeline = LogPipeline(platform, "Logs", name="bulk", delivery_mode="bulk")
    team = cdk.Stack(app, "Team", env=ENV)
    message = (r"^LogPipeline: grant_put_records \(grant\) of Platform/Logs is refused with delivery_mode='bulk': "
               r"the delivery stream is then the S3-only archive, whose records are never indexed\. Ship the "
               r"application's log group instead \(pipeline\.add_log_group, ApplicationLogging\(ship_to=pipeline\)")
    for stack in (platform, team):
        role = iam.Role(stack, "App", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
        # WHEN an application asks to put records THEN it is refused
        with pytest.raises(PropError, match=message):
            pipeline.grant_put_records(role)
    # AND the shipper still writes its archive
    template = Template.from_stack(platform)
    assert "firehose:PutRecordBatch" in str(template.to_json())


def test_a_bulk_pipeline_publishes_no_delivery_stream_for_applications():
    app = cdk.App()
    platform = cdk.Stack(app, "Platform", env=ENV)
    LogPipeline(platform, "Logs", name="bulk", delivery_mode="bulk")
    parameters = {r["Properties"]["Name"] for r in Template.from_stack(platform).find_resources(
        "AWS::SSM::Parameter").values()}
    # THEN an application attached by name finds no stream to write (its deployment fails on the parameter)
    # (the logship layer is published in both modes: CloudWatchLogsHandler needs no stream)
    assert parameters == {"/log-constructs/pipeline/bulk/shipper-function-name",
                          "/log-constructs/pipeline/bulk/shipper-function-arn",
                          "/log-constructs/pipeline/bulk/logship-layer-name",
                          "/log-constructs/pipeline/bulk/logship-layer-version"}


@pytest.fixture(scope="module")
def in_vpc() -> dict:
    from aws_cdk import aws_ec2 as ec2
    app = cdk.App()
    stack = cdk.Stack(app, "BulkVpc", env=ENV)
    vpc = ec2.Vpc(stack, "Vpc", max_azs=2)
    LogPipeline(stack, "Logs", name="bulk", delivery_mode="bulk", vpc=vpc)
    opted = cdk.Stack(app, "BulkNat", env=ENV)
    LogPipeline(opted, "Logs", name="nat", delivery_mode="bulk", vpc=ec2.Vpc(opted, "Vpc", max_azs=2),
                shipper_egress=[ec2.Peer.any_ipv4()])
    return {"vpc": Template.from_stack(stack).to_json(), "nat": Template.from_stack(opted).to_json()}


def _shipper_egress(template: dict) -> list[dict]:
    (group,) = [lid for lid, r in template["Resources"].items()
                if r["Type"] == "AWS::EC2::SecurityGroup" and lid.startswith("LogsShipperSecurityGroup")]
    inline = template["Resources"][group]["Properties"].get("SecurityGroupEgress", [])
    separate = [r["Properties"] for r in template["Resources"].values()
                if r["Type"] == "AWS::EC2::SecurityGroupEgress" and r["Properties"]["GroupId"] == {
                    "Fn::GetAtt": [group, "GroupId"]}]
    return inline + separate


def test_the_bulk_shipper_reaches_only_the_domain_and_its_vpc_by_default(in_vpc):
    egress = _shipper_egress(in_vpc["vpc"])
    # THEN HTTPS to the domain's group and to the VPC's own addresses (its interface endpoints), nothing else
    assert {(e["IpProtocol"], e["FromPort"], e["ToPort"]) for e in egress} == {("tcp", 443, 443)}
    assert not any(e.get("CidrIp") == "0.0.0.0/0" for e in egress)
    assert any("DestinationSecurityGroupId" in e and "LogsDomainSecurityGroup" in str(e) for e in egress)
    assert any(e.get("CidrIp") == {"Fn::GetAtt": [next(k for k in in_vpc["vpc"]["Resources"] if k.startswith("Vpc")
                                                       and in_vpc["vpc"]["Resources"][k]["Type"] == "AWS::EC2::VPC"),
                                                  "CidrBlock"]} for e in egress)
    # AND any IPv4 address only when the prop says so (behind a NAT gateway)
    assert any(e.get("CidrIp") == "0.0.0.0/0" for e in _shipper_egress(in_vpc["nat"]))


def test_shipper_egress_is_refused_outside_bulk_mode_in_a_vpc():
    from aws_cdk import aws_ec2 as ec2
    stack = cdk.Stack(cdk.App(), "S", env=ENV)
    with pytest.raises(PropError, match=r"^LogPipeline: shipper_egress applies to delivery_mode='bulk' with a vpc only"):
        LogPipeline(stack, "Logs", shipper_egress=[ec2.Peer.any_ipv4()])


def test_bulk_mode_maps_the_shipper_to_a_create_only_role_and_alarms_on_forged_or_taken_ids():
    from opensearch_setup.documents import BULK_WRITER_ROLE_NAME, writer_role
    from opensearch_setup.props import SecuritySettings
    app = cdk.App()
    stack = cdk.Stack(app, "Bulk", env=ENV)
    LogPipeline(stack, "Logs", name="bulk", delivery_mode="bulk")
    template = Template.from_stack(stack).to_json()
    (setup,) = [r["Properties"] for r in template["Resources"].values() if r["Type"] == "Custom::OpenSearchSetup"]
    # THEN the shipper's role is mapped to the bulk writer
    assert BULK_WRITER_ROLE_NAME in str(setup)
    role = writer_role(SecuritySettings(writer_role_name=BULK_WRITER_ROLE_NAME, writer_backend_roles=("r",),
                                        index_patterns=("app-logs*",), admin_user="admin", admin_secret_arn="s",
                                        master_role_arn="m"))
    actions = {a for p in role["index_permissions"] for a in p["allowed_actions"]} | set(role["cluster_permissions"])
    # AND that role can create documents, indices and mappings, and nothing else
    assert actions == {"indices:data/write/bulk", "indices:data/write/bulk*", "indices:data/write/index",
                       "indices:admin/create", "indices:admin/mapping/put"}
    assert not any(word in a for a in actions for word in ("delete", "update", "manage", "crud", "monitor"))
    # AND forged or taken ids are alarmed
    alarms = {r["Properties"]["MetricName"] for r in template["Resources"].values()
              if r["Type"] == "AWS::CloudWatch::Alarm"}
    assert {"FirstDeliveryDuplicates", "ForeignPayloads"} <= alarms

