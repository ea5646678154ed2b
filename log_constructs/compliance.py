"""Compliance for your own resources: the secure building blocks and cdk-nag acknowledgements.

The library's constructs pass the five cdk-nag packs (AwsSolutions, NIST 800-53 R5, HIPAA Security,
PCI DSS 3.2.1, Serverless) on their own. A function of yours next to them passes with what the
library itself uses::

    from log_constructs import LAMBDA_ARCHITECTURE, LAMBDA_RUNTIME, ApplicationLogging, compliance

    key = compliance.encryption_key(stack, "Key", description="Encrypts the orders function's environment")
    role = compliance.managed_policy_role(stack, "OrdersRole", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
                                          description="Execution role of the orders function")
    fn = lambda_.Function(stack, "Orders", role=role, runtime=LAMBDA_RUNTIME, architecture=LAMBDA_ARCHITECTURE,
                          environment_encryption=key, ...)
    key.grant(fn, "kms:Decrypt")
    compliance.invoked_synchronously(fn, by="the API gateway")       # or send_failures_to(fn, queue)
    compliance.acknowledge_function(fn, runtime="...", outside_vpc="...", unreserved_concurrency="...")
    ApplicationLogging(stack, "Logging", functions=[fn], ship_to=pipeline)  # JSON logs, tracing, its log group

cdk-nag 3 is a validation plugin: a finding is acknowledged with ``cdk.Validations.of(c).acknowledge``.
:func:`acknowledge` writes the ``Pack::Rule`` form (listed with its reason in
``validation-report.json``; the bare form vanishes silently) on the narrowest construct you give it,
and skips checkov's matching check with the same reason in the template (:func:`skip_checkov` for a
checkov check without a cdk-nag rule)::

    compliance.acknowledge(fn.role, "IAM5", "Invokes the payments function and its versions.",
                           findings=[compliance.arn_finding(payments, ":*")])
"""
from __future__ import annotations

from typing import Optional

from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from ._private.failures import invoked_synchronously, send_failures_to
from ._private.keys import new_key
from ._private.nag import (
    AWS_SOLUTIONS,
    HIPAA_SECURITY,
    NIST_800_53_R5,
    PCI_DSS_321,
    SERVERLESS,
    acknowledge,
    acknowledge_all,
    resource_finding,
    skip_checkov,
)
from ._private.nag import arn_of as arn_finding
from ._private.queues import dead_letter_queue
from ._private.roles import LibraryRole
from ._private.topics import alarm_topic

# The rules a plain Lambda function meets in the five packs, by what the acknowledgement is about.
RUNTIME_RULES = {AWS_SOLUTIONS: "L1", SERVERLESS: "LambdaLatestVersion"}
OUTSIDE_VPC_RULES = {NIST_800_53_R5: "LambdaInsideVPC", HIPAA_SECURITY: "LambdaInsideVPC",
                     PCI_DSS_321: "LambdaInsideVPC"}
UNRESERVED_CONCURRENCY_RULES = {NIST_800_53_R5: "LambdaConcurrency", HIPAA_SECURITY: "LambdaConcurrency"}


def encryption_key(scope: Construct, id: str, *, description: str) -> kms.Key:
    """A symmetric KMS key with yearly rotation, retained when the stack is deleted (for a function's
    environment, a queue, a topic).

    :param scope: the construct to create the key in. Required
    :param id: its construct id. Required
    :param description: the key's description (what it encrypts). Required
    """
    return new_key(scope, id, description=description)


def managed_policy_role(scope: Construct, id: str, *, assumed_by: iam.IPrincipal, description: str) -> iam.Role:
    """A role whose grants all go into one customer-managed policy: no inline policy (NIST, HIPAA and
    PCI's ``IAMNoInlinePolicy``), and the function waits for its permissions.

    :param scope: the construct to create the role in. Required
    :param id: its construct id. Required
    :param assumed_by: who assumes it (``iam.ServicePrincipal("lambda.amazonaws.com")`` for a function). Required
    :param description: the role's description. Required
    """
    return LibraryRole(scope, id, assumed_by=assumed_by, description=description)


def acknowledge_function(function: lambda_.IFunction, *, runtime: Optional[str] = None,
                         outside_vpc: Optional[str] = None, unreserved_concurrency: Optional[str] = None) -> None:
    """Acknowledge, in every pack that checks it, the findings a plain function meets by design,
    each with your reason (at least 20 characters; written into ``validation-report.json``).

    :param function: the function (the narrowest construct: nothing else is acknowledged). Required
    :param runtime: why the function is pinned to its runtime rather than the latest
        (AwsSolutions ``L1``, Serverless ``LambdaLatestVersion``). Default: - not acknowledged
    :param outside_vpc: why it runs outside a VPC (NIST, HIPAA, PCI ``LambdaInsideVPC``).
        Default: - not acknowledged
    :param unreserved_concurrency: why it reserves no concurrency (NIST, HIPAA ``LambdaConcurrency``).
        Default: - not acknowledged

    A failed asynchronous invocation is another finding (``LambdaDLQ``): answer it with
    :func:`send_failures_to` or :func:`invoked_synchronously`.
    """
    for reason, rules in ((runtime, RUNTIME_RULES), (outside_vpc, OUTSIDE_VPC_RULES),
                          (unreserved_concurrency, UNRESERVED_CONCURRENCY_RULES)):
        if reason is not None:
            acknowledge_all(function, rules, reason=reason)


__all__ = [
    "AWS_SOLUTIONS",
    "HIPAA_SECURITY",
    "NIST_800_53_R5",
    "PCI_DSS_321",
    "SERVERLESS",
    "acknowledge",
    "acknowledge_all",
    "acknowledge_function",
    "alarm_topic",
    "arn_finding",
    "dead_letter_queue",
    "encryption_key",
    "invoked_synchronously",
    "managed_policy_role",
    "resource_finding",
    "send_failures_to",
    "skip_checkov",
]
