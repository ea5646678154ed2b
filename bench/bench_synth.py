"""Synthesis time of the example app, cold-start import time of each handler, and the Lambda assets' sizes.

- Synthesis, cold (a fresh process each time, nothing cached but the installed packages):
  ``npx cdk synth --quiet`` of app.py with its five cdk-nag packs (the CLI and the Python app), and
  ``python app.py`` alone (the Python app: jsii, aws-cdk-lib, the constructs, the packs). Baseline: the
  same command on an empty app (one empty stack, no packs): the fixed cost of the toolchain.
- Import time of each function's handler module (``lambda_src/*/handler.py``), the part of a Lambda
  cold start our code controls: a fresh interpreter per sample, ``time.perf_counter`` around the
  import, median of ``IMPORT_SAMPLES``. Baseline: a bare ``import boto3`` measured the same way.
- Asset sizes: every Lambda asset in the synthesized cloud assembly (``lambda_src`` with the
  construct's excludes, and aws-cdk-lib's own) zipped as CDK uploads it. No baseline: reported only.
"""
from __future__ import annotations

import io
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

from bench.common import ROOT, Row, quick

SYNTH_SAMPLES = int(os.environ.get("BENCH_SYNTH_SAMPLES", "1" if quick() else "2"))
IMPORT_SAMPLES = int(os.environ.get("BENCH_IMPORT_SAMPLES", "7"))
BIN = Path(sys.executable).parent

EMPTY_APP = """
import aws_cdk as cdk
app = cdk.App()
cdk.Stack(app, "Empty")
app.synth()
"""

# What a handler module may read from the environment at import time; clients are created but no
# call is made, so the endpoint need not answer.
HANDLER_ENV = {
    "AWS_REGION": "eu-west-1", "AWS_DEFAULT_REGION": "eu-west-1",
    "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_ENDPOINT_URL": "http://127.0.0.1:9", "POWERTOOLS_SERVICE_NAME": "bench",
    "POWERTOOLS_METRICS_NAMESPACE": "Bench", "DELIVERY_STREAM_NAME": "bench-stream",
    "DEAD_LETTER_QUEUE_URL": "http://127.0.0.1:9/000000000000/bench-dlq", "TABLE_NAME": "bench-table",
    "WEBHOOK_SECRET_ARN": "arn:aws:secretsmanager:eu-west-1:000000000000:secret:bench",
}


def _env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = f"{BIN}{os.pathsep}{ROOT / 'node_modules' / '.bin'}{os.pathsep}{env.get('PATH', '')}"
    env.update(CDK_DISABLE_VERSION_CHECK="1", CDK_CLI_NOTICES="false", **extra)
    return env


def _timed(command: list[str], *, env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return time.perf_counter() - started


def _context_json() -> str:
    return json.dumps(json.loads((ROOT / "cdk.json").read_text())["context"])


def _synth_rows(work: Path) -> tuple[list[Row], Path]:
    empty = work / "empty_app.py"
    empty.write_text(EMPTY_APP)
    cli = ["npx", "cdk", "synth", "--quiet", "--no-notices", "--no-version-reporting"]
    samples: dict[str, list[float]] = {k: [] for k in ("cli", "cli_empty", "py", "py_empty")}
    out = work / "cdk.out"
    for i in range(SYNTH_SAMPLES):
        for key, command, extra in (
            ("cli", [*cli, "-o", str(out)], {}),
            ("cli_empty", [*cli, "--app", f"{BIN / 'python'} {empty}", "-o", str(work / f"empty{i}.out")], {}),
            ("py", [str(BIN / "python"), "app.py"], {"CDK_OUTDIR": str(work / f"py{i}.out"),
                                                      "CDK_CONTEXT_JSON": _context_json()}),
            ("py_empty", [str(BIN / "python"), str(empty)], {"CDK_OUTDIR": str(work / f"pyempty{i}.out")}),
        ):
            if key == "cli":
                shutil.rmtree(out, ignore_errors=True)
            samples[key].append(_timed(command, env=_env(**extra)))
    note = f"median of {SYNTH_SAMPLES} cold runs; baseline: an empty app (one empty stack, no cdk-nag packs)"
    rows = [
        Row("synth", "npx cdk synth --quiet (example app, 5 nag packs)", statistics.median(samples["cli"]),
            statistics.median(samples["cli_empty"]), "s", higher_is_better=False, note=note),
        Row("synth", "python app.py alone (example app, 5 nag packs)", statistics.median(samples["py"]),
            statistics.median(samples["py_empty"]), "s", higher_is_better=False, note=note),
    ]
    return rows, out


def _import_seconds(module: str) -> float:
    code = ("import sys, time; sys.path.insert(0, sys.argv[1]); t = time.perf_counter(); "
            f"import {module}; print(time.perf_counter() - t)")
    samples = []
    for _ in range(IMPORT_SAMPLES):
        result = subprocess.run([sys.executable, "-c", code, str(ROOT / "lambda_src")], capture_output=True,
                                text=True, env={**_env(), **HANDLER_ENV}, cwd=ROOT, check=True)
        samples.append(float(result.stdout.strip().splitlines()[-1]))
    return statistics.median(samples)


def _import_rows() -> list[Row]:
    baseline = _import_seconds("boto3") * 1000
    rows = []
    for handler in sorted((ROOT / "lambda_src").glob("*/handler.py")):
        module = f"{handler.parent.name}.handler"
        try:
            ours = _import_seconds(module) * 1000
        except subprocess.CalledProcessError as error:
            print(f"bench_synth: cannot import {module}: {error.stderr.strip().splitlines()[-1:]}", file=sys.stderr)
            continue
        rows.append(Row("cold start import", module, ours, baseline, "ms", higher_is_better=False,
                        note=f"median of {IMPORT_SAMPLES} fresh interpreters; baseline: bare `import boto3`"))
    return rows


def _zip_size(directory: Path) -> tuple[int, int]:
    buffer = io.BytesIO()
    raw = 0
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(p for p in directory.rglob("*") if p.is_file()):
            raw += path.stat().st_size
            archive.write(path, path.relative_to(directory))
    return buffer.tell(), raw


def _asset_rows(out: Path) -> list[Row]:
    """Every Lambda code asset of the synthesized app, named by the functions that use it."""
    users: dict[str, list[str]] = {}
    for template_file in out.glob("*.template.json"):
        for resource in json.loads(template_file.read_text())["Resources"].values():
            if resource["Type"] != "AWS::Lambda::Function":
                continue
            asset = resource.get("Metadata", {}).get("aws:asset:path")
            path = resource.get("Metadata", {}).get("aws:cdk:path", "?").split("/")
            if asset:
                users.setdefault(asset, []).append("/".join(path[1:-1]))
    rows = []
    for asset, functions in sorted(users.items()):
        compressed, raw = _zip_size(out / asset)
        rows.append(Row("asset size", f"{asset[:18]}… ({', '.join(functions)})", compressed / 1024, None, "KiB",
                        higher_is_better=False, note=f"zipped ({raw / 1024:,.0f} KiB unzipped); no baseline, reported only"))
    return rows


def run() -> list[Row]:
    with tempfile.TemporaryDirectory(prefix="bench_synth_") as tmp:
        rows, out = _synth_rows(Path(tmp))
        rows += _asset_rows(out)
    return rows + _import_rows()
