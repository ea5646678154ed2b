"""logops reads what the constructs write without importing them: its names are theirs, its imports boto3's,
the shared OpenSearch client's and logship's public senders'."""
from __future__ import annotations

import ast
import sys
from pathlib import Path

from log_alerts import contract as alerts_contract
from log_constructs._private import attach, subscriptions
from log_constructs.alerts import attachment as alerts_attachment
from log_constructs.pipeline import attachment as pipeline_attachment
from log_shipper import contract as shipper_contract
from logops import platform

PACKAGE = Path(platform.__file__).parent
ALLOWED = {"boto3", "botocore", "opensearch_client"}
# logship's public modules that logops may use (never its handlers' internals)
ALLOWED_LOGSHIP = {"logship.firehose", "logship.retry"}
NEVER = {"log_constructs", "aws_cdk", "constructs", "log_shipper", "log_alerts", "log_group_governor",
         "opensearch_setup", "log_subscription"}


def test_the_names_logops_reads_are_those_the_constructs_and_functions_write():
    # GIVEN the names logops holds / THEN each equals the value of the module that writes it
    assert platform.PARAMETER_PREFIX == attach.PARAMETER_PREFIX
    assert platform.LIBRARY_LOG_GROUP_PREFIX == attach.LIBRARY_LOG_GROUP_PREFIX
    assert (platform.PIPELINE_KIND, platform.ALERTS_KIND) == (pipeline_attachment.KIND, alerts_attachment.KIND)
    assert platform.SHIPPER_FUNCTION_NAME == pipeline_attachment.SHIPPER_FUNCTION_NAME
    assert platform.ALERTS_FUNCTION_NAME == alerts_attachment.FUNCTION_NAME
    assert platform.PIPELINE_FILTER_NAME == subscriptions.PIPELINE_FILTER_NAME
    assert platform.ALERTS_FILTER_NAME == subscriptions.ALERTS_FILTER_NAME
    assert (platform.ENV_DELIVERY_STREAM_NAME, platform.ENV_DELIVERY_MODE, platform.ENV_DOMAIN_ENDPOINT,
            platform.ENV_INDEX_NAME, platform.MODE_BULK) == (
        shipper_contract.ENV_DELIVERY_STREAM_NAME, shipper_contract.ENV_DELIVERY_MODE,
        shipper_contract.ENV_DOMAIN_ENDPOINT, shipper_contract.ENV_INDEX_NAME, shipper_contract.MODE_BULK)
    assert platform.ENV_TABLE_NAME == alerts_contract.ENV_TABLE_NAME
    assert platform.parameter_name("pipeline", "p", "x") == attach.parameter_name("pipeline", "p", "x")


def test_logops_imports_the_standard_library_boto3_the_opensearch_client_logship_senders_and_itself_only():
    # GIVEN every module of the package
    for module in sorted(PACKAGE.glob("*.py")):
        tree = ast.parse(module.read_text(), str(module))
        # THEN every import is relative, of the standard library, of boto3/botocore, of opensearch_client,
        # or of logship's public senders; never of the constructs, the CDK or a function's package
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and not node.level:
                names = {node.module or ""}
            else:
                continue
            roots = {name.split(".")[0] for name in names}
            assert not roots & NEVER, f"{module.name}: {roots}"
            logship = {name for name in names if name.split(".")[0] == "logship"}
            assert logship <= ALLOWED_LOGSHIP, f"{module.name}: {logship}"
            assert roots - {"logship"} <= ALLOWED | set(sys.stdlib_module_names), f"{module.name}: {roots}"


def test_every_module_is_small_and_named_in_the_package_docstring():
    import logops

    for module in PACKAGE.glob("*.py"):
        assert len(module.read_text().splitlines()) < 400, module.name
        if module.stem != "__init__":
            assert f":mod:`logops.{module.stem}`" in (logops.__doc__ or ""), module.stem


def test_the_entry_point_dispatches_subcommands_each_with_help():
    import subprocess

    # WHEN the operator asks the entry point and its subcommand for help, as a new process
    env = {"PATH": "", "PYTHONPATH": str(PACKAGE.parent)}
    top = subprocess.run([sys.executable, "-m", "logops", "--help"], capture_output=True, text=True, env=env)
    sub = subprocess.run([sys.executable, "-m", "logops", "smoke", "--help"], capture_output=True, text=True, env=env)
    # THEN both answer, the subcommand with its options
    assert top.returncode == 0 and "smoke" in top.stdout
    assert sub.returncode == 0 and "--pipeline NAME" in sub.stdout and "--timeout-seconds N" in sub.stdout
    # AND replay and redrive answer too, each with its options
    for name, options in (("replay", ("--pipeline", "--endpoint", "--failed-out")),
                          ("redrive", ("--queue-url", "--function", "--dry-run"))):
        assert name in top.stdout
        done = subprocess.run([sys.executable, "-m", "logops", name, "--help"], capture_output=True, text=True, env=env)
        assert done.returncode == 0 and all(option in done.stdout for option in options), (name, done.stderr)
