"""Customer-managed KMS keys: rotation on, retained, and one shared key per stack for log groups."""
from __future__ import annotations

from aws_cdk import Aws, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

LOGS_KEY_ID = "LogConstructsLogGroupsKey"


def new_key(scope: Construct, id: str, *, description: str) -> kms.Key:
    """A symmetric key with yearly rotation, retained when the stack is deleted."""
    return kms.Key(
        scope,
        id,
        description=description,
        enable_key_rotation=True,
        removal_policy=RemovalPolicy.RETAIN,
    )


def log_groups_key(scope: Construct) -> kms.Key:
    """The per-stack key that encrypts every log group this library creates.

    CloudWatch Logs may use it only for log groups of this account and region.
    """
    stack = Stack.of(scope)
    existing = stack.node.try_find_child(LOGS_KEY_ID)
    if isinstance(existing, kms.Key):
        return existing
    key = new_key(stack, LOGS_KEY_ID, description="Encrypts the log groups created by log_constructs")
    key.add_to_resource_policy(
        iam.PolicyStatement(
            sid="AllowCloudWatchLogsForThisAccountsLogGroups",
            principals=[iam.ServicePrincipal(f"logs.{Aws.REGION}.amazonaws.com")],
            actions=["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
            resources=["*"],  # in a key policy, "*" means this key
            conditions={
                "ArnLike": {
                    "kms:EncryptionContext:aws:logs:arn": f"arn:{Aws.PARTITION}:logs:{Aws.REGION}:{Aws.ACCOUNT_ID}:log-group:*"
                }
            },
        )
    )
    return key


def grant_key(key: kms.IKey, grantee: iam.IGrantable, *actions: str, via_service: str | None = None) -> iam.Grant:
    """``actions`` on ``key`` in the grantee's own policy, never in the key policy.

    The key policy trusts the account and IAM does the rest: a key policy naming a role of another
    stack would make the key's stack depend on it (and a platform key on every application).
    ``via_service``: only through that service of the key's region (``kms:ViaService``).
    """
    conditions = ({"StringEquals": {"kms:ViaService": f"{via_service}.{Stack.of(key).region}.amazonaws.com"}}
                  if via_service else None)
    return iam.Grant.add_to_principal(grantee=grantee, actions=list(actions), resource_arns=[key.key_arn],
                                      conditions=conditions)
