"""Functions in a VPC: their own roles carry the network-interface permissions Lambda needs to attach them.

aws-cdk-lib attaches AWSLambdaVPCAccessExecutionRole only to a role it creates itself; the library
passes its own role, so without these statements a ``vpc=`` pipeline cannot deploy (CreateFunction:
"The provided execution role does not have permissions to call CreateNetworkInterface on EC2")."""
from __future__ import annotations

import json
import re

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2
from aws_cdk.assertions import Template

from log_constructs import LogPipeline
from log_constructs._private.functions import ENI_ACTIONS
from log_constructs.pipeline.serverless import ServerlessSink
from tests.support.iam import role_statements

ENV = cdk.Environment(account="111122223333", region="eu-west-1")
ACKNOWLEDGED = "aws:cdk:acknowledged-rules"


def _pipeline(**props) -> tuple[cdk.Stack, Template]:
    stack = cdk.Stack(cdk.App(), "InVpc", env=ENV)
    LogPipeline(stack, "Logs", vpc=ec2.Vpc(stack, "Vpc", max_azs=2), **props)
    return stack, Template.from_stack(stack)


@pytest.fixture(scope="module", params=["firehose", "bulk", "serverless"])
def in_vpc(request) -> tuple[cdk.Stack, Template]:
    if request.param == "serverless":
        return _pipeline(sink=ServerlessSink())
    return _pipeline(delivery_mode=request.param)


def _functions_in_vpc(template: Template) -> dict[str, dict]:
    return {name: f for name, f in template.find_resources("AWS::Lambda::Function").items()
            if "VpcConfig" in f["Properties"]}


def _role_prefix(function: dict) -> str:
    return function["Properties"]["Role"]["Fn::GetAtt"][0]


def test_every_function_in_the_vpc_may_attach_itself(in_vpc):
    _, template = in_vpc
    functions = _functions_in_vpc(template)
    handlers = {f["Properties"]["Handler"] for f in functions.values()}
    assert "opensearch_setup.handler.handler" in handlers  # the set-up function, beside the domain or collection
    if "log_shipper.handler.handler" in handlers:
        assert len(functions) == 2  # bulk mode: the shipper reaches the domain from inside
    for function in functions.values():
        props = function["Properties"]
        statements = {s.get("Sid"): s for s in role_statements(template, _role_prefix(function))}
        granted = {a for s in statements.values() for a in ([s["Action"]] if isinstance(s["Action"], str)
                                                            else s["Action"])}
        # THEN the five actions of the Lambda developer guide (and DescribeSubnets) are in its own role
        assert set(ENI_ACTIONS) <= granted
        assert {"ec2:CreateNetworkInterface", "ec2:DescribeNetworkInterfaces", "ec2:DeleteNetworkInterface",
                "ec2:AssignPrivateIpAddresses", "ec2:UnassignPrivateIpAddresses"} <= granted
        # AND only Describe* is on "*": creation names the function's own subnets and security groups
        assert statements["DescribeNetworkInterfaces"]["Resource"] == "*"
        create = json.dumps(statements["CreateNetworkInterface"]["Resource"])
        for subnet in props["VpcConfig"]["SubnetIds"]:
            assert f':subnet/", {json.dumps(subnet)}' in create
        for group in props["VpcConfig"]["SecurityGroupIds"]:
            assert f':security-group/", {json.dumps(group)}' in create
        assert ":network-interface/*" in create and '"*"' not in create.replace(":network-interface/*", "")
        manage = statements["ManageNetworkInterfaces"]
        assert sorted(manage["Action"]) == ["ec2:AssignPrivateIpAddresses", "ec2:DeleteNetworkInterface",
                                            "ec2:UnassignPrivateIpAddresses"]
        assert json.dumps(manage["Resource"]).endswith(':network-interface/*"]]}')
        # AND the function is created only once its permissions exist (Lambda checks them at CreateFunction)
        policies = [name for name, p in template.find_resources("AWS::IAM::ManagedPolicy").items()
                    if {"Ref": _role_prefix(function)} in p["Properties"]["Roles"]]
        assert policies and set(policies) <= set(function.get("DependsOn", []))


def test_no_acknowledgement_names_a_managed_policy_that_is_not_attached(in_vpc):
    stack, template = in_vpc
    attached = json.dumps([r["Properties"].get("ManagedPolicyArns", [])
                           for r in template.find_resources("AWS::IAM::Role").values()])
    named = [(construct.node.path, ack) for construct in stack.node.find_all() for entry in construct.node.metadata
             if entry.type == ACKNOWLEDGED for ack in entry.data if "[Policy::" in ack]
    for path, ack in named:
        policy = re.search(r"\[Policy::.*:policy/(.+)\]$", ack)
        assert policy and policy.group(1) in attached, (path, ack)
    assert "AWSLambdaVPCAccessExecutionRole" not in attached


def test_functions_outside_a_vpc_get_no_network_interface_permissions():
    stack = cdk.Stack(cdk.App(), "Public", env=ENV)
    LogPipeline(stack, "Logs", delivery_mode="bulk")
    assert "ec2:CreateNetworkInterface" not in json.dumps(Template.from_stack(stack).to_json())
