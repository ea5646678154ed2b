"""The foundation's function factory: runtime, layer, own log group, least-privilege role."""
from __future__ import annotations

import json

import aws_cdk as cdk
import pytest
from aws_cdk import aws_lambda as lambda_
from aws_cdk.assertions import Match, Template

from log_constructs._private.functions import POWERTOOLS_VERSION, library_function, powertools_layer_arn
from log_constructs._private.log_groups import LIBRARY_LOG_GROUP_PREFIX
from tests.support.iam import role_statements


@pytest.fixture(scope="module")
def template() -> Template:
    stack = cdk.Stack(cdk.App(), "Fn")
    library_function(stack, "Worker", handler="log_shipper.handler.handler", description="test worker", service="svc")
    return Template.from_stack(stack)


def test_function_runs_python_313_on_arm64_with_the_powertools_layer(template):
    fn = next(iter(template.find_resources("AWS::Lambda::Function").values()))["Properties"]
    assert fn["Runtime"] == "python3.13" and fn["Architectures"] == ["arm64"]
    # THEN the layer is the pinned Powertools release, resolved in the stack's region by its SSM parameter
    assert fn["Layers"] == [f"{{{{resolve:ssm:/aws/service/powertools/python/arm64/python3.13/{POWERTOOLS_VERSION}}}}}"]
    assert fn["Environment"]["Variables"]["POWERTOOLS_SERVICE_NAME"] == "svc"


def test_layer_is_resolved_by_release_not_by_a_layer_version_number(template):
    # THEN no layer version number nor per-partition account mapping is baked into the template
    assert "Mappings" not in template.to_json()
    assert "AWSLambdaPowertoolsPythonV3" not in json.dumps(template.to_json())


def test_layer_arn_for_x86():
    arn = powertools_layer_arn(architecture=lambda_.Architecture.X86_64, runtime=lambda_.Runtime.PYTHON_3_12)
    stack = cdk.Stack(cdk.App(), "X", env=cdk.Environment(region="eu-west-1", account="111122223333"))
    assert stack.resolve(arn) == f"{{{{resolve:ssm:/aws/service/powertools/python/x86_64/python3.12/{POWERTOOLS_VERSION}}}}}"


def test_own_encrypted_log_group_under_the_library_prefix(template):
    template.has_resource("AWS::Logs::LogGroup", {
        "DeletionPolicy": "Retain",
        "Properties": {"LogGroupName": Match.string_like_regexp(f"^{LIBRARY_LOG_GROUP_PREFIX}"),
                       "KmsKeyId": Match.any_value(), "RetentionInDays": 30},
    })
    template.has_resource_properties("AWS::Lambda::Function", {
        "LoggingConfig": {"LogFormat": "JSON", "LogGroup": {"Ref": Match.string_like_regexp("WorkerLogGroup")},
                          "ApplicationLogLevel": "INFO", "SystemLogLevel": "WARN"},
        "TracingConfig": {"Mode": "Active"},
    })


def test_role_has_no_managed_policies_and_only_xray_is_unscoped(template):
    role = next(iter(template.find_resources("AWS::IAM::Role").values()))["Properties"]
    assert "ManagedPolicyArns" not in role
    statements = role_statements(template, "WorkerRole")  # the role's customer-managed policy
    unscoped = [s for s in statements if s["Resource"] == "*"]
    assert [sorted(s["Action"]) for s in unscoped] == [["xray:PutTelemetryRecords", "xray:PutTraceSegments"]]
    logs_statement = next(s for s in statements if "logs:PutLogEvents" in s["Action"])
    assert logs_statement["Resource"] == {"Fn::GetAtt": [Match.any_value(), "Arn"]} or "WorkerLogGroup" in json.dumps(logs_statement)


def test_logs_key_lets_only_this_accounts_log_groups_use_it(template):
    key = next(iter(template.find_resources("AWS::KMS::Key").values()))["Properties"]
    logs_statement = next(s for s in key["KeyPolicy"]["Statement"] if "Service" in s["Principal"])
    assert "kms:EncryptionContext:aws:logs:arn" in json.dumps(logs_statement["Condition"])
    assert key["EnableKeyRotation"] is True
