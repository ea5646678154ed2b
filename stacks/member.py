"""Member accounts: a LogForwarder in one account and region, and the same template for a whole
organization through a service-managed CloudFormation StackSet.

Member and central side meet only through the destination ARN, built from names
(``arn:aws:logs:<region>:<central account>:destination:<destination name>``).
"""
from __future__ import annotations

import json
from typing import Any, Mapping, Optional

import aws_cdk as cdk
from aws_cdk import aws_cloudformation as cloudformation
from constructs import Construct

from log_constructs import LogForwarder


class MemberForwarderStack(cdk.Stack):
    """One member account and region: every log group forwarded to the central destination of the region.

    Env-agnostic (no ``env``) it is the StackSet's template: the ARN then names ``${AWS::Region}``.
    """

    def __init__(self, scope: Construct, id: str, *, organization: Mapping[str, Any], **kwargs: Any) -> None:
        super().__init__(scope, id, **kwargs)
        self.forwarder = LogForwarder.to_central(
            self, "Forwarder", central_account=organization["central_account"],
            destination_name=organization.get("destination_name"),
            exclude_log_groups=organization.get("exclude_log_groups"))


def member_template(organization: Mapping[str, Any]) -> dict[str, Any]:
    """The member stack's template, synthesized in an App of its own: env-agnostic, no assets, no
    bootstrap version check (member accounts need not be CDK-bootstrapped)."""
    app = cdk.App(analytics_reporting=False)
    stack = MemberForwarderStack(
        app, "LogForwarder", organization=organization,
        synthesizer=cdk.DefaultStackSynthesizer(generate_bootstrap_version_rule=False),
        description="Forwards this account's log groups to the central logging destination of the region")
    template = app.synth().get_stack_by_name(stack.stack_name).template
    return template


class MemberStackSetStack(cdk.Stack):
    """The organization-wide deployment: a service-managed StackSet from the central (delegated
    administrator) account, auto-deployed to every account of the OUs (new ones included) in every
    source region, the central account left out (its own logs never loop through its pipeline)."""

    def __init__(self, scope: Construct, id: str, *, organization: Mapping[str, Any],
                 stack_set_name: Optional[str] = None, **kwargs: Any) -> None:
        super().__init__(scope, id, **kwargs)
        template = member_template(organization)
        self.stack_set = cloudformation.CfnStackSet(
            self, "MemberForwarders",
            stack_set_name=stack_set_name or "log-constructs-member-forwarders",
            description="LogForwarder in every member account and source region (log_constructs example)",
            permission_model="SERVICE_MANAGED",
            call_as="DELEGATED_ADMIN",
            auto_deployment=cloudformation.CfnStackSet.AutoDeploymentProperty(
                enabled=True, retain_stacks_on_account_removal=False),
            managed_execution={"Active": True},
            capabilities=["CAPABILITY_IAM"],
            operation_preferences=cloudformation.CfnStackSet.OperationPreferencesProperty(
                region_concurrency_type="PARALLEL", max_concurrent_percentage=25, failure_tolerance_percentage=10),
            stack_instances_group=[cloudformation.CfnStackSet.StackInstancesProperty(
                regions=list(organization["source_regions"]),
                deployment_targets=cloudformation.CfnStackSet.DeploymentTargetsProperty(
                    organizational_unit_ids=list(organization["organizational_unit_ids"]),
                    accounts=[organization["central_account"]],
                    account_filter_type="DIFFERENCE"),
            )],
            template_body=json.dumps(template, separators=(",", ":")),
        )
