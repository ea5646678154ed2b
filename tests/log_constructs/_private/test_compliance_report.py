"""docs/compliance.md generator, and the example app's compliance gate (five cdk-nag packs)."""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk import aws_s3 as s3
from cdk_nag import AwsSolutionsChecks

from log_constructs._private import nag

ROOT = Path(__file__).resolve().parents[3]
SCRIPT = ROOT / "scripts" / "compliance_report.py"
PACKS = (nag.AWS_SOLUTIONS, nag.NIST_800_53_R5, nag.HIPAA_SECURITY, nag.PCI_DSS_321, nag.SERVERLESS)
S1_REASON = "Test bucket: its access logs would go nowhere useful in this test."


def _synth_tiny_app(out: Path, *, acknowledge: bool) -> None:
    """A stack with one TLS-only bucket without access logs (AwsSolutions-S1), acknowledged or not."""
    app = cdk.App(outdir=str(out))
    stack = cdk.Stack(app, "Tiny")
    bucket = s3.Bucket(stack, "Data", enforce_ssl=True)
    if acknowledge:
        nag.acknowledge(bucket, "S1", S1_REASON)
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    try:
        app.synth()
    except RuntimeError as error:
        assert "ValidationFailed" in str(error)


def _generate(out: Path, target: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), str(out), str(target)], capture_output=True, text=True,
                          timeout=120)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> tuple[subprocess.CompletedProcess, str]:
    out = tmp_path_factory.mktemp("tiny.out")
    _synth_tiny_app(out, acknowledge=True)
    target = out / "compliance.md"
    result = _generate(out, target)
    return result, target.read_text()


def _row(markdown: str, rule: str) -> list[str]:
    (line,) = [line for line in markdown.splitlines() if line.startswith(f"| {rule} |")]
    return [cell.strip() for cell in line.strip("|").split(" | ")]


def test_acknowledged_finding_is_listed_with_its_resource_and_reason(tiny):
    # GIVEN a tiny app whose bucket's S1 finding is acknowledged / WHEN the report is generated
    result, markdown = tiny
    assert result.returncode == 0, result.stderr
    # THEN the S1 row names the bucket, says acknowledged and gives the reason
    rule, status, covered, acknowledgement = _row(markdown, "S1")
    assert status == "acknowledged"
    assert covered == "1: `Data`"
    assert acknowledgement == f"`Data`: {S1_REASON}"


def test_passing_rules_list_the_resources_they_covered(tiny):
    # GIVEN the same app / THEN S10 (TLS only) passed on the bucket and its policy, with no acknowledgement
    _, markdown = tiny
    _, status, covered, acknowledgement = _row(markdown, "S10")
    assert (status, covered, acknowledgement) == ("pass", "2: `Data`, `Data/Policy`", "")
    # AND the summary counts one rule with an acknowledged finding and no unacknowledged one
    summary = next(line for line in markdown.splitlines() if line.startswith("| [AwsSolutions]"))
    assert summary.endswith("| 1 | 0 |")
    # AND rules about kinds of resources the app does not have are listed as not applicable
    assert re.search(r"Not applicable \(no resource of the kinds they check\): .*\bRDS2\b", markdown)


def test_unacknowledged_finding_fails_the_report(tmp_path):
    # GIVEN the tiny app without the acknowledgement (its synthesis fails, the report is still written)
    _synth_tiny_app(tmp_path, acknowledge=False)
    # WHEN the report is generated
    result = _generate(tmp_path, tmp_path / "compliance.md")
    # THEN it exits non-zero and marks the rule as failing on the bucket
    assert result.returncode == 1
    _, status, _, detail = _row((tmp_path / "compliance.md").read_text(), "S1")
    assert status == "**FAIL**"
    assert "**unacknowledged** `AwsSolutions-S1` on `Data`" in detail


# --- the example app ---------------------------------------------------------------------------------
APP_REPORT = ROOT / "cdk.out" / "validation-report.json"


@pytest.fixture(scope="module")
def app_report() -> dict:
    if not APP_REPORT.exists():
        pytest.skip("cdk.out/validation-report.json is absent: `make test` runs `make synth` first")
    return json.loads(APP_REPORT.read_text())


@pytest.mark.parametrize("pack", PACKS)
def test_example_app_has_no_unacknowledged_finding(app_report, pack):
    # GIVEN the example app's validation report / THEN the pack ran and found nothing unacknowledged
    plugins = {p["pluginName"]: p for p in app_report["pluginReports"]}
    assert pack in plugins, f"{pack} is not a validation plugin of app.py"
    assert [v["ruleName"] for v in plugins[pack]["violations"]] == []


def test_every_acknowledgement_names_pack_and_rule_gives_a_reason_and_is_narrow(app_report):
    # GIVEN every acknowledgement of the five packs in the example app
    acknowledgements = [a for p in app_report["pluginReports"] if p["pluginName"] in PACKS
                        for a in p.get("suppressedViolations", [])]
    assert acknowledgements, "expected acknowledged findings in the report"
    for ack in acknowledgements:
        pack = ack["ruleName"].split("-", 1)[0]
        # THEN it is in the Pack::Rule form (with the finding id where the rule has findings) ...
        assert re.fullmatch(rf"{re.escape(pack)}::{re.escape(ack['ruleName'])}", ack["acknowledgedId"]), ack
        # ... and its reason is a real one
        assert len(ack.get("reason", "").strip()) >= 20, ack
        # ... on a construct inside the stack, never the app or a whole stack
        assert "/" in ack["acknowledgedAt"], ack
