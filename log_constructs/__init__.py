"""AWS CDK constructs for serverless logging on AWS.

The public API is what this module exports; everything under ``_private`` is internal.

Subpackages, one per construct with internals:

* :mod:`log_constructs.pipeline`: :class:`LogPipeline`, CloudWatch Logs and applications' records into
  OpenSearch (a domain or a serverless collection) with an S3 backup, and its cross-account destinations
* :mod:`log_constructs.alerts`: :class:`LogAlerts`, marker events to Slack, SNS and a DynamoDB audit table
* :mod:`log_constructs.governor`: :class:`LogGroupGovernor`, retention and subscriptions for every log group
  of an account and region
* :mod:`log_constructs.audit`: :class:`AuditTrail`, CloudTrail into a locked bucket, Athena over it, CIS
  alarms

Modules:

* :mod:`log_constructs.app_logging`: :class:`ApplicationLogging`, one structured, encrypted log group for an
  application
* :mod:`log_constructs.compliance`: cdk-nag acknowledgements (and checkov skips) for your own resources
* :mod:`log_constructs.dashboard`: :class:`LoggingDashboard`, one CloudWatch dashboard for the whole platform
* :mod:`log_constructs.destinations`: adapters that make a Lambda function, a Firehose stream, a Kinesis
  stream or another account's CloudWatch Logs destination a log destination
* :mod:`log_constructs.forwarder`: :class:`LogForwarder`, a member account's log groups to the central
  destination
* :mod:`log_constructs.organization`: names and checks shared by the central pipeline and the member accounts
* :mod:`log_constructs.protocols`: the public Protocols, ``ILogDestination`` and ``IMonitorable``
* :mod:`log_constructs.secure`: the library's secure building blocks (key, queue, topic, role, failure
  destination) for your own resources
"""
__version__ = "0.2.0"

from ._private.functions import ARCHITECTURE as LAMBDA_ARCHITECTURE
from ._private.functions import RUNTIME as LAMBDA_RUNTIME
from ._private.validation import PropError
from . import compliance
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
    "compliance",
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
