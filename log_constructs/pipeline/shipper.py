"""LogPipeline's shipper step: the function CloudWatch Logs invoke, its dead-letter queue and, in a VPC, its
security group.

In Firehose mode the shipper puts one Firehose record per log event; in bulk mode it indexes with
``_bulk`` into the domain itself and puts aggregated gzip records into the archive stream.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from aws_cdk import Duration
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kinesisfirehose as firehose
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from .._lambda_src.log_shipper.contract import ShipperConfig
from .._private.failures import send_failures_to
from .._private.functions import library_function
from .._private.queues import dead_letter_queue
from .metrics import SHIPPER_SERVICE
from .props import PipelineProps
from .redaction import RedactionSettings
from .sink import PipelineSink


@dataclass(frozen=True)
class Shipper:
    """What the shipper step built."""

    function: lambda_.Function
    dead_letter_queue: sqs.Queue
    security_group: Optional[ec2.SecurityGroup]


def add_shipper(scope: Construct, props: PipelineProps, sink: PipelineSink, *,
                stream: firehose.CfnDeliveryStream, encryption_key: kms.IKey,
                redaction: RedactionSettings) -> Shipper:
    """The shipper function with its configuration, its on-failure queue and its permissions."""
    settings = props.shipper
    bulk, network, vpc = props.bulk, sink.network, props.vpc
    security_group = None
    if bulk and network is not None:
        assert vpc is not None
        security_group = ec2.SecurityGroup(
            scope, "ShipperSecurityGroup", vpc=vpc, allow_all_outbound=False,
            description="Log shipper: HTTPS to the OpenSearch domain and to the AWS APIs it calls")
        security_group.add_egress_rule(network.security_group, ec2.Port.tcp(443), "HTTPS to the OpenSearch domain")
        for peer in settings.egress if settings.egress is not None else [ec2.Peer.ipv4(vpc.vpc_cidr_block)]:
            security_group.add_egress_rule(peer, ec2.Port.tcp(443),
                                           "HTTPS to Firehose and SQS (interface endpoints, or NAT)")
        network.security_group.add_ingress_rule(security_group, ec2.Port.tcp(443), "HTTPS from the log shipper")
    queue = dead_letter_queue(scope, "ShipperDeadLetterQueue", encryption_key=encryption_key)
    domain = sink.domain
    function = library_function(
        scope,
        "Shipper",
        handler="log_shipper.handler.handler",
        description=("Indexes CloudWatch Logs events with _bulk (id = event id) and archives them through Firehose"
                     if bulk else "Ships CloudWatch Logs events to Firehose, one record per event"),
        service=SHIPPER_SERVICE,
        timeout=settings.timeout,
        memory_size=settings.memory_mib,
        log_retention=props.log_retention,
        environment_encryption=encryption_key,
        environment=ShipperConfig(
            delivery_stream_name=stream.ref, dead_letter_queue_url=queue.queue_url,
            stream_regions=props.ingestion.stream_names if props.ingestion else {}, mode=props.delivery_mode,
            domain_endpoint=domain.domain_endpoint if bulk and domain is not None else "", index=props.index,
            rotation=props.delivery.rotation,
            bulk_max_bytes=settings.bulk_max_bytes, **redaction.config_fields()).to_environment(),
        **({"vpc": vpc, "vpc_subnets": network.subnets, "security_groups": [security_group]}
           if security_group is not None and network is not None else {}),
        # Invocations beyond the concurrency are throttled and retried (records wait, none is lost).
        reserved_concurrent_executions=settings.reserved_concurrency,
    )
    send_failures_to(function, queue, retry_attempts=2, max_event_age=Duration.hours(6))
    iam.Grant.add_to_principal(grantee=function, actions=["firehose:PutRecord", "firehose:PutRecordBatch"],
                               resource_arns=[stream.attr_arn])
    if bulk:
        assert domain is not None
        function.add_to_role_policy(iam.PolicyStatement(
            sid="BulkIndex", actions=["es:ESHttpPost"], resources=[f"{domain.domain_arn}/_bulk"]))
    return Shipper(function, queue, security_group)
