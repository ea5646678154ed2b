"""Every shape deploys as synthesized, redeploys as a no-op, and its functions run with only allowed calls.

The rehearsal deploys into LocalStack (host mode, no Docker, no account): it catches what AWS's
create calls validate (property combinations, policy documents, names), deploy-time references
and order, and the functions' imports, handler crashes and calls their roles do not allow. What
the emulator only pretends to create is listed in each report, never counted as deployed.
"""
from __future__ import annotations

import pytest

import deployer
import events
import functions

SHAPES = ("example app", "serverless sink", "README quick start")


@pytest.mark.parametrize("shape", SHAPES)
def test_every_stack_reaches_create_complete_as_synthesized(rehearsals, shape: str) -> None:
    # GIVEN the shape's templates as synthesized WHEN deployed into the emulator in dependency order
    report = rehearsals(shape)
    # THEN every stack is created, and no resource failed
    failed = {r.spec.stack_name: f"{r.status} {r.reason} " + "; ".join(
        f"{f.logical_id}: {f.reason}" for f in r.failures()) for r in report.stacks if not r.ok}
    assert report.stacks and not failed, report.render()


@pytest.mark.parametrize("shape", SHAPES)
def test_a_second_deploy_with_no_change_is_a_no_op(rehearsals, shape: str) -> None:
    report = rehearsals(shape)
    assert set(report.redeploys) == {r.spec.stack_name for r in report.stacks}
    assert all(noop for noop, _ in report.redeploys.values()), report.render()


@pytest.mark.parametrize("shape", ("example app", "serverless sink"))
def test_an_application_stack_deleted_and_deployed_again_is_created(rehearsals, shape: str) -> None:
    # GIVEN the platform and its applications deployed WHEN each application stack is deleted
    # (its log group and key are retained) and deployed again THEN the new creation completes
    report = rehearsals(shape)
    assert set(report.recreated) == {"DemoShop", "Inventory"}
    assert set(report.recreated.values()) == {"CREATE_COMPLETE"}, report.render()


@pytest.mark.parametrize("shape", SHAPES)
def test_every_python_function_imports_and_runs_with_only_calls_its_role_allows(rehearsals, shape: str) -> None:
    report = rehearsals(shape)
    ran = {run.handler for run in report.functions if run.invoked}
    # THEN the shipper (both event kinds where there are ingestion streams), the alerts function, the
    # governor and the set-up custom resource ran with their realistic events, and nothing failed or
    # called beyond its role
    assert {events.SHIPPER, events.ALERTS, events.GOVERNOR, events.SETUP} <= ran, report.render()
    assert not [run.summary() for run in report.functions if not run.ok], report.render()


def test_an_application_of_the_previous_release_deploys_against_this_platform(rehearsals) -> None:
    # GIVEN this release's platform and an application synthesized with the previous release (its
    # attach points held ARNs and a filter pattern) WHEN it is deployed after the platform
    report = rehearsals("example app")
    (previous,) = [r for r in report.stacks if r.spec.stack_name == "InventoryPreviousRelease"]
    # THEN it is created, a no-op on a second deploy, and its function runs within its role
    assert previous.ok, report.render()
    assert report.redeploys["InventoryPreviousRelease"][0]
    runs = [run for run in report.functions if run.stack == "InventoryPreviousRelease"]
    assert runs and all(run.ok for run in runs), report.render()


def test_the_shipper_takes_a_kinesis_record_of_its_ingestion_stream(rehearsals) -> None:
    report = rehearsals("example app")
    labels = [run.logical_id for run in report.functions if run.handler == events.SHIPPER and run.invoked]
    assert any("Kinesis record" in label for label in labels) and any("subscription" in label for label in labels)


@pytest.mark.parametrize("shape", SHAPES)
def test_the_report_names_what_the_emulator_only_pretends_and_each_workaround(rehearsals, shape: str) -> None:
    report = rehearsals(shape)
    text = report.render()
    # THEN custom resources and the audit trail's services are listed as pretended, never as deployed
    assert {"Custom::OpenSearchSetup", "AWS::CloudTrail::Trail"} <= set(report.mocked_types)
    for mocked in report.mocked_types:
        assert f"    - {mocked}\n" in text
    assert "really created:" in text and "PROVIDER_OVERRIDE_DYNAMODB=moto" in text
    assert "powertools" in text.lower()


# --- the rehearsal's own checks, without an emulator ---------------------------------------------

def test_a_call_outside_the_role_is_reported_at_the_action_level() -> None:
    allowed = ["logs:describe*", "logs:putsubscriptionfilter"]
    calls = ["logs:DescribeLogGroups", "logs:PutRetentionPolicy", "logs:PutSubscriptionFilter", "kms:Decrypt"]
    assert functions.not_allowed(calls, allowed, []) == ["kms:Decrypt", "logs:PutRetentionPolicy"]
    assert functions.not_allowed(["logs:DescribeLogGroups"], ["logs:*"], ["logs:describeloggroups"]) == [
        "logs:DescribeLogGroups"]


def test_a_failed_function_run_fails_the_report() -> None:
    run = functions.FunctionRun("Stack", "Fn", "fn", events.GOVERNOR, imported=True, invoked=True,
                                calls=["logs:PutRetentionPolicy"], denied=["logs:PutRetentionPolicy"])
    assert not run.ok and "NOT ALLOWED by its role: logs:PutRetentionPolicy" in run.summary()
    crashed = functions.FunctionRun("Stack", "Fn", "fn", events.SHIPPER, imported=False, error="ImportError: x")
    assert not crashed.ok


def test_the_stacks_deploy_in_dependency_order(tmp_path) -> None:
    import json

    manifest = {"artifacts": {
        "App": {"type": "aws:cloudformation:stack", "environment": "aws://unknown-account/unknown-region",
                "dependencies": ["Platform"], "properties": {"templateFile": "App.template.json"}},
        "Platform": {"type": "aws:cloudformation:stack", "environment": "aws://111111111111/eu-west-1",
                     "properties": {"templateFile": "Platform.template.json"}},
    }}
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    specs = deployer.load_assembly(tmp_path)
    assert [(s.stack_name, s.account, s.region) for s in specs] == [
        ("Platform", "111111111111", "eu-west-1"), ("App", deployer.DEFAULT_ACCOUNT, deployer.DEFAULT_REGION)]
