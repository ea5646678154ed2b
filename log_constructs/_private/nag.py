"""Acknowledging cdk-nag findings on the narrowest construct, in the ``Pack::Rule`` form.

cdk-nag 3 is a validation plugin; a finding is acknowledged with ``Validations.of(c).acknowledge``.
The ``Pack::Rule`` form shows up in ``validation-report.json`` with its reason, the bare form vanishes.

checkov scans the synthesized templates as well; a check it shares with a cdk-nag rule
(``CHECKOV_EQUIVALENTS``) is skipped with the same reason, written into the template as
``Metadata.checkov.skip`` of each resource the acknowledgement covers, so one reason serves both.
"""
from __future__ import annotations

from typing import Iterable

from aws_cdk import Acknowledgment, CfnElement, CfnResource, IResource, Stack, Validations
from constructs import IConstruct

AWS_SOLUTIONS = "AwsSolutions"
NIST_800_53_R5 = "NIST.800.53.R5"
HIPAA_SECURITY = "HIPAA.Security"
PCI_DSS_321 = "PCI.DSS.321"
SERVERLESS = "Serverless"

# cdk-nag rule -> the checkov checks that test the same thing, with the resource type each applies to.
CHECKOV_EQUIVALENTS: dict[str, tuple[tuple[str, str], ...]] = {
    "LambdaDLQ": (("CKV_AWS_116", "AWS::Lambda::Function"),),
    "LambdaInsideVPC": (("CKV_AWS_117", "AWS::Lambda::Function"),),
    "LambdaConcurrency": (("CKV_AWS_115", "AWS::Lambda::Function"),),
    "S1": (("CKV_AWS_18", "AWS::S3::Bucket"),),
    "S3BucketLoggingEnabled": (("CKV_AWS_18", "AWS::S3::Bucket"),),
}


def _check_reason(reason: str, what: str) -> None:
    if len(reason.strip()) < 20:
        raise ValueError(f"acknowledgement of {what} needs a real reason, got {reason!r}")


def skip_checkov(construct: IConstruct, check_id: str, reason: str, *, resource_type: str | None = None) -> None:
    """Skip checkov's ``check_id`` (e.g. ``"CKV_AWS_117"``) with ``reason`` on the CloudFormation
    resources of ``construct`` (itself and its children), only those of ``resource_type`` if given.

    The skip is ``Metadata.checkov.skip: [{"id": ..., "comment": reason}]`` of each resource; a check
    already skipped on a resource keeps its first reason.

    :param construct: where to skip (itself and its children). Required
    :param check_id: checkov's check id. Required
    :param reason: why, at least 20 characters. Required
    :param resource_type: only resources of this CloudFormation type. Default: - every resource below ``construct``
    """
    _check_reason(reason, check_id)
    resources = [c for c in construct.node.find_all() if isinstance(c, CfnResource)
                 and (resource_type is None or c.cfn_resource_type == resource_type)]
    if not resources:
        raise ValueError(f"checkov skip {check_id}: {construct.node.path} holds no "
                         f"{resource_type or 'CloudFormation'} resource")
    for resource in resources:
        metadata = dict(resource.get_metadata("checkov") or {})
        skips = list(metadata.get("skip", []))
        if not any(skip.get("id") == check_id for skip in skips):
            skips.append({"id": check_id, "comment": reason})
        metadata["skip"] = skips
        resource.add_metadata("checkov", metadata)


def _skip_equivalents(construct: IConstruct, rule: str, reason: str) -> None:
    for check_id, resource_type in CHECKOV_EQUIVALENTS.get(rule, ()):
        if any(isinstance(c, CfnResource) and c.cfn_resource_type == resource_type
               for c in construct.node.find_all()):
            skip_checkov(construct, check_id, reason, resource_type=resource_type)


def acknowledge(
    construct: IConstruct,
    rule: str,
    reason: str,
    *,
    pack: str = AWS_SOLUTIONS,
    findings: Iterable[str] = (),
) -> None:
    """Acknowledge ``pack``'s ``rule`` (e.g. ``"S1"``) on ``construct`` and its children.

    ``findings`` narrows an acknowledgement to finding ids such as ``Resource::*`` (IAM5 style);
    each is acknowledged one by one. Where checkov has the same check (``CHECKOV_EQUIVALENTS``),
    it is skipped with the same reason on the resources of ``construct``.

    :param construct: the narrowest construct the finding is on (its children are covered too). Required
    :param rule: the rule's name in ``pack`` (``"L1"``, ``"LambdaInsideVPC"``). Required
    :param reason: why, at least 20 characters (``validation-report.json`` lists it). Required
    :param pack: the pack (``AWS_SOLUTIONS``, ``NIST_800_53_R5``, ``HIPAA_SECURITY``, ``PCI_DSS_321``,
        ``SERVERLESS``). Default: ``AWS_SOLUTIONS``
    :param findings: finding ids to acknowledge one by one (:func:`arn_of`, :func:`resource_finding`).
        Default: - the whole rule
    """
    _check_reason(reason, f"{pack}-{rule}")
    base = f"{pack}::{pack}-{rule}"
    ids = [f"{base}[{finding}]" for finding in findings] or [base]
    for ack_id in ids:
        Validations.of(construct).acknowledge(Acknowledgment(id=ack_id, reason=reason))
    if not findings:
        _skip_equivalents(construct, rule, reason)


def acknowledge_all(construct: IConstruct, rules: dict[str, str], *, reason: str) -> None:
    """Acknowledge the same finding in several packs.

    :param construct: the narrowest construct the finding is on. Required
    :param rules: pack -> rule name (``{NIST_800_53_R5: "LambdaConcurrency", HIPAA_SECURITY: "LambdaConcurrency"}``). Required
    :param reason: why, at least 20 characters. Required
    """
    for pack, rule in rules.items():
        acknowledge(construct, rule, reason, pack=pack)


def _render(value: object) -> str:
    """A resolved CloudFormation value as cdk-nag writes it in finding ids (``<Ref>``, ``<Id.Attr>``)."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and len(value) == 1:
        (fn, arg), = value.items()
        if fn == "Ref":
            return f"<{arg}>"
        if fn == "Fn::GetAtt":
            return f"<{arg[0]}.{arg[1]}>"
        if fn == "Fn::Join":
            separator, parts = arg
            return separator.join(_render(part) for part in parts)
    raise ValueError(f"cannot render {value!r} as a cdk-nag finding id")


def resource_finding(scope: IConstruct, arn: str) -> str:
    """The IAM5 finding id for a wildcard resource ``arn`` (a string that may hold tokens).

    :param scope: a construct of the stack the ARN is written in. Required
    :param arn: the policy statement's resource. Required
    """
    return f"Resource::{_render(Stack.of(scope).resolve(arn))}"


def arn_of(resource: IResource | IConstruct, suffix: str = "") -> str:
    """The IAM5 finding id cdk-nag gives ``<LogicalId.Arn>suffix`` for a resource's ARN
    (``compliance.arn_finding``).

    :param resource: the resource whose ARN the statement names. Required
    :param suffix: what follows the ARN (``":*"``, ``"/*"``). Default: ``""``
    """
    cfn = resource.node.default_child if resource.node.default_child is not None else resource
    assert isinstance(cfn, CfnElement)
    stack = Stack.of(cfn)
    logical_id = stack.resolve(stack.get_logical_id(cfn))
    return f"Resource::<{logical_id}.Arn>{suffix}"


def acknowledge_no_rotation(secret: IConstruct, reason: str) -> None:
    """Acknowledge, in every pack that checks it, that ``secret`` has no rotation function (and why)."""
    acknowledge(secret, "SMG4", reason)
    acknowledge_all(secret, {NIST_800_53_R5: "SecretsManagerRotationEnabled",
                             HIPAA_SECURITY: "SecretsManagerRotationEnabled"}, reason=reason)
