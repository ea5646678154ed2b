"""The secure building blocks the constructs use, for your own resources next to them.

Each is what the library itself uses: a KMS key with rotation, a dead-letter queue, an alarm topic
CloudWatch may publish to, a role whose permissions live in one customer-managed policy, and one
way to keep a function's failed asynchronous invocations.
"""
from __future__ import annotations

from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from ._private.failures import invoked_synchronously, send_failures_to
from ._private.keys import new_key
from ._private.queues import dead_letter_queue
from ._private.roles import LibraryRole
from ._private.topics import alarm_topic


def encryption_key(scope: Construct, id: str, *, description: str) -> kms.Key:
    """A symmetric KMS key with yearly rotation, retained when the stack is deleted."""
    return new_key(scope, id, description=description)


def managed_policy_role(scope: Construct, id: str, *, assumed_by: iam.IPrincipal, description: str) -> iam.Role:
    """A role whose grants go into one customer-managed policy (no inline policy, as NIST/HIPAA/PCI ask)."""
    return LibraryRole(scope, id, assumed_by=assumed_by, description=description)


__all__ = ["alarm_topic", "dead_letter_queue", "encryption_key", "invoked_synchronously", "managed_policy_role",
           "send_failures_to"]
