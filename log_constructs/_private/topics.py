"""SNS topics the library's alarms notify: KMS-encrypted, TLS only, CloudWatch alarms may publish."""
from __future__ import annotations

from typing import Optional

from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from constructs import Construct

from .audit_policies import alarm_topic_key_statement, alarm_topic_statement
from .keys import new_key


def alarm_topic(scope: Construct, id: str, *, encryption_key: Optional[kms.Key] = None,
                display_name: Optional[str] = None) -> sns.Topic:
    """A topic for CloudWatch alarm actions, encrypted with ``encryption_key`` (or a new key).

    An encrypted topic with a topic policy (TLS only) must let CloudWatch publish and use its key;
    both statements are limited to alarms of this account and region.
    """
    key = encryption_key or new_key(scope, f"{id}Key", description=f"Encrypts the {id} alarm topic")
    key.add_to_resource_policy(alarm_topic_key_statement(scope))
    topic = sns.Topic(scope, id, master_key=key, enforce_ssl=True, display_name=display_name)
    topic.add_to_resource_policy(alarm_topic_statement(scope, topic.topic_arn))
    return topic
