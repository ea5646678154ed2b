"""removal_policy: the library retains data by default; a construct's prop changes all of its data resources."""
from __future__ import annotations

import aws_cdk as cdk
from aws_cdk.assertions import Template
from constructs import Construct

from log_constructs import ApplicationLogging, LogAlerts, LogGroupGovernor, LogPipeline
from log_constructs._private.removal import DATA_RESOURCE_TYPES


def _policies(stack: cdk.Stack, construct: Construct) -> dict[str, str]:
    """DeletionPolicy of every data resource below ``construct``, by logical id."""
    resources = Template.from_stack(stack).to_json()["Resources"]
    ids = [stack.resolve(stack.get_logical_id(node)) for node in construct.node.find_all()
           if isinstance(node, cdk.CfnResource) and node.cfn_resource_type in DATA_RESOURCE_TYPES]
    return {logical_id: resources[logical_id].get("DeletionPolicy", "Delete") for logical_id in ids}


def test_data_is_retained_by_default_and_destroyed_when_asked() -> None:
    # GIVEN the constructs with default settings and the same constructs asking for DESTROY
    app = cdk.App()
    kept, dropped = cdk.Stack(app, "Kept"), cdk.Stack(app, "Dropped")
    built = {}
    for stack, policy in ((kept, None), (dropped, cdk.RemovalPolicy.DESTROY)):
        built[stack] = [LogPipeline(stack, "Logs", removal_policy=policy),
                        LogAlerts(stack, "Alerts", removal_policy=policy),
                        LogGroupGovernor(stack, "Governor", removal_policy=policy),
                        ApplicationLogging(stack, "App", application_name="shop", removal_policy=policy)]
    for stack, expected in ((kept, "Retain"), (dropped, "Delete")):
        for construct in built[stack]:
            policies = _policies(stack, construct)
            # THEN every data resource of each construct has that policy
            assert policies and set(policies.values()) == {expected}, (stack.stack_name, construct.node.id, policies)
