"""How applications attach to a LogPipeline: in its stack directly, from other stacks and other CDK
apps through the pipeline's published attach points (``LogPipeline.from_name``), which the pipeline's
last step publishes (:func:`add_attach_points`)."""
from __future__ import annotations

from typing import Optional

from aws_cdk import ArnFormat
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kinesisfirehose as firehose
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from .._lambda_src.log_shipper import contract as shipper_contract
from .._lambda_src.logship.attach_point import DELIVERY_STREAM_NAME, PIPELINE_KIND, SHIPPER_FUNCTION_NAME
from .._private import attach
from .._private.subscriptions import PIPELINE_FILTER_NAME, allow_log_delivery, subscribe_function
from .._private.validation import PropError
from ..protocols import LogDestinationConfig
from .logship_layer import LOGSHIP_LAYER_NAME, LOGSHIP_LAYER_VERSION, LogshipLayerAttachment, layer_attach_points

NAME = "LogPipeline"
KIND = PIPELINE_KIND
# Published beside the names for one minor version, for applications built with the previous
# release (which read ARNs); no consumer of this release reads them.
SHIPPER_FUNCTION_ARN = "shipper-function-arn"
DELIVERY_STREAM_ARN = "delivery-stream-arn"
# Which attach points a pipeline publishes: in bulk mode the delivery stream is the S3-only archive,
# which applications must not write (their records would never be indexed), so it is not published.
# The logship layer is published in both modes (CloudWatchLogsHandler needs no stream).
ATTACH_POINTS = {shipper_contract.MODE_FIREHOSE: (SHIPPER_FUNCTION_NAME, DELIVERY_STREAM_NAME, LOGSHIP_LAYER_NAME,
                                                  LOGSHIP_LAYER_VERSION),
                 shipper_contract.MODE_BULK: (SHIPPER_FUNCTION_NAME, LOGSHIP_LAYER_NAME, LOGSHIP_LAYER_VERSION)}
LEGACY_ATTACH_POINTS = {shipper_contract.MODE_FIREHOSE: (SHIPPER_FUNCTION_ARN, DELIVERY_STREAM_ARN),
                        shipper_contract.MODE_BULK: (SHIPPER_FUNCTION_ARN,)}
# The pipeline's log groups (construct id below the pipeline -> part of the name): every one is named
# /log-constructs/pipeline/<name>/<part>, so a consumer anywhere knows them from the name alone.
LOG_GROUP_PARTS = {
    "ShipperLogGroup": "shipper",
    "DeliveryLogs": "delivery",
    "DomainSetupFunctionLogGroup": "setup",
    "CollectionSetupFunctionLogGroup": "setup",
    "DomainSetupProviderLogs": "setup-provider",
    "CollectionSetupProviderLogs": "setup-provider",
    "SlowSearchLogs": "domain-slow-search",
    "SlowIndexLogs": "domain-slow-index",
    "ApplicationLogs": "domain-application",
    "AuditLogs": "domain-audit",
}


def pipeline_log_group_names(name: str) -> list[str]:
    """Every log group a pipeline named ``name`` may own (never to be subscribed to its shipper)."""
    return [attach.library_log_group_name(KIND, name, part) for part in dict.fromkeys(LOG_GROUP_PARTS.values())]


def add_attach_points(pipeline: Construct, *, name: str, delivery_mode: str, shipper: lambda_.Function,
                      stream: firehose.CfnDeliveryStream,
                      logship_layer: lambda_.LayerVersion) -> list[ssm.StringParameter]:
    """The pipeline's attach points step: CloudWatch Logs of this account and region may invoke the shipper
    (one permission, created here, so subscribing a log group of any stack never changes this one); the
    attach points of ``delivery_mode`` are published under ``name``; the pipeline's log groups are named."""
    allow_log_delivery(shipper)
    published = {SHIPPER_FUNCTION_NAME: shipper.function_name, DELIVERY_STREAM_NAME: stream.ref,
                 SHIPPER_FUNCTION_ARN: shipper.function_arn, DELIVERY_STREAM_ARN: stream.attr_arn,
                 **layer_attach_points(logship_layer)}
    parameters = attach.publish(pipeline, KIND, name, {
        point: published[point] for point in (*ATTACH_POINTS[delivery_mode], *LEGACY_ATTACH_POINTS[delivery_mode])})
    attach.name_log_groups(pipeline, KIND, name, LOG_GROUP_PARTS)
    return parameters


class PipelineAttachment(LogshipLayerAttachment):
    """``add_log_group``, ``bind_log_destination`` and the grants of a pipeline, wherever the caller is.

    A log group, grantee or governor in another stack is served by the pipeline's view in that stack
    (its attach points read from SSM), so nothing of the caller enters the pipeline's stack.
    """

    name: str
    shipper_function_arn: str
    delivery_stream_arn: str
    delivery_stream_name: str
    subscriptions: list[logs.SubscriptionFilter]

    # What differs between the pipeline itself and a view of it.
    def _shipper_function(self) -> Optional[lambda_.IFunction]:
        return None

    def _subscription_id(self, log_group: logs.ILogGroup) -> str:
        return f"Subscription{log_group.node.addr[:12]}"

    def _own_log_group_names(self) -> list[str]:
        return pipeline_log_group_names(self.name)

    def _bulk_mode(self) -> Optional[bool]:
        """Whether the pipeline is in bulk mode; ``None`` when not known here (attached by name)."""
        return None

    def _local(self, target: object) -> "PipelineAttachment":
        assert isinstance(self, Construct)
        view = attach.view_in(self, target, construct=NAME, kind=KIND, name=self.name,
                              factory=lambda scope, id: ImportedLogPipeline(scope, id, name=self.name),
                              depend=not isinstance(self, ImportedLogPipeline))
        return view or self

    # --- ILogDestination -------------------------------------------------------------------------
    def add_log_group(self, log_group: logs.ILogGroup, *,
                      filter_pattern: Optional[logs.IFilterPattern] = None) -> logs.SubscriptionFilter:
        """Subscribe ``log_group`` to the shipper. The filter is created in the log group's stack.

        :param filter_pattern: the events to ship. Default: - every event

        Refused when ``log_group`` is the shipper's own log group: it would ship itself forever.
        """
        local = self._local(log_group)
        assert isinstance(local, Construct)
        subscription = subscribe_function(
            local, local._subscription_id(log_group), construct_name=NAME, log_group=log_group,
            function_arn=local.shipper_function_arn, function=local._shipper_function(),
            filter_name=PIPELINE_FILTER_NAME, filter_pattern=filter_pattern or logs.FilterPattern.all_events())
        local.subscriptions.append(subscription)
        return subscription

    def bind_log_destination(self, scope: Construct) -> LogDestinationConfig:
        """The shipper function as a subscription destination, as seen from ``scope``'s stack."""
        local = self._local(scope)
        return LogDestinationConfig(destination_arn=local.shipper_function_arn, function=local._shipper_function(),
                                    filter_name=PIPELINE_FILTER_NAME,
                                    own_log_group_names=local._own_log_group_names())

    # --- grants ------------------------------------------------------------------------------------
    def grant_put_records(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` put records into the delivery stream (a statement in the grantee's policy).

        Refused in bulk mode: the stream is then the S3-only archive, and records put there are never
        indexed. An application's logs reach a bulk pipeline through its log group (``add_log_group``,
        ``ApplicationLogging(ship_to=...)`` or a governor). Attached by name, a bulk pipeline publishes
        no delivery stream, so the consumer's deployment fails on the missing parameter.
        """
        return self.grant(grantee, "firehose:PutRecord", "firehose:PutRecordBatch")

    def grant(self, grantee: iam.IGrantable, *actions: str) -> iam.Grant:
        """Grant ``actions`` on the delivery stream (a statement in the grantee's policy). Refused in bulk mode."""
        assert isinstance(self, Construct)
        if self._bulk_mode():
            raise PropError(
                f"{NAME}: grant_put_records (grant) of {self.node.path} is refused with "
                f"delivery_mode='{shipper_contract.MODE_BULK}': the delivery stream is then the S3-only archive, whose "
                "records are never indexed. Ship the application's log group instead (pipeline.add_log_group, "
                "ApplicationLogging(ship_to=pipeline) or LogGroupGovernor(ship_to=pipeline)), and log to it")
        return self._grant_stream(grantee, *actions)

    def _grant_stream(self, grantee: iam.IGrantable, *actions: str) -> iam.Grant:
        local = self._local(grantee)
        return iam.Grant.add_to_principal(grantee=grantee, actions=list(actions),
                                          resource_arns=[local.delivery_stream_arn])


class ImportedLogPipeline(PipelineAttachment, Construct):
    """A ``LogPipeline`` of another stack or CDK app, attached by name (``LogPipeline.from_name``).

    It works wherever a pipeline is accepted: ``ship_to=``, ``add_log_group``, ``grant_put_records``.
    Its attributes are SSM parameter values resolved when the stack deploys; the pipeline's stack
    must be deployed first, in the same account and region.

    :param name: the pipeline's ``name``. Required
    """

    def __init__(self, scope: Construct, id: str, *, name: str) -> None:
        super().__init__(scope, id)
        self.name = name
        self.subscriptions: list[logs.SubscriptionFilter] = []

    # Each read adds an SSM parameter type to the stack: only the attach points in use are read. Only
    # names are read; every ARN is this stack's partition, region and account around the name.
    @property
    def shipper_function_arn(self) -> str:  # type: ignore[override]
        """The shipper function's ARN: a function of this stack's account and region, named by the attach point."""
        return attach.read_arn(self, KIND, self.name, SHIPPER_FUNCTION_NAME, service="lambda", resource="function",
                               arn_format=ArnFormat.COLON_RESOURCE_NAME)

    @property
    def delivery_stream_arn(self) -> str:  # type: ignore[override]
        """The delivery stream's ARN: a stream of this stack's account and region, named by the attach point."""
        return attach.read_arn(self, KIND, self.name, DELIVERY_STREAM_NAME, service="firehose",
                               resource="deliverystream")

    @property
    def delivery_stream_name(self) -> str:  # type: ignore[override]
        """The delivery stream's name (``logship.FirehoseHandler(stream_name=...)``); not published in bulk mode."""
        return attach.read(self, KIND, self.name, DELIVERY_STREAM_NAME)
