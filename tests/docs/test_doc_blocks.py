"""Every Python block of README.md and of every page of the site (docs/**/*.md) runs as written, so docs
and code cannot drift.

A block that is a whole app (it builds its own ``cdk.App()``) runs as it is, in a process of its own. A fragment gets, before
its first line, the entries of ``PREAMBLE`` for the names it uses without defining them (an
``orders_fn``, the ``pipeline`` of an earlier block, ...), never an edit of the block. CDK blocks are
then synthesized (the ``app`` of the preamble, or the block's own). A block that cannot run here is
marked in the markdown, right before it, with ``<!-- not runnable: <reason> -->``. A README block that
is also on a page, character for character, runs once (as the page's).

A block that builds an app (it calls ``app.synth()`` itself) runs with the compliance page's snippet
(the five cdk-nag packs as validation plugins) inserted before its ``app.synth()``, and must
synthesize with no finding on any resource, the library's or the user's: the reader gets what the
page shows, and nothing the test adds besides the snippet the compliance page tells them to add.
An asset folder such an app names (``Code.from_asset("functions/orders")``) is made as its page says:
logship installed into it (copied from ``lambda_src/``, as ``pip install ... -t`` would put it, offline),
and the page's blocks whose first line names a file in it (``# functions/orders/handler.py``).
"""
from __future__ import annotations

import ast
import builtins
import json
import logging
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# The site's pages (mkdocstrings' templates are not pages), then the README.
DOCUMENTS = (*sorted(str(path.relative_to(ROOT)) for path in (ROOT / "docs").rglob("*.md")
                     if "templates" not in path.relative_to(ROOT / "docs").parts), "README.md")
NOT_RUNNABLE = re.compile(r"<!-- not runnable: (?P<reason>\S.*?) -->\s*$")

# name → the code that defines it for a fragment; entries may use earlier entries (pulled in as well).
PREAMBLE: dict[str, str] = {
    "cdk": "import aws_cdk as cdk",
    "Duration": "from aws_cdk import Duration",
    "cloudwatch": "from aws_cdk import aws_cloudwatch as cloudwatch",
    "cw_actions": "from aws_cdk import aws_cloudwatch_actions as cw_actions",
    "LogPipeline": "from log_constructs import LogPipeline",
    "LoggingDashboard": "from log_constructs import LoggingDashboard",
    "app": "app = cdk.App()",
    "stack": 'stack = cdk.Stack(app, "Docs", env=cdk.Environment(account="111122223333", region="eu-west-1"))',
    "_function": "from aws_cdk import aws_lambda as _lambda\n"
                 "def _function(id):\n"
                 "    return _lambda.Function(stack, id, runtime=_lambda.Runtime.PYTHON_3_13, handler='index.handler',\n"
                 "                            code=_lambda.Code.from_inline('def handler(event, context):\\n    return None'))",
    "orders_fn": 'orders_fn = _function("Orders")',
    "orders": "orders = orders_fn",
    "payments_fn": 'payments_fn = _function("Payments")',
    "billing_fn": 'billing_fn = _function("Billing")',
    "my_function": 'my_function = _function("Mine")',
    "_iam": "from aws_cdk import aws_iam as _iam",
    "my_service_role": 'my_service_role = _iam.Role(stack, "Service", assumed_by=_iam.ServicePrincipal("ecs-tasks.amazonaws.com"))',
    "break_glass_role": 'break_glass_role = _iam.Role(stack, "BreakGlass", assumed_by=_iam.AccountRootPrincipal())',
    "incident_response_role": 'incident_response_role = _iam.Role(stack, "Responder", assumed_by=_iam.AccountRootPrincipal())',
    "topic": 'from log_constructs.secure import alarm_topic as _alarm_topic\ntopic = _alarm_topic(stack, "OnCall")',
    "oncall_topic": "oncall_topic = topic",
    "vpc": 'from aws_cdk import aws_ec2 as _ec2\nvpc = _ec2.Vpc(stack, "Vpc", max_azs=3)',
    "pipeline": 'pipeline = LogPipeline(stack, "Pipeline")',
    "alerts": 'from log_constructs import LogAlerts as _LogAlerts\nalerts = _LogAlerts(stack, "LogAlerts")',
    "governor": 'from log_constructs import LogGroupGovernor as _Governor\ngovernor = _Governor(stack, "LogGovernor")',
    "audit": 'from log_constructs import AuditTrail as _AuditTrail\naudit = _AuditTrail(stack, "AuditTrail")',
    "ship": 'from logship import FirehoseHandler as _FirehoseHandler\nship = _FirehoseHandler("app-logs", flush_timeout_seconds=1)',
    "MyService": "from constructs import Construct as _Construct\n"
                 "class MyService(_Construct):  # the smallest IMonitorable: one metric, no alarms\n"
                 "    alarms = []\n"
                 "    dashboard_title = 'My service'\n"
                 "    def dashboard_widgets(self, *, period):\n"
                 "        from log_constructs import DashboardRow\n"
                 "        return [DashboardRow('Orders', [cloudwatch.GraphWidget(left=[cloudwatch.Metric(\n"
                 "            namespace='Shop', metric_name='Orders', period=period)])])]",
}


@dataclass(frozen=True)
class Block:
    document: str
    line: int
    code: str
    not_runnable: str | None

    @property
    def id(self) -> str:
        return f"{self.document}:{self.line}"


def _blocks() -> list[Block]:
    found: list[Block] = []
    for document in DOCUMENTS:
        text = (ROOT / document).read_text()
        for match in re.finditer(r"^```python\n(.*?)^```", text, re.S | re.M):
            before = text[: match.start()].rstrip("\n").rsplit("\n", 1)[-1]
            marker = NOT_RUNNABLE.search(before)
            block = Block(document, text[: match.start()].count("\n") + 1, match.group(1),
                          marker["reason"] if marker else None)
            if not any(b.code == block.code and b.not_runnable == block.not_runnable for b in found):
                found.append(block)
    return found


def _free_names(code: str) -> set[str]:
    """Names a piece of code reads without binding them itself."""
    bound, read = set(), set()
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.Name):
            (read if isinstance(node.ctx, ast.Load) else bound).add(node.id)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            bound |= {(alias.asname or alias.name).split(".")[0] for alias in node.names}
        elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            bound.add(node.name)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            bound.add(node.name)  # except PropError as refused:
    return read - bound - set(dir(builtins))


def preamble_for(code: str) -> str:
    """The PREAMBLE entries ``code`` needs, with the entries they need, in PREAMBLE's order."""
    needed, todo = set(), _free_names(code)
    while todo:
        name = todo.pop()
        if name not in PREAMBLE:
            raise AssertionError(f"the block uses {name!r}, which neither it nor PREAMBLE defines")
        if name not in needed:
            needed.add(name)
            todo |= _free_names(PREAMBLE[name]) - needed
    return "\n".join(code for name, code in PREAMBLE.items() if name in needed)


BLOCKS = _blocks()
COMPLIANCE_PAGE = "docs/compliance-guide.md"
STREAM_NAME = "LoggingPlatform-LogsDeliveryStream0123ABCD-AbCdEfGh1234"
PACKS = {"AwsSolutions", "HIPAA.Security", "NIST.800.53.R5", "PCI.DSS.321", "Serverless"}


def make_asset_folders(block: Block, where: Path) -> None:
    """The folders ``block`` deploys as function code, as its page builds them."""
    for folder in re.findall(r'Code\.from_asset\("([^"]+)"\)', block.code):
        shutil.copytree(ROOT / "lambda_src" / "logship", where / folder / "logship")
        for other in BLOCKS:
            first = other.code.split("\n", 1)[0]
            if other.document == block.document and first.startswith(f"# {folder}/"):
                (where / first[2:].strip()).write_text(other.code)


def compliance_snippet() -> str:
    """The compliance page's block that adds the five packs to ``app``."""
    (snippet,) = [b.code for b in BLOCKS if b.document == COMPLIANCE_PAGE and "Validations.of(app).add_plugins(" in b.code]
    return snippet


def builds_an_app(block: Block) -> bool:
    return "app.synth()" in block.code


def with_the_packs(code: str) -> str:
    """``code`` with the compliance snippet right before its (last) ``app.synth()``, at its indentation."""
    head, tail = code.rsplit("app.synth()", 1)
    indent = head.rsplit("\n", 1)[-1]
    snippet = "".join(indent + line + "\n" if line.strip() else "\n"
                      for line in compliance_snippet().splitlines())
    return head[: len(head) - len(indent)] + snippet + indent + "app.synth()" + tail


def test_the_documents_have_their_blocks_and_every_exception_says_why():
    assert len([b for b in BLOCKS if b.document.startswith("docs/constructs/")]) >= 9
    assert len([b for b in BLOCKS if b.document == "docs/design.md"]) >= 3
    assert {"docs/getting-started.md", "docs/logship.md", "docs/application-guide.md"} <= {b.document for b in BLOCKS}
    assert all(b.not_runnable.strip() for b in BLOCKS if b.not_runnable is not None)
    # the apps a reader builds: the quick start, the platform's, the applications', logship in a function
    apps = {b.document for b in BLOCKS if builds_an_app(b) and b.not_runnable is None}
    assert {"docs/getting-started.md", "docs/platform-guide.md", "docs/application-guide.md", "docs/logship.md"} <= apps


@pytest.mark.parametrize("block", [b for b in BLOCKS if b.not_runnable is None and builds_an_app(b)],
                         ids=lambda b: b.id)
def test_the_app_synthesizes_under_the_five_packs_with_no_finding(block: Block, tmp_path: Path) -> None:
    # GIVEN the app as its page shows it, the compliance page's snippet before its app.synth(), and
    # the asset folders it deploys built as the page says, in a folder of its own
    make_asset_folders(block, tmp_path)
    (tmp_path / "app.py").write_text(preamble_for(block.code) + "\n" + with_the_packs(block.code))
    env = {**os.environ, "CDK_OUTDIR": str(tmp_path / "cdk.out"), "PYTHONPATH": str(ROOT)}
    # WHEN it runs, as `cdk synth` runs it
    done = subprocess.run([sys.executable, "app.py"], cwd=tmp_path, env=env, capture_output=True, text=True)
    # THEN it synthesizes with the five packs, and none of them finds anything
    assert done.returncode == 0, done.stderr[-6000:]
    report = json.loads((tmp_path / "cdk.out" / "validation-report.json").read_text())
    plugins = {r["pluginName"]: r for r in report["pluginReports"]}
    assert PACKS <= set(plugins)
    assert {name: r["violations"] for name, r in plugins.items() if r["violations"]} == {}


@pytest.mark.parametrize("block", [b for b in BLOCKS if b.not_runnable is None and not builds_an_app(b)],
                         ids=lambda b: b.id)
def test_the_block_runs_and_synthesizes(block: Block, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, aws) -> None:
    # GIVEN the block, after the preamble entries it needs
    monkeypatch.setenv("CDK_OUTDIR", str(tmp_path / "cdk.out"))
    monkeypatch.chdir(tmp_path)
    # the environment a page's function gets from its stack (logship's stream name)
    monkeypatch.setenv("LOGSHIP_FIREHOSE_STREAM", STREAM_NAME)
    # and the attach point the platform publishes (FirehoseHandler.from_pipeline("default") reads it), in the emulator
    aws.client("ssm", direct=True).put_parameter(Name="/log-constructs/pipeline/default/delivery-stream-name",
                                                 Value=STREAM_NAME, Type="String", Overwrite=True)
    preamble = preamble_for(block.code)
    namespace: dict = {"__name__": "doc_block"}
    root = logging.getLogger()
    handlers_before = list(root.handlers)
    # A block may configure logging for a whole process (dictConfig disables every existing logger):
    # every logger's state is put back afterwards, so later tests keep their log lines.
    saved = {logger: (logger.disabled, logger.level, list(logger.handlers), logger.propagate)
             for logger in [root, *(item for item in logging.Logger.manager.loggerDict.values()
                                    if isinstance(item, logging.Logger))]}
    try:
        # WHEN it runs (a whole app synthesizes itself)
        exec(compile(preamble, f"<preamble of {block.id}>", "exec"), namespace)
        exec(compile(block.code, block.id, "exec"), namespace)
        # THEN a fragment's app synthesizes too
        if "app" in namespace:
            namespace["app"].synth()
    finally:
        added = [h for h in root.handlers if h not in handlers_before]
        for logger, (disabled, level, handlers, propagate) in saved.items():
            logger.disabled, logger.level, logger.handlers, logger.propagate = disabled, level, handlers, propagate
        for handler in {*added, *(v for v in namespace.values() if isinstance(v, logging.Handler))}:
            handler.close()
