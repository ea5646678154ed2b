"""LogAlerts' resources: the audit table, the webhook secret, a log group's data-protection policy."""
from __future__ import annotations

import json

from aws_cdk import Annotations, CfnOutput, RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from .._private import nag
from .props import GSI_NAME, TTL_ATTRIBUTE


def new_table(scope: Construct, encryption_key: kms.IKey) -> dynamodb.Table:
    """The audit table: on-demand, point-in-time recovery, the customer-managed key, TTL, retained."""
    table = dynamodb.Table(
        scope,
        "Table",
        partition_key=dynamodb.Attribute(name="log_id", type=dynamodb.AttributeType.STRING),
        billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
        encryption=dynamodb.TableEncryption.CUSTOMER_MANAGED,
        encryption_key=encryption_key,
        point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
            point_in_time_recovery_enabled=True),
        time_to_live_attribute=TTL_ATTRIBUTE,
        deletion_protection=True,
        removal_policy=RemovalPolicy.RETAIN,
    )
    table.add_global_secondary_index(
        index_name=GSI_NAME,
        partition_key=dynamodb.Attribute(name="app_name", type=dynamodb.AttributeType.STRING),
        sort_key=dynamodb.Attribute(name="epoch_ms", type=dynamodb.AttributeType.NUMBER),
        projection_type=dynamodb.ProjectionType.ALL,
    )
    nag.acknowledge_all(
        table, {nag.NIST_800_53_R5: "DynamoDBInBackupPlan", nag.HIPAA_SECURITY: "DynamoDBInBackupPlan"},
        reason="Point-in-time recovery is on (continuous backups, restore to any second of the last 35 days), "
        "deletion protection is on and the table is retained; longer-term copies belong in the account's "
        "central AWS Backup plan (select the table by tag), which a construct should not duplicate.")
    return table

def new_secret(scope: Construct, encryption_key: kms.IKey) -> secretsmanager.Secret:
    """The webhook secret (a placeholder value); the stack outputs the command that sets it."""
    # A secret's value cannot be empty; the template holds only an empty "default" entry and a
    # random filler the function ignores. The real URL is set outside CloudFormation.
    secret = secretsmanager.Secret(
        scope,
        "WebhookSecret",
        description="Slack incoming webhook URL(s) for LogAlerts: a URL, or JSON {channel: URL, default: URL}",
        encryption_key=encryption_key,
        generate_secret_string=secretsmanager.SecretStringGenerator(
            secret_string_template=json.dumps({"default": ""}),
            generate_string_key="unused",
            exclude_punctuation=True,
            password_length=16,
        ),
        removal_policy=RemovalPolicy.RETAIN,
    )
    rotation_reason = ("A Slack incoming webhook URL cannot be rotated by a Lambda rotation function; it is "
                       "replaced in Slack and then written with put-secret-value (see the stack output).")
    nag.acknowledge_no_rotation(secret, rotation_reason)
    CfnOutput(scope, "WebhookSecretArn", value=secret.secret_arn,
              description="Secret holding the Slack webhook URL(s) of LogAlerts")
    CfnOutput(
        scope,
        "SetWebhookCommand",
        description="Run once with your Slack incoming webhook URL(s)",
        value=(f"aws secretsmanager put-secret-value --secret-id {secret.secret_arn} --secret-string "
               "'{\"default\":\"https://hooks.slack.com/services/...\"}'"),
    )
    return secret


def protect(scope: Construct, log_group: logs.ILogGroup, document: dict) -> None:
    """Attach the data-protection policy ``document`` to ``log_group`` (a log group created in this app), or warn."""
    cfn = log_group.node.default_child if isinstance(log_group, logs.LogGroup) else None
    if not isinstance(cfn, logs.CfnLogGroup):
        Annotations.of(scope).add_warning_v2(
            "log-constructs:alerts-data-protection-imported",
            f"data_protection: {log_group.node.path} is not a log group created in this app; "
            "attach a data-protection policy to it where it is defined")
        return
    if cfn.data_protection_policy is not None:
        Annotations.of(scope).add_warning_v2(
            "log-constructs:alerts-data-protection-existing",
            f"data_protection: {log_group.node.path} already has a data-protection policy; left unchanged")
        return
    cfn.data_protection_policy = document
