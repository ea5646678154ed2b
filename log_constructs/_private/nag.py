"""Acknowledging cdk-nag findings on the narrowest construct, in the ``Pack::Rule`` form.

cdk-nag 3 is a validation plugin; a finding is acknowledged with ``Validations.of(c).acknowledge``.
The ``Pack::Rule`` form shows up in ``validation-report.json`` with its reason, the bare form vanishes.
"""
from __future__ import annotations

from typing import Iterable

from aws_cdk import Acknowledgment, CfnElement, IResource, Stack, Validations
from constructs import IConstruct

AWS_SOLUTIONS = "AwsSolutions"
NIST_800_53_R5 = "NIST.800.53.R5"
HIPAA_SECURITY = "HIPAA.Security"
PCI_DSS_321 = "PCI.DSS.321"
SERVERLESS = "Serverless"


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
    each is acknowledged one by one.
    """
    if len(reason.strip()) < 20:
        raise ValueError(f"acknowledgement of {pack}-{rule} needs a real reason, got {reason!r}")
    base = f"{pack}::{pack}-{rule}"
    ids = [f"{base}[{finding}]" for finding in findings] or [base]
    for ack_id in ids:
        Validations.of(construct).acknowledge(Acknowledgment(id=ack_id, reason=reason))


def acknowledge_all(construct: IConstruct, rules: dict[str, str], *, reason: str) -> None:
    """Acknowledge the same finding in several packs: ``rules`` maps pack -> rule name."""
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
    """The IAM5 finding id for a wildcard resource ``arn`` (a string that may hold tokens)."""
    return f"Resource::{_render(Stack.of(scope).resolve(arn))}"


def arn_of(resource: IResource | IConstruct, suffix: str = "") -> str:
    """The IAM5 finding id cdk-nag gives ``<LogicalId.Arn>suffix`` for a resource's ARN."""
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
