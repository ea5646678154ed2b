"""LogAlerts(data_protection=DataProtection(...)): per log group or account-level CloudWatch Logs data protection,
custom identifiers from the redaction rules that translate, findings destinations, one account policy per account."""
from __future__ import annotations

import json

import aws_cdk as cdk
import pytest
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Match, Template

from log_constructs import DataProtection, LogAlerts, PropError
from log_constructs.alerts.data_protection import CUSTOM_IDENTIFIERS, translatable

ENV = cdk.Environment(account="111122223333", region="eu-west-1")


def test_an_account_policy_with_custom_identifiers_and_findings_in_a_bucket():
    # GIVEN an account-level policy with findings to a bucket and a user pattern that translates
    app = cdk.App()
    stack = cdk.Stack(app, "Platform", env=ENV)
    findings = s3.Bucket(stack, "Findings")
    LogAlerts(stack, "Alerts", redaction_patterns={"customer_id": r"CUST-\d{6}", "lookbehind": r"(?<=x)y"},
              data_protection=DataProtection(scope="account", findings_bucket=findings))
    template = Template.from_stack(stack)
    # THEN one account policy of type DATA_PROTECTION_POLICY for all groups
    (policy,) = template.find_resources("AWS::Logs::AccountPolicy").values()
    props = policy["Properties"]
    assert props["PolicyType"] == "DATA_PROTECTION_POLICY" and props["Scope"] == "ALL"
    document = json.loads(json.dumps(stack.resolve(props["PolicyDocument"])))
    text = json.dumps(document)
    # AND its custom identifiers are the rules that translate and the user's pattern that does (not the other)
    assert "customer_id" in text and "lookbehind" not in text
    for name in CUSTOM_IDENTIFIERS:
        assert name in text
    # AND findings go to the bucket; no per-group policy is attached
    assert "FindingsDestination" in text and "S3" in text
    template.resource_count_is("AWS::Logs::LogGroup", 1)  # the function's own, without a policy
    assert not any("DataProtectionPolicy" in r["Properties"]
                   for r in template.find_resources("AWS::Logs::LogGroup").values())


def test_a_second_account_policy_in_the_app_is_refused_by_name():
    app = cdk.App()
    LogAlerts(cdk.Stack(app, "One", env=ENV), "Alerts", data_protection=DataProtection(scope="account"))
    with pytest.raises(PropError) as raised:
        LogAlerts(cdk.Stack(app, "Two", env=ENV), "Alerts", data_protection=DataProtection(scope="account"))
    assert str(raised.value).startswith(
        "LogAlerts: data_protection.scope 'account' at Two/Alerts: an account allows one account-level data "
        "protection policy and One/Alerts already defines it for account 111122223333 in eu-west-1")


def test_a_log_group_policy_with_custom_identifiers_and_findings_in_a_log_group():
    app = cdk.App()
    stack = cdk.Stack(app, "App", env=ENV)
    findings = logs.LogGroup(stack, "Findings", log_group_name="/security/findings")
    orders = logs.LogGroup(stack, "Orders", log_group_name="/aws/lambda/orders")
    LogAlerts(stack, "Alerts", log_groups=[orders], data_protection=DataProtection(findings_log_group=findings))
    template = Template.from_stack(stack)
    template.has_resource_properties("AWS::Logs::LogGroup", {
        "LogGroupName": "/aws/lambda/orders",
        "DataProtectionPolicy": Match.object_like({
            "Configuration": {"CustomDataIdentifier": Match.array_with([{"Name": "jwt", "Regex": CUSTOM_IDENTIFIERS["jwt"]}])},
            "Statement": Match.array_with([Match.object_like({"Operation": {"Audit": {"FindingsDestination": {
                "CloudWatchLogs": {"LogGroup": {"Ref": Match.string_like_regexp("^Findings")}}}}}})]),
        }),
    })
    template.resource_count_is("AWS::Logs::AccountPolicy", 0)


def test_the_custom_identifiers_fit_cloudwatch_and_match_what_the_rules_mask():
    import re
    samples = {"jwt": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.abc", "bearer": "Bearer abcdefgh12345",
               "url_credentials": "https://u:pw@h", "aws_key_id": "AKIAIOSFODNN7EXAMPLE",
               "slack_token": "xoxb-1234567890-abc", "github_token": "ghp_" + "a" * 36, "stripe_key": "sk_live_" + "a" * 16}
    assert set(samples) == set(CUSTOM_IDENTIFIERS)
    for name, pattern in CUSTOM_IDENTIFIERS.items():
        assert translatable(pattern), name
        assert re.search(pattern, samples[name]), name


@pytest.mark.parametrize("protection, message", [
    (DataProtection(scope="org"), "LogAlerts: data_protection.scope must be one of 'log_group', 'account', got 'org'"),
    (DataProtection(managed_identifiers=["Email Address"]), "LogAlerts: data_protection.managed_identifiers must be"),
])
def test_bad_data_protection_is_refused_by_name(protection, message):
    with pytest.raises(PropError) as raised:
        LogAlerts(cdk.Stack(cdk.App(), "Bad", env=ENV), "Alerts", data_protection=protection)
    assert str(raised.value).startswith(message)
