"""AWS CDK constructs for serverless logging on AWS.

Only the public constructs are exported here; everything under ``_private`` is internal.
"""
__all__: list[str] = []
