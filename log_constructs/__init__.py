"""AWS CDK constructs for serverless logging on AWS.

Only the public constructs are exported here; everything under ``_private`` is internal.
"""
from .audit import AuditTrail
from .pipeline import LogPipeline

__all__ = [
    "AuditTrail",
    "LogPipeline",
]
