"""What the governor's function may do, and what CloudWatch Logs needs to deliver to its destination."""
from __future__ import annotations

from typing import Optional

from aws_cdk import Stack, Token
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from .._private import nag
from .._private.roles import library_role
from .._private.subscriptions import allow_log_delivery, log_groups_arn
from ..protocols import LogDestinationConfig


def _nag_part(value: str, pseudo: str) -> str:
    """How cdk-nag writes an ARN part in a finding id: the literal, or ``<AWS::Region>`` for a pseudo parameter."""
    return f"<{pseudo}>" if Token.is_unresolved(value) else value


def _is_logs_destination(arn: str) -> bool:
    return ":logs:" in arn and ":destination:" in arn


def grant_log_groups(scope: Construct, function: lambda_.Function, *, subscribe: bool,
                     destination_arn: Optional[str] = None) -> None:
    """Least-privilege CloudWatch Logs access, and invoking itself to continue a sweep."""
    role = function.role
    assert role is not None
    stack = Stack.of(scope)
    role.add_to_principal_policy(iam.PolicyStatement(
        sid="ListLogGroups", actions=["logs:DescribeLogGroups"], resources=["*"]))
    group_actions = ["logs:PutRetentionPolicy"]
    if subscribe:
        # ListTagsForResource: a group tagged log-constructs:ship=false is not subscribed.
        group_actions += ["logs:DescribeSubscriptionFilters", "logs:PutSubscriptionFilter", "logs:ListTagsForResource"]
    role.add_to_principal_policy(iam.PolicyStatement(
        sid="GovernLogGroups", actions=group_actions, resources=[log_groups_arn(scope)]))
    if subscribe and destination_arn is not None and _is_logs_destination(destination_arn):
        # Another account's destination: the caller's own policy must allow it too (cross-account evaluation).
        role.add_to_principal_policy(iam.PolicyStatement(
            sid="SubscribeToDestination", actions=["logs:PutSubscriptionFilter"], resources=[destination_arn]))
    nag.acknowledge(
        role, "IAM5",
        "logs:DescribeLogGroups has no resource-level permissions; the governor governs every log group "
        "of this account and region by design (log-group:*), with only the Put/Describe actions it uses.",
        findings=["Resource::*", f"Resource::arn:{_nag_part(stack.partition, 'AWS::Partition')}:logs:"
                  f"{_nag_part(stack.region, 'AWS::Region')}:{_nag_part(stack.account, 'AWS::AccountId')}:log-group:*"],
    )
    # Continuing a sweep: the function invokes itself asynchronously. A separate policy (not the
    # role's own one, which the function depends on) avoids a dependency cycle; customer-managed,
    # like every policy of the library (NIST/HIPAA/PCI IAMNoInlinePolicy).
    iam.ManagedPolicy(scope, "ContinueSweepPolicy", roles=[role], statements=[iam.PolicyStatement(
        actions=["lambda:InvokeFunction"], resources=[function.function_arn])])


def grant_destination(scope: Construct, destination: LogDestinationConfig) -> Optional[iam.IRole]:
    """The role CloudWatch Logs assumes to deliver to ``destination``, if it needs one.

    A stream brings its own (created once by the destination); a Lambda function needs none (its
    account-wide permission is created by the destination); a destination of another account gets a
    sender role of this account, created here.
    """
    if destination.role is not None:
        return destination.role
    if destination.function is not None:
        allow_log_delivery(destination.function)
        return None
    if destination.grant_write is None:
        return None
    stack = Stack.of(scope)
    role = library_role(
        scope, "LogsToDestinationRole",
        assumed_by=iam.ServicePrincipal("logs.amazonaws.com", conditions={
            "StringLike": {"aws:SourceArn": f"arn:{stack.partition}:logs:{stack.region}:{stack.account}:*"}}),
        description="CloudWatch Logs writes subscribed log events to the governor's destination",
    )
    destination.grant_write(role)
    return role
