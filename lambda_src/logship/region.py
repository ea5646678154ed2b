"""Which AWS region logship's own clients use: the order boto3 users expect.

botocore alone reads ``AWS_DEFAULT_REGION`` and the config profile, not ``AWS_REGION`` (which Lambda,
the AWS CLI v2 and most SDKs set); outside Lambda a process with only ``AWS_REGION`` would get no
region. logship resolves it itself, first found wins:

1. the ``region_name`` argument;
2. ``AWS_REGION``;
3. ``AWS_DEFAULT_REGION``;
4. the profile's ``region`` in the AWS config file (``AWS_PROFILE``, ``AWS_CONFIG_FILE``), as botocore reads it.
"""
from __future__ import annotations

import os
from typing import Optional

ENVIRONMENT_VARIABLES = ("AWS_REGION", "AWS_DEFAULT_REGION")


def resolve_region(region_name: Optional[str] = None) -> Optional[str]:
    """The region for a client: ``region_name``, ``AWS_REGION``, ``AWS_DEFAULT_REGION``, then the
    profile's; ``None`` when none of them names one."""
    if region_name:
        return region_name
    for variable in ENVIRONMENT_VARIABLES:
        value = os.environ.get(variable, "").strip()
        if value:
            return value
    import botocore.session

    region = botocore.session.Session().get_config_variable("region")
    return region or None


NO_REGION_ADVICE = ("pass region_name='eu-west-1' (or your region) to the handler, or set AWS_REGION or "
                    "AWS_DEFAULT_REGION, or a region in the AWS config profile")
