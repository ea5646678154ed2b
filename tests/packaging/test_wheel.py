"""The library as users get it: the built wheel, installed outside the checkout, in a user's app."""
from __future__ import annotations

import ast
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

from tests.support.imports import imported_from

ROOT = Path(__file__).resolve().parents[2]
PIP = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
LAMBDA_PACKAGES = {p.name for p in (ROOT / "lambda_src").iterdir() if (p / "__init__.py").exists()}


def _pip(*args: str) -> None:
    subprocess.run([*PIP, *args], check=True, cwd=ROOT)


@pytest.fixture(scope="session")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A clean copy of the checkout (an in-tree build would leave build/ and *.egg-info in it)."""
    copy = tmp_path_factory.mktemp("checkout") / "src"
    shutil.copytree(ROOT, copy, symlinks=True, ignore=shutil.ignore_patterns(
        ".git", ".venv*", "node_modules", "cdk.out", "__pycache__", "build", "dist", "*.egg-info"))
    return copy


@pytest.fixture(scope="session")
def logship_wheel(source: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """logship's distribution, built in the copy as `pip install ./lambda_src` would: it leaves
    lambda_src/build/ behind, which the constructs' wheel built next must not pick up."""
    out = tmp_path_factory.mktemp("logship-wheel")
    subprocess.run([*PIP, "wheel", "--no-deps", "--no-build-isolation", "-w", str(out), "./lambda_src"],
                   check=True, cwd=source)
    assert (source / "lambda_src" / "build").is_dir()
    (built,) = out.glob("serverless_logging_logship-*.whl")
    return built


@pytest.fixture(scope="session")
def wheel(source: Path, logship_wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The README's build: pip wheel --no-deps -w dist <checkout>."""
    out = tmp_path_factory.mktemp("wheel")
    _pip("wheel", "--no-deps", "--no-build-isolation", "-w", str(out), str(source))
    (built,) = out.glob("serverless_logging_constructs-*.whl")
    return built


@pytest.fixture(scope="session")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("site")
    _pip("install", "--no-deps", "--target", str(target), str(wheel))
    return target


@pytest.fixture(scope="session")
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
                base = imported_from(node, package)
                names = [base] + [f"{base}.{alias.name}" for alias in node.names]
                names = [names[0]] + [n for n in names[1:] if present(n)]  # "from x import name" may be a name
            else:
                continue
            missing += [f"{source.relative_to(asset)}: {n}" for n in names
                        if n.split(".")[0] in LAMBDA_PACKAGES and not present(n)]
    return missing


def _package_files(*folders: str) -> set[str]:
    """The checkout's package files below ``folders`` (Python modules and py.typed)."""
    return {p.relative_to(ROOT).as_posix() for folder in folders for p in (ROOT / folder).rglob("*")
            if p.is_file() and (p.suffix == ".py" or p.name == "py.typed") and "__pycache__" not in p.parts}


def _files(wheel: Path) -> set[str]:
    return {n for n in zipfile.ZipFile(wheel).namelist() if ".dist-info/" not in n}


def _metadata(wheel: Path) -> str:
    archive = zipfile.ZipFile(wheel)
    return archive.read(next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))).decode()


def test_the_wheel_holds_exactly_the_package_files_despite_a_stray_build_folder(wheel: Path) -> None:
    # GIVEN a checkout where lambda_src/build/ was left by building logship (the fixtures)
    # THEN the constructs' wheel holds the library and the function code under it, nothing else
    functions = {f"log_constructs/_lambda_src/{name.removeprefix('lambda_src/')}"
                 for name in _package_files(*(f"lambda_src/{package}" for package in LAMBDA_PACKAGES))}
    assert _files(wheel) == (_package_files("log_constructs") - {n for n in _package_files("log_constructs")
                                                                  if n.startswith("log_constructs/_lambda_src/")}) | functions
    for package in sorted(LAMBDA_PACKAGES):
        assert f"log_constructs/_lambda_src/{package}/__init__.py" in functions


def test_the_license_is_in_the_repository_both_wheels_and_the_sdist(wheel: Path, logship_wheel: Path, source: Path,
                                                                     tmp_path: Path) -> None:
    license_text = (ROOT / "LICENSE").read_text()
    assert "Apache License" in license_text and "Version 2.0" in license_text
    for built in (wheel, logship_wheel):
        archive = zipfile.ZipFile(built)
        (name,) = [n for n in archive.namelist() if re.search(r"\.dist-info/licenses/LICENSE$", n)]
        assert archive.read(name).decode() == license_text
        assert re.search(r"^License-Expression: Apache-2.0$", _metadata(built), re.M)
    # AND the sdist, built as `python -m build --sdist` would
    subprocess.run([sys.executable, "-c", f"from setuptools import build_meta; build_meta.build_sdist({str(tmp_path)!r})"],
                   check=True, cwd=source, capture_output=True)
    (sdist,) = tmp_path.glob("serverless_logging_constructs-*.tar.gz")
    with tarfile.open(sdist) as archive:
        assert [n for n in archive.getnames() if n.endswith("/LICENSE") and n.count("/") == 1]


def test_logship_has_one_owner_and_cdk_nag_is_an_extra(wheel: Path, logship_wheel: Path) -> None:
    # THEN no file is installed by both distributions, so removing either never breaks the other
    assert "logship/handlers.py" in _files(logship_wheel)
    assert _files(wheel) & _files(logship_wheel) == set()
    assert not [n for n in _files(wheel) if n.startswith("logship/")]
    # AND the constructs need the CDK (and python-json-logger for the logship layer); cdk-nag and logship come with the extras `nag` and `logship`
    requires = re.findall(r"^Requires-Dist: (.+)$", _metadata(wheel), re.M)
    # (python-json-logger: built into the logship layer a LogPipeline publishes)
    assert sorted(r for r in requires if "extra ==" not in r) == ["aws-cdk-lib<3,>=2.275.0", "constructs<11,>=10.4",
                                                                  "python-json-logger<5,>=4.2"]
    assert 'cdk-nag<4,>=3.0.2; extra == "nag"' in requires
    import log_constructs
    assert f'serverless-logging-logship=={log_constructs.__version__}; extra == "logship"' in requires


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


def test_logship_installs_alone_without_the_cdk(logship_wheel: Path, tmp_path: Path) -> None:
    # GIVEN logship's own distribution
    requires = re.findall(r"^Requires-Dist: ([A-Za-z0-9_.-]+)", _metadata(logship_wheel), re.M)
    # THEN it needs boto3 and python-json-logger, nothing of the CDK, and holds logship only
    assert sorted(requires) == ["boto3", "python-json-logger"]
    assert {n.split("/")[0] for n in _files(logship_wheel)} == {"logship"}
    # AND it imports from its install folder alone
    target = tmp_path / "site"
    _pip("install", "--no-deps", "--target", str(target), str(logship_wheel))
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


# -- a newcomer, following the README from the top ------------------------------------------------


def _doc_block(document: str, *needles: str) -> str:
    """The document's first Python block holding every needle (the README's quick start comes first)."""
    blocks = re.findall(r"^```python\n(.*?)^```", (ROOT / document).read_text(), re.S | re.M)
    return [b for b in blocks if all(n in b for n in needles)][0]


@pytest.fixture(scope="session")
def newcomer_venv(wheel: Path, logship_wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtualenv with the README's install: the wheel with its extras, and logship's wheel.

    The tests run offline, so the dependencies (aws-cdk-lib, constructs, cdk-nag, boto3, ...) are the
    test environment's, seen through a .pth file; pip still resolves the wheels' requirements and
    extras against them and installs nothing from an index.
    """
    venv = tmp_path_factory.mktemp("newcomer") / ".venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          check=True, capture_output=True, text=True).stdout.strip()
    dependencies = subprocess.run([sys.executable, "-c", "import aws_cdk, os; print(os.path.dirname(os.path.dirname(aws_cdk.__file__)))"],
                                  check=True, capture_output=True, text=True).stdout.strip()
    Path(site, "test-dependencies.pth").write_text(dependencies + "\n")
    subprocess.run([str(python), "-m", "pip", "--disable-pip-version-check", "-q", "install", "--no-index",
                    f"{wheel}[nag,logship]", str(logship_wheel)], check=True)
    return venv


@pytest.fixture(scope="session")
def newcomer_synth(newcomer_venv: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess, Path]:
    """The README's quick start as written, with the compliance page's snippet before its app.synth()."""
    work = tmp_path_factory.mktemp("newcomer-app")
    quick_start = _doc_block("README.md", "app = cdk.App()", "app.synth()")
    compliance = _doc_block("docs/compliance-guide.md", "Validations.of(app).add_plugins(")
    head, synth = quick_start.rsplit("app.synth()", 1)
    (work / "app.py").write_text(head + compliance + "app.synth()" + synth)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(CDK_OUTDIR=str(work / "cdk.out"),
               PATH=f"{newcomer_venv / 'bin'}{os.pathsep}{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}")
    done = subprocess.run([str(newcomer_venv / "bin" / "python"), "app.py"], cwd=work, env=env,
                          capture_output=True, text=True)
    return done, work / "cdk.out"


def test_a_newcomer_synthesizes_the_quick_start_from_the_wheel_with_no_compliance_finding(newcomer_synth, newcomer_venv):
    done, outdir = newcomer_synth
    # THEN the quick start synthesizes, with the five packs as validation plugins
    assert done.returncode == 0, done.stderr[-4000:]
    report = json.loads((outdir / "validation-report.json").read_text())
    plugins = {r["pluginName"]: r for r in report["pluginReports"]}
    assert {"AwsSolutions", "HIPAA.Security", "NIST.800.53.R5", "PCI.DSS.321", "Serverless"} <= set(plugins)
    # AND no pack finds anything (the library's own resources are clean or acknowledged)
    assert {name: r["violations"] for name, r in plugins.items() if r["violations"]} == {}
    # AND no construct warns that its alarms notify no one, and Node is recent enough to say nothing
    manifest = json.loads((outdir / "manifest.json").read_text())
    warnings = [entry["data"] for artifact in manifest["artifacts"].values()
                for entries in artifact.get("metadata", {}).values() for entry in entries
                if entry["type"] == "aws:cdk:warning"]
    assert not [w for w in warnings if "no-alarm-actions" in str(w)]
    assert "end-of-life" not in done.stderr


def test_the_newcomer_imports_everything_from_the_install_and_removing_logship_keeps_the_constructs(newcomer_venv):
    python = str(newcomer_venv / "bin" / "python")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    where = subprocess.run([python, "-c", "import log_constructs, logship; print(log_constructs.__file__); print(logship.__file__)"],
                           cwd=newcomer_venv.parent, env=env, check=True, capture_output=True, text=True).stdout.split()
    assert all(Path(p).is_relative_to(newcomer_venv) for p in where)
    # WHEN logship's distribution is removed THEN the constructs still import (their function code is their own)
    subprocess.run([python, "-m", "pip", "--disable-pip-version-check", "-q", "uninstall", "-y", "serverless-logging-logship"],
                   check=True, env=env)
    done = subprocess.run([python, "-c", "import log_constructs; from log_constructs import LogPipeline"],
                          cwd=newcomer_venv.parent, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
