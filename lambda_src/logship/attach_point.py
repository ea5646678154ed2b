"""A LogPipeline's delivery stream, found at run time from the attach point the platform publishes.

A ``LogPipeline`` named ``<name>`` publishes SSM String parameters under
``/log-constructs/pipeline/<name>/``; in Firehose mode one of them, ``delivery-stream-name``, holds
the stream's name. In bulk mode the stream is the S3-only archive and is not published: there is
then nothing for logship to put into (ship the log group instead).

The names and patterns here are the ones the constructs publish with (``log_constructs`` imports
them from this module).
"""
from __future__ import annotations

import re
from typing import Any, Optional

from ._clients import client_for

PARAMETER_PREFIX = "/log-constructs"
PIPELINE_KIND = "pipeline"
DELIVERY_STREAM_NAME = "delivery-stream-name"
SHIPPER_FUNCTION_NAME = "shipper-function-name"
# FirehoseHandler's stream when none is passed (LogPipeline.add_logship sets it on a function).
STREAM_ENVIRONMENT_VARIABLE = "LOGSHIP_FIREHOSE_STREAM"
# A construct's ``name`` (LogPipeline(name=...), LogAlerts(name=...)).
NAME_PATTERN = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
# A Firehose delivery stream name (CreateDeliveryStream's DeliveryStreamName): never an ARN.
STREAM_NAME_PATTERN = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


def parameter_name(name: str, attribute: str, *, kind: str = PIPELINE_KIND) -> str:
    """``/log-constructs/<kind>/<name>/<attribute>``."""
    return f"{PARAMETER_PREFIX}/{kind}/{name}/{attribute}"


def _ssm_client(region_name: Optional[str], endpoint_url: Optional[str]) -> Any:
    return client_for("ssm", region_name, endpoint_url)


def delivery_stream_name(pipeline: str = "default", *, client: Any = None, region_name: Optional[str] = None,
                         endpoint_url: Optional[str] = None) -> str:
    """The delivery stream of the LogPipeline published as ``pipeline`` in this account and region.

    One ``ssm:GetParameters`` call (the caller needs ``ssm:GetParameters`` on
    ``parameter/log-constructs/pipeline/<pipeline>/*``; ``pipeline.grant_read_attach_points(fn)`` grants it).

    :param pipeline: the pipeline's ``name``. Default: ``"default"``
    :param client: a boto3 SSM client. Default: - one built like the handlers' (region from
        ``region_name``, ``AWS_REGION``, ``AWS_DEFAULT_REGION``, then the profile)
    :param region_name: region of the default client. Default: - from the environment
    :param endpoint_url: endpoint of the default client. Default: - from the environment

    Raises ``ValueError`` for a malformed ``pipeline``, a pipeline in bulk mode (it publishes no
    stream), a pipeline not published here, and a parameter value that is not a bare stream name.
    """
    if not isinstance(pipeline, str) or not NAME_PATTERN.match(pipeline):
        raise ValueError(f"logship: pipeline must be a LogPipeline name, 1-64 letters, digits, '_', '.' or '-', "
                         f"got {pipeline!r}")
    stream_parameter = parameter_name(pipeline, DELIVERY_STREAM_NAME)
    shipper_parameter = parameter_name(pipeline, SHIPPER_FUNCTION_NAME)
    ssm = client if client is not None else _ssm_client(region_name, endpoint_url)
    answer = ssm.get_parameters(Names=[stream_parameter, shipper_parameter])
    values = {parameter["Name"]: parameter.get("Value") for parameter in answer.get("Parameters", [])}
    where = f"in {ssm.meta.region_name}" if getattr(ssm, "meta", None) is not None else "here"
    if stream_parameter not in values:
        if shipper_parameter in values:
            raise ValueError(
                f"logship: LogPipeline {pipeline!r} is in bulk mode: it publishes no delivery stream "
                f"({stream_parameter} does not exist), since its stream is the S3-only archive whose records are "
                "never indexed. Ship the application's log group instead (ApplicationLogging(ship_to=pipeline)).")
        raise ValueError(
            f"logship: no LogPipeline named {pipeline!r} is published {where} (SSM parameter {stream_parameter} not "
            "found): check the name, the account and the region, and that the platform is deployed first")
    value = values[stream_parameter]
    if not isinstance(value, str) or not STREAM_NAME_PATTERN.match(value):
        raise ValueError(f"logship: {stream_parameter} must hold a bare delivery stream name (1-64 letters, digits, "
                         f"'_', '.' or '-', no ARN), got {value!r}")
    return value
