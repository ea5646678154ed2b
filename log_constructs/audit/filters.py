"""CloudWatch Logs metric filter patterns for the CIS AWS Foundations monitoring controls.

The patterns are the ones AWS Security Hub checks for controls CloudWatch.1 to CloudWatch.14
(CIS AWS Foundations Benchmark v1.2.0 section 3 / v1.4.0 section 4). Security Hub passes a
control only if the trail's log group carries the exact pattern, so they are kept verbatim,
quirks included: CloudWatch.4 also counts Auto Scaling's ``DeletePolicy``, CloudWatch.14 still
lists the retired EC2-Classic ``ClassicLink`` calls, and a console sign-in without MFA is
counted for IAM users only (the root user's sign-ins count under root usage).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence

from aws_cdk import DefaultStackSynthesizer, Stack
from aws_cdk.aws_iam import IRole

from .._private.attach import PARAMETER_PREFIX


def _any_event(*names: str) -> str:
    return " || ".join(f"($.eventName={name})" for name in names)


@dataclass(frozen=True)
class AuditFilter:
    """One monitored condition: a metric filter on the trail's log group and an alarm on it."""

    key: str
    """Stable identifier, used in construct IDs and as the metric name."""
    control: str
    """The Security Hub control (and through it the CIS recommendation) it implements."""
    description: str
    pattern: str
    """CloudWatch Logs JSON filter pattern."""


FILTERS: tuple[AuditFilter, ...] = (
    AuditFilter(
        "RootUsage",
        "CloudWatch.1",
        "The root user made a call (not an AWS service acting for it).",
        '{$.userIdentity.type="Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType !="AwsServiceEvent"}',
    ),
    AuditFilter(
        "UnauthorizedApiCalls",
        "CloudWatch.2",
        "A call was refused as unauthorized (AccessDenied*, *UnauthorizedOperation).",
        '{($.errorCode="*UnauthorizedOperation") || ($.errorCode="AccessDenied*")}',
    ),
    AuditFilter(
        "ConsoleSignInWithoutMfa",
        "CloudWatch.3",
        "An IAM user signed in to the console without MFA.",
        '{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") && '
        '($.userIdentity.type = "IAMUser") && ($.responseElements.ConsoleLogin = "Success") }',
    ),
    AuditFilter(
        "IamPolicyChanges",
        "CloudWatch.4",
        "An IAM policy was created, changed, attached, detached or deleted.",
        "{"
        + _any_event(
            "DeleteGroupPolicy", "DeleteRolePolicy", "DeleteUserPolicy",
            "PutGroupPolicy", "PutRolePolicy", "PutUserPolicy",
            "CreatePolicy", "DeletePolicy", "CreatePolicyVersion", "DeletePolicyVersion",
            "AttachRolePolicy", "DetachRolePolicy", "AttachUserPolicy", "DetachUserPolicy",
            "AttachGroupPolicy", "DetachGroupPolicy",
        )  # fmt: skip
        + "}",
    ),
    AuditFilter(
        "CloudTrailChanges",
        "CloudWatch.5",
        "A trail was created, updated, deleted, started or stopped.",
        "{" + _any_event("CreateTrail", "UpdateTrail", "DeleteTrail", "StartLogging", "StopLogging") + "}",
    ),
    AuditFilter(
        "ConsoleAuthFailures",
        "CloudWatch.6",
        "A console sign-in failed authentication.",
        '{($.eventName=ConsoleLogin) && ($.errorMessage="Failed authentication")}',
    ),
    AuditFilter(
        "KmsKeyDisableOrDeletion",
        "CloudWatch.7",
        "A customer managed KMS key was disabled or scheduled for deletion.",
        "{($.eventSource=kms.amazonaws.com) && (" + _any_event("DisableKey", "ScheduleKeyDeletion") + ")}",
    ),
    AuditFilter(
        "S3BucketPolicyChanges",
        "CloudWatch.8",
        "A bucket policy, ACL, CORS, lifecycle or replication configuration changed.",
        "{($.eventSource=s3.amazonaws.com) && ("
        + _any_event(
            "PutBucketAcl", "PutBucketPolicy", "PutBucketCors", "PutBucketLifecycle", "PutBucketReplication",
            "DeleteBucketPolicy", "DeleteBucketCors", "DeleteBucketLifecycle", "DeleteBucketReplication",
        )  # fmt: skip
        + ")}",
    ),
    AuditFilter(
        "ConfigChanges",
        "CloudWatch.9",
        "AWS Config recording or delivery was stopped or changed.",
        "{($.eventSource=config.amazonaws.com) && ("
        + _any_event(
            "StopConfigurationRecorder", "DeleteDeliveryChannel", "PutDeliveryChannel", "PutConfigurationRecorder"
        )
        + ")}",
    ),
    AuditFilter(
        "SecurityGroupChanges",
        "CloudWatch.10",
        "A security group or one of its rules changed.",
        "{"
        + _any_event(
            "AuthorizeSecurityGroupIngress", "AuthorizeSecurityGroupEgress",
            "RevokeSecurityGroupIngress", "RevokeSecurityGroupEgress",
            "CreateSecurityGroup", "DeleteSecurityGroup",
        )  # fmt: skip
        + "}",
    ),
    AuditFilter(
        "NaclChanges",
        "CloudWatch.11",
        "A network ACL or one of its entries or associations changed.",
        "{"
        + _any_event(
            "CreateNetworkAcl", "CreateNetworkAclEntry", "DeleteNetworkAcl", "DeleteNetworkAclEntry",
            "ReplaceNetworkAclEntry", "ReplaceNetworkAclAssociation",
        )  # fmt: skip
        + "}",
    ),
    AuditFilter(
        "NetworkGatewayChanges",
        "CloudWatch.12",
        "A customer or internet gateway was created, attached, detached or deleted.",
        "{"
        + _any_event(
            "CreateCustomerGateway", "DeleteCustomerGateway", "AttachInternetGateway",
            "CreateInternetGateway", "DeleteInternetGateway", "DetachInternetGateway",
        )  # fmt: skip
        + "}",
    ),
    AuditFilter(
        "RouteTableChanges",
        "CloudWatch.13",
        "A route table, route or route table association changed.",
        "{"
        + _any_event(
            "CreateRoute", "CreateRouteTable", "ReplaceRoute", "ReplaceRouteTableAssociation",
            "DeleteRouteTable", "DeleteRoute", "DisassociateRouteTable",
        )  # fmt: skip
        + "}",
    ),
    AuditFilter(
        "VpcChanges",
        "CloudWatch.14",
        "A VPC, its attributes or a peering connection changed.",
        "{"
        + _any_event(
            "CreateVpc", "DeleteVpc", "ModifyVpcAttribute", "AcceptVpcPeeringConnection",
            "CreateVpcPeeringConnection", "DeleteVpcPeeringConnection", "RejectVpcPeeringConnection",
            "AttachClassicLinkVpc", "DetachClassicLinkVpc", "DisableVpcClassicLink", "EnableVpcClassicLink",
        )  # fmt: skip
        + "}",
    ),
)

METRIC_NAMESPACE = "CISBenchmark"


def audit_key_policy_filter(key_arn: str) -> AuditFilter:
    """``PutKeyPolicy`` on the trail's own key: a rewritten key policy is the step before a disable or
    deletion (CloudWatch.7) that would leave the locked log files unreadable. Not a CIS control."""
    return AuditFilter(
        "AuditKeyPolicyChanges",
        "AuditTrail key",
        "The key policy of the audit trail's KMS key was changed.",
        '{($.eventSource=kms.amazonaws.com) && ($.eventName=PutKeyPolicy) && ($.resources[0].ARN="' + key_arn + '")}',
    )
"""Namespace of the filters' metrics (one metric per filter, named after its ``key``)."""


# SSM calls that change a parameter's value, or remove it. PutParameter is what could move a consumer;
# a deletion only makes its next deployment fail. DeleteParameters is matched on its first names.
ATTACH_POINT_WRITES = ("PutParameter", "DeleteParameter", "DeleteParameters", "LabelParameterVersion")
DELETE_PARAMETERS_NAMES_MATCHED = 5
# CloudWatch Logs: a metric filter pattern is at most 1024 characters.
MAX_PATTERN_CHARS = 1024


def attach_point_writes_filter(writer_role_arns: Sequence[str]) -> AuditFilter:
    """A change of an attach point (an SSM parameter under ``/log-constructs/``) by anyone but ``writer_role_arns``.

    Consumers take only names from those parameters, in their own account and service; this alarm says
    when someone other than the platform's deployment role wrote one (an IAM or SCP deny should make it
    impossible: see the README). Not a CIS control.
    """
    names = " || ".join([f'($.requestParameters.name = "{PARAMETER_PREFIX}/*")']
                        + [f'($.requestParameters.names[{i}] = "{PARAMETER_PREFIX}/*")' for i in range(DELETE_PARAMETERS_NAMES_MATCHED)])
    writers = "".join(f' && ($.userIdentity.sessionContext.sessionIssuer.arn != "{arn}")' for arn in writer_role_arns)
    return AuditFilter(
        "AttachPointWrites",
        "log_constructs attach points",
        f"An SSM parameter under {PARAMETER_PREFIX}/ was written or deleted by someone other than the platform's "
        "deployment role.",
        "{($.eventSource = ssm.amazonaws.com) && (" + _any_event(*ATTACH_POINT_WRITES) + f") && ({names}){writers}}}",
    )


def writer_arns(stack: Stack, roles: Optional[Sequence[IRole]]) -> list[str]:
    """The ARNs of ``roles``, or by default :func:`deployment_role_arns`."""
    return [role.role_arn for role in roles] if roles is not None else deployment_role_arns(stack)


def deployment_role_arns(stack: Stack) -> list[str]:
    """The CloudFormation execution role of the CDK bootstrap (``DefaultStackSynthesizer``) of ``stack``."""
    synthesizer = stack.synthesizer
    if not isinstance(synthesizer, DefaultStackSynthesizer):
        return []
    arn = synthesizer.cloud_formation_execution_role_arn
    for placeholder, value in (("${AWS::Partition}", stack.partition), ("${AWS::AccountId}", stack.account),
                               ("${AWS::Region}", stack.region)):
        arn = arn.replace(placeholder, value)
    return [arn]
