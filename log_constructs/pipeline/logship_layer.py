"""The logship Lambda layer a LogPipeline publishes, and how applications add it to their functions.

The layer holds ``python/logship`` (the package an application imports, ``lambda_src/logship``) and
``python/pythonjsonlogger`` (its one dependency besides boto3, which Lambda's Python runtime has),
each with its licence. Pure Python: Python 3.13 on arm64 or x86_64.

The pipeline publishes the layer's *name* and *version* as attach points
(``/log-constructs/pipeline/<name>/logship-layer-name`` and ``.../logship-layer-version``); a consumer
in another stack or CDK app rebuilds the layer version ARN in its own partition, region and account
(like every attach point, :mod:`log_constructs._private.attach`), so whoever can write the parameters
can at most name another layer of the consumer's own account.

The layer's asset is a plain folder, built once per content under the system's temporary directory
(no Docker, no bundling): the layer's version changes only when logship or python-json-logger does.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from importlib import metadata
from pathlib import Path
from typing import Optional

from aws_cdk import ArnFormat, Fn, RemovalPolicy, Stack, Tags
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from .._lambda_src.log_group_governor.contract import SHIP_TAG_KEY, SHIP_TAG_OPT_OUT
from .._lambda_src.logship.attach_point import (DELIVERY_STREAM_NAME, PIPELINE_KIND, SHIPPER_FUNCTION_NAME,
                                                STREAM_ENVIRONMENT_VARIABLE)
from .._private import attach
from .._private.assets import LAMBDA_SRC
from .._private.functions import RUNTIME
from .._private.validation import PropError

LOGSHIP_LAYER_NAME = "logship-layer-name"
LOGSHIP_LAYER_VERSION = "logship-layer-version"
LAYER_ID = "LogshipLayer"
JSON_LOGGER_DISTRIBUTION = "python-json-logger"
LAYER_LICENSE = "Apache-2.0 (logship), BSD-2-Clause (python-json-logger)"
_SKIP = ("__pycache__", "*.pyc")


def _json_logger_files() -> list[tuple[Path, str]]:
    """(installed file, path inside ``python/``) of python-json-logger: its package and its dist-info."""
    try:
        distribution = metadata.distribution(JSON_LOGGER_DISTRIBUTION)
    except metadata.PackageNotFoundError:
        raise PropError(f"LogPipeline: the logship layer holds {JSON_LOGGER_DISTRIBUTION} (logship's one dependency "
                        "besides boto3), which is not installed where this app synthesizes: pip install "
                        "serverless-logging-constructs (it depends on it) or 'python-json-logger>=4.2,<5'") from None
    files = []
    for entry in distribution.files or []:
        top = entry.parts[0]
        if (top == "pythonjsonlogger" or top.endswith(".dist-info")) and "__pycache__" not in entry.parts \
                and entry.suffix != ".pyc":
            files.append((Path(str(distribution.locate_file(entry))), entry.as_posix()))
    return files


def _logship_files() -> list[tuple[Path, str]]:
    package = LAMBDA_SRC / "logship"
    return [(path, f"logship/{path.relative_to(package).as_posix()}") for path in sorted(package.rglob("*"))
            if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"]


def layer_folder() -> Path:
    """The layer's content (``python/...``), in a folder named after its content's hash."""
    licence = LAMBDA_SRC / "LICENSE"  # in the repository; a wheel carries it in its dist-info
    files = sorted([*_logship_files(), *_json_logger_files(), *([(licence, "logship/LICENSE")] if licence.is_file()
                                                                 else [])], key=lambda item: item[1])
    digest = hashlib.sha256()
    for source, relative in files:
        digest.update(relative.encode() + b"\0" + source.read_bytes() + b"\0")
    target = Path(tempfile.gettempdir()) / f"log-constructs-logship-layer-{digest.hexdigest()[:24]}"
    if target.is_dir():
        return target
    staging = Path(tempfile.mkdtemp(prefix="log-constructs-logship-layer-", dir=tempfile.gettempdir()))
    for source, relative in files:
        destination = staging / "python" / relative
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, destination)
    try:
        os.rename(staging, target)
    except OSError:  # another process built the same content first
        shutil.rmtree(staging, ignore_errors=True)
    return target


def new_logship_layer(scope: Construct) -> lambda_.LayerVersion:
    """The logship layer of a pipeline (retained when replaced, so functions still on it keep working)."""
    return lambda_.LayerVersion(
        scope, LAYER_ID,
        code=lambda_.Code.from_asset(str(layer_folder())),
        compatible_runtimes=[RUNTIME],
        compatible_architectures=[lambda_.Architecture.ARM_64, lambda_.Architecture.X86_64],
        description="logship: logging handlers that ship to Firehose and CloudWatch Logs (the layer's content is its version)",
        license=LAYER_LICENSE,
        removal_policy=RemovalPolicy.RETAIN,
    )


def layer_attach_points(layer: lambda_.ILayerVersion) -> dict[str, str]:
    """The layer's name and version, cut from its ARN (``arn:<partition>:lambda:<region>:<account>:layer:<name>:<version>``)."""
    parts = Fn.split(":", layer.layer_version_arn)
    return {LOGSHIP_LAYER_NAME: Fn.select(6, parts), LOGSHIP_LAYER_VERSION: Fn.select(7, parts)}


def imported_layer_arn(scope: Construct, name: str) -> str:
    """The layer version ARN in ``scope``'s partition, region and account, from the published name and version."""
    # Cut at the first ':' too: a value cannot add ARN parts of its own (the account stays the consumer's).
    layer, version = (Fn.select(0, Fn.split(":", attach.name_only(attach.read(scope, PIPELINE_KIND, name, point))))
                      for point in (LOGSHIP_LAYER_NAME, LOGSHIP_LAYER_VERSION))
    return Stack.of(scope).format_arn(service="lambda", resource="layer", resource_name=f"{layer}:{version}",
                                      arn_format=ArnFormat.COLON_RESOURCE_NAME)


class LogshipLayerAttachment:
    """What a pipeline, or its view in another stack, gives applications that ship with logship."""

    name: str

    def _logship_layer_here(self) -> lambda_.ILayerVersion:
        """The layer as this construct's own stack sees it (a view imports it by its published name)."""
        assert isinstance(self, Construct)
        existing = self.node.try_find_child(LAYER_ID)
        if existing is None:
            existing = lambda_.LayerVersion.from_layer_version_arn(self, LAYER_ID, imported_layer_arn(self, self.name))
        return existing  # type: ignore[return-value]

    def logship_layer(self, scope: Construct) -> lambda_.ILayerVersion:
        """The logship layer for functions of ``scope``'s stack: ``fn.add_layers(pipeline.logship_layer(fn))``.

        In the pipeline's own stack it is the layer itself; in any other stack (or CDK app, through
        ``LogPipeline.from_name``) the layer version published by the pipeline, resolved when that
        stack deploys. Then in the function: ``FirehoseHandler(stream_name=...)`` or
        ``FirehoseHandler.from_pipeline("<name>")`` (see :meth:`grant_read_attach_points`).
        """
        local = self._local(scope)  # type: ignore[attr-defined]
        return local._logship_layer_here()

    def add_logship(self, function: lambda_.Function) -> None:
        """Ship ``function``'s logs with logship into this pipeline's delivery stream: the logship layer,
        the right to put records (refused in bulk mode), and ``LOGSHIP_FIREHOSE_STREAM`` (so that
        ``FirehoseHandler()`` needs no argument), all in ``function``'s stack."""
        self.grant_put_records(function)  # type: ignore[attr-defined]
        function.add_layers(self.logship_layer(function))
        local = self._local(function)  # type: ignore[attr-defined]
        function.add_environment(STREAM_ENVIRONMENT_VARIABLE, local.delivery_stream_name)

    def grant_read_attach_points(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` read the pipeline's attach points at run time (``ssm:GetParameters`` on
        ``parameter/log-constructs/pipeline/<name>/...``), as ``FirehoseHandler.from_pipeline`` does."""
        scope = grantee if isinstance(grantee, Construct) else self
        stack = attach.consumer_stack(scope, self)  # type: ignore[arg-type]
        arns = [stack.format_arn(service="ssm", resource="parameter",
                                 resource_name=attach.parameter_name(PIPELINE_KIND, self.name, point).lstrip("/"))
                for point in (DELIVERY_STREAM_NAME, SHIPPER_FUNCTION_NAME)]
        return iam.Grant.add_to_principal(grantee=grantee, actions=["ssm:GetParameters"], resource_arns=arns)


def logship_target(construct: str, ship_to: object, ships_with_logship: bool) -> Optional[LogshipLayerAttachment]:
    """The pipeline an application ships to with logship (``ships_with_logship``), checked."""
    if not ships_with_logship or ship_to is None:
        return None
    if not isinstance(ship_to, LogshipLayerAttachment):
        raise PropError(f"{construct}: ships_with_logship=True needs ship_to to be a LogPipeline (or "
                        f"LogPipeline.from_name(...)), whose delivery stream logship writes, got "
                        f"{type(ship_to).__name__}; without ship_to the log group is only tagged")
    return ship_to


def opt_out_of_governors(log_group: logs.ILogGroup) -> None:
    """Tag ``log_group`` so that no LogGroupGovernor subscribes it (its application ships with logship)."""
    Tags.of(log_group).add(SHIP_TAG_KEY, SHIP_TAG_OPT_OUT)
