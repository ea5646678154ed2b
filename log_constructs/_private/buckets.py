"""S3 buckets with the library's secure defaults, and the per-stack server access log bucket."""
from __future__ import annotations

from typing import Optional, Sequence

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from . import nag

ACCESS_LOGS_BUCKET_ID = "LogConstructsAccessLogsBucket"

REPLICATION_RULES = {nag.NIST_800_53_R5: "S3BucketReplicationEnabled", nag.HIPAA_SECURITY: "S3BucketReplicationEnabled",
                     nag.PCI_DSS_321: "S3BucketReplicationEnabled"}
REPLICATION_REASON = (
    "Cross-region replication needs a destination bucket in another region, which one regional stack cannot "
    "create; the bucket is versioned (deleted or overwritten objects stay recoverable) and retained on delete. "
    "Where a recovery plan requires a copy in another region, bring your own replicated bucket (bucket props)."
)


def access_logs_bucket(scope: Construct) -> s3.Bucket:
    """The per-stack bucket that receives S3 server access logs of every bucket the library creates."""
    stack = Stack.of(scope)
    existing = stack.node.try_find_child(ACCESS_LOGS_BUCKET_ID)
    if isinstance(existing, s3.Bucket):
        return existing
    bucket = s3.Bucket(
        stack,
        ACCESS_LOGS_BUCKET_ID,
        # S3 server access logging can only deliver to SSE-S3 buckets, not SSE-KMS.
        encryption=s3.BucketEncryption.S3_MANAGED,
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        enforce_ssl=True,
        versioned=True,
        # No object_ownership: aws-cdk-lib picks a bucket policy or the log-delivery ACL by feature flag.
        removal_policy=RemovalPolicy.RETAIN,
        lifecycle_rules=[
            s3.LifecycleRule(
                id="ExpireAccessLogs",
                expiration=Duration.days(365),
                noncurrent_version_expiration=Duration.days(30),
            )
        ],
    )
    nag.acknowledge(
        bucket,
        "S1",
        "This bucket is the server access log target of the stack's buckets; logging it into itself would loop.",
    )
    nag.acknowledge_all(
        bucket,
        {pack: "S3DefaultEncryptionKMS" for pack in (nag.NIST_800_53_R5, nag.HIPAA_SECURITY, nag.PCI_DSS_321)},
        reason="S3 server access logs can only be delivered to a bucket encrypted with SSE-S3 (AES-256), not SSE-KMS; "
        "the bucket is encrypted at rest, TLS-only and private.",
    )
    nag.acknowledge_all(bucket, REPLICATION_RULES, reason=REPLICATION_REASON)
    return bucket


def secure_bucket(
    scope: Construct,
    id: str,
    *,
    encryption_key: kms.IKey,
    lifecycle_rules: Optional[Sequence[s3.LifecycleRule]] = None,
    object_lock_enabled: Optional[bool] = None,
    object_lock_default_retention: Optional[s3.ObjectLockRetention] = None,
    access_logs_prefix: Optional[str] = None,
) -> s3.Bucket:
    """KMS (bucket key), block public access, TLS only, versioning, access logs, retained on delete."""
    bucket = s3.Bucket(
        scope,
        id,
        encryption=s3.BucketEncryption.KMS,
        encryption_key=encryption_key,
        bucket_key_enabled=True,
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        enforce_ssl=True,
        minimum_tls_version=1.2,
        versioned=True,
        object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        server_access_logs_bucket=access_logs_bucket(scope),
        server_access_logs_prefix=access_logs_prefix or f"{id}/",
        lifecycle_rules=list(lifecycle_rules or []),
        object_lock_enabled=object_lock_enabled,
        object_lock_default_retention=object_lock_default_retention,
        removal_policy=RemovalPolicy.RETAIN,
    )
    nag.acknowledge_all(bucket, REPLICATION_RULES, reason=REPLICATION_REASON)
    return bucket
