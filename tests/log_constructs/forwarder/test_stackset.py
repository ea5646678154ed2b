"""The organization-wide deployment of the example app: a service-managed StackSet whose inline
template is the member stack's."""
from __future__ import annotations

import json
from typing import Any

import aws_cdk as cdk
from aws_cdk.assertions import Template

from stacks.member import MemberForwarderStack, MemberStackSetStack, member_template

ORGANIZATION = {"central_account": "111111111111", "central_region": "eu-west-1",
                "source_regions": ["eu-west-1", "us-east-1"], "organization_id": "o-a1b2c3d4e5",
                "organizational_unit_ids": ["ou-ab12-34cd56ef"], "member_accounts": ["222222222222", "333333333333"],
                "destination_name": "log-constructs-central"}
CENTRAL = cdk.Environment(account="111111111111", region="eu-west-1")


def stack_set() -> dict[str, Any]:
    stack = MemberStackSetStack(cdk.App(), "StackSet", organization=ORGANIZATION, env=CENTRAL)
    (resource,) = Template.from_stack(stack).find_resources("AWS::CloudFormation::StackSet").values()
    return resource["Properties"]


def test_the_stack_set_is_service_managed_auto_deployed_to_the_ous_in_every_source_region():
    # GIVEN the organization context WHEN the StackSet stack is synthesized
    props = stack_set()
    # THEN service-managed from the delegated administrator, new accounts of the OUs included
    assert props["PermissionModel"] == "SERVICE_MANAGED" and props["CallAs"] == "DELEGATED_ADMIN"
    assert props["AutoDeployment"] == {"Enabled": True, "RetainStacksOnAccountRemoval": False}
    assert props["Capabilities"] == ["CAPABILITY_IAM"]
    (group,) = props["StackInstancesGroup"]
    assert group["Regions"] == ["eu-west-1", "us-east-1"]
    # AND every account of the OUs but the central one (its pipeline's logs would loop)
    assert group["DeploymentTargets"] == {"OrganizationalUnitIds": ["ou-ab12-34cd56ef"],
                                          "Accounts": ["111111111111"], "AccountFilterType": "DIFFERENCE"}


def test_the_inline_template_is_the_member_template_for_every_region_without_assets_or_bootstrap():
    # GIVEN the StackSet's inline template
    body = json.loads(stack_set()["TemplateBody"])
    # THEN it is the member stack's template, whose destination ARN names ${AWS::Region}
    assert body == member_template(ORGANIZATION)
    (policy,) = [r for r in body["Resources"].values() if r["Type"] == "AWS::Logs::AccountPolicy"]
    document = json.dumps(policy["Properties"]["PolicyDocument"])
    assert '{"Ref": "AWS::Region"}' in document and "111111111111:destination:log-constructs-central" in document
    # AND nothing a member account without CDK bootstrap cannot deploy
    assert "Rules" not in body and "BootstrapVersion" not in body.get("Parameters", {})
    assert not [r for r in body["Resources"].values() if r["Type"] in ("AWS::Lambda::Function", "AWS::CDK::Metadata")]
    assert len(json.dumps(body, separators=(",", ":"))) < 51_200  # CloudFormation's TemplateBody limit


def test_the_plain_member_stack_forwards_its_region_to_the_central_destination_there():
    stack = MemberForwarderStack(cdk.App(), "Member", organization=ORGANIZATION,
                                 env=cdk.Environment(account="222222222222", region="us-east-1"))
    (policy,) = Template.from_stack(stack).find_resources("AWS::Logs::AccountPolicy").values()
    document = json.dumps(stack.resolve(policy["Properties"]["PolicyDocument"]))
    assert ":logs:us-east-1:111111111111:destination:log-constructs-central" in document
