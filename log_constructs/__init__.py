"""AWS CDK constructs for serverless logging on AWS.

Only the public constructs are exported here; everything under ``_private`` is internal.
"""
__all__: list[str] = []

# --- LogAlerts (issue 3) ---
from .alerts import AlertRoute, LogAlerts  # noqa: E402

__all__ += ["AlertRoute", "LogAlerts"]
