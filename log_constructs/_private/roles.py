"""IAM roles whose permissions live in one customer-managed policy instead of an inline policy.

NIST 800-53 rev 5, HIPAA Security and PCI DSS 3.2.1 (cdk-nag ``IAMNoInlinePolicy``, AWS Config
``iam-no-inline-policy-check``) want no inline policies: a customer-managed policy is versioned by IAM
(a change can be rolled back to the previous version), listed and auditable on its own. aws-cdk-lib puts
every grant into a role's inline ``DefaultPolicy``; :class:`LibraryRole` collects them into one
``AWS::IAM::ManagedPolicy`` attached to that role only, so ``grant_*`` calls keep working unchanged.
The policy is a child of the role, so everything that depends on the role (a function, a
delivery stream) also waits for its permissions.

Limits: a managed policy holds at most 6,144 characters (an inline policy 10,240); a role of this
library needs far less (the ``@aws-cdk/aws-iam:minimizePolicies`` flag merges statements).
"""
from __future__ import annotations

from typing import Any, Optional

from aws_cdk import aws_iam as iam
from constructs import Construct

POLICY_ID = "Policy"


class LibraryRole(iam.Role):
    """An ``iam.Role`` whose statements go into one customer-managed policy (child ``Policy``)."""

    def __init__(self, scope: Construct, id: str, *, assumed_by: iam.IPrincipal,
                 description: Optional[str] = None, **role_props: Any) -> None:
        """``role_props``: any other ``iam.Role`` prop (``max_session_duration``, ...)."""
        super().__init__(scope, id, assumed_by=assumed_by, description=description, **role_props)
        self._managed_policy: Optional[iam.ManagedPolicy] = None

    @property
    def managed_policy(self) -> iam.ManagedPolicy:
        """The role's customer-managed policy (created with the first statement)."""
        if self._managed_policy is None:
            self._managed_policy = iam.ManagedPolicy(
                self, POLICY_ID, roles=[self], description=f"Permissions of {self.node.path}"[:1000]
            )
        return self._managed_policy

    def add_to_principal_policy(self, statement: iam.PolicyStatement) -> iam.AddToPrincipalPolicyResult:
        # Called by every grant (aws-cdk-lib calls back into this override through jsii).
        self.managed_policy.add_statements(statement)
        return iam.AddToPrincipalPolicyResult(statement_added=True, policy_dependable=self.managed_policy)

    def add_to_policy(self, statement: iam.PolicyStatement) -> bool:
        return self.add_to_principal_policy(statement).statement_added


def library_role(scope: Construct, id: str, *, assumed_by: iam.IPrincipal, description: str,
                 **role_props: Any) -> LibraryRole:
    """A role for ``assumed_by`` with its permissions in a customer-managed policy."""
    return LibraryRole(scope, id, assumed_by=assumed_by, description=description, **role_props)
