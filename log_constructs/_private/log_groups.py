"""Log groups the library owns: KMS-encrypted, with retention, retained on delete."""
from __future__ import annotations

from typing import Optional

from aws_cdk import RemovalPolicy
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from .._lambda_src.log_group_governor import contract as governor_contract
from .keys import log_groups_key

# Every log group of this library's own functions starts with this prefix, so the log group
# governor can always exclude them (subscribing a shipper to its own logs loops forever).
LIBRARY_LOG_GROUP_PREFIX = governor_contract.LIBRARY_LOG_GROUP_PREFIX
# Every log group the library creates carries this tag (value ``true``); the governor finds them by it
# in the construct tree at synth time (and never governs them), whatever their name.
MANAGED_TAG = "log-constructs:managed"


def secure_log_group(
    scope: Construct,
    id: str,
    *,
    retention: logs.RetentionDays,
    log_group_name: Optional[str] = None,
    encryption_key: Optional[kms.IKey] = None,
) -> logs.LogGroup:
    group = logs.LogGroup(
        scope,
        id,
        log_group_name=log_group_name,
        retention=retention,
        encryption_key=encryption_key or log_groups_key(scope),
        removal_policy=RemovalPolicy.RETAIN,
    )
    cfn = group.node.default_child
    assert isinstance(cfn, logs.CfnLogGroup)
    cfn.tags.set_tag(MANAGED_TAG, "true")
    return group


def is_library_log_group(node: object) -> bool:
    """Whether ``node`` is the ``CfnLogGroup`` of a log group :func:`secure_log_group` created."""
    return isinstance(node, logs.CfnLogGroup) and node.tags.tag_values().get(MANAGED_TAG) == "true"


def function_log_group_names(function: lambda_.IFunction) -> list[str]:
    """The log group names a Lambda function writes to: ``/aws/lambda/<name>`` and its configured one."""
    names = [f"/aws/lambda/{function.function_name}"]
    cfn = function.node.default_child
    if isinstance(cfn, lambda_.CfnFunction) and isinstance(cfn.logging_config,
                                                           lambda_.CfnFunction.LoggingConfigProperty):
        if isinstance(cfn.logging_config.log_group, str):
            names.append(cfn.logging_config.log_group)
    return names
