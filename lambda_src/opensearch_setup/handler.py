"""Custom resource handler (``aws_cdk.custom_resources.Provider`` onEvent): see the package docstring.

Thin: decodes the event and the environment, then calls :func:`reconcile.apply`.
"""
from __future__ import annotations

import logging
import os
from typing import Any, Mapping

import boto3
from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import BotoCoreError, ClientError

from . import documents, props, reconcile
from logship.retry import Backoff

from .contract import PHYSICAL_ID_SUFFIX, SetupConfig
from .signed_http import SetupError, SignedClient

logger = Logger()
# botocore logs response bodies at DEBUG, GetSecretValue's included: keep it at INFO whatever the
# function's log level, so the admin password can never reach the log group.
logging.getLogger("botocore").setLevel(logging.INFO)
session = boto3.Session()
secrets = boto3.client("secretsmanager")



def read_secret(secret_arn: str) -> tuple[str, str]:
    """(password, version id) of the admin secret; the value stays in memory only."""
    try:
        answer = secrets.get_secret_value(SecretId=secret_arn)
    except (ClientError, BotoCoreError) as error:
        raise SetupError(f"cannot read the admin secret {secret_arn}: {error}") from None
    return documents.password_from_secret(answer["SecretString"]), answer["VersionId"]


def physical_id(properties: Mapping[str, Any]) -> str:
    return f"{properties.get('DomainEndpoint', 'unknown')}/{PHYSICAL_ID_SUFFIX}"


def _client(settings: props.SetupSettings, environ: Mapping[str, str]) -> SignedClient:
    config = SetupConfig.from_environment(environ)
    retry = Backoff(max_attempts=config.max_attempts, base_s=config.backoff_seconds, max_s=20.0)
    return SignedClient(
        settings.base_url,
        settings.region,
        session.get_credentials,
        retry=retry,
        timeout=config.timeout_seconds,
        log=lambda message: logger.info(message),
        service=config.service,
    )


@logger.inject_lambda_context(log_event=False)
def handler(event: Mapping[str, Any], context: LambdaContext) -> dict[str, Any]:
    request_type = event.get("RequestType")
    properties = event.get("ResourceProperties") or {}
    resource_id = event.get("PhysicalResourceId") or physical_id(properties)
    # Only the shape of the request: the properties hold no secret, but there is no need to log them.
    logger.info("opensearch set-up", extra={"request_type": request_type, "parts": sorted(
        key for key in ("Security", "IndexTemplate", "IsmPolicy", "Dashboards") if properties.get(key) is not None)})
    if request_type == "Delete":
        # Harmless: roles, templates, policies, saved objects and data stay with the domain.
        return {"PhysicalResourceId": resource_id, "Data": {"Changed": "none"}}
    if request_type not in ("Create", "Update"):
        raise SetupError(f"unknown RequestType {request_type!r} (expected Create, Update or Delete)")
    try:
        settings = props.parse(properties, os.environ)
        changes = reconcile.apply(_client(settings, os.environ), settings, read_secret)
    except SetupError as error:
        logger.error("opensearch set-up failed", extra={"reason": str(error)})
        raise
    except Exception as error:  # e.g. an answer of a shape this code does not expect
        logger.exception("opensearch set-up failed unexpectedly")
        raise SetupError(f"opensearch set-up failed unexpectedly: {type(error).__name__}: {error}") from error
    logger.info("opensearch set-up done", extra={"changed": changes})
    return {"PhysicalResourceId": physical_id(properties), "Data": {"Changed": ",".join(changes) or "none"}}


__all__ = ["handler", "read_secret", "physical_id", "SetupError"]
