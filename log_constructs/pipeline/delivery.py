"""LogPipeline's Firehose delivery stream into OpenSearch, with the S3 backup, and its role."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from aws_cdk import aws_iam as iam
from aws_cdk import aws_kinesisfirehose as firehose
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_opensearchservice as opensearch
from aws_cdk import aws_s3 as s3
from constructs import Construct

from .._private import nag
from .._private.keys import grant_key
from .domain import DomainNetwork

INDEX_ROTATIONS = {"none": "NoRotation", "hour": "OneHour", "day": "OneDay", "week": "OneWeek", "month": "OneMonth"}
BACKUP_MODES = {"all": "AllDocuments", "failed": "FailedDocumentsOnly"}


@dataclass(frozen=True)
class DeliverySettings:
    index: str
    rotation: str
    retry_seconds: int
    interval_seconds: int
    size_mib: int
    backup_mode: str


def grant_delivery_role(scope: Construct, role: iam.IRole, *, domain: opensearch.IDomain, index: str,
                        backup_bucket: s3.IBucket, encryption_key: kms.IKey, log_group: logs.ILogGroup,
                        in_vpc: bool) -> None:
    """What Firehose needs: write the index, read cluster state, write backups, log its errors."""
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
    role.add_to_principal_policy(iam.PolicyStatement(
        sid="WriteBackups",
        actions=["s3:AbortMultipartUpload", "s3:GetBucketLocation", "s3:GetObject", "s3:ListBucket",
                 "s3:ListBucketMultipartUploads", "s3:PutObject"],
        resources=[backup_bucket.bucket_arn, backup_bucket.arn_for_objects("*")],
    ))
    grant_key(encryption_key, role, "kms:GenerateDataKey", "kms:Decrypt")
    log_group.grant_write(role)
    wildcard_arns = [backup_bucket.arn_for_objects("*")] + [
        f"{domain.domain_arn}/{path}" for path in (
            f"{index}*", f"{index}*/*", f"{index}*/_mapping/*", "_nodes/*/stats", f"{index}*/_stats")]
    findings = [nag.resource_finding(scope, arn) for arn in wildcard_arns]
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
    nag.acknowledge(
        role,
        "IAM5",
        "Firehose writes to rotating indices (<index>-<date>) and to date-prefixed backup objects, so the "
        "index and object ARNs end in a wildcard; EC2 ENI actions for VPC delivery have no resource scope.",
        findings=findings,
    )


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


def delivery_stream(scope: Construct, *, settings: DeliverySettings, role: iam.IRole, domain: opensearch.IDomain,
                    backup_bucket: s3.IBucket, encryption_key: kms.IKey, log_group: logs.LogGroup,
                    vpc_config: Optional[firehose.CfnDeliveryStream.VpcConfigurationProperty]
                    ) -> firehose.CfnDeliveryStream:
    """A KMS-encrypted DirectPut stream to the index, backing up to S3, logging errors to ``log_group``."""
    delivery_log_stream = log_group.add_stream("DestinationErrors")
    backup_log_stream = log_group.add_stream("BackupErrors")
    stream = firehose.CfnDeliveryStream
    return stream(
        scope,
        "DeliveryStream",
        delivery_stream_type="DirectPut",
        delivery_stream_encryption_configuration_input=stream.DeliveryStreamEncryptionConfigurationInputProperty(
            key_type="CUSTOMER_MANAGED_CMK", key_arn=encryption_key.key_arn
        ),
        amazonopensearchservice_destination_configuration=stream.AmazonopensearchserviceDestinationConfigurationProperty(
            domain_arn=domain.domain_arn,
            index_name=settings.index,
            index_rotation_period=INDEX_ROTATIONS[settings.rotation],
            role_arn=role.role_arn,
            retry_options=stream.AmazonopensearchserviceRetryOptionsProperty(duration_in_seconds=settings.retry_seconds),
            buffering_hints=stream.AmazonopensearchserviceBufferingHintsProperty(
                interval_in_seconds=settings.interval_seconds, size_in_m_bs=settings.size_mib
            ),
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
            vpc_configuration=vpc_config,
        ),
    )
