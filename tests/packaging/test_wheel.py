"""The library as users get it: the built wheel, installed outside the checkout, in a user's app."""
from __future__ import annotations

import ast
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PIP = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
LAMBDA_PACKAGES = {p.name for p in (ROOT / "lambda_src").iterdir() if (p / "__init__.py").exists()}


def _pip(*args: str) -> None:
    subprocess.run([*PIP, *args], check=True, cwd=ROOT)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    source = out / "src"  # a copy: an in-tree build would leave build/ and *.egg-info in the checkout
    shutil.copytree(ROOT, source, symlinks=True, ignore=shutil.ignore_patterns(
        ".git", ".venv", "node_modules", "cdk.out", "__pycache__", "build", "*.egg-info"))
    _pip("wheel", "--no-deps", "--no-build-isolation", "-w", str(out), str(source))
    (built,) = out.glob("serverless_logging_constructs-*.whl")
    return built


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("site")
    _pip("install", "--no-deps", "--target", str(target), str(wheel))
    return target


@pytest.fixture(scope="module")
def user_app(installed: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """GIVEN a user's app outside the checkout WHEN it synthesizes two Apps in one process."""
    work = tmp_path_factory.mktemp("user")
    outdirs = [str(work / "cdk.out.1"), str(work / "cdk.out.2")]
    env = {**os.environ, "PYTHONPATH": str(installed),
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    done = subprocess.run([sys.executable, str(ROOT / "tests/packaging/user_app.py"), *outdirs],
                          cwd=work, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-4000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def _functions(outdir: Path) -> list[tuple[str, str, Path]]:
    """(logical id, handler, asset folder) of every Python function whose code is a folder asset
    (aws-cdk-lib's own Node.js provider functions aside)."""
    found = []
    for template_file in outdir.glob("*.template.json"):
        resources = json.loads(template_file.read_text())["Resources"]
        for logical_id, resource in resources.items():
            props = resource["Properties"]
            key = props.get("Code", {}).get("S3Key") if resource["Type"] == "AWS::Lambda::Function" else None
            if isinstance(key, str) and key.endswith(".zip") and props["Runtime"].startswith("python"):
                found.append((logical_id, props["Handler"], outdir / f"asset.{key.removesuffix('.zip')}"))
    return found


def _unresolved_imports(asset: Path) -> list[str]:
    """Imports of lambda_src code (absolute or relative) that the asset itself cannot satisfy."""
    def present(module: str) -> bool:
        path = asset.joinpath(*module.split("."))
        return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()

    missing = []
    for source in asset.rglob("*.py"):
        package = ".".join(source.relative_to(asset).parent.parts)
        for node in ast.walk(ast.parse(source.read_text())):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*parent, base] if base else parent)
                names = [base] + [f"{base}.{alias.name}" for alias in node.names]
                names = [names[0]] + [n for n in names[1:] if present(n)]  # "from x import name" may be a name
            else:
                continue
            missing += [f"{source.relative_to(asset)}: {n}" for n in names
                        if n.split(".")[0] in LAMBDA_PACKAGES and not present(n)]
    return missing


def test_the_wheel_carries_the_function_code(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    for package in sorted(LAMBDA_PACKAGES):
        assert f"log_constructs/_lambda_src/{package}/__init__.py" in names
    assert "logship/handlers.py" in names
    assert {n.split("/")[0] for n in names if ".dist-info/" not in n} == {"log_constructs", "logship"}
    assert not [n for n in names if "demo_app" in n or "/build/" in n or ".egg-info" in n or n.endswith(".toml")]


def test_a_user_app_synthesizes_twice_from_the_installed_wheel(user_app: dict, installed: Path) -> None:
    # THEN log_constructs came from the wheel's install folder, not the checkout
    assert Path(user_app["log_constructs"]).is_relative_to(installed)
    import log_constructs
    assert user_app["version"] == log_constructs.__version__
    # AND both Apps hold the same functions
    first, second = (_functions(Path(d)) for d in user_app["outdirs"])
    assert len(first) >= 4 and sorted(h for _, h, _ in first) == sorted(h for _, h, _ in second)


def test_each_function_asset_holds_its_handler_and_what_it_imports_only(user_app: dict) -> None:
    for logical_id, handler, asset in _functions(Path(user_app["outdirs"][0])):
        module, _, _ = handler.rpartition(".")
        package = module.split(".")[0]
        # THEN the handler module is inside that function's asset
        assert asset.joinpath(*module.split(".")).with_suffix(".py").is_file(), (logical_id, handler)
        # AND every import of lambda_src code in it resolves inside the asset
        assert _unresolved_imports(asset) == [], logical_id
        # AND nothing else: no other function's package, no tests, no demo code, no caches
        tops = {p.name for p in asset.iterdir()}
        assert package in tops and tops <= LAMBDA_PACKAGES, (logical_id, tops)
        other_functions = {"log_shipper", "log_alerts", "log_group_governor", "opensearch_setup"} - {package}
        assert not tops & other_functions, (logical_id, tops)
        files = [p for p in asset.rglob("*") if p.is_file()]
        assert not [p for p in files if p.suffix != ".py" or "__pycache__" in p.parts or "tests" in p.parts]
        assert not [p for p in files if "def encode_payload" in p.read_text()]


def test_logship_installs_alone_without_the_cdk(tmp_path: Path) -> None:
    # GIVEN logship's own distribution WHEN it is built (from a copy: an in-tree build leaves build/ behind)
    source = tmp_path / "src"
    shutil.copytree(ROOT / "lambda_src", source, ignore=shutil.ignore_patterns("__pycache__"))
    _pip("wheel", "--no-deps", "--no-build-isolation", "-w", str(tmp_path), str(source))
    (built,) = tmp_path.glob("serverless_logging_logship-*.whl")
    metadata = zipfile.ZipFile(built).read(
        next(n for n in zipfile.ZipFile(built).namelist() if n.endswith("METADATA"))).decode()
    requires = re.findall(r"^Requires-Dist: ([A-Za-z0-9_.-]+)", metadata, re.M)
    # THEN it needs boto3 and python-json-logger, nothing of the CDK, and holds logship only
    assert sorted(requires) == ["boto3", "python-json-logger"]
    assert {n.split("/")[0] for n in zipfile.ZipFile(built).namelist() if not n.startswith("serverless_")} == {"logship"}
    # AND it imports from its install folder alone
    target = tmp_path / "site"
    _pip("install", "--no-deps", "--target", str(target), str(built))
    done = subprocess.run([sys.executable, "-c", "import logship, sys; from logship import FirehoseHandler; "
                           "print(logship.__file__); assert 'aws_cdk' not in sys.modules"],
                          cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(target)}, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert Path(done.stdout.strip()).is_relative_to(target)


def test_versions_agree() -> None:
    import tomllib

    import log_constructs
    logship_project = tomllib.loads((ROOT / "lambda_src/pyproject.toml").read_text())["project"]
    assert logship_project["version"] == log_constructs.__version__
    assert f"## {log_constructs.__version__}" in (ROOT / "CHANGELOG.md").read_text()


def test_tests_install_the_powertools_release_the_functions_deploy() -> None:
    from log_constructs._private.functions import POWERTOOLS_VERSION
    pins = re.findall(r"^aws-lambda-powertools==(\S+)", (ROOT / "requirements-dev.txt").read_text(), re.M)
    assert pins == [POWERTOOLS_VERSION]
