"""The deprecated ``python -m logship.replay`` and ``python -m logship.kinesis_redrive``: logops where it is
installed, the install command where it is not."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

LAMBDA_SRC = Path(__file__).resolve().parents[3] / "lambda_src"


def _run(module: str, pythonpath: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", module, *args], capture_output=True, text=True,
                          env={"PATH": "", "PYTHONPATH": str(pythonpath)})


@pytest.mark.parametrize("old, subcommand, option", [("logship.replay", "replay", "--failed-out"),
                                                     ("logship.kinesis_redrive", "redrive", "--queue-url")])
def test_with_logops_the_old_command_runs_the_subcommand_and_says_it_is_deprecated(old, subcommand, option):
    # WHEN the old command is run where logops is importable
    done = _run(old, LAMBDA_SRC, "--help")
    # THEN the subcommand answers, and stderr names the new command
    assert done.returncode == 0 and option in done.stdout and f"logops {subcommand}" in done.stdout
    assert "deprecated" in done.stderr and f"`logops {subcommand}`" in done.stderr


@pytest.mark.parametrize("old", ["logship.replay", "logship.kinesis_redrive"])
def test_without_logops_the_old_command_gives_the_install_command_and_exits_2(old, tmp_path):
    # GIVEN an application's install: logship alone
    shutil.copytree(LAMBDA_SRC / "logship", tmp_path / "logship", ignore=shutil.ignore_patterns("__pycache__"))
    # WHEN the old command is run
    done = _run(old, tmp_path, "--start", "2026-11-21")
    # THEN it exits 2 with the install command, and nothing else ran
    assert done.returncode == 2 and done.stdout == ""
    assert "pip install serverless-logging-ops" in done.stderr
