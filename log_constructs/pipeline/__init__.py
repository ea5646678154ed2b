"""LogPipeline: Firehose → OpenSearch with an S3 backup, a CloudWatch Logs shipper, alarms."""
from .construct import LogPipeline

__all__ = ["LogPipeline"]
