"""AWS CDK constructs for serverless logging on AWS.

Only the public constructs are exported here; everything under ``_private`` is internal.
"""
__all__: list[str] = []

# --- LogGroupGovernor (issue 4) ---
from .governor import LogGroupGovernor  # noqa: E402

__all__ += ["LogGroupGovernor"]
