"""Platform and application stacks: dependencies run application → platform, every resource lands in
its owner's stack, the platform's template never changes with its applications, and an application
of another CDK app attaches by name."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Template

from log_constructs import (AlertRoute, ApplicationLogging, AuditTrail, LogAlerts, LogGroupGovernor, LoggingDashboard,
                            LogPipeline, PropError)

ENV = cdk.Environment(account="111122223333", region="eu-west-1")


def _function(stack: cdk.Stack, id: str = "Fn") -> lambda_.Function:
    return lambda_.Function(stack, id, runtime=lambda_.Runtime.PYTHON_3_13, handler="index.handler",
                            code=lambda_.Code.from_inline("def handler(event, context): pass"))


def _dependencies(assembly: cdk.cx_api.CloudAssembly, stack: str) -> set[str]:
    return {d.id for d in assembly.get_stack_by_name(stack).dependencies if not d.id.endswith(".assets")}


def _platform(app: cdk.App, *, key: kms.IKey | None = None, bucket: s3.IBucket | None = None) -> cdk.Stack:
    platform = cdk.Stack(app, "Platform", env=ENV)
    pipeline = LogPipeline(platform, "Logs", name="default", encryption_key=key, backup_bucket=bucket)
    alerts = LogAlerts(platform, "Alerts", name="default", encryption_key=key,
                       routes=[AlertRoute(marker="CRITICAL", channel="#oncall")])
    LoggingDashboard(platform, "Dashboard", sources=[pipeline, alerts])
    LogGroupGovernor(platform, "Governor", ship_to=pipeline, sweep_at_deploy=False)
    platform.pipeline, platform.alerts = pipeline, alerts  # type: ignore[attr-defined]
    return platform


def _application(app: cdk.App, id: str, platform: cdk.Stack) -> cdk.Stack:
    """What an application team does with the platform's objects in the same app."""
    stack = cdk.Stack(app, id, env=ENV)
    fn = _function(stack)
    logging = ApplicationLogging(stack, "Logging", functions=[fn], ship_to=platform.pipeline,  # type: ignore[attr-defined]
                                 alerts=platform.alerts)  # type: ignore[attr-defined]
    platform.pipeline.grant_put_records(fn)  # type: ignore[attr-defined]
    extra = logs.LogGroup(stack, "Audit", retention=logs.RetentionDays.ONE_WEEK)
    platform.pipeline.add_log_group(extra)  # type: ignore[attr-defined]
    platform.alerts.add_log_group(extra)  # type: ignore[attr-defined]
    LoggingDashboard(stack, "Dashboard", sources=[logging], applications_overview=False)
    return stack


@pytest.fixture(scope="module")
def matrix() -> dict[str, Any]:
    # GIVEN keys and a bucket of their own stack, the platform, two applications, and a governor of an
    # application team's stack that ships to the platform
    app = cdk.App()
    keys = cdk.Stack(app, "Keys", env=ENV)
    key = kms.Key(keys, "Key", enable_key_rotation=True)
    bucket = s3.Bucket(keys, "Backups", encryption=s3.BucketEncryption.KMS, encryption_key=key, enforce_ssl=True)
    platform = _platform(app, key=key, bucket=bucket)
    trail_bucket = s3.Bucket(keys, "Trail", encryption=s3.BucketEncryption.KMS, encryption_key=key, enforce_ssl=True)
    AuditTrail(platform, "Audit", encryption_key=key, bucket=trail_bucket)
    orders = _application(app, "Orders", platform)
    _application(app, "Payments", platform)
    team = cdk.Stack(app, "TeamGovernor", env=ENV)
    LogGroupGovernor(team, "Governor", ship_to=platform.pipeline, include=["/team/"],  # type: ignore[attr-defined]
                     sweep_at_deploy=False)
    # WHEN the dashboard is given an application's construct THEN it is refused (checked before synthesis)
    with pytest.raises(PropError, match="sources must be in the dashboard's stack"):
        LoggingDashboard(platform, "Other", sources=[orders.node.find_child("Logging")])
    assembly = app.synth()
    templates = {s.stack_name: s.template for s in assembly.stacks}
    return {"assembly": assembly, "templates": templates}


def test_dependencies_run_from_applications_to_the_platform(matrix):
    assembly = matrix["assembly"]
    # THEN the platform depends on the keys only, and every application on the platform
    assert _dependencies(assembly, "Platform") == {"Keys"}
    assert _dependencies(assembly, "Keys") == set()
    for application in ("Orders", "Payments", "TeamGovernor"):
        assert "Platform" in _dependencies(assembly, application)


def test_subscription_filters_land_in_their_log_groups_stacks(matrix):
    templates = matrix["templates"]

    def filters(stack: str) -> list[dict]:
        return [r["Properties"] for r in templates[stack]["Resources"].values()
                if r["Type"] == "AWS::Logs::SubscriptionFilter"]

    # THEN each application holds its own four filters (pipeline and alerts on two log groups), by reference
    # to its own log groups, and the platform none of them
    for application in ("Orders", "Payments"):
        found = filters(application)
        assert sorted(f["FilterName"] for f in found) == ["log-constructs-alerts"] * 2 + ["log-constructs-pipeline"] * 2
        assert all("Ref" in f["LogGroupName"] for f in found)
        # the function's name from an SSM parameter type of its own stack, in its own account and region
        assert all(":lambda:eu-west-1:111122223333:function:" in json.dumps(f["DestinationArn"]) for f in found)
    assert filters("Platform") == []


def test_nothing_crosses_stacks_through_exports_and_keys_name_no_application(matrix):
    templates = matrix["templates"]
    for application in ("Orders", "Payments", "TeamGovernor"):
        assert "Fn::ImportValue" not in json.dumps(templates[application])
    assert not [o for o in templates["Platform"].get("Outputs", {}).values() if "Export" in o]
    # THEN the key policy trusts the account and names no role of the platform or the applications
    (key,) = [r for r in templates["Keys"]["Resources"].values() if r["Type"] == "AWS::KMS::Key"]
    principals = [s["Principal"] for s in key["Properties"]["KeyPolicy"]["Statement"]]
    assert all("Fn::ImportValue" not in json.dumps(p) and "Role" not in json.dumps(p) for p in principals)


def test_grants_go_into_the_grantees_policy(matrix):
    templates = matrix["templates"]
    # THEN the application's function may put records into the pipeline's stream, by its SSM parameter
    policies = [r["Properties"] for r in templates["Orders"]["Resources"].values()
                if r["Type"] == "AWS::IAM::Policy"]
    statements = [s for p in policies for s in p["PolicyDocument"]["Statement"]]
    (put,) = [s for s in statements if s["Action"] == ["firehose:PutRecord", "firehose:PutRecordBatch"]]
    parameter = next(p for p in templates["Orders"]["Parameters"] if "deliverystreamname" in p)
    assert f'{{"Ref": "{parameter}"}}' in json.dumps(put["Resource"])
    assert ":firehose:eu-west-1:111122223333:deliverystream/" in json.dumps(put["Resource"])


def test_delivery_permissions_are_created_once_by_the_destination(matrix):
    templates = matrix["templates"]
    # THEN the platform holds one permission per function, for every log group of its account and region
    permissions = [r["Properties"] for r in templates["Platform"]["Resources"].values()
                   if r["Type"] == "AWS::Lambda::Permission" and r["Properties"]["Principal"] == "logs.amazonaws.com"]
    assert len(permissions) == 2
    for permission in permissions:
        assert permission["SourceAccount"] == "111122223333"
        assert permission["SourceArn"] == {"Fn::Join": ["", [
            "arn:", {"Ref": "AWS::Partition"}, ":logs:eu-west-1:111122223333:log-group:*"]]}
    # AND no application holds one
    for application in ("Orders", "Payments", "TeamGovernor"):
        assert not [r for r in templates[application]["Resources"].values() if r["Type"] == "AWS::Lambda::Permission"
                    and r["Properties"]["Principal"] == "logs.amazonaws.com"]


def _platform_template(applications: int) -> dict:
    app = cdk.App()
    platform = _platform(app)
    for n in range(applications):
        _application(app, f"App{n}", platform)
    return app.synth().get_stack_by_name("Platform").template


def test_the_platform_template_is_the_same_with_0_1_and_3_applications():
    # GIVEN the same platform synthesized with 0, 1 and 3 application stacks
    # THEN its template is the same, byte for byte
    with_none = _platform_template(0)
    assert _platform_template(1) == with_none
    assert _platform_template(3) == with_none


# --- two CDK apps connected only by name -------------------------------------------------------------
@pytest.fixture(scope="module")
def two_apps() -> tuple[dict, dict]:
    # GIVEN the platform team's app, and an application team's app that knows only the name "default"
    platform_app = cdk.App()
    platform = _platform(platform_app)
    platform_template = platform_app.synth().get_stack_by_name(platform.stack_name).template
    team_app = cdk.App()
    team = cdk.Stack(team_app, "Inventory", env=ENV)
    fn = _function(team)
    pipeline = LogPipeline.from_name(team, "Pipeline", name="default")
    alerts = LogAlerts.from_name(team, "Alerts", name="default")
    ApplicationLogging(team, "Logging", functions=[fn], ship_to=pipeline, alerts=alerts)
    pipeline.grant_put_records(fn)
    LogGroupGovernor(team, "Governor", ship_to=pipeline, include=["/inventory/"], sweep_at_deploy=False)
    return platform_template, team_app.synth().get_stack_by_name("Inventory").template


def test_an_application_of_another_app_reads_what_the_platform_publishes(two_apps):
    platform, team = two_apps
    published = {r["Properties"]["Name"]: r["Properties"]["Type"] for r in platform["Resources"].values()
                 if r["Type"] == "AWS::SSM::Parameter"}
    read = {p["Default"] for p in team["Parameters"].values() if p["Type"] == "AWS::SSM::Parameter::Value<String>"
            and p["Default"].startswith("/log-constructs/")}
    # THEN every parameter the application reads is one the platform publishes, as a String
    assert read == {"/log-constructs/pipeline/default/shipper-function-name",
                    "/log-constructs/pipeline/default/delivery-stream-name",
                    "/log-constructs/alerts/default/function-name"}
    assert read <= set(published) and {published[name] for name in read} == {"String"}
    # AND nothing else connects the two
    assert "Fn::ImportValue" not in json.dumps(team)


def test_the_application_subscribes_and_governs_with_the_published_values(two_apps):
    _, team = two_apps
    parameters = {p["Default"]: name for name, p in team["Parameters"].items() if "Default" in p}
    filters = {r["Properties"]["FilterName"]: r["Properties"] for r in team["Resources"].values()
               if r["Type"] == "AWS::Logs::SubscriptionFilter"}
    shipper = json.dumps({"Ref": parameters["/log-constructs/pipeline/default/shipper-function-name"]})
    assert shipper in json.dumps(filters["log-constructs-pipeline"]["DestinationArn"])
    # the alerts' pattern is built from the marker constants, never read
    assert filters["log-constructs-alerts"]["FilterPattern"].startswith("%\\[CRITICAL\\]")
    governor = [r["Properties"]["Environment"]["Variables"] for r in team["Resources"].values()
                if r["Type"] == "AWS::Lambda::Function" and "FILTER_NAME" in json.dumps(r)]
    assert governor and shipper in json.dumps(governor[0]["DESTINATION_ARN"])


def test_names_are_checked_and_unique_per_app():
    app = cdk.App()
    stack = cdk.Stack(app, "Platform", env=ENV)
    LogAlerts(stack, "Alerts", name="default")
    # WHEN a second LogAlerts takes the same name THEN it is refused, naming the first
    with pytest.raises(PropError, match=r"^LogAlerts: name 'default' is already used by Platform/Alerts; "):
        LogAlerts(cdk.Stack(app, "Other", env=ENV), "Alerts", name="default")
    # AND a name SSM cannot hold is refused
    with pytest.raises(PropError, match=r"^LogPipeline: name must be 1-64 letters, digits, '_', '.' or '-' .*"
                       r"got 'team/a'$"):
        LogPipeline.from_name(stack, "Pipeline", name="team/a")


def test_attaching_across_accounts_points_to_destinations():
    app = cdk.App()
    platform = _platform(app)
    other = cdk.Stack(app, "Member", env=cdk.Environment(account="444455556666", region="eu-west-1"))
    with pytest.raises(PropError, match=r"attach points are per account and region\. Across accounts or regions "
                       r"use a CloudWatch Logs destination"):
        platform.pipeline.add_log_group(logs.LogGroup(other, "Orders"))  # type: ignore[attr-defined]


def test_a_grantee_that_is_no_construct_is_granted_in_the_platform_stack():
    app = cdk.App()
    platform = _platform(app)
    role = iam.Role(platform, "Reader", assumed_by=iam.AccountRootPrincipal())
    grant = platform.pipeline.grant_put_records(role)  # type: ignore[attr-defined]
    assert grant.success
    Template.from_stack(platform).has_resource_properties("AWS::IAM::Policy", {"Roles": [{"Ref": platform.get_logical_id(
        role.node.default_child)}]})


# --- the example app and the standalone application app --------------------------------------------
def test_the_example_platform_depends_on_no_application():
    from tests.support.example_app import example_app
    app, _ = example_app()
    assembly = app.synth()
    assert _dependencies(assembly, "Platform") == set()
    assert _dependencies(assembly, "Shop") == {"Platform"} and _dependencies(assembly, "Inventory") == {"Platform"}


def test_the_inventory_app_synthesizes_on_its_own(tmp_path):
    # GIVEN the application team's CDK app, run as its own program from its folder
    root = Path(__file__).resolve().parents[2]
    folder = root / "examples" / "inventory_app"
    # log_constructs as installed: from this checkout (the packaging tests cover the wheel)
    # (the account and region come from context, as its cdk.json gives them: no credentials needed)
    env = {**os.environ, "PYTHONPATH": str(root), "CDK_OUTDIR": str(tmp_path), "CDK_CONTEXT_JSON": json.dumps(
        {"stack_name": "Inventory", "platform_name": "default", "account": "111111111111", "region": "eu-west-1"})}
    # WHEN it synthesizes (with the five cdk-nag packs)
    result = subprocess.run([sys.executable, "app.py"], cwd=folder, env=env, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    # THEN its one stack reads the platform's attach points by name and nothing else of the platform
    template = json.loads((tmp_path / "Inventory.template.json").read_text())
    read = {p["Default"] for p in template["Parameters"].values() if p["Default"].startswith("/log-constructs/")}
    assert read == {"/log-constructs/pipeline/default/shipper-function-name",
                    "/log-constructs/pipeline/default/delivery-stream-name",
                    "/log-constructs/alerts/default/function-name"}
    assert "Fn::ImportValue" not in json.dumps(template)
