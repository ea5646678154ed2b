"""How applications attach to a LogPipeline: in its stack directly, from other stacks and other CDK
apps through the pipeline's published attach points (``LogPipeline.from_name``)."""
from __future__ import annotations

from typing import Optional

from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from .._private import attach
from .._private.subscriptions import PIPELINE_FILTER_NAME, subscribe_function
from ..protocols import LogDestinationConfig

NAME = "LogPipeline"
KIND = "pipeline"
SHIPPER_FUNCTION_ARN = "shipper-function-arn"
DELIVERY_STREAM_ARN = "delivery-stream-arn"
DELIVERY_STREAM_NAME = "delivery-stream-name"
ATTACH_POINTS = (SHIPPER_FUNCTION_ARN, DELIVERY_STREAM_ARN, DELIVERY_STREAM_NAME)


class PipelineAttachment:
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
        return []  # the library's functions log under /log-constructs/, which the governor never touches

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
        """Let ``grantee`` put records into the delivery stream (a statement in the grantee's policy)."""
        return self.grant(grantee, "firehose:PutRecord", "firehose:PutRecordBatch")

    def grant(self, grantee: iam.IGrantable, *actions: str) -> iam.Grant:
        """Grant ``actions`` on the delivery stream (a statement in the grantee's policy)."""
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

    # Each read adds an SSM parameter type to the stack: only the attach points in use are read.
    @property
    def shipper_function_arn(self) -> str:  # type: ignore[override]
        """The shipper function's ARN."""
        return attach.read(self, KIND, self.name, SHIPPER_FUNCTION_ARN)

    @property
    def delivery_stream_arn(self) -> str:  # type: ignore[override]
        """The delivery stream's ARN."""
        return attach.read(self, KIND, self.name, DELIVERY_STREAM_ARN)

    @property
    def delivery_stream_name(self) -> str:  # type: ignore[override]
        """The delivery stream's name (``logship.FirehoseHandler(stream_name=...)``)."""
        return attach.read(self, KIND, self.name, DELIVERY_STREAM_NAME)
