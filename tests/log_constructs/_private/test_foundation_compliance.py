"""Foundation decisions every construct inherits for the compliance packs."""
from __future__ import annotations

import json

import aws_cdk as cdk
import pytest
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sqs as sqs
from aws_cdk.assertions import Match, Template
from cdk_nag import AwsSolutionsChecks, HIPAASecurityChecks, NIST80053R5Checks, PCIDSS321Checks, ServerlessChecks

from log_constructs._private.failures import send_failures_to
from log_constructs._private.functions import library_function
from log_constructs._private.queues import dead_letter_queue
from log_constructs._private.roles import LibraryRole
from log_constructs.secure import alarm_topic
from tests.support.iam import role_statements


PACKS = ("AwsSolutions", "NIST.800.53.R5", "HIPAA.Security", "PCI.DSS.321", "Serverless")


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[dict, Template]:
    """The foundation's resources synthesized with the five packs; (validation report, template)."""
    out = tmp_path_factory.mktemp("cdk.out")
    app = cdk.App(outdir=str(out))
    stack = cdk.Stack(app, "Test", env=cdk.Environment(account="111122223333", region="eu-west-1"))
    function = library_function(stack, "Fn", handler="log_shipper.handler.handler", description="test function",
                                service="test")
    queue = dead_letter_queue(stack, "Dlq", encryption_key=kms.Key(stack, "Key", enable_key_rotation=True))
    # the delivery-failure alarm send_failures_to returns gets its action from its owner (here: us)
    send_failures_to(function, queue).add_alarm_action(cw_actions.SnsAction(alarm_topic(stack, "Alarms")))
    sqs.Queue(stack, "Other", enforce_ssl=True).grant_consume_messages(function)
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app), NIST80053R5Checks(app), HIPAASecurityChecks(app),
                                        PCIDSS321Checks(app), ServerlessChecks(app))
    try:
        app.synth()
    except Exception as error:  # ValidationFailed: the report below says which rules
        assert "ValidationFailed" in str(error), error
    report = json.loads((out / "validation-report.json").read_text())
    return report, Template.from_json(json.loads((out / "Test.template.json").read_text()))


def test_library_role_grants_go_into_one_customer_managed_policy(built):
    # GIVEN a library function granted access to a queue / WHEN synthesized
    _, template = built
    # THEN no inline policy exists, the grants are statements of the role's managed policy
    template.resource_count_is("AWS::IAM::Policy", 0)
    template.resource_count_is("AWS::IAM::ManagedPolicy", 1)
    actions = {a for s in role_statements(template, "FnRole") for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}
    assert {"sqs:ReceiveMessage", "sqs:SendMessage", "logs:PutLogEvents", "xray:PutTraceSegments"} <= actions
    # AND the function waits for its permissions
    (function,) = template.find_resources("AWS::Lambda::Function").values()
    (policy_id,) = template.find_resources("AWS::IAM::ManagedPolicy")
    assert policy_id in function["DependsOn"]


def test_add_to_policy_of_a_library_role_also_lands_in_the_managed_policy():
    # GIVEN a LibraryRole / WHEN a statement is added directly
    stack = cdk.Stack()
    role = LibraryRole(stack, "Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    assert role.add_to_policy(iam.PolicyStatement(actions=["s3:GetObject"], resources=["arn:aws:s3:::b/k"]))
    # THEN it is in the managed policy, not an inline one
    template = Template.from_stack(stack)
    template.resource_count_is("AWS::IAM::Policy", 0)
    assert role_statements(template, "Role") == [{"Action": "s3:GetObject", "Effect": "Allow", "Resource": "arn:aws:s3:::b/k"}]


def test_functions_reserve_no_concurrency_and_send_failures_to_the_queue(built):
    _, template = built
    # a reservation can fail a new account's first deploy (unreserved concurrency kept at its minimum)
    template.has_resource_properties("AWS::Lambda::Function", {
        "ReservedConcurrentExecutions": Match.absent(), "TracingConfig": {"Mode": "Active"}})
    template.has_resource_properties("AWS::Lambda::EventInvokeConfig", {
        "MaximumRetryAttempts": 2,
        "DestinationConfig": {"OnFailure": {"Destination": {"Fn::GetAtt": [Match.string_like_regexp("^Dlq"), "Arn"]}}},
    })


@pytest.mark.parametrize("pack", PACKS)
def test_foundation_resources_pass_the_compliance_packs(built, pack):
    # GIVEN the foundation's function, role, key, queue and a plain user queue "Other" / WHEN validated
    report, _ = built
    (plugin,) = [p for p in report["pluginReports"] if p["pluginName"] == pack]
    # THEN the only findings are the user queue's own: every foundation decision is fixed or acknowledged
    ours = [v["ruleName"] for v in plugin["violations"]
            if any("/Other/" not in c["constructPath"] for c in v["violatingConstructs"])]
    assert ours == []


def test_the_gate_reports_an_unacknowledged_finding(built):
    # GIVEN the user queue "Other" without a redrive policy / WHEN validated
    report, _ = built
    (serverless,) = [p for p in report["pluginReports"] if p["pluginName"] == "Serverless"]
    # THEN the Serverless pack reports it (so the app's synthesis would fail on it), and the report failed
    flagged = {c["constructPath"] for v in serverless["violations"] for c in v["violatingConstructs"]}
    assert "Test/Other/Resource" in flagged
    assert serverless["conclusion"] == "failure"
