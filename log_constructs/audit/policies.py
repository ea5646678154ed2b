"""Policy statements of the audit trail: who may write, read and change the trail's data.

Every statement that lets CloudTrail in is tied to one trail with ``aws:SourceArn``; the trail's
ARN is built from its name (not taken from the trail) because the trail depends on the bucket
policy and the key, and a reference back would be a cycle.
"""

from __future__ import annotations

from typing import Optional, Sequence

from aws_cdk import Stack
from aws_cdk import aws_iam as iam
from constructs import Construct

CLOUDTRAIL = "cloudtrail.amazonaws.com"
DELETE_ACTIONS = ("s3:DeleteObject", "s3:DeleteObjectVersion")
POLICY_CHANGE_ACTIONS = ("s3:PutBucketPolicy", "s3:DeleteBucketPolicy")
# What would let a principal shorten the lock: bypass governance retention, shorten or remove an object's
# retention, expire objects by lifecycle (lifecycle deletes ignore bucket-policy denies), change the default lock.
LOCK_CHANGE_ACTIONS = (
    "s3:BypassGovernanceRetention",
    "s3:PutObjectRetention",
    "s3:PutLifecycleConfiguration",
    "s3:PutBucketObjectLockConfiguration",
)
KEY_DESTRUCTION_ACTIONS = ("kms:ScheduleKeyDeletion", "kms:DisableKey")


def trail_arn(scope: Construct, trail_name: str) -> str:
    return Stack.of(scope).format_arn(service="cloudtrail", resource="trail", resource_name=trail_name)


def trail_arn_any_region(scope: Construct, trail_name: str) -> str:
    """The trail's ARN with ``*`` for the region, as it appears in KMS encryption contexts."""
    stack = Stack.of(scope)
    return f"arn:{stack.partition}:cloudtrail:*:{stack.account}:trail/{trail_name}"


def _except(exempt_role_arns: Sequence[str]) -> Optional[dict]:
    return {"ArnNotEquals": {"aws:PrincipalArn": list(exempt_role_arns)}} if exempt_role_arns else None


def _deny_all_but(exempt_role_arns: Sequence[str], *, sid: str, actions: Sequence[str],
                  resources: Sequence[str]) -> iam.PolicyStatement:
    """Deny ``actions`` on ``resources`` to every principal but the exempt (break-glass) roles."""
    return iam.PolicyStatement(sid=sid, effect=iam.Effect.DENY, principals=[iam.AnyPrincipal()],
                               actions=list(actions), resources=list(resources),
                               conditions=_except(exempt_role_arns))


def bucket_statements(
    *,
    bucket_arn: str,
    trail_arn: str,
    write_prefixes: Sequence[str],
    exempt_role_arns: Sequence[str] = (),
) -> list[iam.PolicyStatement]:
    """CloudTrail may check the ACL and write under ``write_prefixes`` for this trail only; nobody
    but the exempt (break-glass) roles may delete objects or versions, change the bucket policy, or
    weaken the lock (retention, lifecycle, Object Lock configuration)."""
    source = {"aws:SourceArn": trail_arn}
    return [
        iam.PolicyStatement(
            sid="CloudTrailAclCheckForThisTrail",
            principals=[iam.ServicePrincipal(CLOUDTRAIL)],
            actions=["s3:GetBucketAcl"],
            resources=[bucket_arn],
            conditions={"StringEquals": source},
        ),
        iam.PolicyStatement(
            sid="CloudTrailWriteForThisTrail",
            principals=[iam.ServicePrincipal(CLOUDTRAIL)],
            actions=["s3:PutObject"],
            resources=[f"{bucket_arn}/{prefix}*" for prefix in write_prefixes],
            conditions={"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control", **source}},
        ),
        _deny_all_but(exempt_role_arns, sid="DenyDeletingAuditLogs", actions=DELETE_ACTIONS, resources=[f"{bucket_arn}/*"]),
        _deny_all_but(exempt_role_arns, sid="DenyChangingTheBucketPolicy", actions=POLICY_CHANGE_ACTIONS, resources=[bucket_arn]),
        _deny_all_but(exempt_role_arns, sid="DenyWeakeningTheLock", actions=LOCK_CHANGE_ACTIONS, resources=[bucket_arn, f"{bucket_arn}/*"]),
    ]


def key_protection_statement(exempt_role_arns: Sequence[str] = ()) -> iam.PolicyStatement:
    """Key policy statement: nobody but the exempt (break-glass) roles may disable the key or schedule
    its deletion (either makes every log file unreadable)."""
    # In a key policy, "*" is this key.
    return _deny_all_but(exempt_role_arns, sid="DenyDisablingOrDeletingTheKey", actions=KEY_DESTRUCTION_ACTIONS,
                         resources=["*"])


def trail_key_statements(scope: Construct, *, trail_name: str) -> list[iam.PolicyStatement]:
    """CloudTrail may encrypt with the key (and describe it) for this trail only."""
    stack = Stack.of(scope)
    this_trail = {"aws:SourceArn": trail_arn(scope, trail_name)}
    return [
        iam.PolicyStatement(
            sid="CloudTrailEncryptForThisTrail",
            principals=[iam.ServicePrincipal(CLOUDTRAIL)],
            actions=["kms:GenerateDataKey*"],
            resources=["*"],  # in a key policy, "*" is this key
            conditions={
                "StringEquals": this_trail,
                "StringLike": {
                    "kms:EncryptionContext:aws:cloudtrail:arn": f"arn:{stack.partition}:cloudtrail:*:{stack.account}:trail/*"
                },
            },
        ),
        iam.PolicyStatement(
            sid="CloudTrailDescribeKeyForThisTrail",
            principals=[iam.ServicePrincipal(CLOUDTRAIL)],
            actions=["kms:DescribeKey"],
            resources=["*"],
            conditions={"StringEquals": this_trail},
        ),
    ]


def decrypt_conditions(scope: Construct, trail_name: str) -> dict:
    """Decrypting only what this trail encrypted (as S3 asks KMS for a reader), in this account."""
    return {
        "StringEquals": {"kms:CallerAccount": Stack.of(scope).account},
        "StringLike": {"kms:EncryptionContext:aws:cloudtrail:arn": trail_arn_any_region(scope, trail_name)},
    }


def auditor_key_statement(scope: Construct, *, trail_name: str, role_arn: str) -> iam.PolicyStatement:
    """Key policy statement: the named auditor role may decrypt this trail's log files."""
    return iam.PolicyStatement(
        sid="AuditorDecryptsThisTrailsLogFiles",
        principals=[iam.ArnPrincipal(role_arn)],
        actions=["kms:Decrypt"],
        resources=["*"],
        conditions=decrypt_conditions(scope, trail_name),
    )
