#!/usr/bin/env python3
"""Example CDK app: a platform stack and two application stacks, gated by five cdk-nag packs.

Dependencies run one way, application → platform: ``DemoShop`` gets the platform's constructs as
objects, ``Inventory`` attaches by name (``LogPipeline.from_name``), as a stack of another CDK app
would (it is also ``examples/inventory_app``, an app of its own).

Settings come from the `log-platform` context in cdk.json; it only holds what differs from the
constructs' defaults (`npx cdk synth -c log-platform='{...}'` or edit cdk.json).
"""
import aws_cdk as cdk
from cdk_nag import (
    AwsSolutionsChecks,
    HIPAASecurityChecks,
    NIST80053R5Checks,
    PCIDSS321Checks,
    ServerlessChecks,
)

from log_constructs import RegionalLogDestination
from examples.inventory_app.inventory_stack import InventoryStack
from stacks.application import ShopStack
from stacks.member import MemberForwarderStack, MemberStackSetStack
from stacks.platform import PlatformStack

app = cdk.App()
settings = app.node.try_get_context("log-platform") or {}

# --- Organization, central side: the platform lives in the central account and region; every other
# source region gets a stack of the central account holding that region's destination (ARNs from names).
organization = app.node.try_get_context("organization") or {}
central_env = (cdk.Environment(account=organization["central_account"], region=organization["central_region"])
               if organization else None)
for source_region in organization.get("source_regions", []):
    if source_region == organization["central_region"]:
        continue  # the pipeline creates its own region's destination
    destination_stack = cdk.Stack(
        app, f"LoggingDestination-{source_region}",
        env=cdk.Environment(account=organization["central_account"], region=source_region),
        description=f"CloudWatch Logs destination of {source_region} into the central pipeline (log_constructs example)",
    )
    RegionalLogDestination(destination_stack, "Destination", central_account=organization["central_account"],
                           central_region=organization["central_region"],
                           organization_id=organization["organization_id"],
                           destination_name=organization["destination_name"])
# --- end of the organization's central side

platform = PlatformStack(
    app,
    settings.get("stack_name", "LoggingPlatform"),
    settings=settings,
    organization=organization,
    env=central_env,
    description="Serverless logging platform: EKK pipeline, alerts, governor, audit trail (log_constructs example)",
)
ShopStack(
    app,
    settings.get("application_stack_name", "DemoShop"),
    settings=settings.get("application", {}),
    ship_to=platform.pipeline,
    alerts=platform.alerts,
    env=central_env,
    description="Demo shop logging through ApplicationLogging into the platform (log_constructs example)",
)
inventory = InventoryStack(
    app,
    settings.get("inventory_stack_name", "Inventory"),
    platform_name=settings.get("pipeline", {}).get("name", "default"),
    env=central_env,
    description="Inventory attached to the platform by name, as another CDK app would (log_constructs example)",
)
# By name, nothing tells CDK the order: in one app, say it (in another app, deploy the platform first).
inventory.add_stack_dependency(platform, "reads the platform's attach points (SSM parameters)")
# --- Organization, member side: one plain LogForwarder stack (the first member account, the central
# region) and the StackSet that puts the same forwarder in every member account and source region.
organization = app.node.try_get_context("organization")
if organization:
    MemberForwarderStack(
        app, "LogForwarderMember",
        organization=organization,
        env=cdk.Environment(account=organization["member_accounts"][0], region=organization["central_region"]),
        description="A member account forwarding its log groups to the central destination (log_constructs example)",
    )
    MemberStackSetStack(
        app, "LogForwarderStackSet",
        organization=organization,
        env=cdk.Environment(account=organization["central_account"], region=organization["central_region"]),
        description="LogForwarder in every member account and region through a StackSet (log_constructs example)",
    )
# --- end of the organization member side.
# Every finding is fixed in the constructs or acknowledged on the narrowest construct with a reason
# (docs/compliance.md).
cdk.Validations.of(app).add_plugins(
    AwsSolutionsChecks(app),
    NIST80053R5Checks(app),
    HIPAASecurityChecks(app),
    PCIDSS321Checks(app),
    ServerlessChecks(app),
)
app.synth()
