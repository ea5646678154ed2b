"""LogPipeline: Firehose → OpenSearch with an S3 backup, a CloudWatch Logs shipper, alarms."""
from .construct import LogPipeline
from .log_destination import RegionalLogDestination

__all__ = ["LogPipeline", "RegionalLogDestination"]
