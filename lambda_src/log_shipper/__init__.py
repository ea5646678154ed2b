"""Log shipper: CloudWatch Logs payloads (subscription filters, ingestion streams) -> the pipeline's sink.

Two delivery modes: ``firehose`` (one Firehose record per log event, ``PutRecordBatch``) and ``bulk``
(documents archived as gzip records through an S3-only Firehose stream, then indexed with ``_bulk``
and the event id as ``_id``). See :mod:`log_shipper.handler` for the invocations and the environment.

Modules:

* :mod:`log_shipper.handler`: the Lambda entry point (thin): the environment, the clients, the source.
* :mod:`log_shipper.contract`: what the LogPipeline construct and the function agree on.
* :mod:`log_shipper.sources`: where an invocation may come from, and the direct subscription's path.
* :mod:`log_shipper.kinesis`: Kinesis batches of payloads, with exact batch item failures.
* :mod:`log_shipper.delivery`: the :class:`~log_shipper.delivery.Shipper`: prepare, deliver, finish.
* :mod:`log_shipper.sending`: the calls that carry documents (PutRecordBatch chunks, archive, ``_bulk``).
* :mod:`log_shipper.transform`: a decoded batch into documents (no I/O).
* :mod:`log_shipper.fields`: structured keys made acceptable to OpenSearch.
* :mod:`log_shipper.levels`: the level a message carries.
* :mod:`log_shipper.archive`: bulk mode's archive records (gzip members of documents).
* :mod:`log_shipper.deadline`: the invocation's clock, and call plans that end before it does.
* :mod:`log_shipper.progress`: what a failed invocation already did, for Lambda's retry.
* :mod:`log_shipper.dead_letter`: the dead-letter messages (no I/O).
* :mod:`log_shipper.redact`: every message masked before it becomes a document (the shared ``redaction``
  package).
"""
