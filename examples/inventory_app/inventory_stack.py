"""An application team's stack in a CDK app of its own: it attaches to the platform by name.

Nothing here refers to the platform's code or stacks: ``LogPipeline.from_name`` and
``LogAlerts.from_name`` read the SSM parameters the platform published (``name="default"``) when
this stack deploys, in the same account and region, after the platform.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from log_constructs import (LAMBDA_ARCHITECTURE, LAMBDA_RUNTIME, ApplicationLogging, LogAlerts, LoggingDashboard,
                            LogPipeline, compliance)
from log_constructs.compliance import encryption_key, invoked_synchronously, managed_policy_role

CODE = Path(__file__).resolve().parent / "inventory_code"


class InventoryStack(cdk.Stack):
    """One function logging through ApplicationLogging into the platform published as ``platform_name``."""

    def __init__(self, scope: Construct, id: str, *, platform_name: str = "default", **kwargs: Any) -> None:
        super().__init__(scope, id, **kwargs)
        pipeline = LogPipeline.from_name(self, "Pipeline", name=platform_name)
        alerts = LogAlerts.from_name(self, "Alerts", name=platform_name)
        key = encryption_key(self, "Key", description="Encrypts the inventory function's environment")
        role = managed_policy_role(self, "CheckStockRole", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
                                   description="Execution role of the inventory's stock check")
        self.function = lambda_.Function(
            self, "CheckStock", role=role, runtime=LAMBDA_RUNTIME, architecture=LAMBDA_ARCHITECTURE,
            handler="inventory.handler", code=lambda_.Code.from_asset(str(CODE), exclude=["**/__pycache__"]),
            description="Inventory: logs every stock check, [CRITICAL] when a SKU runs out",
            timeout=cdk.Duration.seconds(10), memory_size=256, environment_encryption=key,
            # logship.FirehoseHandler(stream_name=...) could put records straight into the pipeline:
            environment={"LOG_DELIVERY_STREAM": pipeline.delivery_stream_name})
        key.grant(self.function, "kms:Decrypt")
        pipeline.grant_put_records(self.function)
        invoked_synchronously(self.function, by="the person running the demo (aws lambda invoke)")
        compliance.acknowledge_function(
            self.function,
            runtime="Pinned to Python 3.13 like log_constructs' functions: the runtime our tests cover.",
            outside_vpc="The stock check calls only CloudWatch and Firehose over TLS with SigV4; it reaches nothing "
                        "inside a VPC.",
            unreserved_concurrency="No reserved concurrency: a reservation can fail a new account's first deploy "
                                   "(Lambda keeps the unreserved concurrency at its minimum; see log_constructs' "
                                   "docs/deploy.md).")
        self.logging = ApplicationLogging(self, "InventoryLogging", application_name="inventory",
                                          functions=[self.function], ship_to=pipeline, alerts=alerts)
        # The application's own dashboard, in its own stack; the platform's shows it through search.
        self.dashboard = LoggingDashboard(self, "Dashboard", sources=[self.logging], applications_overview=False)
