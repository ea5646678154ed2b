"""SNS topics the library's alarms notify: KMS-encrypted (CloudWatch may use the key), TLS only."""
from __future__ import annotations

from typing import Optional

from aws_cdk import Aws
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from constructs import Construct

from .keys import new_key


def alarm_topic(scope: Construct, id: str, *, encryption_key: Optional[kms.Key] = None,
                display_name: Optional[str] = None) -> sns.Topic:
    """A topic for CloudWatch alarm actions; ``encryption_key`` (or a new key) lets CloudWatch publish.

    CloudWatch needs ``kms:GenerateDataKey*`` and ``kms:Decrypt`` on an encrypted topic's key, limited
    here to alarms of this account.
    """
    key = encryption_key or new_key(scope, f"{id}Key", description=f"Encrypts the {id} alarm topic")
    key.add_to_resource_policy(iam.PolicyStatement(
        sid="AllowCloudWatchAlarmsOfThisAccount",
        principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
        actions=["kms:Decrypt", "kms:GenerateDataKey*"],
        resources=["*"],  # in a key policy, "*" means this key
        conditions={"StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID}},
    ))
    return sns.Topic(scope, id, master_key=key, enforce_ssl=True, display_name=display_name)
