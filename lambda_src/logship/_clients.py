"""The boto3 clients logship's handlers build for themselves (a client passed in is the caller's)."""
from __future__ import annotations

from typing import Any, Optional

import boto3
from botocore.config import Config
from botocore.exceptions import NoRegionError

from .region import NO_REGION_ADVICE, resolve_region

CLIENT_CONFIG = Config(
    retries={"mode": "standard", "max_attempts": 3},
    connect_timeout=5,
    read_timeout=15,
    user_agent_extra="logship",
)


def client_for(service: str, region_name: Optional[str], endpoint_url: Optional[str]) -> Any:
    # A session of our own: boto3's default session is not thread-safe to build clients from.
    session = boto3.session.Session(region_name=resolve_region(region_name))
    try:
        return session.client(service, endpoint_url=endpoint_url, config=CLIENT_CONFIG)
    except NoRegionError:
        raise ValueError(f"logship: no AWS region for the {service} client: {NO_REGION_ADVICE}") from None
