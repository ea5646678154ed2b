"""LogPipeline: CloudWatch Logs and applications' records → OpenSearch (a domain or a serverless
collection, through Firehose or the shipper's ``_bulk`` requests), with an S3 backup, alarms and
cross-account destinations.

* :mod:`log_constructs.pipeline.construct`: :class:`LogPipeline`, whose constructor calls the steps below in
  order
* :mod:`log_constructs.pipeline.props`: its props, their defaults and their validation (nothing is built
  before they pass)
* :mod:`log_constructs.pipeline.sink`: step 1, the domain (``domain``) or the serverless collection
  (``serverless``), and their set-up
* :mod:`log_constructs.pipeline.delivery`: step 2, the Firehose delivery stream, its role, its log group and
  the backup bucket
* :mod:`log_constructs.pipeline.shipper`: step 3, the shipper function, its dead-letter queue and security
  group
* :mod:`log_constructs.pipeline.ingestion`: step 4, cross-account ingestion: one Kinesis stream per source
  region, read by the shipper
* :mod:`log_constructs.pipeline.alarms`: step 5, the alarms, built from the ``metric_*`` methods
* :mod:`log_constructs.pipeline.attachment`: step 6, the attach points; how applications attach
  (:class:`ImportedLogPipeline`)
* :mod:`log_constructs.pipeline.domain`: the OpenSearch domain: secure settings, log groups, network, admin
  secret and set-up
* :mod:`log_constructs.pipeline.serverless`: the OpenSearch Serverless sink (:class:`ServerlessSink`),
  collection and policies
* :mod:`log_constructs.pipeline.index_setup`: what the set-up custom resource applies to the index (template,
  ISM, Dashboards objects)
* :mod:`log_constructs.pipeline.log_destination`: cross-account CloudWatch Logs destinations
  (:class:`RegionalLogDestination`)
* :mod:`log_constructs.pipeline.metrics`: the ``metric*`` methods and the dashboard rows
* :mod:`log_constructs.pipeline.redaction`: the redaction props, their metrics and dashboard row
* :mod:`log_constructs.pipeline.logship_layer`: the logship Lambda layer a pipeline publishes, for applications' functions
"""
from .attachment import ImportedLogPipeline
from .construct import LogPipeline
from .log_destination import RegionalLogDestination
from .serverless import ServerlessSink

__all__ = ["ImportedLogPipeline", "LogPipeline", "RegionalLogDestination", "ServerlessSink"]
