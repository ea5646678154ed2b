"""LogAlerts construct: secure defaults, overrides, bring-your-own resources, least privilege, validation."""
from __future__ import annotations

import json
import re

import aws_cdk as cdk
import pytest
from aws_cdk import assertions, cx_api
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sns as sns
from cdk_nag import AwsSolutionsChecks

from log_constructs import AlertRoute, LogAlerts
from log_constructs import PropError
from log_constructs.alerts import REDACTION_RULES, marker_filter_pattern
from tests.support.iam import POLICY_TYPES

ENV = cdk.Environment(account="123456789012", region="eu-west-1")
Match = assertions.Match


def _app_with_nag() -> cdk.App:
    app = cdk.App()
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    return app


def _resources(template: assertions.Template, type_: str) -> dict:
    return template.find_resources(type_)


def _statements(template: assertions.Template) -> list[dict]:
    # Library roles keep their statements in a customer-managed policy (log_constructs._private.roles).
    policies = [p for kind in POLICY_TYPES for p in _resources(template, kind).values()]
    return [s for p in policies for s in p["Properties"]["PolicyDocument"]["Statement"]]


@pytest.fixture(scope="module")
def defaults():
    """One synthesized stack with LogAlerts on default settings (the nag plugin runs at synth)."""
    app = _app_with_nag()
    stack = cdk.Stack(app, "Defaults", env=ENV)
    orders = logs.LogGroup(stack, "Orders", log_group_name="/aws/lambda/orders")
    alerts = LogAlerts(stack, "Alerts", log_groups=[orders])
    assembly = app.synth()  # raises ValidationFailed on any unacknowledged cdk-nag finding
    return alerts, assertions.Template.from_json(assembly.get_stack_by_name("Defaults").template), assembly


@pytest.fixture(scope="module")
def custom():
    """One stack with the user's table, secret, topic and key, routes, markers and data protection."""
    app = _app_with_nag()
    stack = cdk.Stack(app, "Custom", env=ENV)
    key = kms.Key(stack, "UserKey", enable_key_rotation=True)
    table = dynamodb.Table(stack, "UserTable", partition_key=dynamodb.Attribute(name="log_id", type=dynamodb.AttributeType.STRING),
                           billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST, point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(point_in_time_recovery_enabled=True),
                           encryption=dynamodb.TableEncryption.CUSTOMER_MANAGED, encryption_key=key)
    secret = secretsmanager.Secret.from_secret_complete_arn(
        stack, "UserSecret", "arn:aws:secretsmanager:eu-west-1:123456789012:secret:slack-webhooks-AbCdEf")
    topic = sns.Topic(stack, "Pager", master_key=key, enforce_ssl=True)
    created = logs.LogGroup(stack, "Payments", log_group_name="/aws/lambda/payments")
    imported = logs.LogGroup.from_log_group_name(stack, "Legacy", "/legacy/app")
    alerts = LogAlerts(
        stack, "Alerts", log_groups=[created], markers=["FATAL", "CRITICAL"], channel="#alerts",
        routes=[AlertRoute(channel="#oncall", marker="FATAL"), AlertRoute(channel="#payments", log_group_prefix="/aws/lambda/pay")],
        webhook_secret=secret, table=table, topic=topic, retention_days=30, redact=False, max_messages=3,
        redaction_disabled=["email"], redaction_patterns={"customer_id": r"CUST-\d{6}"}, data_protection=True,
        encryption_key=key, retry_attempts=1, max_event_age_hours=2, secret_ttl_seconds=60,
    )
    alerts.add_log_group(imported)
    assembly = app.synth()
    return alerts, assertions.Template.from_json(assembly.get_stack_by_name("Custom").template), assembly


# --- defaults ------------------------------------------------------------------------------------
def test_nag_gate_has_no_unacknowledged_findings(defaults):
    # GIVEN the synthesized defaults stack (synth itself fails on findings)
    _, _, assembly = defaults
    report = json.loads(open(f"{assembly.directory}/validation-report.json").read())
    # THEN no plugin reports a violation, and every acknowledgement has a reason
    for plugin in report["pluginReports"]:
        assert plugin.get("violations", []) == []


def test_table_secure_defaults(defaults):
    _, template, _ = defaults
    template.has_resource("AWS::DynamoDB::Table", {
        "DeletionPolicy": "Retain",
        "UpdateReplacePolicy": "Retain",
        "Properties": Match.object_like({
            "KeySchema": [{"AttributeName": "log_id", "KeyType": "HASH"}],
            "BillingMode": "PAY_PER_REQUEST",
            "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
            "SSESpecification": {"SSEEnabled": True, "SSEType": "KMS",
                                 "KMSMasterKeyId": {"Fn::GetAtt": [Match.string_like_regexp("^AlertsKey"), "Arn"]}},
            "TimeToLiveSpecification": {"AttributeName": "expires_at", "Enabled": True},
            "DeletionProtectionEnabled": True,
            "GlobalSecondaryIndexes": [Match.object_like({
                "IndexName": "by_app_time",
                "KeySchema": [{"AttributeName": "app_name", "KeyType": "HASH"},
                              {"AttributeName": "epoch_ms", "KeyType": "RANGE"}],
            })],
        }),
    })
    template.has_resource_properties("AWS::KMS::Key", {"EnableKeyRotation": True})


def test_secret_is_empty_encrypted_and_the_command_to_set_it_is_printed(defaults):
    _, template, _ = defaults
    template.has_resource("AWS::SecretsManager::Secret", {
        "DeletionPolicy": "Retain",
        "Properties": Match.object_like({
            "KmsKeyId": {"Fn::GetAtt": [Match.string_like_regexp("^AlertsKey"), "Arn"]},
            "GenerateSecretString": Match.object_like({"SecretStringTemplate": '{"default": ""}'}),
        }),
    })
    outputs = template.find_outputs("*")
    command = next(o for name, o in outputs.items() if name.startswith("AlertsSetWebhookCommand"))
    assert "aws secretsmanager put-secret-value --secret-id" in json.dumps(command["Value"])
    assert any(name.startswith("AlertsWebhookSecretArn") for name in outputs)


def test_no_webhook_url_anywhere_in_the_template(defaults):
    _, template, _ = defaults
    text = json.dumps(template.to_json())
    assert "hooks.slack.com/services/T" not in text
    env = next(iter(_resources(template, "AWS::Lambda::Function").values()))["Properties"]["Environment"]["Variables"]
    assert not any("https://" in json.dumps(value) for value in env.values())
    assert "ALLOW_LOOPBACK_HTTP" not in env  # only the tests may enable http://127.0.0.1
    assert env["WEBHOOK_HOSTS"] == "hooks.slack.com"  # webhooks only to Slack unless widened


def test_webhook_hosts_widen_the_allow_list():
    alerts = _build(webhook_hosts=["hooks.slack.com", "chat.example.org"])
    template = assertions.Template.from_stack(cdk.Stack.of(alerts))
    env = next(iter(_resources(template, "AWS::Lambda::Function").values()))["Properties"]["Environment"]["Variables"]
    assert env["WEBHOOK_HOSTS"] == "hooks.slack.com,chat.example.org"


def test_function_is_invoked_asynchronously_with_retries_and_an_encrypted_on_failure_queue(defaults):
    _, template, _ = defaults
    template.has_resource_properties("AWS::Lambda::EventInvokeConfig", {
        "MaximumRetryAttempts": 2,
        "MaximumEventAgeInSeconds": 21600,
        "DestinationConfig": {"OnFailure": {"Destination": {"Fn::GetAtt": [Match.string_like_regexp("^AlertsDeadLetterQueue"), "Arn"]}}},
    })
    template.has_resource("AWS::SQS::Queue", {
        "DeletionPolicy": "Retain",
        "Properties": Match.object_like({"KmsMasterKeyId": {"Fn::GetAtt": [Match.string_like_regexp("^AlertsKey"), "Arn"]},
                                         "MessageRetentionPeriod": 1209600}),
    })
    template.has_resource_properties("AWS::SQS::QueuePolicy", {"PolicyDocument": {"Statement": Match.array_with([
        Match.object_like({"Effect": "Deny", "Condition": {"Bool": {"aws:SecureTransport": "false"}}})])}})
    template.has_resource_properties("AWS::Lambda::Function", {
        "Runtime": "python3.13", "Architectures": ["arm64"], "Handler": "log_alerts.handler.handler",
        "Environment": {"Variables": Match.object_like({"MARKERS": "CRITICAL,ALERT", "DEFAULT_CHANNEL": "default",
                                                        "ROUTES": "[]", "RETENTION_DAYS": "365", "REDACT": "true",
                                                        "SECRET_TTL_SECONDS": "300"})},
    })


def test_subscription_uses_the_project_filter_name_and_the_marker_pattern(defaults):
    _, template, _ = defaults
    template.has_resource_properties("AWS::Logs::SubscriptionFilter", {
        "FilterName": "log-constructs-alerts",
        "FilterPattern": r"%\[CRITICAL\]|level.{3,4}CRITICAL|\[ALERT\]|level.{3,4}ALERT%",
        "LogGroupName": {"Ref": Match.string_like_regexp("^Orders")},
    })
    template.has_resource_properties("AWS::Lambda::Permission", {
        "Principal": "logs.amazonaws.com",
        "SourceAccount": "123456789012", "SourceArn": {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":logs:eu-west-1:123456789012:log-group:*"]]},
    })


def test_iam_is_scoped_to_the_constructs_resources(defaults):
    # GIVEN the role policy of the function
    _, template, _ = defaults
    statements = _statements(template)
    by_action = {}
    for statement in statements:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        for action in actions:
            by_action.setdefault(action, []).append(statement["Resource"])
    # THEN each action is granted exactly on its resource, and '*' only where X-Ray demands it
    assert set(by_action) == {"logs:CreateLogStream", "logs:PutLogEvents", "xray:PutTraceSegments",
                              "xray:PutTelemetryRecords", "dynamodb:BatchGetItem", "dynamodb:BatchWriteItem",
                              "secretsmanager:GetSecretValue", "sqs:SendMessage", "kms:Decrypt", "kms:Encrypt",
                              "kms:GenerateDataKey"}
    table_arn = {"Fn::GetAtt": [next(iter(_resources(template, "AWS::DynamoDB::Table"))), "Arn"]}
    assert by_action["dynamodb:BatchWriteItem"] == by_action["dynamodb:BatchGetItem"] == [table_arn]
    assert by_action["secretsmanager:GetSecretValue"] == [{"Ref": next(iter(_resources(template, "AWS::SecretsManager::Secret")))}]
    key = next(k for k in _resources(template, "AWS::KMS::Key") if k.startswith("AlertsKey"))
    assert by_action["kms:Decrypt"] == [{"Fn::GetAtt": [key, "Arn"]}]
    assert by_action["sqs:SendMessage"] == [{"Fn::GetAtt": [next(iter(_resources(template, "AWS::SQS::Queue"))), "Arn"]}]
    wildcard = {a for a, resources in by_action.items() if "*" in resources}
    assert wildcard == {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}
    assert not any(a.endswith("*") for a in by_action)


def test_alarms_on_errors_throttles_dead_letters_and_destination_delivery_failures(defaults):
    alerts, template, _ = defaults
    template.resource_count_is("AWS::CloudWatch::Alarm", 4)
    for metric in ("Errors", "Throttles", "ApproximateNumberOfMessagesVisible", "DestinationDeliveryFailures"):
        template.has_resource_properties("AWS::CloudWatch::Alarm", {
            "MetricName": metric, "Threshold": 1, "ComparisonOperator": "GreaterThanOrEqualToThreshold",
            "TreatMissingData": "notBreaching"})
    assert len(alerts.alarms) == 4


def test_attributes_and_metrics(defaults):
    alerts, _, _ = defaults
    assert alerts.topic is None
    assert alerts.table and alerts.function and alerts.dead_letter_queue and alerts.webhook_secret and alerts.encryption_key
    metric = alerts.metric_alerts("CRITICAL")
    assert (metric.namespace, metric.metric_name) == ("LogConstructs", "Alerts")
    assert metric.dimensions["marker"] == "CRITICAL"
    assert metric.dimensions["service"] == alerts.service_name
    assert alerts.metric_errors().metric_name == "Errors"
    assert alerts.metric_dead_letters().metric_name == "ApproximateNumberOfMessagesVisible"
    with pytest.raises(PropError, match="LogAlerts: marker must be one of CRITICAL, ALERT, got 'INFO'"):
        alerts.metric_alerts("INFO")


# --- overrides and bring-your-own ----------------------------------------------------------------
def test_bring_your_own_table_secret_key_and_topic(custom):
    alerts, template, _ = custom
    # THEN no table, secret or key of its own is created
    template.resource_count_is("AWS::DynamoDB::Table", 1)
    template.resource_count_is("AWS::SecretsManager::Secret", 0)
    assert not [k for k in _resources(template, "AWS::KMS::Key") if k.startswith("Alerts")]
    assert template.find_outputs("*") == {}
    statements = _statements(template)
    secret_arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:slack-webhooks-AbCdEf"
    assert {"Action": "secretsmanager:GetSecretValue", "Effect": "Allow", "Resource": secret_arn,
            "Sid": "WebhookSecret"} in statements
    publish = [s for s in statements if s["Action"] == "sns:Publish"]
    assert publish == [{"Action": "sns:Publish", "Effect": "Allow", "Sid": "AlertsTopic",
                        "Resource": {"Ref": next(iter(_resources(template, "AWS::SNS::Topic")))}}]
    # AND the user's key (table and topic) gets the KMS actions, without wildcards
    kms_statements = [s for s in statements if "kms:Decrypt" in s["Action"]]
    assert kms_statements == [{"Action": ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"], "Effect": "Allow",
                               "Resource": {"Fn::GetAtt": [next(k for k in _resources(template, "AWS::KMS::Key")
                                                                if k.startswith("UserKey")), "Arn"]}}]
    assert alerts.topic is not None


def test_overrides_reach_the_function_and_the_invoke_config(custom):
    _, template, _ = custom
    template.has_resource_properties("AWS::Lambda::Function", {"Environment": {"Variables": Match.object_like({
        "MARKERS": "FATAL,CRITICAL", "DEFAULT_CHANNEL": "#alerts", "RETENTION_DAYS": "30", "REDACT": "false",
        "MAX_MESSAGES": "3", "REDACT_DISABLED": "email", "REDACT_EXTRA": '{"customer_id":"CUST-\\\\d{6}"}',
        "SECRET_TTL_SECONDS": "60", "TOPIC_ARN": {"Ref": Match.string_like_regexp("^Pager")},
        "ROUTES": '[{"channel":"#oncall","marker":"FATAL"},{"channel":"#payments","log_group_prefix":"/aws/lambda/pay"}]',
    })}})
    template.has_resource_properties("AWS::Lambda::EventInvokeConfig", {"MaximumRetryAttempts": 1,
                                                                        "MaximumEventAgeInSeconds": 7200})
    template.resource_count_is("AWS::Logs::SubscriptionFilter", 2)
    template.has_resource_properties("AWS::Logs::SubscriptionFilter", {
        "LogGroupName": "/legacy/app",
        "FilterPattern": r"%\[FATAL\]|level.{3,4}FATAL|\[CRITICAL\]|level.{3,4}CRITICAL%"})


def test_data_protection_policy_on_created_log_groups_and_a_warning_for_imported_ones(custom):
    _, template, assembly = custom
    template.has_resource_properties("AWS::Logs::LogGroup", {
        "LogGroupName": "/aws/lambda/payments",
        "DataProtectionPolicy": Match.object_like({"Statement": [
            Match.object_like({"Operation": {"Audit": {"FindingsDestination": {}}}}),
            Match.object_like({"Operation": {"Deidentify": {"MaskConfig": {}}},
                               "DataIdentifier": Match.array_with([
                                   {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"},
                                                      ":dataprotection::aws:data-identifier/CreditCardNumber"]]}])}),
        ]}),
    })
    warnings = [str(m.entry.data) for m in assembly.get_stack_by_name("Custom").messages
                if m.level == cx_api.SynthesisMessageLevel.WARNING]
    assert any("data_protection: Custom/Legacy is not a log group created in this app" in w for w in warnings)
    assert not any("Payments" in w for w in warnings)


def test_data_protection_policy_audits_and_masks_the_same_managed_identifiers(custom):
    # GIVEN a subscribed log group created in the app, with data_protection on
    _, template, _ = custom
    (group,) = [r for r in template.find_resources("AWS::Logs::LogGroup").values()
                if r["Properties"].get("LogGroupName") == "/aws/lambda/payments"]
    policy = group["Properties"]["DataProtectionPolicy"]
    # THEN the policy has the documented shape: one audit and one de-identify statement
    assert policy["Version"] == "2021-06-01" and policy["Name"]
    audit, deidentify = policy["Statement"]
    assert audit["Operation"] == {"Audit": {"FindingsDestination": {}}}
    assert deidentify["Operation"] == {"Deidentify": {"MaskConfig": {}}}
    # AND both name exactly the same AWS managed data identifiers, in the identifier ARN form
    assert audit["DataIdentifier"] == deidentify["DataIdentifier"]
    names = [arn["Fn::Join"][1][-1].rsplit("/", 1)[1] for arn in audit["DataIdentifier"]]
    assert names == ["AwsSecretKey", "CreditCardNumber", "EmailAddress", "OpenSshPrivateKey", "PgpPrivateKey",
                     "PkcsPrivateKey", "PuttyPrivateKey"]
    assert all(arn["Fn::Join"][1][-1].startswith(":dataprotection::aws:data-identifier/")
               for arn in audit["DataIdentifier"])


def test_data_protection_covers_groups_added_later_and_is_off_by_default(defaults):
    # GIVEN a LogAlerts with data_protection and a created log group added after construction
    app = cdk.App()
    stack = cdk.Stack(app, "Later", env=ENV)
    alerts = LogAlerts(stack, "Alerts", data_protection=True)
    alerts.add_log_group(logs.LogGroup(stack, "Orders", log_group_name="/aws/lambda/orders"))
    template = assertions.Template.from_stack(stack)
    # THEN that group carries the policy; without the prop no group does
    template.has_resource_properties("AWS::Logs::LogGroup", {
        "LogGroupName": "/aws/lambda/orders", "DataProtectionPolicy": Match.object_like({"Version": "2021-06-01"})})
    _, default_template, _ = defaults
    assert not any("DataProtectionPolicy" in r["Properties"]
                   for r in default_template.find_resources("AWS::Logs::LogGroup").values())


# --- validation ----------------------------------------------------------------------------------
def _build(**props):
    app = cdk.App()
    stack = cdk.Stack(app, "Invalid", env=ENV)
    return LogAlerts(stack, "Alerts", **props)


@pytest.mark.parametrize("props, message", [
    ({"markers": []}, "LogAlerts: markers must name at least one marker"),
    ({"markers": ["critical"]}, "LogAlerts: markers entries must be uppercase letters, digits or '_'"),
    ({"markers": ["[CRITICAL]"]}, "LogAlerts: markers entries must be uppercase letters"),
    ({"markers": ["A", "A"]}, "LogAlerts: markers has duplicates"),
    ({"markers": [f"M{i}" for i in range(11)]}, "LogAlerts: markers may hold at most 10 markers, got 11"),
    ({"channel": ""}, "LogAlerts: channel must be a non-empty channel name"),
    ({"routes": [AlertRoute(channel="#x")]}, "LogAlerts: routes[0] needs a marker or a log_group_prefix"),
    ({"routes": [AlertRoute(channel="#x", marker="INFO")]}, "LogAlerts: routes[0].marker must be one of the markers CRITICAL, ALERT, got 'INFO'"),
    ({"routes": [AlertRoute(channel="", marker="ALERT")]}, "LogAlerts: routes[0].channel must be a non-empty channel name"),
    ({"routes": [AlertRoute(channel="#x", log_group_prefix="")]}, "LogAlerts: routes[0].log_group_prefix must be a non-empty string"),
    ({"routes": [{"channel": "#x", "marker": "ALERT"}]}, "LogAlerts: routes[0] must be an AlertRoute, got dict"),
    ({"routes": [AlertRoute(channel="#" + "c" * 70, log_group_prefix="/p" * 10)] * 30}, "LogAlerts: routes are too many"),
    ({"retention_days": 0}, "LogAlerts: retention_days must be between 1 and 3650 days, got 0 days"),
    ({"max_messages": 21}, "LogAlerts: max_messages must be between 1 and 20, got 21"),
    ({"webhook_hosts": []}, "LogAlerts: webhook_hosts must be one or more host names"),
    ({"webhook_hosts": ["https://hooks.slack.com"]}, "LogAlerts: webhook_hosts must be one or more host names"),
    ({"retry_attempts": 3}, "LogAlerts: retry_attempts must be between 0 and 2, got 3"),
    ({"max_event_age_hours": 7}, "LogAlerts: max_event_age_hours must be between 1 and 6 hours, got 7 hours"),
    ({"secret_ttl_seconds": -1}, "LogAlerts: secret_ttl_seconds must be between 0 and 3600 s, got -1 s"),
    ({"webhook_timeout_seconds": 60}, "LogAlerts: webhook_timeout_seconds must be between 1 and 30 s, got 60 s"),
    ({"redaction_disabled": ["emails"]}, "LogAlerts: redaction_disabled names unknown rule(s) 'emails'"),
    ({"redaction_patterns": {"Bad Name": "x"}}, "LogAlerts: redaction_patterns names must be lower-case identifiers, got 'Bad Name'"),
    ({"redaction_patterns": {"email": "x"}}, "LogAlerts: redaction_patterns 'email' is a built-in rule"),
    ({"redaction_patterns": {"ids": "("}}, "LogAlerts: redaction_patterns['ids'] is not a valid regex"),
    ({"redaction_patterns": {"ids": "x*"}}, "LogAlerts: redaction_patterns['ids'] matches the empty string"),
])
def test_invalid_props_raise_an_error_naming_the_prop(props, message):
    with pytest.raises(PropError) as caught:
        _build(**props)
    assert str(caught.value).startswith(message)


def test_a_table_with_another_partition_key_is_refused():
    app = cdk.App()
    stack = cdk.Stack(app, "T", env=ENV)
    table = dynamodb.Table(stack, "T", partition_key=dynamodb.Attribute(name="id", type=dynamodb.AttributeType.STRING))
    with pytest.raises(PropError, match="LogAlerts: table must have the string partition key 'log_id', got 'id'"):
        LogAlerts(stack, "Alerts", table=table)


def test_subscribing_a_log_group_twice_or_to_a_third_filter_is_refused():
    app = cdk.App()
    stack = cdk.Stack(app, "Twice", env=ENV)
    group = logs.LogGroup(stack, "G", log_group_name="/aws/lambda/g")
    alerts = LogAlerts(stack, "Alerts", log_groups=[group])
    # WHEN the same group is added again (a second alerts filter would replace the first)
    with pytest.raises(PropError, match="already subscribed by a 'log-constructs-alerts' filter"):
        alerts.add_log_group(group)
    # AND a second LogAlerts in the same app would use the same filter name
    with pytest.raises(PropError, match="already subscribed"):
        LogAlerts(stack, "Alerts2", log_groups=[group])


def test_the_function_cannot_subscribe_to_its_own_log_group():
    app = cdk.App()
    stack = cdk.Stack(app, "Self", env=ENV)
    alerts = LogAlerts(stack, "Alerts")
    with pytest.raises(PropError, match="trigger itself forever"):
        alerts.add_log_group(alerts.function.log_group)


# --- the filter pattern ---------------------------------------------------------------------------
def test_filter_pattern_matches_text_and_json_markers_only():
    # GIVEN the default pattern, read as the regex CloudWatch Logs evaluates (between the % signs)
    pattern = marker_filter_pattern(("CRITICAL", "ALERT")).log_pattern_string
    assert pattern == r"%\[CRITICAL\]|level.{3,4}CRITICAL|\[ALERT\]|level.{3,4}ALERT%"
    # only characters CloudWatch Logs allows in regex patterns (no double quotes, no parentheses)
    assert re.fullmatch(r"%[A-Za-z0-9:_#=@/;,\-\^\$\?\[\]\{\}\|\\\*\+\.]+%", pattern)
    regex = re.compile(pattern.strip("%"))
    # THEN text markers and JSON levels (with or without a space after the colon) match
    for line in ("2025-06-29T10:01:00Z [CRITICAL] Database connection failed", "[ALERT] disk full",
                 '{"level":"CRITICAL","message":"x"}', '{"timestamp": "t", "level": "ALERT", "message": "x"}'):
        assert regex.search(line), line
    # AND ordinary lines do not
    for line in ("CRITICAL path computed", '{"level":"INFO","message":"ALERT rule saved"}', "[INFO] ok"):
        assert not regex.search(line), line


def test_redaction_rule_names_match_the_function():
    from redaction import BUILTIN_NAMES

    assert REDACTION_RULES == BUILTIN_NAMES
