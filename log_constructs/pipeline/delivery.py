"""LogPipeline's delivery step: the Firehose delivery stream into OpenSearch, its role, its log group and the
S3 backup bucket.

In Firehose mode the stream indexes into the domain or the serverless collection and backs documents
up to S3; in bulk mode it is the S3-only archive of the shipper's aggregated records.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from aws_cdk import Duration, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kinesisfirehose as firehose
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_opensearchservice as opensearch
from aws_cdk import aws_s3 as s3
from constructs import Construct

from .._private import nag
from .._private.buckets import secure_bucket
from .._private.keys import grant_key
from .._private.log_groups import secure_log_group
from .._private.roles import LibraryRole, library_role
from .domain import DomainNetwork
from .props import BACKUP_MODES, INDEX_ROTATIONS, BackupLifecycle, DeliverySettings, PipelineProps
from .sink import PipelineSink


@dataclass(frozen=True)
class Delivery:
    """What the delivery step built."""

    role: LibraryRole
    log_group: logs.LogGroup
    stream: firehose.CfnDeliveryStream


def add_delivery(scope: Construct, props: PipelineProps, sink: PipelineSink, *, backup_bucket: s3.IBucket,
                 encryption_key: kms.IKey) -> Delivery:
    """Firehose's role and log group, then the stream: into the domain (or, in bulk mode, the S3 archive), or
    into the serverless collection, which the sink creates here because its access policy names the role."""
    settings = props.delivery
    role = library_role(
        scope, "DeliveryRole",
        # Firehose passes the stream's account as the external ID when it assumes a delivery role.
        assumed_by=iam.ServicePrincipal(
            "firehose.amazonaws.com", conditions={"StringEquals": {"sts:ExternalId": Stack.of(scope).account}}),
        description="Firehose writes to the OpenSearch index and the backup bucket",
    )
    log_group = secure_log_group(scope, "DeliveryLogs", retention=props.log_retention)
    vpc_config = vpc_configuration(role, sink.network)
    if props.sink is not None:
        collection = sink.add_collection(writer=role)
        grant_backup_and_logs(
            scope, role, backup_bucket=backup_bucket, encryption_key=encryption_key,
            log_group=log_group, in_vpc=props.vpc is not None, findings=[],
            reason="Firehose writes date-prefixed backup objects, so the object ARN ends in a wildcard;")
        stream = serverless_delivery_stream(
            scope, settings=settings, role=role, collection_endpoint=collection.endpoint,
            backup_bucket=backup_bucket, encryption_key=encryption_key, log_group=log_group, vpc_config=vpc_config)
        # Firehose checks its access when the stream is created: the collection must be active first.
        stream.node.add_dependency(collection.collection, collection.access_policy)
    else:
        assert sink.domain is not None
        grant_delivery_role(scope, role, domain=None if props.bulk else sink.domain, index=props.index,
                            backup_bucket=backup_bucket, encryption_key=encryption_key, log_group=log_group,
                            in_vpc=props.vpc is not None)
        stream = archive_stream(
            scope, settings=settings, role=role, backup_bucket=backup_bucket,
            encryption_key=encryption_key, log_group=log_group,
        ) if props.bulk else delivery_stream(
            scope, settings=settings, role=role, domain=sink.domain,
            backup_bucket=backup_bucket, encryption_key=encryption_key,
            log_group=log_group, vpc_config=vpc_config,
        )
    # Firehose validates its permissions when the stream is created: wait for the role's policy.
    stream.node.add_dependency(role.managed_policy)
    return Delivery(role, log_group, stream)


def new_backup_bucket(scope: Construct, lifecycle: BackupLifecycle, encryption_key: kms.IKey) -> s3.Bucket:
    """The secure backup (and, in bulk mode, archive) bucket, tiered to Standard-IA and Glacier, then expired."""
    return secure_bucket(
        scope,
        "BackupBucket",
        encryption_key=encryption_key,
        lifecycle_rules=[
            s3.LifecycleRule(
                id="TierThenExpireBackups",
                transitions=[
                    s3.Transition(storage_class=s3.StorageClass.INFREQUENT_ACCESS,
                                  transition_after=Duration.days(lifecycle.infrequent_access_days)),
                    s3.Transition(storage_class=s3.StorageClass.GLACIER,
                                  transition_after=Duration.days(lifecycle.glacier_days)),
                ],
                expiration=Duration.days(lifecycle.expiration_days),
                noncurrent_version_expiration=Duration.days(30),
                abort_incomplete_multipart_upload_after=Duration.days(7),
            )
        ],
    )


def grant_delivery_role(scope: Construct, role: iam.IRole, *, domain: Optional[opensearch.IDomain], index: str,
                        backup_bucket: s3.IBucket, encryption_key: kms.IKey, log_group: logs.ILogGroup,
                        in_vpc: bool) -> None:
    """What Firehose needs: write the index and read cluster state (``domain``; none for the S3-only
    archive of bulk mode), write backups, log its errors."""
    findings: list[str] = []
    if domain is not None:
        role.add_to_principal_policy(iam.PolicyStatement(
            sid="DescribeDomain",
            actions=["es:DescribeDomain", "es:DescribeDomains", "es:DescribeDomainConfig"],
            resources=[domain.domain_arn],
        ))
        index_arn = f"{domain.domain_arn}/{index}*"
        role.add_to_principal_policy(iam.PolicyStatement(
            sid="WriteIndex",
            actions=["es:ESHttpPost", "es:ESHttpPut"],
            resources=[f"{domain.domain_arn}/_bulk", index_arn, f"{index_arn}/*"],
        ))
        role.add_to_principal_policy(iam.PolicyStatement(
            sid="ReadClusterState",
            actions=["es:ESHttpGet"],
            resources=[f"{domain.domain_arn}/{path}" for path in (
                "_all/_settings", "_cluster/stats", f"{index}*/_mapping/*", "_nodes", "_nodes/stats",
                "_nodes/*/stats", "_stats", f"{index}*/_stats", "_all/_mapping")],
        ))
        findings = [nag.resource_finding(scope, f"{domain.domain_arn}/{path}") for path in (
            f"{index}*", f"{index}*/*", f"{index}*/_mapping/*", "_nodes/*/stats", f"{index}*/_stats")]
    # The S3-only archive of bulk mode has no ENIs in the VPC.
    grant_backup_and_logs(scope, role, backup_bucket=backup_bucket, encryption_key=encryption_key,
                          log_group=log_group, in_vpc=in_vpc and domain is not None, findings=findings, reason=(
                              "Firehose writes to rotating indices (<index>-<date>) and to date-prefixed backup "
                              "objects, so the index and object ARNs end in a wildcard;"))


def grant_backup_and_logs(scope: Construct, role: iam.IRole, *, backup_bucket: s3.IBucket, encryption_key: kms.IKey,
                          log_group: logs.ILogGroup, in_vpc: bool, findings: list[str], reason: str) -> None:
    """Write backups, log errors, and (in a VPC) manage Firehose's ENIs; acknowledge the wildcards."""
    role.add_to_principal_policy(iam.PolicyStatement(
        sid="WriteBackups",
        actions=["s3:AbortMultipartUpload", "s3:GetBucketLocation", "s3:GetObject", "s3:ListBucket",
                 "s3:ListBucketMultipartUploads", "s3:PutObject"],
        resources=[backup_bucket.bucket_arn, backup_bucket.arn_for_objects("*")],
    ))
    grant_key(encryption_key, role, "kms:GenerateDataKey", "kms:Decrypt")
    log_group.grant_write(role)
    findings = [nag.resource_finding(scope, backup_bucket.arn_for_objects("*")), *findings]
    if in_vpc:
        role.add_to_principal_policy(iam.PolicyStatement(
            sid="DeliverIntoVpc",
            actions=["ec2:DescribeVpcs", "ec2:DescribeVpcAttribute", "ec2:DescribeSubnets",
                     "ec2:DescribeSecurityGroups", "ec2:DescribeNetworkInterfaces",
                     "ec2:CreateNetworkInterface", "ec2:CreateNetworkInterfacePermission",
                     "ec2:DeleteNetworkInterface"],
            resources=["*"],
        ))
        findings.append("Resource::*")
    nag.acknowledge(role, "IAM5", reason + " EC2 ENI actions for VPC delivery have no resource scope.",
                    findings=findings)


def vpc_configuration(role: iam.IRole, network: Optional[DomainNetwork]
                      ) -> Optional[firehose.CfnDeliveryStream.VpcConfigurationProperty]:
    """Firehose's ENIs in the domain's security group and subnets (a VPC domain only)."""
    if network is None:
        return None
    return firehose.CfnDeliveryStream.VpcConfigurationProperty(
        role_arn=role.role_arn,
        security_group_ids=[network.security_group.security_group_id],
        subnet_ids=[subnet.subnet_id for subnet in network.subnets.subnets or []],
    )


def _backup_and_logging(settings: DeliverySettings, role: iam.IRole, backup_bucket: s3.IBucket,
                        encryption_key: kms.IKey, log_group: logs.LogGroup) -> dict:
    """The S3 backup and error logging every OpenSearch destination of the stream shares."""
    delivery_log_stream = log_group.add_stream("DestinationErrors")
    backup_log_stream = log_group.add_stream("BackupErrors")
    stream = firehose.CfnDeliveryStream
    return dict(
        role_arn=role.role_arn,
        s3_backup_mode=BACKUP_MODES[settings.backup_mode],
        s3_configuration=stream.S3DestinationConfigurationProperty(
            bucket_arn=backup_bucket.bucket_arn,
            role_arn=role.role_arn,
            prefix="backup/!{timestamp:yyyy/MM/dd}/",
            error_output_prefix="failed/!{firehose:error-output-type}/!{timestamp:yyyy/MM/dd}/",
            compression_format="GZIP",
            buffering_hints=stream.BufferingHintsProperty(interval_in_seconds=300, size_in_m_bs=5),
            encryption_configuration=stream.EncryptionConfigurationProperty(
                kms_encryption_config=stream.KMSEncryptionConfigProperty(awskms_key_arn=encryption_key.key_arn)
            ),
            cloud_watch_logging_options=stream.CloudWatchLoggingOptionsProperty(
                enabled=True, log_group_name=log_group.log_group_name,
                log_stream_name=backup_log_stream.log_stream_name,
            ),
        ),
        cloud_watch_logging_options=stream.CloudWatchLoggingOptionsProperty(
            enabled=True, log_group_name=log_group.log_group_name,
            log_stream_name=delivery_log_stream.log_stream_name,
        ),
    )


def _stream(scope: Construct, encryption_key: kms.IKey, **destination: object) -> firehose.CfnDeliveryStream:
    stream = firehose.CfnDeliveryStream
    return stream(
        scope,
        "DeliveryStream",
        delivery_stream_type="DirectPut",
        delivery_stream_encryption_configuration_input=stream.DeliveryStreamEncryptionConfigurationInputProperty(
            key_type="CUSTOMER_MANAGED_CMK", key_arn=encryption_key.key_arn
        ),
        **destination,
    )


def delivery_stream(scope: Construct, *, settings: DeliverySettings, role: iam.IRole, domain: opensearch.IDomain,
                    backup_bucket: s3.IBucket, encryption_key: kms.IKey, log_group: logs.LogGroup,
                    vpc_config: Optional[firehose.CfnDeliveryStream.VpcConfigurationProperty]
                    ) -> firehose.CfnDeliveryStream:
    """A KMS-encrypted DirectPut stream to the index, backing up to S3, logging errors to ``log_group``."""
    stream = firehose.CfnDeliveryStream
    return _stream(
        scope, encryption_key,
        amazonopensearchservice_destination_configuration=stream.AmazonopensearchserviceDestinationConfigurationProperty(
            domain_arn=domain.domain_arn,
            index_name=settings.index,
            index_rotation_period=INDEX_ROTATIONS[settings.rotation],
            retry_options=stream.AmazonopensearchserviceRetryOptionsProperty(duration_in_seconds=settings.retry_seconds),
            buffering_hints=stream.AmazonopensearchserviceBufferingHintsProperty(
                interval_in_seconds=settings.interval_seconds, size_in_m_bs=settings.size_mib
            ),
            vpc_configuration=vpc_config,
            **_backup_and_logging(settings, role, backup_bucket, encryption_key, log_group),
        ),
    )


def serverless_delivery_stream(scope: Construct, *, settings: DeliverySettings, role: iam.IRole,
                               collection_endpoint: str, backup_bucket: s3.IBucket, encryption_key: kms.IKey,
                               log_group: logs.LogGroup,
                               vpc_config: Optional[firehose.CfnDeliveryStream.VpcConfigurationProperty]
                               ) -> firehose.CfnDeliveryStream:
    """The same stream into a serverless collection: one index (no rotation), the collection assigns ids."""
    stream = firehose.CfnDeliveryStream
    return _stream(
        scope, encryption_key,
        amazon_open_search_serverless_destination_configuration=(
            stream.AmazonOpenSearchServerlessDestinationConfigurationProperty(
                collection_endpoint=collection_endpoint,
                index_name=settings.index,
                retry_options=stream.AmazonOpenSearchServerlessRetryOptionsProperty(
                    duration_in_seconds=settings.retry_seconds),
                buffering_hints=stream.AmazonOpenSearchServerlessBufferingHintsProperty(
                    interval_in_seconds=settings.interval_seconds, size_in_m_bs=settings.size_mib),
                vpc_configuration=vpc_config,
                **_backup_and_logging(settings, role, backup_bucket, encryption_key, log_group),
            )),
    )


def archive_stream(scope: Construct, *, settings: DeliverySettings, role: iam.IRole, backup_bucket: s3.IBucket,
                   encryption_key: kms.IKey, log_group: logs.LogGroup) -> firehose.CfnDeliveryStream:
    """Bulk mode: a KMS-encrypted DirectPut stream to S3 only, the archive of every document.

    Its records are the shipper's gzip members of many newline-delimited documents (Firehose bills
    their compressed bytes, not 5 KB per event), written as they are: ``logops replay`` reads them.
    """
    stream = firehose.CfnDeliveryStream
    return _stream(
        scope, encryption_key,
        extended_s3_destination_configuration=stream.ExtendedS3DestinationConfigurationProperty(
            bucket_arn=backup_bucket.bucket_arn,
            role_arn=role.role_arn,
            prefix="archive/!{timestamp:yyyy/MM/dd}/",
            error_output_prefix="failed/!{firehose:error-output-type}/!{timestamp:yyyy/MM/dd}/",
            compression_format="UNCOMPRESSED",  # already gzip, member by member
            buffering_hints=stream.BufferingHintsProperty(interval_in_seconds=settings.interval_seconds,
                                                          size_in_m_bs=settings.size_mib),
            encryption_configuration=stream.EncryptionConfigurationProperty(
                kms_encryption_config=stream.KMSEncryptionConfigProperty(awskms_key_arn=encryption_key.key_arn)
            ),
            cloud_watch_logging_options=stream.CloudWatchLoggingOptionsProperty(
                enabled=True, log_group_name=log_group.log_group_name,
                log_stream_name=log_group.add_stream("ArchiveErrors").log_stream_name,
            ),
        ),
    )
