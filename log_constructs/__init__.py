"""AWS CDK constructs for serverless logging on AWS.

The public API is what this module exports; everything under ``_private`` is internal.
"""
__version__ = "0.2.0"

from ._private.functions import ARCHITECTURE as LAMBDA_ARCHITECTURE
from ._private.functions import RUNTIME as LAMBDA_RUNTIME
from ._private.validation import PropError
from .alerts import AlertRoute, DataProtection, ImportedLogAlerts, LogAlerts
from .app_logging import ApplicationLogging
from .audit import AuditTrail
from .dashboard import LoggingDashboard
from .destinations import (
    CrossAccountLogDestination,
    FirehoseLogDestination,
    KinesisLogDestination,
    LambdaLogDestination,
)
from .forwarder import LogForwarder
from .governor import LogGroupGovernor
from .organization import DEFAULT_DESTINATION_NAME, destination_arn
from .pipeline import ImportedLogPipeline, LogPipeline, RegionalLogDestination, ServerlessSink
from .protocols import DashboardRow, ILogDestination, IMonitorable, LogDestinationConfig

__all__ = [
    "__version__",
    "AlertRoute",
    "ApplicationLogging",
    "AuditTrail",
    "CrossAccountLogDestination",
    "DEFAULT_DESTINATION_NAME",
    "DashboardRow",
    "DataProtection",
    "FirehoseLogDestination",
    "ILogDestination",
    "IMonitorable",
    "ImportedLogAlerts",
    "ImportedLogPipeline",
    "KinesisLogDestination",
    "LAMBDA_ARCHITECTURE",
    "LAMBDA_RUNTIME",
    "LambdaLogDestination",
    "LogAlerts",
    "LogDestinationConfig",
    "LogForwarder",
    "LogGroupGovernor",
    "LogPipeline",
    "LoggingDashboard",
    "PropError",
    "RegionalLogDestination",
    "ServerlessSink",
    "destination_arn",
]
