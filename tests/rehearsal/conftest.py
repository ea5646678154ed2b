"""The deploy rehearsal's fixtures: each shape is synthesized once and rehearsed once per session.

The example app and its serverless variant come from ``make synth`` (``cdk.out``,
``cdk.out.serverless``), which ``make test`` runs first; the README's quick start is synthesized
here, as written. The virtualenvs come from ``make rehearsal-setup`` (also part of ``make test``).
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts" / "rehearsal"))

import rehearse  # noqa: E402

def quick_start_code() -> str:
    """The README's quick start: its first Python block that builds and synthesizes a whole app."""
    blocks = re.findall(r"^```python\n(.*?)^```", (ROOT / "README.md").read_text(), re.S | re.M)
    return next(block for block in blocks if "cdk.App()" in block and "app.synth()" in block)


def synthesize_quick_start(folder: Path) -> Path:
    (folder / "app.py").write_text(quick_start_code())
    assembly = folder / "cdk.out"
    environment = {**os.environ, "CDK_OUTDIR": str(assembly), "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "app.py"], cwd=folder, env=environment, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, f"the README's quick start does not synthesize:\n{done.stderr[-4000:]}"
    return assembly


# The last release whose attach points held ARNs: its applications must keep deploying against this
# platform for one minor version (the platform publishes the old parameters beside the names).
PREVIOUS_RELEASE = "34f040e"
PREVIOUS_APPLICATION = """
import aws_cdk as cdk
from inventory_stack import InventoryStack

app = cdk.App()
InventoryStack(app, "InventoryPreviousRelease", platform_name="default",
               env=cdk.Environment(account="111111111111", region="eu-west-1"))
app.synth()
"""


def synthesize_previous_application(folder: Path) -> Path:
    """The inventory application as the previous release built it, with that release's library."""
    folder.mkdir()
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", PREVIOUS_RELEASE, "log_constructs", "lambda_src",
                              "examples/inventory_app"], check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
    app = folder / "examples" / "inventory_app"
    (app / "previous_app.py").write_text(PREVIOUS_APPLICATION)
    assembly = folder / "cdk.out"
    environment = {**os.environ, "CDK_OUTDIR": str(assembly), "PYTHONPATH": f"{folder}{os.pathsep}{app}"}
    done = subprocess.run([sys.executable, "previous_app.py"], cwd=app, env=environment, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, f"the previous release's application does not synthesize:\n{done.stderr[-4000:]}"
    return assembly


def assembly_for(shape: str, folder: Path) -> Path:
    if shape == "README quick start":
        return synthesize_quick_start(folder)
    assembly = ROOT / ("cdk.out" if shape == "example app" else "cdk.out.serverless")
    if not (assembly / "manifest.json").exists():
        pytest.fail(f"{assembly} is missing: `make synth` builds it (`make test` runs it first)")
    return assembly


@pytest.fixture(scope="session")
def rehearsals(tmp_path_factory: pytest.TempPathFactory):
    """shape -> its rehearsal report, each rehearsed on first use and printed once."""
    done: dict[str, rehearse.Report] = {}

    def get(shape: str) -> rehearse.Report:
        if shape not in done:
            folder = tmp_path_factory.mktemp(re.sub(r"\W+", "-", shape))
            then = (synthesize_previous_application(folder / "previous"),) if shape == "example app" else ()
            report = rehearse.rehearse(shape, assembly_for(shape, folder), workdir=folder, then=then)
            print("\n" + report.render())
            done[shape] = report
        return done[shape]

    return get
