"""AWS CDK constructs for serverless logging on AWS.

Only the public constructs are exported here; everything under ``_private`` is internal.
"""
from .audit import AuditTrail

__all__: list[str] = ["AuditTrail"]
