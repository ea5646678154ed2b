"""LogPipeline's metrics, alarms and dashboard section."""
from __future__ import annotations

from typing import Optional

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_opensearchservice as opensearch
from aws_cdk import aws_sqs as sqs
from constructs import Node

from .._lambda_src.log_shipper.contract import METRIC_RECORDS_RETRIED
from .._private.functions import METRICS_NAMESPACE
from .._private.metrics import (AlarmSpec, destination_delivery_failures, function_row, graph_row, metric, queue_depth,
                                queue_row)
from ..protocols import DashboardRow
from .ingestion import IngestionSettings

FIREHOSE_NAMESPACE = "AWS/Firehose"
OPENSEARCH_DESTINATION = "DeliveryToAmazonOpenSearchService"
ONE_MINUTE = Duration.minutes(1)
FIVE_MINUTES = Duration.minutes(5)
# The shipper function's POWERTOOLS_SERVICE_NAME: the dimension of the metrics it emits.
SHIPPER_SERVICE = "log-shipper"


class LogPipelineMetrics:
    """The ``metric*`` methods, alarms and dashboard rows of :class:`LogPipeline`."""

    node: Node
    domain: opensearch.IDomain
    shipper: lambda_.Function
    dead_letter_queue: sqs.Queue
    delivery_stream_name: str
    ingestion_settings: Optional[IngestionSettings]

    # --- metrics ----------------------------------------------------------------------------------
    def metric(self, metric_name: str, *, period: Optional[Duration] = None, statistic: Optional[str] = None,
               label: Optional[str] = None) -> cloudwatch.Metric:
        """A Firehose metric of this delivery stream (namespace ``AWS/Firehose``). Default: Average over 5 minutes."""
        return cloudwatch.Metric(namespace=FIREHOSE_NAMESPACE, metric_name=metric_name,
                                 dimensions_map={"DeliveryStreamName": self.delivery_stream_name},
                                 period=period or FIVE_MINUTES, statistic=statistic or "Average", label=label)

    def metric_delivery_success(self, *, period: Optional[Duration] = None, statistic: Optional[str] = None,
                                label: Optional[str] = None) -> cloudwatch.Metric:
        """Share of records delivered to OpenSearch (0-1). Default: Average."""
        return self.metric(f"{OPENSEARCH_DESTINATION}.Success", period=period, statistic=statistic, label=label)

    def metric_data_freshness(self, *, period: Optional[Duration] = None, statistic: Optional[str] = None,
                              label: Optional[str] = None) -> cloudwatch.Metric:
        """Age in seconds of the oldest record not yet delivered to OpenSearch. Default: Maximum."""
        return self.metric(f"{OPENSEARCH_DESTINATION}.DataFreshness", period=period,
                           statistic=statistic or "Maximum", label=label)

    def metric_incoming_records(self, *, period: Optional[Duration] = None, statistic: Optional[str] = None,
                                label: Optional[str] = None) -> cloudwatch.Metric:
        """Records put into the stream. Default: Sum."""
        return self.metric("IncomingRecords", period=period, statistic=statistic or "Sum", label=label)

    def metric_incoming_bytes(self, *, period: Optional[Duration] = None, statistic: Optional[str] = None,
                              label: Optional[str] = None) -> cloudwatch.Metric:
        """Bytes put into the stream. Default: Sum."""
        return self.metric("IncomingBytes", period=period, statistic=statistic or "Sum", label=label)

    def metric_delivered_records(self, *, period: Optional[Duration] = None, statistic: Optional[str] = None,
                                 label: Optional[str] = None) -> cloudwatch.Metric:
        """Records delivered to OpenSearch. Default: Sum."""
        return self.metric(f"{OPENSEARCH_DESTINATION}.Records", period=period, statistic=statistic or "Sum",
                           label=label)

    def metric_delivered_bytes(self, *, period: Optional[Duration] = None, statistic: Optional[str] = None,
                               label: Optional[str] = None) -> cloudwatch.Metric:
        """Bytes delivered to OpenSearch. Default: Sum."""
        return self.metric(f"{OPENSEARCH_DESTINATION}.Bytes", period=period, statistic=statistic or "Sum",
                           label=label)

    def metric_cluster_status_red(self, *, period: Optional[Duration] = None, statistic: Optional[str] = None,
                                  label: Optional[str] = None) -> cloudwatch.Metric:
        """1 while at least one primary shard is unassigned. Default: Maximum."""
        return self.domain.metric_cluster_status_red(period=period, statistic=statistic, label=label)

    def metric_cluster_status_yellow(self, *, period: Optional[Duration] = None, statistic: Optional[str] = None,
                                     label: Optional[str] = None) -> cloudwatch.Metric:
        """1 while at least one replica shard is unassigned. Default: Maximum."""
        return self.domain.metric_cluster_status_yellow(period=period, statistic=statistic, label=label)

    def metric_free_storage_space(self, *, period: Optional[Duration] = None, statistic: Optional[str] = None,
                                  label: Optional[str] = None) -> cloudwatch.Metric:
        """Free storage of the data nodes, in MiB. Default: Minimum."""
        return self.domain.metric_free_storage_space(period=period, statistic=statistic, label=label)

    def metric_jvm_memory_pressure(self, *, period: Optional[Duration] = None, statistic: Optional[str] = None,
                                   label: Optional[str] = None) -> cloudwatch.Metric:
        """JVM heap in use on the data nodes, in percent. Default: Maximum."""
        return self.domain.metric_jvm_memory_pressure(period=period, statistic=statistic, label=label)

    def metric_indexing_rate(self, *, period: Optional[Duration] = None, statistic: Optional[str] = None,
                             label: Optional[str] = None) -> cloudwatch.Metric:
        """Indexing operations per minute (``AWS/ES`` ``IndexingRate``). Default: Average."""
        # aws-cdk-lib's Domain has no metric_indexing_rate: the AWS/ES metric by name.
        return self.domain.metric("IndexingRate", period=period, statistic=statistic or "Average", label=label)

    def metric_indexing_latency(self, *, period: Optional[Duration] = None, statistic: Optional[str] = None,
                                label: Optional[str] = None) -> cloudwatch.Metric:
        """Time an indexing operation takes, in ms. Default: p99."""
        return self.domain.metric_indexing_latency(period=period, statistic=statistic, label=label)

    def metric_shipper_errors(self, *, period: Optional[Duration] = None, statistic: Optional[str] = None,
                              label: Optional[str] = None) -> cloudwatch.Metric:
        """Failed invocations of the shipper function. Default: Sum."""
        return self.shipper.metric_errors(period=period, statistic=statistic, label=label)

    def metric_shipper_destination_delivery_failures(
            self, *, period: Optional[Duration] = None, statistic: Optional[str] = None,
            label: Optional[str] = None) -> cloudwatch.Metric:
        """Records Lambda could not deliver to the shipper function's on-failure destination (lost).

        Default: Sum over 5 minutes.
        """
        return destination_delivery_failures(self.shipper, period=period, statistic=statistic, label=label)

    def metric_dead_letter_messages(self, *, period: Optional[Duration] = None, statistic: Optional[str] = None,
                                    label: Optional[str] = None) -> cloudwatch.Metric:
        """Log batches waiting in the shipper's dead-letter queue. Default: Maximum."""
        return queue_depth(self.dead_letter_queue, period=period, statistic=statistic, label=label)

    # --- dashboard (IMonitorable) -------------------------------------------------------------------
    @property
    def dashboard_title(self) -> str:
        """``Log pipeline (<path>)``."""
        return f"Log pipeline ({self.node.path})"

    def dashboard_widgets(self, *, period: Duration) -> list[DashboardRow]:
        """Firehose and OpenSearch graphs, the shipper function and its dead-letter queue."""
        p = {"period": period}
        return [
            graph_row("Firehose", [
                ("Records in / delivered", [self.metric_incoming_records(**p), self.metric_delivered_records(**p)]),
                ("Bytes in / delivered", [self.metric_incoming_bytes(**p), self.metric_delivered_bytes(**p)]),
                ("Delivery success (ratio)", [self.metric_delivery_success(**p)]),
                ("Data freshness (s)", [self.metric_data_freshness(**p)]),
            ]),
            graph_row("OpenSearch", [
                ("Cluster status red / yellow", [self.metric_cluster_status_red(**p),
                                                 self.metric_cluster_status_yellow(**p)]),
                ("Free storage (MiB, min)", [self.metric_free_storage_space(**p)]),
                ("JVM memory pressure (%)", [self.metric_jvm_memory_pressure(**p)]),
                ("Indexing rate", [self.metric_indexing_rate(**p)]),
                ("Indexing latency (ms)", [self.metric_indexing_latency(**p)]),
            ]),
            function_row([(f"{self.node.id} shipper", self.shipper)], period),
            queue_row([(f"{self.node.id} dead letter queue", self.dead_letter_queue)], period),
        ]

    def metric_shipper_iterator_age(self, *, period: Optional[Duration] = None, statistic: Optional[str] = None,
                                    label: Optional[str] = None) -> cloudwatch.Metric:
        """Age (ms) of the last record the shipper got from an ingestion stream. Default: Maximum over 5 minutes."""
        return self.shipper.metric("IteratorAge", period=period or FIVE_MINUTES, statistic=statistic or "Maximum",
                                   label=label)

    def metric_shipper_throttles(self, *, period: Optional[Duration] = None, statistic: Optional[str] = None,
                                 label: Optional[str] = None) -> cloudwatch.Metric:
        """Invocations of the shipper refused for its reserved concurrency. Default: Sum."""
        return self.shipper.metric_throttles(period=period, statistic=statistic, label=label)

    def metric_kinesis_records_retried(self, *, period: Optional[Duration] = None, statistic: Optional[str] = None,
                                       label: Optional[str] = None) -> cloudwatch.Metric:
        """Ingestion records the shipper reported for Lambda's retry (``batchItemFailures``). Default: Sum."""
        return metric(METRICS_NAMESPACE, METRIC_RECORDS_RETRIED, {"service": SHIPPER_SERVICE}, period=period,
                      statistic=statistic, label=label)

    def _ingestion_alarm_specs(self) -> list[AlarmSpec]:
        if self.ingestion_settings is None:
            return []
        more = cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD
        return [
            AlarmSpec("IngestionIteratorAgeAlarm", self.metric_shipper_iterator_age(period=FIVE_MINUTES),
                      "Records wait in an ingestion stream: the shipper cannot keep up or keeps failing (records "
                      "older than the maximum record age go to the dead-letter queue as metadata only)",
                      threshold=self.ingestion_settings.iterator_age_alarm_ms, comparison=more),
            AlarmSpec("ShipperThrottlesAlarm", self.metric_shipper_throttles(period=FIVE_MINUTES),
                      "The shipper is throttled at its reserved concurrency (ingestion records wait)"),
            AlarmSpec("IngestionRetriesAlarm", self.metric_kinesis_records_retried(period=FIVE_MINUTES),
                      "The shipper reports ingestion records for Lambda's retry (Firehose failing or out of time)"),
        ]

    def _alarm_specs(self, *, free_storage_mib: int, freshness_seconds: int) -> list[AlarmSpec]:
        less, more = cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD, cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD
        return self._ingestion_alarm_specs() + [
            AlarmSpec("DeliverySuccessAlarm", self.metric_delivery_success(period=FIVE_MINUTES),
                      "Firehose delivery to OpenSearch is failing", comparison=less),
            AlarmSpec("DataFreshnessAlarm", self.metric_data_freshness(period=FIVE_MINUTES),
                      "Records wait too long in Firehose", threshold=freshness_seconds, comparison=more),
            AlarmSpec("ClusterRedAlarm", self.metric_cluster_status_red(period=ONE_MINUTE),
                      "OpenSearch cluster status is red"),
            AlarmSpec("ClusterYellowAlarm", self.metric_cluster_status_yellow(period=ONE_MINUTE),
                      "OpenSearch cluster status is yellow"),
            AlarmSpec("FreeStorageAlarm", self.metric_free_storage_space(period=FIVE_MINUTES, statistic="Minimum"),
                      "OpenSearch free storage is low", threshold=free_storage_mib, comparison=less),
            AlarmSpec("JvmMemoryPressureAlarm", self.metric_jvm_memory_pressure(period=FIVE_MINUTES),
                      "OpenSearch JVM memory pressure is high", threshold=80, comparison=more),
            AlarmSpec("ShipperErrorsAlarm", self.metric_shipper_errors(period=FIVE_MINUTES),
                      "The log shipper function fails"),
            AlarmSpec("DeadLetterAlarm", self.metric_dead_letter_messages(period=ONE_MINUTE, statistic="Maximum"),
                      "Log batches are waiting in the shipper's dead-letter queue"),
        ]

