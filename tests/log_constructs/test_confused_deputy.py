"""Every service principal the library lets in is tied to this account or resource (confused deputy).

The example app (platform and application stacks, from cdk.json) plus the paths it does not take
(a governor and a log group shipping to a Kinesis stream through its role, an audit trail with a break-glass role
and an auditor) are synthesized; every IAM role trust policy, key, topic, queue and bucket policy
and Lambda permission is walked. An Allow statement for a service principal must carry
``aws:SourceArn``, ``aws:SourceAccount`` or ``sts:ExternalId``, or be one of the exceptions below.
"""
from __future__ import annotations

import json
import re
from typing import Any, Iterator

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_logs as logs
from aws_cdk.assertions import Template

from log_constructs import AuditTrail, KinesisLogDestination, LogGroupGovernor
from tests.support.example_app import ACCOUNT, ENV, example_app
BINDING_KEYS = ("aws:SourceArn", "aws:SourceAccount", "sts:ExternalId")

# Justified exceptions: (resource type, logical ID pattern, service) -> why no source condition.
LAMBDA_EXECUTION_ROLE = (
    "Lambda execution role: Lambda assumes it only for the functions it was attached to, which takes "
    "iam:PassRole in this account; Lambda does not send a source function to the trust policy."
)
EXCEPTIONS: dict[tuple[str, str, str], str] = {
    ("AWS::IAM::Role", r".*", "lambda.amazonaws.com"): LAMBDA_EXECUTION_ROLE,
    ("AWS::IAM::Role", r".*TrailLogsRole[0-9A-F]{8}$", "cloudtrail.amazonaws.com"): (
        "aws-cdk-lib's Trail role for delivery to CloudWatch Logs: CloudTrail documents that this role does not "
        "support aws:SourceArn / aws:SourceAccount; it is passed to one trail (iam:PassRole) and may only write "
        "the trail's log group."
    ),
    ("AWS::KMS::Key", r"^LogConstructsLogGroupsKey[0-9A-F]{8}$", "logs.{region}.amazonaws.com"): (
        "The stack's log group key: CloudWatch Logs' documented condition is the encryption context "
        "kms:EncryptionContext:aws:logs:arn, which names this account's and region's log groups."
    ),
}


def _apps() -> list[Template]:
    app, stacks = example_app()
    extra = cdk.Stack(app, "Extra", env=ENV)
    stream = kinesis.Stream(extra, "Stream", encryption=kinesis.StreamEncryption.MANAGED)
    LogGroupGovernor(extra, "Governor", ship_to=KinesisLogDestination(stream), sweep_at_deploy=False)
    # A log group subscribed to the stream directly: CloudWatch Logs assumes the stream's one role.
    KinesisLogDestination(stream).add_log_group(logs.LogGroup(extra, "Orders"))
    AuditTrail(extra, "Audit", auditor_principal=iam.AccountRootPrincipal(),
               break_glass_role=iam.Role(extra, "BreakGlass", assumed_by=iam.AccountRootPrincipal()))
    return [Template.from_stack(stack) for stack in (*stacks, extra)]


@pytest.fixture(scope="module")
def templates() -> list[Template]:
    return _apps()


def _services(principal: Any) -> list[str]:
    if not isinstance(principal, dict) or "Service" not in principal:
        return []
    services = principal["Service"] if isinstance(principal["Service"], list) else [principal["Service"]]
    return [_name(service) for service in services]


def _name(value: Any) -> str:
    """A service principal as text: ``logs.{region}.amazonaws.com`` for the Fn::Join of a regional one."""
    if isinstance(value, str):
        return value
    parts = value["Fn::Join"][1]
    return "".join(p if isinstance(p, str) else "{region}" if p == {"Ref": "AWS::Region"} else "{?}" for p in parts)


def _policy_documents(resource: dict) -> Iterator[dict]:
    props = resource.get("Properties", {})
    key = {"AWS::IAM::Role": "AssumeRolePolicyDocument", "AWS::KMS::Key": "KeyPolicy",
           "AWS::SNS::TopicPolicy": "PolicyDocument", "AWS::SQS::QueuePolicy": "PolicyDocument",
           "AWS::S3::BucketPolicy": "PolicyDocument"}.get(resource["Type"])
    if key and isinstance(props.get(key), dict):
        yield props[key]


def service_statements(templates: list[Template]) -> Iterator[tuple[str, str, str, dict]]:
    """(resource type, logical ID, service, statement) of every Allow statement for a service principal."""
    for template in templates:
        for logical_id, resource in template.to_json()["Resources"].items():
            for document in _policy_documents(resource):
                for statement in document["Statement"]:
                    if statement.get("Effect") == "Allow":
                        for service in _services(statement.get("Principal")):
                            yield resource["Type"], logical_id, service, statement


def _exception(kind: str, logical_id: str, service: str) -> str | None:
    for (e_kind, pattern, e_service), reason in EXCEPTIONS.items():
        if kind == e_kind and service == e_service and re.match(pattern, logical_id):
            return reason
    return None


def _binds(statement: dict) -> bool:
    return any(key in condition for condition in statement.get("Condition", {}).values() for key in BINDING_KEYS)


def test_every_service_principal_statement_is_bound_to_a_source_or_a_listed_exception(templates):
    # GIVEN the example app and the paths it does not take
    # WHEN every Allow statement for a service principal is walked
    unbound = [
        (kind, logical_id, service)
        for kind, logical_id, service, statement in service_statements(templates)
        if not _binds(statement) and _exception(kind, logical_id, service) is None
    ]
    # THEN each carries aws:SourceArn, aws:SourceAccount or sts:ExternalId, or is a listed exception
    assert unbound == []


def test_the_walk_sees_the_statements_it_is_meant_to_check(templates):
    # GIVEN the walked statements
    seen = {(kind, service) for kind, _, service, _ in service_statements(templates)}
    # THEN the walk reaches the trust policies and resource policies of each kind the library creates
    assert {
        ("AWS::IAM::Role", "firehose.amazonaws.com"),
        ("AWS::IAM::Role", "logs.amazonaws.com"),
        ("AWS::IAM::Role", "cloudtrail.amazonaws.com"),
        ("AWS::KMS::Key", "events.amazonaws.com"),
        ("AWS::KMS::Key", "cloudtrail.amazonaws.com"),
        ("AWS::KMS::Key", "cloudwatch.amazonaws.com"),
        ("AWS::SNS::TopicPolicy", "cloudwatch.amazonaws.com"),
        ("AWS::SQS::QueuePolicy", "events.amazonaws.com"),
        ("AWS::S3::BucketPolicy", "cloudtrail.amazonaws.com"),
        ("AWS::S3::BucketPolicy", "logging.s3.amazonaws.com"),
    } <= seen


def test_each_exception_is_used_and_holds_only_what_its_reason_says(templates):
    # GIVEN the statements that match an exception
    matched = {}
    for kind, logical_id, service, statement in service_statements(templates):
        for (e_kind, pattern, e_service) in EXCEPTIONS:
            if kind == e_kind and service == e_service and re.match(pattern, logical_id):
                matched.setdefault((e_kind, pattern, e_service), []).append(statement)
    # THEN every listed exception is still needed (none is stale)
    assert set(matched) == set(EXCEPTIONS)
    # AND the log group key is bound to this account's and region's log groups by its encryption context
    for statement in matched[("AWS::KMS::Key", r"^LogConstructsLogGroupsKey[0-9A-F]{8}$", "logs.{region}.amazonaws.com")]:
        arn = json.dumps(statement["Condition"]["ArnLike"]["kms:EncryptionContext:aws:logs:arn"])
        assert '":logs:"' in arn and '"AWS::Region"' in arn and '"AWS::AccountId"' in arn
    # AND the exempt trust policies allow nothing but sts:AssumeRole
    for key, statements in matched.items():
        if key[0] == "AWS::IAM::Role":
            assert all(s["Action"] == "sts:AssumeRole" for s in statements)


def test_firehose_assumes_the_delivery_role_only_for_this_account(templates):
    # GIVEN the platform stack's Firehose delivery role
    roles = [s for kind, logical_id, service, s in service_statements(templates)
             if kind == "AWS::IAM::Role" and service == "firehose.amazonaws.com"]
    # THEN its trust policy requires this account as the external ID (what Firehose passes)
    assert roles and all(s["Condition"] == {"StringEquals": {"sts:ExternalId": ACCOUNT}} for s in roles)


def test_lambda_permissions_name_their_source(templates):
    # GIVEN every Lambda permission granted to a service principal
    for template in templates:
        for logical_id, permission in template.find_resources("AWS::Lambda::Permission").items():
            props = permission["Properties"]
            if str(props["Principal"]).endswith(".amazonaws.com"):
                # THEN it names the source resource or account
                assert "SourceArn" in props or "SourceAccount" in props, logical_id


def test_a_kinesis_destination_has_one_role_bound_to_this_account_and_region(templates):
    # GIVEN the extra stack, where a governor and a subscription filter both deliver to one Kinesis stream
    extra = templates[-1]
    # THEN there is one role CloudWatch Logs assumes for it, bound to this account's and region's logs
    roles = [r for r in extra.find_resources("AWS::IAM::Role").values()
             if "logs.amazonaws.com" in json.dumps(r["Properties"]["AssumeRolePolicyDocument"])]
    assert len(roles) == 1
    (statement,) = roles[0]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert statement["Condition"] == {"StringLike": {"aws:SourceArn": {"Fn::Join": ["", [
        "arn:", {"Ref": "AWS::Partition"}, f":logs:eu-west-1:{ACCOUNT}:*"]]}}}
    # AND the subscription filter passes that role
    (subscription,) = extra.find_resources("AWS::Logs::SubscriptionFilter").values()
    assert subscription["Properties"]["RoleArn"]["Fn::GetAtt"][0].startswith("StreamLogConstructsCloudWatchLogsRole")
