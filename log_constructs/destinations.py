"""Adapters that make a plain Lambda function, a Firehose delivery stream or a Kinesis stream an
:class:`~log_constructs.protocols.ILogDestination` (for ``ship_to=`` and ``add_log_group``)."""
from __future__ import annotations

from typing import Optional, Union

from aws_cdk import aws_iam as iam
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_kinesisfirehose as firehose
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_logs_destinations as log_destinations
from constructs import Construct

from ._private.log_groups import function_log_group_names
from ._private.subscriptions import GOVERNOR_FILTER_NAME, subscribe, subscribe_function
from .protocols import LogDestinationConfig


def _filter_id(log_group: logs.ILogGroup) -> str:
    return f"LogDestinationSubscription{log_group.node.addr[:12]}"


class LambdaLogDestination:
    """Your own Lambda function as a log destination (CloudWatch Logs invokes it with log batches).

    :param function: the function that receives the subscribed log events.
    """

    def __init__(self, function: lambda_.IFunction) -> None:
        self.function = function

    def add_log_group(self, log_group: logs.ILogGroup, *,
                      filter_pattern: Optional[logs.IFilterPattern] = None) -> logs.SubscriptionFilter:
        """Subscribe ``log_group`` to the function (refused for the function's own log group)."""
        return subscribe_function(self.function, _filter_id(log_group), construct_name="LambdaLogDestination",
                                  log_group=log_group, function=self.function, filter_name=GOVERNOR_FILTER_NAME,
                                  filter_pattern=filter_pattern or logs.FilterPattern.all_events())

    def bind_log_destination(self, scope: Construct) -> LogDestinationConfig:
        """The function, whose own log groups are never subscribed to it."""
        return LogDestinationConfig(destination_arn=self.function.function_arn, function=self.function,
                                    own_log_group_names=function_log_group_names(self.function))


class FirehoseLogDestination:
    """A Firehose delivery stream as a log destination (CloudWatch Logs writes through a role).

    :param delivery_stream: the stream, an ``IDeliveryStream`` or a ``CfnDeliveryStream``.
    """

    def __init__(self, delivery_stream: Union[firehose.IDeliveryStream, firehose.CfnDeliveryStream]) -> None:
        self.delivery_stream = delivery_stream
        if isinstance(delivery_stream, firehose.CfnDeliveryStream):
            self.delivery_stream_arn, self.delivery_stream_name = delivery_stream.attr_arn, delivery_stream.ref
        else:
            self.delivery_stream_arn = delivery_stream.delivery_stream_arn
            self.delivery_stream_name = delivery_stream.delivery_stream_name

    def grant_put_records(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` put records into the stream."""
        return iam.Grant.add_to_principal(grantee=grantee, actions=["firehose:PutRecord", "firehose:PutRecordBatch"],
                                          resource_arns=[self.delivery_stream_arn])

    def add_log_group(self, log_group: logs.ILogGroup, *,
                      filter_pattern: Optional[logs.IFilterPattern] = None) -> logs.SubscriptionFilter:
        """Subscribe ``log_group`` to the stream (aws-cdk-lib creates the role CloudWatch Logs uses)."""
        stream = self.delivery_stream if not isinstance(self.delivery_stream, firehose.CfnDeliveryStream) else \
            firehose.DeliveryStream.from_delivery_stream_attributes(
                log_group, f"{_filter_id(log_group)}Stream", delivery_stream_arn=self.delivery_stream_arn)
        return subscribe(log_group, _filter_id(log_group), construct_name="FirehoseLogDestination",
                         log_group=log_group, destination=log_destinations.FirehoseDestination(stream),
                         filter_name=GOVERNOR_FILTER_NAME, filter_pattern=filter_pattern or logs.FilterPattern.all_events(),
                         own_log_group=f"/aws/kinesisfirehose/{self.delivery_stream_name}")

    def bind_log_destination(self, scope: Construct) -> LogDestinationConfig:
        """The stream; its own error log group is never subscribed to it."""
        return LogDestinationConfig(destination_arn=self.delivery_stream_arn, grant_write=self.grant_put_records,
                                    own_log_group_names=[f"/aws/kinesisfirehose/{self.delivery_stream_name}"])


class KinesisLogDestination:
    """A Kinesis data stream as a log destination (CloudWatch Logs writes through a role).

    :param stream: the stream.
    """

    def __init__(self, stream: kinesis.IStream) -> None:
        self.stream = stream

    def add_log_group(self, log_group: logs.ILogGroup, *,
                      filter_pattern: Optional[logs.IFilterPattern] = None) -> logs.SubscriptionFilter:
        """Subscribe ``log_group`` to the stream (aws-cdk-lib creates the role CloudWatch Logs uses)."""
        return subscribe(log_group, _filter_id(log_group), construct_name="KinesisLogDestination",
                         log_group=log_group, destination=log_destinations.KinesisDestination(self.stream),
                         filter_name=GOVERNOR_FILTER_NAME, filter_pattern=filter_pattern or logs.FilterPattern.all_events())

    def bind_log_destination(self, scope: Construct) -> LogDestinationConfig:
        """The stream; CloudWatch Logs' role may write to it."""
        return LogDestinationConfig(destination_arn=self.stream.stream_arn, grant_write=self.stream.grant_write)
