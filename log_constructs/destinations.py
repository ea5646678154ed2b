"""Adapters that make a plain Lambda function, a Firehose delivery stream, a Kinesis stream or a
CloudWatch Logs destination of another account an :class:`~log_constructs.protocols.ILogDestination`
(for ``ship_to=`` and ``add_log_group``)."""
from __future__ import annotations

import re
from typing import Callable, Optional, Union

import jsii
from aws_cdk import Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_kinesisfirehose as firehose
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from ._private import nag
from ._private.log_groups import function_log_group_names
from ._private.roles import library_role
from ._private.subscriptions import (GOVERNOR_FILTER_NAME, DestinationArn, allow_log_delivery, subscribe,
                                     subscribe_function)
from .organization import parse_destination_arn
from .protocols import LogDestinationConfig


def _filter_id(log_group: logs.ILogGroup) -> str:
    return f"LogDestinationSubscription{log_group.node.addr[:12]}"


def _filter_scope(destination: Construct, log_group: logs.ILogGroup) -> Construct:
    """Where a filter is created: beside the destination in its own stack, else in the log group's stack."""
    return destination if Stack.of(destination) is Stack.of(log_group) else log_group


DELIVERY_ROLE_ID = "LogConstructsCloudWatchLogsRole"


def _delivery_role(stream: Construct, kind: str, grant_write: Callable[[iam.IGrantable], object]) -> iam.IRole:
    """The one role CloudWatch Logs assumes to write into ``stream``, created once beside it.

    It trusts CloudWatch Logs acting for the stream's account and region only (``aws:SourceArn``, the
    confused-deputy guard), and names no log group: subscribing another stack's group changes nothing here.
    """
    existing = stream.node.try_find_child(DELIVERY_ROLE_ID)
    if isinstance(existing, iam.Role):
        return existing
    stack = Stack.of(stream)
    role = library_role(
        stream, DELIVERY_ROLE_ID,
        assumed_by=iam.ServicePrincipal("logs.amazonaws.com", conditions={
            "StringLike": {"aws:SourceArn": f"arn:{stack.partition}:logs:{stack.region}:{stack.account}:*"}}),
        description=f"CloudWatch Logs of this account and region writes subscribed log events into this {kind}")
    grant_write(role)
    return role


class LambdaLogDestination:
    """Your own Lambda function as a log destination (CloudWatch Logs invokes it with log batches).

    CloudWatch Logs of the function's account and region gets one permission to invoke it, created
    with the adapter in the function's stack (build the adapter where the function is defined);
    subscription filters are created in their log groups' stacks.

    :param function: the function that receives the subscribed log events.
    """

    def __init__(self, function: lambda_.IFunction) -> None:
        self.function = function
        allow_log_delivery(function)

    def add_log_group(self, log_group: logs.ILogGroup, *,
                      filter_pattern: Optional[logs.IFilterPattern] = None) -> logs.SubscriptionFilter:
        """Subscribe ``log_group`` to the function (refused for the function's own log group)."""
        return subscribe_function(_filter_scope(self.function, log_group), _filter_id(log_group),
                                  construct_name="LambdaLogDestination", log_group=log_group,
                                  function_arn=self.function.function_arn, function=self.function,
                                  filter_name=GOVERNOR_FILTER_NAME,
                                  filter_pattern=filter_pattern or logs.FilterPattern.all_events())

    def bind_log_destination(self, scope: Construct) -> LogDestinationConfig:
        """The function, whose own log groups are never subscribed to it."""
        return LogDestinationConfig(destination_arn=self.function.function_arn, function=self.function,
                                    own_log_group_names=function_log_group_names(self.function))


class FirehoseLogDestination:
    """A Firehose delivery stream as a log destination (CloudWatch Logs writes through a role).

    The role CloudWatch Logs assumes is created once, with the adapter, beside the stream (build the
    adapter where the stream is defined); subscription filters are created in their log groups' stacks.

    :param delivery_stream: the stream, an ``IDeliveryStream`` or a ``CfnDeliveryStream``.
    """

    def __init__(self, delivery_stream: Union[firehose.IDeliveryStream, firehose.CfnDeliveryStream]) -> None:
        self.delivery_stream = delivery_stream
        if isinstance(delivery_stream, firehose.CfnDeliveryStream):
            self.delivery_stream_arn, self.delivery_stream_name = delivery_stream.attr_arn, delivery_stream.ref
        else:
            self.delivery_stream_arn = delivery_stream.delivery_stream_arn
            self.delivery_stream_name = delivery_stream.delivery_stream_name
        self.role: iam.IRole = _delivery_role(delivery_stream, "delivery stream", self.grant_put_records)

    def grant_put_records(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` put records into the stream."""
        return iam.Grant.add_to_principal(grantee=grantee, actions=["firehose:PutRecord", "firehose:PutRecordBatch"],
                                          resource_arns=[self.delivery_stream_arn])

    def add_log_group(self, log_group: logs.ILogGroup, *,
                      filter_pattern: Optional[logs.IFilterPattern] = None) -> logs.SubscriptionFilter:
        """Subscribe ``log_group`` to the stream."""
        return subscribe(log_group, _filter_id(log_group), construct_name="FirehoseLogDestination",
                         log_group=log_group, destination=DestinationArn(self.delivery_stream_arn, self.role),
                         filter_name=GOVERNOR_FILTER_NAME, filter_pattern=filter_pattern or logs.FilterPattern.all_events(),
                         own_log_group=f"/aws/kinesisfirehose/{self.delivery_stream_name}")

    def bind_log_destination(self, scope: Construct) -> LogDestinationConfig:
        """The stream and its role; its own error log group is never subscribed to it."""
        return LogDestinationConfig(destination_arn=self.delivery_stream_arn, role=self.role,
                                    own_log_group_names=[f"/aws/kinesisfirehose/{self.delivery_stream_name}"])


class KinesisLogDestination:
    """A Kinesis data stream as a log destination (CloudWatch Logs writes through a role).

    The role CloudWatch Logs assumes is created once, with the adapter, beside the stream (build the
    adapter where the stream is defined); subscription filters are created in their log groups' stacks.

    :param stream: the stream.
    """

    def __init__(self, stream: kinesis.IStream) -> None:
        self.stream = stream
        self.role: iam.IRole = _delivery_role(stream, "Kinesis stream", stream.grant_write)

    def add_log_group(self, log_group: logs.ILogGroup, *,
                      filter_pattern: Optional[logs.IFilterPattern] = None) -> logs.SubscriptionFilter:
        """Subscribe ``log_group`` to the stream."""
        return subscribe(log_group, _filter_id(log_group), construct_name="KinesisLogDestination",
                         log_group=log_group, destination=DestinationArn(self.stream.stream_arn, self.role),
                         filter_name=GOVERNOR_FILTER_NAME, filter_pattern=filter_pattern or logs.FilterPattern.all_events())

    def bind_log_destination(self, scope: Construct) -> LogDestinationConfig:
        """The stream and its role."""
        return LogDestinationConfig(destination_arn=self.stream.stream_arn, role=self.role)


_WHOLE_TOKEN = re.compile(r"\$\{Token\[[^\]]*\]\}")
_PARTITION_TOKEN = re.compile(r"^arn:\$\{Token\[[^\]]*\]\}:")


def _checkable(arn: object) -> object:
    """``arn`` with a partition token (``Aws.PARTITION``) read as ``aws``: the rest is still checked."""
    return _PARTITION_TOKEN.sub("arn:aws:", arn) if isinstance(arn, str) else arn


def _log_groups_arn(scope: Construct, log_group_name: str = "*") -> str:
    stack = Stack.of(scope)
    return f"arn:{stack.partition}:logs:{stack.region}:{stack.account}:log-group:{log_group_name}:*"


def _grant_put_log_events(grantee: iam.IGrantable, resource_arn: str) -> iam.Grant:
    return iam.Grant.add_to_principal(grantee=grantee, actions=["logs:PutLogEvents"], resource_arns=[resource_arn])


@jsii.implements(logs.ILogSubscriptionDestination)
class _DestinationArn:
    """A subscription destination given by its ARN, with the sender's role CloudWatch Logs assumes."""

    def __init__(self, destination_arn: str) -> None:
        self._arn = destination_arn

    def bind(self, scope: Construct, source_log_group: logs.ILogGroup) -> logs.LogSubscriptionDestinationConfig:
        role = library_role(scope, "CloudWatchLogsCanSend",
                            assumed_by=CrossAccountLogDestination.service_principal(scope),
                            description="CloudWatch Logs sends this log group to a destination of another account")
        _grant_put_log_events(role, source_log_group.log_group_arn)
        return logs.LogSubscriptionDestinationConfig(arn=self._arn, role=role)


class CrossAccountLogDestination:
    """A CloudWatch Logs destination of another account (a central account's ``logs.CfnDestination``),
    given by its ARN: the way logs cross accounts. It must be in the region of the log groups.

    Subscriptions to it carry a role of the sending account that may ``logs:PutLogEvents`` on the
    subscribed log groups: CloudWatch Logs needs it when the destination's policy grants an
    organization (``aws:PrincipalOrgID``), and a destination that lists accounts accepts it.

    :param destination_arn: ``arn:aws:logs:<region>:<account>:destination:<name>`` (see
        :func:`log_constructs.organization.destination_arn`); the region part may be ``Aws.REGION``.
    """

    NAME = "CrossAccountLogDestination"

    def __init__(self, destination_arn: str) -> None:
        self.destination_arn = destination_arn
        self.parts = parse_destination_arn(self.NAME, "destination_arn", _checkable(destination_arn)) \
            if not _WHOLE_TOKEN.fullmatch(str(destination_arn)) else {}

    @staticmethod
    def service_principal(scope: Construct) -> iam.IPrincipal:
        """CloudWatch Logs of this account and region (``aws:SourceArn``: no other account's logs use the role)."""
        stack = Stack.of(scope)
        return iam.ServicePrincipal("logs.amazonaws.com", conditions={
            "StringLike": {"aws:SourceArn": f"arn:{stack.partition}:logs:{stack.region}:{stack.account}:*"}})

    def add_log_group(self, log_group: logs.ILogGroup, *,
                      filter_pattern: Optional[logs.IFilterPattern] = None) -> logs.SubscriptionFilter:
        """Subscribe ``log_group`` to the destination (with a role that may send only that log group)."""
        return subscribe(log_group, _filter_id(log_group), construct_name=self.NAME, log_group=log_group,
                         destination=_DestinationArn(self.destination_arn), filter_name=GOVERNOR_FILTER_NAME,
                         filter_pattern=filter_pattern or logs.FilterPattern.all_events())

    def bind_log_destination(self, scope: Construct) -> LogDestinationConfig:
        """The destination; the role CloudWatch Logs assumes may send every log group of ``scope``'s account and region."""
        resource = _log_groups_arn(scope)

        def grant(grantee: iam.IGrantable) -> iam.Grant:
            result = _grant_put_log_events(grantee, resource)
            nag.acknowledge(grantee, "IAM5",
                            "CloudWatch Logs sends every governed log group of this account and region to the "
                            "destination, through this role: log-group:* with the one action logs:PutLogEvents.",
                            findings=[nag.resource_finding(scope, resource)])
            return result

        return LogDestinationConfig(destination_arn=self.destination_arn, grant_write=grant)


def as_log_destination(construct: str, prop: str, value: object) -> object:
    """``value``, or a :class:`CrossAccountLogDestination` when it is a destination ARN string."""
    if isinstance(value, str):
        try:
            return CrossAccountLogDestination(value)
        except ValueError:
            pass
    return value
