"""LogPipeline's alarms step: the alarms of the stream, the sink, the shipper and the ingestion streams.

Each alarm is built from one of the pipeline's named ``metric_*`` methods (:mod:`.metrics`); which alarms
exist depends on the delivery mode, the sink and whether there is cross-account ingestion.
"""
from __future__ import annotations

from typing import Optional, Sequence

from aws_cdk import aws_cloudwatch as cloudwatch
from constructs import Construct

from .._private.metrics import AlarmSpec, create_alarms
from .metrics import FIVE_MINUTES, ONE_MINUTE, LogPipelineMetrics
from .props import PipelineProps

LESS = cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD
MORE = cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD


def add_alarms(pipeline: LogPipelineMetrics, props: PipelineProps,
               alarm_actions: Optional[Sequence[cloudwatch.IAlarmAction]]) -> list[cloudwatch.Alarm]:
    """Every alarm of ``pipeline`` (children of it), each with every action of ``alarm_actions``."""
    assert isinstance(pipeline, Construct)
    return create_alarms(pipeline, alarm_specs(pipeline, props), alarm_actions)


def alarm_specs(pipeline: LogPipelineMetrics, props: PipelineProps) -> list[AlarmSpec]:
    """The pipeline's alarms in the order they are created (their construct ids are stable)."""
    bulk = [
        AlarmSpec("DocumentsRefusedAlarm", pipeline.metric_documents_refused(period=FIVE_MINUTES),
                  "The domain refused documents for their content: they wait in the dead-letter queue "
                  "(kind=refused) with the reason"),
        AlarmSpec("BulkFailuresAlarm", pipeline.metric_bulk_failures(period=FIVE_MINUTES),
                  "Bulk requests to the domain keep failing after their retries (429, 5xx, timeouts)"),
        AlarmSpec("FirstDeliveryDuplicatesAlarm", pipeline.metric_first_delivery_duplicates(period=FIVE_MINUTES),
                  "Events were already indexed on their first delivery: another writer used their ids"),
    ] if props.bulk else []
    return _ingestion_alarm_specs(pipeline, props) + bulk + [
        AlarmSpec("DeliverySuccessAlarm", pipeline.metric_delivery_success(period=FIVE_MINUTES),
                  "Firehose delivery to the S3 archive is failing" if props.bulk
                  else "Firehose delivery to OpenSearch is failing", comparison=LESS),
        AlarmSpec("DataFreshnessAlarm", pipeline.metric_data_freshness(period=FIVE_MINUTES),
                  "Records wait too long in Firehose", threshold=props.data_freshness_alarm_seconds, comparison=MORE),
        *_sink_alarm_specs(pipeline, props),
        AlarmSpec("ShipperErrorsAlarm", pipeline.metric_shipper_errors(period=FIVE_MINUTES),
                  "The log shipper function fails"),
        AlarmSpec("ForeignPayloadsAlarm", pipeline.metric_foreign_payloads(period=FIVE_MINUTES),
                  "The shipper was invoked directly with payloads of another account (dead-lettered)"),
        AlarmSpec("DeadLetterAlarm", pipeline.metric_dead_letter_messages(period=ONE_MINUTE, statistic="Maximum"),
                  "Log batches are waiting in the shipper's dead-letter queue"),
    ]


def _ingestion_alarm_specs(pipeline: LogPipelineMetrics, props: PipelineProps) -> list[AlarmSpec]:
    if props.ingestion is None:
        return []
    return [
        AlarmSpec("IngestionIteratorAgeAlarm", pipeline.metric_shipper_iterator_age(period=FIVE_MINUTES),
                  "Records wait in an ingestion stream: the shipper cannot keep up or keeps failing (records "
                  "older than the maximum record age go to the dead-letter queue as metadata only)",
                  threshold=props.ingestion.iterator_age_alarm_ms, comparison=MORE),
        AlarmSpec("ShipperThrottlesAlarm", pipeline.metric_shipper_throttles(period=FIVE_MINUTES),
                  "The shipper is throttled (its reserved concurrency, or the account's concurrency when none "
                  "is reserved, is outgrown): ingestion records wait"),
        AlarmSpec("IngestionRetriesAlarm", pipeline.metric_kinesis_records_retried(period=FIVE_MINUTES),
                  "The shipper reports ingestion records for Lambda's retry (Firehose failing or out of time)"),
    ]


def _sink_alarm_specs(pipeline: LogPipelineMetrics, props: PipelineProps) -> list[AlarmSpec]:
    if pipeline.collection is not None:
        limits = pipeline.collection.limits
        # The capacity alarms need the group's limits; a classic collection has no group (account-level limits).
        capacity = [
            AlarmSpec("IndexingCapacityAlarm", pipeline.metric_indexing_ocu(period=FIVE_MINUTES),
                      "OpenSearch Serverless indexing is at its OCU limit (max_indexing_ocu): requests beyond "
                      "it are throttled (they count as 4xx)", threshold=limits["max_indexing_ocu"]),
            AlarmSpec("SearchCapacityAlarm", pipeline.metric_search_ocu(period=FIVE_MINUTES),
                      "OpenSearch Serverless search is at its OCU limit (max_search_ocu)",
                      threshold=limits["max_search_ocu"]),
        ] if limits else []
        return capacity + [
            AlarmSpec("IndexingErrorsAlarm", pipeline.metric_ingestion_request_errors(period=FIVE_MINUTES),
                      "Bulk requests to the OpenSearch Serverless collection fail"),
            AlarmSpec("DocumentErrorsAlarm", pipeline.metric_ingestion_document_errors(period=FIVE_MINUTES),
                      "The OpenSearch Serverless collection refuses documents (mapping or timestamp)"),
        ]
    return [
        AlarmSpec("ClusterRedAlarm", pipeline.metric_cluster_status_red(period=ONE_MINUTE),
                  "OpenSearch cluster status is red"),
        AlarmSpec("ClusterYellowAlarm", pipeline.metric_cluster_status_yellow(period=ONE_MINUTE),
                  "OpenSearch cluster status is yellow"),
        AlarmSpec("FreeStorageAlarm", pipeline.metric_free_storage_space(period=FIVE_MINUTES, statistic="Minimum"),
                  "OpenSearch free storage is low", threshold=props.free_storage_alarm_mib, comparison=LESS),
        AlarmSpec("JvmMemoryPressureAlarm", pipeline.metric_jvm_memory_pressure(period=FIVE_MINUTES),
                  "OpenSearch JVM memory pressure is high", threshold=80, comparison=MORE),
    ]
