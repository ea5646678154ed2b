"""The OpenSearch set-up custom resource, run as CloudFormation would, against the tests' stand-in domain.

LocalStack's community edition only pretends to create custom resources, so their functions never
run. Here the resource's own properties, resolved against what was deployed, become the Create
event; the function's code runs on the host against the stateful stand-in of the tests
(``tests/support/opensearch_stub.py``), whose internal ``admin`` has the password the deployed
admin secret holds. The emulator's domain endpoint has a path (its path endpoint strategy), which
the function rightly refuses: the event and the function's configuration name the stand-in's
host instead, reached through the function's test-only endpoint override.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Optional

SETUP_TYPE = "Custom::OpenSearchSetup"
WORKAROUND = ("Custom::OpenSearchSetup: the emulator never runs custom resources; the rehearsal sends the "
              "resource's resolved properties as a Create event to the function's code on the host, against the "
              "tests' stateful OpenSearch stand-in (endpoint host replaced, OPENSEARCH_SETUP_ALLOW_ENDPOINT_OVERRIDE=1)")


@dataclass
class SetupResource:
    logical_id: str
    properties: dict[str, Any]


def setup_resources(template: dict[str, Any]) -> list[SetupResource]:
    # ServiceToken is the provider framework's function: CloudFormation's business, not the handler's.
    return [SetupResource(logical_id, {key: value for key, value in resource.get("Properties", {}).items()
                                       if key != "ServiceToken"})
            for logical_id, resource in template.get("Resources", {}).items() if resource.get("Type") == SETUP_TYPE]


class Resolver:
    """Ref and Fn::GetAtt of a deployed stack, for the attributes a custom resource's properties use."""

    def __init__(self, deployer, spec, template: dict[str, Any]):
        self.deployer, self.spec, self.template = deployer, spec, template
        cloudformation = deployer.client("cloudformation", spec.account, spec.region)
        self.physical = {r["LogicalResourceId"]: r.get("PhysicalResourceId", "") for r in
                         cloudformation.describe_stack_resources(StackName=spec.stack_name)["StackResources"]}

    def resolve(self, node: Any) -> Any:
        if isinstance(node, dict):
            if set(node) == {"Ref"}:
                return self._ref(node["Ref"])
            if set(node) == {"Fn::GetAtt"}:
                target, attribute = node["Fn::GetAtt"] if isinstance(node["Fn::GetAtt"], list) else \
                    node["Fn::GetAtt"].split(".", 1)
                return self._getatt(target, attribute)
            if set(node) == {"Fn::Select"}:
                index, values = node["Fn::Select"]
                return self.resolve(values)[int(index)]
            if set(node) == {"Fn::Split"}:
                separator, value = node["Fn::Split"]
                return str(self.resolve(value)).split(separator)
            if set(node) == {"Fn::Join"}:
                separator, parts = node["Fn::Join"]
                return separator.join(str(self.resolve(part)) for part in parts)
            return {key: self.resolve(value) for key, value in node.items()}
        if isinstance(node, list):
            return [self.resolve(value) for value in node]
        return node

    def _ref(self, name: str) -> str:
        pseudo = {"AWS::Region": self.spec.region, "AWS::AccountId": self.spec.account, "AWS::Partition": "aws",
                  "AWS::URLSuffix": "amazonaws.com"}
        return pseudo[name] if name in pseudo else self.physical[name]

    def _getatt(self, target: str, attribute: str) -> str:
        kind = self.template["Resources"][target]["Type"]
        physical = self.physical[target]
        if kind == "AWS::IAM::Role" and attribute == "Arn":
            return self.deployer.client("iam", self.spec.account, self.spec.region).get_role(
                RoleName=physical)["Role"]["Arn"]
        if kind == "AWS::OpenSearchService::Domain" and attribute == "DomainEndpoint":
            return self.deployer.client("opensearch", self.spec.account, self.spec.region).describe_domain(
                DomainName=physical)["DomainStatus"]["Endpoint"]
        raise KeyError(f"the rehearsal cannot resolve Fn::GetAtt {target}.{attribute} ({kind})")


def create_event(resource: SetupResource, resolver: Resolver, stand_in_host: str, stand_in_url: str) -> dict:
    properties = resolver.resolve(resource.properties)
    properties["DomainEndpoint"] = stand_in_host
    properties["Endpoint"] = stand_in_url
    return {"RequestType": "Create", "RequestId": "rehearsal", "ResponseURL": "http://127.0.0.1/unused",
            "ResourceType": SETUP_TYPE, "LogicalResourceId": resource.logical_id, "StackId": resolver.spec.stack_name,
            "ResourceProperties": properties}


def admin_password(deployer, spec, properties: dict[str, Any]) -> Optional[str]:
    """The password in the deployed admin secret (what the domain's master user was created with)."""
    arn = (properties.get("Security") or {}).get("AdminSecretArn")
    if not arn:
        return None
    value = deployer.client("secretsmanager", spec.account, spec.region).get_secret_value(SecretId=arn)["SecretString"]
    try:
        parsed = json.loads(value)
    except ValueError:
        return value
    return parsed.get("password", value) if isinstance(parsed, dict) else value
