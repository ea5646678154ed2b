"""LogPipeline's ``metric*`` methods and its dashboard rows (the alarms built from them are in :mod:`.alarms`)."""
from __future__ import annotations

from typing import Optional

from aws_cdk import Duration, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_opensearchservice as opensearch
from aws_cdk import aws_sqs as sqs
from constructs import Construct, Node

from .._lambda_src.log_shipper import contract as shipper_contract
from .._private.functions import METRICS_NAMESPACE
from .._private.metrics import (destination_delivery_failures, function_row, graph_row, metric,
                                queue_depth, queue_row)
from ..protocols import DashboardRow
from .serverless import Collection

FIREHOSE_NAMESPACE = "AWS/Firehose"
OPENSEARCH_DESTINATION = "DeliveryToAmazonOpenSearchService"
SERVERLESS_DESTINATION = "DeliveryToAmazonOpenSearchServerless"
S3_DESTINATION = "DeliveryToS3"
AOSS_NAMESPACE = "AWS/AOSS"
ONE_MINUTE = Duration.minutes(1)
FIVE_MINUTES = Duration.minutes(5)
# The shipper function's POWERTOOLS_SERVICE_NAME: the dimension of the metrics it emits.
SHIPPER_SERVICE = "log-shipper"


def _account(scope: object) -> str:
    assert isinstance(scope, Construct)
    return Stack.of(scope).account


class LogPipelineMetrics:
    """The ``metric*`` methods and dashboard rows of :class:`LogPipeline`."""

    node: Node
    domain: Optional[opensearch.IDomain]
    collection: Optional[Collection]
    shipper: lambda_.Function
    dead_letter_queue: sqs.Queue
    delivery_stream_name: str
    delivery_mode: str

    @property
    def _bulk(self) -> bool:
        return self.delivery_mode == shipper_contract.MODE_BULK

    @property
    def _firehose_destination(self) -> str:
        # In bulk mode the stream is the archive: it delivers to S3 only.
        if self._bulk:
            return S3_DESTINATION
        return SERVERLESS_DESTINATION if self.collection is not None else OPENSEARCH_DESTINATION

    def _domain(self, metric: str) -> opensearch.IDomain:
        if self.domain is None:
            raise ValueError(f"LogPipeline {self.node.path}: {metric} is a domain metric and this pipeline's sink "
                             "is a serverless collection; use metric_indexing_ocu, metric_search_ocu, "
                             "metric_ingestion_request_errors or metric_collection(...)")
        return self.domain

    def _collection(self, metric: str) -> Collection:
        if self.collection is None:
            raise ValueError(f"LogPipeline {self.node.path}: {metric} is a serverless collection metric and this "
                             "pipeline's sink is a domain")
        return self.collection

    # --- metrics ----------------------------------------------------------------------------------
    def metric(self, metric_name: str, *, period: Optional[Duration] = None, statistic: Optional[str] = None,
               label: Optional[str] = None) -> cloudwatch.Metric:
        """A Firehose metric of this delivery stream (namespace ``AWS/Firehose``). Default: Average over 5 minutes."""
        return cloudwatch.Metric(namespace=FIREHOSE_NAMESPACE, metric_name=metric_name,
                                 dimensions_map={"DeliveryStreamName": self.delivery_stream_name},
                                 period=period or FIVE_MINUTES, statistic=statistic or "Average", label=label)

    def metric_delivery_success(self, *, period: Optional[Duration] = None, statistic: Optional[str] = None,
                                label: Optional[str] = None) -> cloudwatch.Metric:
        """Share of records Firehose delivered (0-1): to OpenSearch, or to the S3 archive in bulk mode. Default: Average."""
        return self.metric(f"{self._firehose_destination}.Success", period=period, statistic=statistic, label=label)

    def metric_data_freshness(self, *, period: Optional[Duration] = None, statistic: Optional[str] = None,
                              label: Optional[str] = None) -> cloudwatch.Metric:
        """Age in seconds of the oldest record Firehose has not yet delivered (to OpenSearch, or to the S3
        archive in bulk mode). Default: Maximum."""
        return self.metric(f"{self._firehose_destination}.DataFreshness", period=period,
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
        return self.metric(f"{self._firehose_destination}.Records", period=period, statistic=statistic or "Sum",
                           label=label)

    def metric_delivered_bytes(self, *, period: Optional[Duration] = None, statistic: Optional[str] = None,
                               label: Optional[str] = None) -> cloudwatch.Metric:
        """Bytes delivered to OpenSearch. Default: Sum."""
        return self.metric(f"{self._firehose_destination}.Bytes", period=period, statistic=statistic or "Sum",
                           label=label)

    def metric_cluster_status_red(self, *, period: Optional[Duration] = None, statistic: Optional[str] = None,
                                  label: Optional[str] = None) -> cloudwatch.Metric:
        """1 while at least one primary shard is unassigned. Default: Maximum."""
        return self._domain("metric_cluster_status_red").metric_cluster_status_red(period=period, statistic=statistic, label=label)

    def metric_cluster_status_yellow(self, *, period: Optional[Duration] = None, statistic: Optional[str] = None,
                                     label: Optional[str] = None) -> cloudwatch.Metric:
        """1 while at least one replica shard is unassigned. Default: Maximum."""
        return self._domain("metric_cluster_status_yellow").metric_cluster_status_yellow(period=period, statistic=statistic, label=label)

    def metric_free_storage_space(self, *, period: Optional[Duration] = None, statistic: Optional[str] = None,
                                  label: Optional[str] = None) -> cloudwatch.Metric:
        """Free storage of the data nodes, in MiB. Default: Minimum."""
        return self._domain("metric_free_storage_space").metric_free_storage_space(period=period, statistic=statistic, label=label)

    def metric_jvm_memory_pressure(self, *, period: Optional[Duration] = None, statistic: Optional[str] = None,
                                   label: Optional[str] = None) -> cloudwatch.Metric:
        """JVM heap in use on the data nodes, in percent. Default: Maximum."""
        return self._domain("metric_jvm_memory_pressure").metric_jvm_memory_pressure(period=period, statistic=statistic, label=label)

    def metric_indexing_rate(self, *, period: Optional[Duration] = None, statistic: Optional[str] = None,
                             label: Optional[str] = None) -> cloudwatch.Metric:
        """Indexing operations per minute (``AWS/ES`` ``IndexingRate``). Default: Average."""
        # aws-cdk-lib's Domain has no metric_indexing_rate: the AWS/ES metric by name.
        return self._domain("metric_indexing_rate").metric("IndexingRate", period=period, statistic=statistic or "Average", label=label)

    def metric_indexing_latency(self, *, period: Optional[Duration] = None, statistic: Optional[str] = None,
                                label: Optional[str] = None) -> cloudwatch.Metric:
        """Time an indexing operation takes, in ms. Default: p99."""
        return self._domain("metric_indexing_latency").metric_indexing_latency(period=period, statistic=statistic, label=label)

    def metric_collection(self, metric_name: str, *, period: Optional[Duration] = None,
                          statistic: Optional[str] = None, label: Optional[str] = None) -> cloudwatch.Metric:
        """An ``AWS/AOSS`` metric of the serverless collection (dimensions ``ClientId``, ``CollectionId``,
        ``CollectionName``). Default: Sum over 5 minutes."""
        collection = self._collection(f"metric_collection({metric_name!r})")
        return metric(AOSS_NAMESPACE, metric_name, {"ClientId": _account(self), "CollectionId": collection.collection.attr_id,
                                                    "CollectionName": collection.name},
                      period=period, statistic=statistic, label=label)

    def _ocu_dimensions(self, metric_name: str) -> dict[str, str]:
        """Where OpenSearch Serverless publishes the OCUs the collection uses (Amazon OpenSearch Service developer
        guide, "Monitoring OpenSearch Serverless with Amazon CloudWatch",
        https://docs.aws.amazon.com/opensearch-service/latest/developerguide/monitoring-cloudwatch.html, read
        2026-12-08): for collections in a collection group, ``ClientId``, ``CollectionGroupId`` and
        ``CollectionGroupName``; ``ClientId`` alone counts only collections outside any group (a classic one)."""
        collection = self._collection(metric_name)
        if collection.group is None:
            return {"ClientId": _account(self)}
        return {"ClientId": _account(self), "CollectionGroupId": collection.group.attr_id,
                "CollectionGroupName": collection.group.name}

    def metric_indexing_ocu(self, *, period: Optional[Duration] = None, statistic: Optional[str] = None,
                            label: Optional[str] = None) -> cloudwatch.Metric:
        """Indexing OCUs of the collection's group (``AWS/AOSS`` ``IndexingOCU``, dimensions ``ClientId``,
        ``CollectionGroupId``, ``CollectionGroupName``), or of the account's collections outside any group for
        a classic collection (``ClientId``). Default: Maximum."""
        return metric(AOSS_NAMESPACE, "IndexingOCU", self._ocu_dimensions("metric_indexing_ocu"), period=period,
                      statistic=statistic, label=label, default_statistic="Maximum")

    def metric_search_ocu(self, *, period: Optional[Duration] = None, statistic: Optional[str] = None,
                          label: Optional[str] = None) -> cloudwatch.Metric:
        """Search OCUs of the collection's group (``AWS/AOSS`` ``SearchOCU``, dimensions as
        :meth:`metric_indexing_ocu`). Default: Maximum."""
        return metric(AOSS_NAMESPACE, "SearchOCU", self._ocu_dimensions("metric_search_ocu"), period=period,
                      statistic=statistic, label=label, default_statistic="Maximum")

    def metric_ingestion_request_errors(self, *, period: Optional[Duration] = None, statistic: Optional[str] = None,
                                        label: Optional[str] = None) -> cloudwatch.Metric:
        """Failed bulk requests to the collection. Default: Sum."""
        return self.metric_collection("IngestionRequestErrors", period=period, statistic=statistic, label=label)

    def metric_ingestion_document_errors(self, *, period: Optional[Duration] = None,
                                         statistic: Optional[str] = None,
                                         label: Optional[str] = None) -> cloudwatch.Metric:
        """Documents the collection refused inside bulk requests. Default: Sum."""
        return self.metric_collection("IngestionDocumentErrors", period=period, statistic=statistic, label=label)

    def metric_rejected_requests(self, *, period: Optional[Duration] = None, statistic: Optional[str] = None,
                                 label: Optional[str] = None) -> cloudwatch.Metric:
        """Requests answered 4xx, throttled ones (429) among them: AWS documents no throttling metric for
        OpenSearch Serverless, a throttled request counts here. Default: Sum."""
        return self.metric_collection("4xx", period=period, statistic=statistic, label=label)

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

    def metric_shipper(self, metric_name: str, *, period: Optional[Duration] = None, statistic: Optional[str] = None,
                       label: Optional[str] = None) -> cloudwatch.Metric:
        """A metric the shipper emits (EMF, namespace ``LogConstructs``, dimension ``service``). Default: Sum."""
        return metric(METRICS_NAMESPACE, metric_name, {"service": SHIPPER_SERVICE}, period=period,
                      statistic=statistic, label=label)

    def metric_documents_delivered(self, *, period: Optional[Duration] = None, statistic: Optional[str] = None,
                                   label: Optional[str] = None) -> cloudwatch.Metric:
        """Bulk mode: documents the shipper indexed. Default: Sum."""
        return self.metric_shipper(shipper_contract.METRIC_DOCUMENTS_DELIVERED, period=period, statistic=statistic,
                                   label=label)

    def metric_duplicates_skipped(self, *, period: Optional[Duration] = None, statistic: Optional[str] = None,
                                  label: Optional[str] = None) -> cloudwatch.Metric:
        """Bulk mode: documents already indexed (a retry or replay answered 409), not written again. Default: Sum."""
        return self.metric_shipper(shipper_contract.METRIC_DUPLICATES_SKIPPED, period=period, statistic=statistic,
                                   label=label)

    def metric_documents_refused(self, *, period: Optional[Duration] = None, statistic: Optional[str] = None,
                                 label: Optional[str] = None) -> cloudwatch.Metric:
        """Bulk mode: documents the domain refused for their content (dead-lettered with the reason). Default: Sum."""
        return self.metric_shipper(shipper_contract.METRIC_DOCUMENTS_REFUSED, period=period, statistic=statistic,
                                   label=label)

    def metric_first_delivery_duplicates(self, *, period: Optional[Duration] = None, statistic: Optional[str] = None,
                                         label: Optional[str] = None) -> cloudwatch.Metric:
        """Bulk mode: events of direct payloads the domain already held on their first delivery (409). Default: Sum."""
        return self.metric_shipper(shipper_contract.METRIC_FIRST_DELIVERY_DUPLICATES, period=period,
                                   statistic=statistic, label=label)

    def metric_foreign_payloads(self, *, period: Optional[Duration] = None, statistic: Optional[str] = None,
                                label: Optional[str] = None) -> cloudwatch.Metric:
        """Direct payloads of another account, dead-lettered (only a direct invocation sends them). Default: Sum."""
        return self.metric_shipper(shipper_contract.METRIC_FOREIGN_PAYLOADS, period=period, statistic=statistic,
                                   label=label)

    def metric_documents_retried(self, *, period: Optional[Duration] = None, statistic: Optional[str] = None,
                                 label: Optional[str] = None) -> cloudwatch.Metric:
        """Bulk mode: documents sent again after a 429, a 5xx or a dropped connection. Default: Sum."""
        return self.metric_shipper(shipper_contract.METRIC_DOCUMENTS_RETRIED, period=period, statistic=statistic,
                                   label=label)

    def metric_bulk_failures(self, *, period: Optional[Duration] = None, statistic: Optional[str] = None,
                             label: Optional[str] = None) -> cloudwatch.Metric:
        """Bulk mode: documents still not indexed after the retries (the invocation fails and is retried).
        Default: Sum."""
        return self.metric_shipper(shipper_contract.METRIC_BULK_FAILURES, period=period, statistic=statistic,
                                   label=label)

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
            self._sink_row(period),
            *([graph_row("Bulk delivery", [
                ("Documents delivered / duplicates skipped", [self.metric_documents_delivered(**p),
                                                              self.metric_duplicates_skipped(**p)]),
                ("Documents retried / refused / failed", [self.metric_documents_retried(**p),
                                                          self.metric_documents_refused(**p),
                                                          self.metric_bulk_failures(**p)]),
            ])] if self._bulk else []),
            function_row([(f"{self.node.id} shipper", self.shipper)], period),
            queue_row([(f"{self.node.id} dead letter queue", self.dead_letter_queue)], period),
        ]

    def _sink_row(self, period: Duration) -> DashboardRow:
        p = {"period": period}
        if self.collection is not None:
            limits = self.collection.limits

            def of(kind: str) -> str:
                return f" (limit {limits[f'max_{kind}_ocu']:g})" if limits else " (account: collections outside groups)"

            return graph_row("OpenSearch Serverless", [
                (f"Indexing OCUs{of('indexing')}", [self.metric_indexing_ocu(**p)]),
                (f"Search OCUs{of('search')}", [self.metric_search_ocu(**p)]),
                ("Indexing errors: requests / documents", [self.metric_ingestion_request_errors(**p),
                                                           self.metric_ingestion_document_errors(**p)]),
                ("Rejected requests (4xx, throttles among them)", [self.metric_rejected_requests(**p)]),
            ])
        return graph_row("OpenSearch", [
            ("Cluster status red / yellow", [self.metric_cluster_status_red(**p),
                                             self.metric_cluster_status_yellow(**p)]),
            ("Free storage (MiB, min)", [self.metric_free_storage_space(**p)]),
            ("JVM memory pressure (%)", [self.metric_jvm_memory_pressure(**p)]),
            ("Indexing rate", [self.metric_indexing_rate(**p)]),
            ("Indexing latency (ms)", [self.metric_indexing_latency(**p)]),
            ])

    def metric_shipper_iterator_age(self, *, period: Optional[Duration] = None, statistic: Optional[str] = None,
                                    label: Optional[str] = None) -> cloudwatch.Metric:
        """Age (ms) of the last record the shipper got from an ingestion stream. Default: Maximum over 5 minutes."""
        return self.shipper.metric("IteratorAge", period=period or FIVE_MINUTES, statistic=statistic or "Maximum",
                                   label=label)

    def metric_shipper_throttles(self, *, period: Optional[Duration] = None, statistic: Optional[str] = None,
                                 label: Optional[str] = None) -> cloudwatch.Metric:
        """Invocations of the shipper refused for concurrency: its reserved concurrency when it has one, the
        account's unreserved pool otherwise. Default: Sum."""
        return self.shipper.metric_throttles(period=period, statistic=statistic, label=label)

    def metric_kinesis_records_retried(self, *, period: Optional[Duration] = None, statistic: Optional[str] = None,
                                       label: Optional[str] = None) -> cloudwatch.Metric:
        """Ingestion records the shipper reported for Lambda's retry (``batchItemFailures``). Default: Sum."""
        return self.metric_shipper(shipper_contract.METRIC_RECORDS_RETRIED, period=period, statistic=statistic, label=label)
