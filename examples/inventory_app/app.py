#!/usr/bin/env python3
"""A CDK app of an application team, in a repository of its own: it attaches to the logging platform
by name. Synthesize it with ``npx cdk synth --app "python3 app.py"`` from this folder (or
``python3 app.py``); deploy it after the platform, in the same account and region."""
import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks, HIPAASecurityChecks, NIST80053R5Checks, PCIDSS321Checks, ServerlessChecks

from inventory_stack import InventoryStack

app = cdk.App()
InventoryStack(app, app.node.try_get_context("stack_name") or "Inventory",
               platform_name=app.node.try_get_context("platform_name") or "default",
               description="Inventory logging into the platform attached by name (log_constructs example)")
cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app), NIST80053R5Checks(app), HIPAASecurityChecks(app),
                                    PCIDSS321Checks(app), ServerlessChecks(app))
app.synth()
