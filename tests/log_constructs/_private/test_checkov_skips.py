"""One reason for both scanners: a cdk-nag acknowledgement also skips checkov's matching check, in the template."""
from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Template

from log_constructs import LogAlerts, LogGroupGovernor, LogPipeline
from log_constructs._private import nag
from log_constructs._private.functions import OUTSIDE_VPC_REASON, TRIGGER_PROVIDER_ID, library_function

REASON = "Reached only over AWS APIs with SigV4; nothing of it lives inside a VPC."


def _stack() -> cdk.Stack:
    return cdk.Stack(cdk.App(), "Test", env=cdk.Environment(account="111122223333", region="eu-west-1"))


def _function(stack: cdk.Stack, id: str = "Fn") -> lambda_.Function:
    return lambda_.Function(stack, id, runtime=lambda_.Runtime.PYTHON_3_13, handler="index.handler",
                            code=lambda_.Code.from_inline("def handler(event, context): pass"))


def _checkov(template: Template, logical_id_prefix: str, resource_type: str = "AWS::Lambda::Function") -> list[dict]:
    (resource,) = [r for lid, r in template.find_resources(resource_type).items() if lid.startswith(logical_id_prefix)]
    return resource.get("Metadata", {}).get("checkov", {}).get("skip", [])


def test_acknowledging_a_nag_rule_skips_the_matching_checkov_check_with_the_same_reason():
    # GIVEN a function / WHEN LambdaInsideVPC is acknowledged on it in three packs
    stack = _stack()
    fn = _function(stack)
    nag.acknowledge_all(fn, {nag.NIST_800_53_R5: "LambdaInsideVPC", nag.HIPAA_SECURITY: "LambdaInsideVPC",
                             nag.PCI_DSS_321: "LambdaInsideVPC"}, reason=REASON)
    # THEN the function resource skips CKV_AWS_117 once, with that reason as the comment
    assert _checkov(Template.from_stack(stack), "Fn") == [{"id": "CKV_AWS_117", "comment": REASON}]


def test_skips_of_several_rules_accumulate_and_land_only_on_resources_of_the_checked_type():
    # GIVEN a function whose role is a child of its construct
    stack = _stack()
    fn = _function(stack)
    # WHEN two mapped rules are acknowledged on the function
    nag.acknowledge(fn, "LambdaDLQ", "Invoked synchronously by its caller, which receives every error.",
                    pack=nag.SERVERLESS)
    nag.acknowledge(fn, "LambdaConcurrency", "Runs once per deployment; a reserved concurrency would idle.",
                    pack=nag.NIST_800_53_R5)
    template = Template.from_stack(stack)
    # THEN the function carries both skips, each with its own reason
    assert _checkov(template, "Fn") == [
        {"id": "CKV_AWS_116", "comment": "Invoked synchronously by its caller, which receives every error."},
        {"id": "CKV_AWS_115", "comment": "Runs once per deployment; a reserved concurrency would idle."},
    ]
    # AND the role (not a Lambda function) has no checkov skip
    (role,) = template.find_resources("AWS::IAM::Role").values()
    assert "checkov" not in role.get("Metadata", {})


def test_bucket_logging_acknowledgement_skips_checkov_access_logging():
    # GIVEN a bucket / WHEN AwsSolutions-S1 is acknowledged on it
    stack = _stack()
    bucket = s3.Bucket(stack, "Logs")
    nag.acknowledge(bucket, "S1", "This bucket is the access log target; logging it into itself would loop.")
    # THEN checkov's CKV_AWS_18 is skipped on it with that reason
    assert _checkov(Template.from_stack(stack), "Logs", "AWS::S3::Bucket") == [
        {"id": "CKV_AWS_18", "comment": "This bucket is the access log target; logging it into itself would loop."}]


def test_rules_without_a_checkov_equivalent_and_narrowed_findings_write_no_skip():
    # GIVEN a function / WHEN a rule checkov lacks, and an IAM5 finding, are acknowledged
    stack = _stack()
    fn = _function(stack)
    nag.acknowledge(fn, "L1", "Pinned to the runtime the tests of this library cover.")
    assert fn.role is not None
    nag.acknowledge(fn.role, "IAM5", "X-Ray APIs support no resource-level permissions.", findings=["Resource::*"])
    # THEN no resource carries checkov metadata
    template = Template.from_stack(stack).to_json()
    assert not [lid for lid, r in template["Resources"].items() if "checkov" in r.get("Metadata", {})]


def test_a_checkov_skip_needs_a_real_reason_and_a_resource():
    stack = _stack()
    fn = _function(stack)
    # WHEN the reason is a placeholder / THEN it is refused
    with pytest.raises(ValueError, match="real reason"):
        nag.skip_checkov(fn, "CKV_AWS_117", "n/a")
    # WHEN the construct holds no resource of the type / THEN it is refused, naming the construct
    with pytest.raises(ValueError, match="Test/Fn holds no AWS::S3::Bucket"):
        nag.skip_checkov(fn, "CKV_AWS_18", "A reason long enough to be read as one.", resource_type="AWS::S3::Bucket")


def test_library_function_encrypts_its_environment_with_the_given_key_and_may_decrypt_it():
    # GIVEN a customer-managed key / WHEN a library function is built with it
    stack = _stack()
    key = kms.Key(stack, "Key", enable_key_rotation=True)
    library_function(stack, "Fn", handler="log_shipper.handler.handler", description="test", service="test",
                     environment_encryption=key)
    template = Template.from_stack(stack).to_json()
    (function,) = [r for r in template["Resources"].values() if r["Type"] == "AWS::Lambda::Function"]
    key_id = stack.resolve(stack.get_logical_id(key.node.default_child))
    # THEN the environment is encrypted with that key (checkov CKV_AWS_173)
    assert function["Properties"]["KmsKeyArn"] == {"Fn::GetAtt": [key_id, "Arn"]}
    # AND the function's role may decrypt with it
    statements = [s for r in template["Resources"].values() if r["Type"] == "AWS::IAM::ManagedPolicy"
                  for s in r["Properties"]["PolicyDocument"]["Statement"]]
    assert any(s["Action"] == "kms:Decrypt" and s["Resource"] == {"Fn::GetAtt": [key_id, "Arn"]} for s in statements)
    # AND the outside-VPC acknowledgement skips checkov's CKV_AWS_117 with the same reason
    assert {"id": "CKV_AWS_117", "comment": OUTSIDE_VPC_REASON} in function["Metadata"]["checkov"]["skip"]


def test_every_library_function_encrypts_its_environment_with_its_constructs_key():
    # GIVEN the pipeline (with its setup provider), the alerts and the governor (with its deploy trigger)
    stack = _stack()
    pipeline = LogPipeline(stack, "Logs", index="app-logs")
    LogAlerts(stack, "Alerts", channel="#alerts")
    LogGroupGovernor(stack, "Governor", ship_to=pipeline)
    template = Template.from_stack(stack).to_json()
    functions = {lid: r for lid, r in template["Resources"].items() if r["Type"] == "AWS::Lambda::Function"}
    # THEN every function with environment variables has a KmsKeyArn
    unencrypted = [lid for lid, r in functions.items()
                   if r["Properties"].get("Environment") and "KmsKeyArn" not in r["Properties"]]
    assert unencrypted == []
    # AND aws-cdk-lib's trigger provider skips the checks it cannot pass, each with a reason
    (trigger,) = [r for lid, r in functions.items() if lid.startswith(TRIGGER_PROVIDER_ID.replace(".", ""))]
    skips = trigger["Metadata"]["checkov"]["skip"]
    assert {s["id"] for s in skips} == {"CKV_AWS_115", "CKV_AWS_116", "CKV_AWS_117"}
    assert all(len(s["comment"]) >= 20 for s in skips)
