"""Log shipper: CloudWatch Logs subscription -> Firehose, one record per log event (see handler.py)."""
