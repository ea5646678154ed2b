"""``removal_policy``: what happens to a construct's data when it leaves the stack."""
from __future__ import annotations

from typing import Optional

from aws_cdk import RemovalPolicies, RemovalPolicy
from constructs import IConstruct

# The resources that hold data; roles, policies and alarms follow CloudFormation's default.
DATA_RESOURCE_TYPES = (
    "AWS::S3::Bucket",
    "AWS::OpenSearchService::Domain",
    "AWS::OpenSearchServerless::Collection",
    "AWS::DynamoDB::Table",
    "AWS::SecretsManager::Secret",
    "AWS::Logs::LogGroup",
    "AWS::KMS::Key",
    "AWS::SQS::Queue",
)


def apply_removal_policy(scope: IConstruct, policy: Optional[RemovalPolicy]) -> None:
    """Give every data resource below ``scope`` ``policy`` (the library's default is ``RETAIN``)."""
    if policy is not None:
        RemovalPolicies.of(scope).apply(policy, apply_to_resource_types=list(DATA_RESOURCE_TYPES))
