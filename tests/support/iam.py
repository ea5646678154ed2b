"""IAM helpers for construct tests: a role's statements wherever aws-cdk-lib or the library put them."""
from __future__ import annotations

from aws_cdk.assertions import Template

# Library roles keep their permissions in one customer-managed policy (log_constructs._private.roles);
# roles of aws-cdk-lib and of users keep them in an inline AWS::IAM::Policy.
POLICY_TYPES = ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy")


def role_statements(template: Template, role_logical_prefix: str) -> list[dict]:
    """Every policy statement attached to the roles whose logical id starts with ``role_logical_prefix``."""
    return [
        statement
        for policy_type in POLICY_TYPES
        for policy in template.find_resources(policy_type).values()
        if any(role.get("Ref", "").startswith(role_logical_prefix) for role in policy["Properties"].get("Roles", []))
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]
