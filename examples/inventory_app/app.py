#!/usr/bin/env python3
"""A CDK app of an application team, in a repository of its own: it attaches to the logging platform
by name. Synthesize it with ``npx cdk synth`` from this folder (``cdk.json`` gives the account and
region as context, so synthesis needs no credentials; ``-c account=... -c region=...`` to change them);
deploy it after the platform, in the same account and region. ``from_name`` refuses a stack without
a concrete account and region."""
import os

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks, HIPAASecurityChecks, NIST80053R5Checks, PCIDSS321Checks, ServerlessChecks

from inventory_stack import InventoryStack

app = cdk.App()
InventoryStack(app, app.node.try_get_context("stack_name") or "Inventory",
               platform_name=app.node.try_get_context("platform_name") or "default",
               env=cdk.Environment(account=app.node.try_get_context("account") or os.environ.get("CDK_DEFAULT_ACCOUNT"),
                                   region=app.node.try_get_context("region") or os.environ.get("CDK_DEFAULT_REGION")),
               description="Inventory logging into the platform attached by name (log_constructs example)")
cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app), NIST80053R5Checks(app), HIPAASecurityChecks(app),
                                    PCIDSS321Checks(app), ServerlessChecks(app))
app.synth()
