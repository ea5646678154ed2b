"""logship: ship Python logs and log events to Amazon Data Firehose (boto3 only)."""
from .firehose import (
    MAX_BATCH_BYTES,
    MAX_BATCH_RECORDS,
    MAX_RECORD_BYTES,
    BatchResult,
    encode_document,
    iter_batches,
    put_record_batch,
)

__all__ = [
    "MAX_BATCH_BYTES",
    "MAX_BATCH_RECORDS",
    "MAX_RECORD_BYTES",
    "BatchResult",
    "encode_document",
    "iter_batches",
    "put_record_batch",
]
