"""LogPipeline: Firehose → OpenSearch with an S3 backup, a CloudWatch Logs shipper, alarms."""
from .attachment import ImportedLogPipeline
from .construct import LogPipeline
from .log_destination import RegionalLogDestination

__all__ = ["ImportedLogPipeline", "LogPipeline", "RegionalLogDestination"]
