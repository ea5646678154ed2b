"""The example app (platform and application stacks, with cdk.json's context) for tests that walk templates."""
from __future__ import annotations

import json
from pathlib import Path

import aws_cdk as cdk

from examples.inventory_app.inventory_stack import InventoryStack
from stacks.application import ShopStack
from stacks.platform import PlatformStack

ROOT = Path(__file__).resolve().parents[2]
CONTEXT = json.loads((ROOT / "cdk.json").read_text())["context"]
ACCOUNT, REGION = "111122223333", "eu-west-1"
ENV = cdk.Environment(account=ACCOUNT, region=REGION)


def example_app() -> tuple[cdk.App, list[cdk.Stack]]:
    """A new App holding the example app's platform and shop stacks."""
    app = cdk.App(context=CONTEXT)
    settings = CONTEXT["log-platform"]
    platform = PlatformStack(app, "Platform", settings=settings, env=ENV)
    shop = ShopStack(app, "Shop", settings=settings.get("application", {}), ship_to=platform.pipeline,
                     alerts=platform.alerts, env=ENV)
    inventory = InventoryStack(app, "Inventory", platform_name=settings["pipeline"]["name"], env=ENV)
    inventory.add_stack_dependency(platform, "reads the platform's attach points")
    return app, [platform, shop, inventory]
