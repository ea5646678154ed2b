"""The three jobs as three distributions: logship for applications, the operators' tools on their own."""
from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PIP = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]


def _wheel(project: str, pattern: str, out: Path) -> Path:
    """A wheel built offline with setuptools alone, from a clean copy of ``project``'s checkout."""
    subprocess.run([*PIP, "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-w", str(out), project],
                   check=True, cwd=out.parent / "src")
    (built,) = out.glob(pattern)
    return built


@pytest.fixture(scope="module")
def wheels(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    work = tmp_path_factory.mktemp("distributions")
    import shutil
    shutil.copytree(ROOT / "lambda_src", work / "src" / "lambda_src", symlinks=True,
                    ignore=shutil.ignore_patterns("__pycache__", "build", "*.egg-info"))
    (work / "src" / "LICENSE").write_text((ROOT / "LICENSE").read_text())
    return {"logship": _wheel("./lambda_src", "serverless_logging_logship-*.whl", work / "logship"),
            "ops": _wheel("./lambda_src/ops", "serverless_logging_ops-*.whl", work / "ops")}


def _tops(wheel: Path) -> set[str]:
    return {n.split("/")[0] for n in zipfile.ZipFile(wheel).namelist() if ".dist-info/" not in n}


def test_the_logship_wheel_holds_no_operators_tools_and_no_opensearch_client(wheels):
    # THEN an application that installs logship gets its handlers only
    assert _tops(wheels["logship"]) == {"logship"}
    # AND the operators' wheel holds logops and the shared OpenSearch client, and no logship file
    assert _tops(wheels["ops"]) == {"logops", "opensearch_client"}
    names = zipfile.ZipFile(wheels["ops"]).namelist()
    assert {"logops/__main__.py", "logops/replay.py", "logops/redrive.py", "opensearch_client/bulk.py"} <= set(names)
    entry_points = zipfile.ZipFile(wheels["ops"]).read(
        next(n for n in names if n.endswith(".dist-info/entry_points.txt"))).decode()
    assert "logops = logops.__main__:main" in entry_points


def test_logops_installs_as_its_own_command_and_the_old_commands_point_at_it(wheels, tmp_path):
    # GIVEN a fresh virtualenv (boto3 is the test environment's, seen through a .pth file: offline)
    venv = tmp_path / ".venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = str(venv / "bin" / "python")
    site = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          check=True, capture_output=True, text=True).stdout.strip()
    import boto3
    Path(site, "test-dependencies.pth").write_text(str(Path(boto3.__file__).parents[1]) + "\n")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}

    def pip_install(*wheels_: Path) -> None:
        subprocess.run([python, "-m", "pip", "--disable-pip-version-check", "-q", "install", "--no-index",
                        *map(str, wheels_)], check=True, env=env)

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(list(args), cwd=tmp_path, env=env, capture_output=True, text=True)

    # WHEN an application installs logship alone
    pip_install(wheels["logship"])
    # THEN the old command lines say how to get the operators' tools, with exit status 2
    for old in ("logship.replay", "logship.kinesis_redrive"):
        done = run(python, "-m", old, "--help")
        assert done.returncode == 2 and "pip install serverless-logging-ops" in done.stderr, (old, done.stderr)
    assert not (venv / "bin" / "logops").exists()
    # WHEN the operators' distribution is installed
    pip_install(wheels["ops"])
    # THEN `logops --help` lists every subcommand, each answering --help
    top = run(str(venv / "bin" / "logops"), "--help")
    assert top.returncode == 0, top.stderr
    assert all(name in top.stdout for name in ("smoke", "replay", "redrive"))
    for name in ("smoke", "replay", "redrive"):
        assert run(str(venv / "bin" / "logops"), name, "--help").returncode == 0, name
    # AND the old command lines run logops, with a deprecation on stderr
    done = run(python, "-m", "logship.replay", "--help")
    assert done.returncode == 0 and "--failed-out" in done.stdout and "deprecated" in done.stderr
    where = run(python, "-c", "import logops, opensearch_client; print(logops.__file__, opensearch_client.__file__)")
    assert all(Path(p).is_relative_to(venv) for p in where.stdout.split()), where.stderr


def test_the_ops_distribution_has_the_library_version_and_pins_logship_to_it():
    import tomllib

    import log_constructs
    ops = tomllib.loads((ROOT / "lambda_src/ops/pyproject.toml").read_text())["project"]
    assert ops["version"] == log_constructs.__version__
    assert f"serverless-logging-logship=={log_constructs.__version__}" in ops["dependencies"]
