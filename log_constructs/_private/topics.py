"""SNS topics the library's alarms notify: KMS-encrypted, TLS only, CloudWatch alarms may publish."""
from __future__ import annotations

from typing import Optional

from aws_cdk import ArnFormat, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from constructs import Construct

from .keys import new_key

CLOUDWATCH = "cloudwatch.amazonaws.com"


def alarm_source(scope: Construct) -> dict:
    """Conditions that admit CloudWatch only for alarms of this account and region."""
    stack = Stack.of(scope)
    alarms = stack.format_arn(service="cloudwatch", resource="alarm", resource_name="*",
                              arn_format=ArnFormat.COLON_RESOURCE_NAME)
    return {"StringEquals": {"aws:SourceAccount": stack.account}, "ArnLike": {"aws:SourceArn": alarms}}


def alarm_topic(scope: Construct, id: str, *, encryption_key: Optional[kms.IKey] = None,
                display_name: Optional[str] = None, key_description: Optional[str] = None) -> sns.Topic:
    """A topic for CloudWatch alarm actions, encrypted with ``encryption_key`` (or a new key ``<id>Key``
    described by ``key_description``).

    An encrypted topic with a topic policy (TLS only) must let CloudWatch publish and use its key;
    both statements are limited to alarms of this account and region.

    :param scope: the construct to create the topic in. Required
    :param id: its construct id. Required
    :param encryption_key: the topic's KMS key. Default: - a new key with rotation, ``<id>Key``
    :param display_name: the topic's display name. Default: - none
    :param key_description: the description of the new key. Default: ``"Encrypts the <id> alarm topic"``
    """
    key = encryption_key or new_key(scope, f"{id}Key", description=key_description or f"Encrypts the {id} alarm topic")
    key.add_to_resource_policy(iam.PolicyStatement(
        sid="CloudWatchAlarmsPublishEncrypted",
        principals=[iam.ServicePrincipal(CLOUDWATCH)],
        actions=["kms:Decrypt", "kms:GenerateDataKey*"],
        resources=["*"],  # in a key policy, "*" means this key
        conditions=alarm_source(scope),
    ))
    topic = sns.Topic(scope, id, master_key=key, enforce_ssl=True, display_name=display_name)
    topic.add_to_resource_policy(iam.PolicyStatement(
        sid="CloudWatchAlarmsPublish",
        principals=[iam.ServicePrincipal(CLOUDWATCH)],
        actions=["sns:Publish"],
        resources=[topic.topic_arn],
        conditions=alarm_source(scope),
    ))
    return topic
