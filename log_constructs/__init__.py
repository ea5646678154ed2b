"""AWS CDK constructs for serverless logging on AWS.

Only the public constructs are exported here; everything under ``_private`` is internal.
"""
__version__ = "0.2.0"

from .alerts import AlertRoute, LogAlerts
from .audit import AuditTrail
from .pipeline import LogPipeline
from .dashboard import LoggingDashboard  # operability (issue 7)

__all__ = [
    "__version__",
    "AlertRoute",
    "AuditTrail",
    "LogAlerts",
    "LogPipeline",
    "LoggingDashboard",
]

# --- ApplicationLogging (issue 6) ---
from .app_logging import ApplicationLogging  # noqa: E402

__all__ += ["ApplicationLogging"]

# --- LogGroupGovernor (issue 4) ---
from .governor import LogGroupGovernor  # noqa: E402

__all__ += ["LogGroupGovernor"]
