"""cdk-nag acknowledgements for your own resources.

cdk-nag 3 is a validation plugin: a finding is acknowledged with ``cdk.Validations.of(c).acknowledge``.
:func:`acknowledge` writes the ``Pack::Rule`` form (listed with its reason in
``validation-report.json``; the bare form vanishes silently) on the narrowest construct you give it,
and skips checkov's matching check with the same reason in the template (:func:`skip_checkov` for a
checkov check without a cdk-nag rule)::

    from log_constructs import compliance
    compliance.acknowledge(fn, "L1", "Pinned to Python 3.13, the runtime our tests cover.")
    compliance.acknowledge(fn.role, "IAM5", "Invokes the payments function and its versions.",
                           findings=[compliance.arn_finding(payments, ":*")])
"""
from __future__ import annotations

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

__all__ = [
    "AWS_SOLUTIONS",
    "HIPAA_SECURITY",
    "NIST_800_53_R5",
    "PCI_DSS_321",
    "SERVERLESS",
    "acknowledge",
    "acknowledge_all",
    "arn_finding",
    "resource_finding",
    "skip_checkov",
]
