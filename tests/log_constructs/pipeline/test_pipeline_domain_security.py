"""LogPipeline's domain security options obey the OpenSearch Service API's master-user rule in every shape.

The API reference, MasterUserOptions
(https://docs.aws.amazon.com/opensearch-service/latest/APIReference/API_MasterUserOptions.html):
``MasterUserARN`` "Only specify if InternalUserDatabaseEnabled is false"; ``MasterUserName`` and
``MasterUserPassword`` "Only specify if InternalUserDatabaseEnabled is true". The CloudFormation
reference (AWS::OpenSearchService::Domain MasterUserOptions) says the same; CreateDomain refuses
the other combinations ("You must provide a master username and password when the internal user
database is enabled"), so a template that breaks the rule never deploys.
"""
from __future__ import annotations

import json
import re

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2
from aws_cdk.assertions import Template

from log_constructs import LogPipeline
from tests.support.cfn import joined as _joined

ENV = cdk.Environment(account="111122223333", region="eu-west-1")
DYNAMIC_SECRET = re.compile(r"^\{\{resolve:secretsmanager:\$\{[A-Za-z0-9]+\}:SecretString:::\}\}$")


def _default(stack: cdk.Stack) -> None:
    LogPipeline(stack, "Logs")


def _vpc(stack: cdk.Stack) -> None:
    LogPipeline(stack, "Logs", vpc=ec2.Vpc(stack, "Vpc", max_azs=2))


def _bulk(stack: cdk.Stack) -> None:
    LogPipeline(stack, "Logs", delivery_mode="bulk")


@pytest.fixture(scope="module", params=[_default, _vpc, _bulk], ids=["default", "vpc", "bulk"])
def shape(request) -> dict:
    stack = cdk.Stack(cdk.App(), "Shape", env=ENV)
    request.param(stack)
    template = Template.from_stack(stack).to_json()
    (domain,) = [r for r in template["Resources"].values() if r["Type"] == "AWS::OpenSearchService::Domain"]
    return {"domain": domain, "template": template}


def test_master_user_options_follow_the_api_reference(shape):
    # GIVEN a synthesized pipeline shape with a domain
    options = shape["domain"]["Properties"]["AdvancedSecurityOptions"]
    master = options.get("MasterUserOptions", {})
    internal = options.get("InternalUserDatabaseEnabled") is True
    # THEN an IAM master user only comes with the internal user database off
    if "MasterUserARN" in master:
        assert not internal
    # AND the internal user database comes with a master user name and a password from Secrets Manager
    if internal:
        assert master.get("MasterUserName") and "MasterUserPassword" in master
        assert DYNAMIC_SECRET.match(_joined(master["MasterUserPassword"])), master["MasterUserPassword"]
    # AND this library's choice: the internal master user 'admin', no IAM master user
    assert options["Enabled"] is True and internal and master.get("MasterUserName") == "admin"
    assert "MasterUserARN" not in master


def test_the_master_password_is_the_admin_secret_and_appears_nowhere_in_the_template(shape):
    # GIVEN the domain's password reference
    password = _joined(shape["domain"]["Properties"]["AdvancedSecurityOptions"]["MasterUserOptions"]
                       ["MasterUserPassword"])
    secret_id = password.split("${")[1].split("}")[0]
    # THEN it resolves the generated admin secret, which the set-up function reads too
    secret = shape["template"]["Resources"][secret_id]
    assert secret["Type"] == "AWS::SecretsManager::Secret"
    assert secret["Properties"]["GenerateSecretString"] == {
        "ExcludeCharacters": "\"'\\/@:`", "PasswordLength": 32, "RequireEachIncludedType": True}
    assert "SecretString" not in secret["Properties"]
    (setup,) = [r for r in shape["template"]["Resources"].values() if r["Type"] == "Custom::OpenSearchSetup"]
    assert setup["Properties"]["Security"]["AdminSecretArn"] == {"Ref": secret_id}
    # AND no plain-text password property exists anywhere (only the dynamic reference)
    text = json.dumps(shape["template"])
    assert text.count("{{resolve:secretsmanager:") == 1
