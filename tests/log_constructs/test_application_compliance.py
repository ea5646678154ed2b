"""An application team's own function passes the five cdk-nag packs with the public helpers only."""
from __future__ import annotations

import json
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from cdk_nag import AwsSolutionsChecks, HIPAASecurityChecks, NIST80053R5Checks, PCIDSS321Checks, ServerlessChecks

import log_constructs
from log_constructs import LAMBDA_ARCHITECTURE, LAMBDA_RUNTIME, ApplicationLogging, LogPipeline, compliance

PACKS = {"AwsSolutions", "NIST.800.53.R5", "HIPAA.Security", "PCI.DSS.321", "Serverless"}


def _synth_report(out: Path, build) -> dict:
    app = cdk.App(outdir=str(out))
    stack = cdk.Stack(app, "Team", env=cdk.Environment(account="111122223333", region="eu-west-1"))
    build(stack)
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app), NIST80053R5Checks(app), HIPAASecurityChecks(app),
                                        PCIDSS321Checks(app), ServerlessChecks(app))
    try:
        app.synth()
    except Exception as error:  # ValidationFailed: the report says which rules
        assert "ValidationFailed" in str(error), error
    return json.loads((out / "validation-report.json").read_text())


def _violations(report: dict) -> dict[str, list[str]]:
    return {p["pluginName"]: sorted({v["ruleName"] for v in p["violations"]}) for p in report["pluginReports"]}


def _plain_function(stack: cdk.Stack) -> lambda_.Function:
    key = compliance.encryption_key(stack, "Key", description="Encrypts the orders function's environment")
    role = compliance.managed_policy_role(stack, "OrdersRole", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
                                          description="Execution role of the orders function")
    function = lambda_.Function(stack, "Orders", role=role, runtime=LAMBDA_RUNTIME, architecture=LAMBDA_ARCHITECTURE,
                                handler="index.handler", environment_encryption=key, memory_size=256,
                                timeout=cdk.Duration.seconds(10),
                                code=lambda_.Code.from_inline("def handler(event, context):\n    return 1\n"))
    key.grant(function, "kms:Decrypt")
    return function


def test_a_plain_function_with_the_public_helpers_passes_the_five_packs(tmp_path: Path) -> None:
    def build(stack: cdk.Stack) -> None:
        # GIVEN a plain function of the team's, attached to the platform by name, shipping with logship
        pipeline = LogPipeline.from_name(stack, "Pipeline", name="default")
        function = _plain_function(stack)
        # WHEN the team uses the public helpers for what the packs ask of its function
        compliance.invoked_synchronously(function, by="the orders API, which receives every error")
        compliance.acknowledge_function(
            function,
            runtime="Pinned to Python 3.13, the runtime the team's tests and the logship layer cover.",
            outside_vpc="Calls only CloudWatch and Firehose over TLS with SigV4; it reaches nothing inside a VPC.",
            unreserved_concurrency="No reserved concurrency: the account's unreserved pool is small in new accounts.")
        function.add_layers(pipeline.logship_layer(function))
        pipeline.grant_put_records(function)
        ApplicationLogging(stack, "Logging", application_name="orders", functions=[function], ship_to=pipeline)

    report = _synth_report(tmp_path, build)
    # THEN every pack passes with no error
    assert {p["pluginName"] for p in report["pluginReports"]} == PACKS
    assert _violations(report) == {pack: [] for pack in PACKS}


def test_without_the_helpers_the_packs_name_what_is_missing(tmp_path: Path) -> None:
    # GIVEN the same function without acknowledgements or a failure destination
    def build(stack: cdk.Stack) -> None:
        ApplicationLogging(stack, "Logging", application_name="orders", functions=[_plain_function(stack)])

    violations = _violations(_synth_report(tmp_path, build))
    # THEN what acknowledge_function and invoked_synchronously answer is what fails
    assert "AwsSolutions-L1" in violations["AwsSolutions"]
    assert "Serverless-LambdaLatestVersion" in violations["Serverless"]
    assert "Serverless-LambdaDLQ" in violations["Serverless"]
    assert {"NIST.800.53.R5-LambdaInsideVPC", "NIST.800.53.R5-LambdaConcurrency"} <= set(violations["NIST.800.53.R5"])


@pytest.mark.parametrize("name", ["acknowledge", "acknowledge_all", "acknowledge_function", "alarm_topic",
                                  "arn_finding", "dead_letter_queue", "encryption_key", "invoked_synchronously",
                                  "managed_policy_role", "resource_finding", "send_failures_to", "skip_checkov"])
def test_every_helper_is_public_and_documents_its_params(name: str) -> None:
    helper = getattr(compliance, name)
    assert name in compliance.__all__ and "compliance" in log_constructs.__all__
    doc = helper.__doc__ or ""
    assert ":param " in doc, f"{name} documents no param"
    for line in [l for l in doc.splitlines() if l.strip().startswith(":param")]:
        block = doc[doc.index(line):].split(":param", 2)[1]
        assert "Required" in block or "Default:" in block, f"{name}: {line.strip()} says no Default"


def test_the_example_apps_use_only_public_names() -> None:
    root = Path(__file__).resolve().parents[2]
    for path in [root / "app.py", *(root / "stacks").glob("*.py"), *(root / "examples").rglob("*.py")]:
        text = path.read_text()
        assert "_private" not in text and "log_constructs.secure" not in text, path
