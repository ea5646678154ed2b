"""LogAlerts: marker events of subscribed log groups → Slack, an optional SNS topic, and a DynamoDB audit table.

Applications write ``[CRITICAL] ...`` / ``[ALERT] ...`` lines, or JSON logs whose ``level`` is such
a marker. A subscription filter per log group sends only candidate events to one function, which
redacts them, posts one Slack message per channel and invocation, publishes one SNS message per
alert (optional) and stores every alert in the table. See the README section "LogAlerts".
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Mapping, Optional, Sequence

import jsii
from aws_cdk import Annotations, Aws, CfnOutput, Duration, Names, RemovalPolicy
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from ._private import nag
from ._private.functions import METRICS_NAMESPACE, failures_go_to_destination, library_function
from ._private.keys import new_key
from ._private.subscriptions import ALERTS_FILTER_NAME, subscribe_function
from ._private.validation import PropError, check, check_range

NAME = "LogAlerts"
DEFAULT_MARKERS = ("CRITICAL", "ALERT")
MARKER_RE = re.compile(r"^[A-Z][A-Z0-9_]{0,31}$")
RULE_NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
# The names of the function's built-in redaction rules (lambda_src/log_alerts/redaction.py; a unit
# test keeps both lists equal).
REDACTION_RULES = ("jwt", "bearer", "aws_secret", "aws_key_id", "password_json", "password_kv", "email", "card")
# What the optional CloudWatch Logs data-protection policy masks at the source.
DATA_IDENTIFIERS = ("AwsSecretKey", "CreditCardNumber", "EmailAddress")
GSI_NAME = "by_app_time"
TTL_ATTRIBUTE = "expires_at"
MAX_FILTER_PATTERN_CHARS = 1024
MAX_ROUTES_JSON_CHARS = 2048  # Lambda environment variables total at most 4 KB


@dataclass(frozen=True)
class AlertRoute:
    """Send alerts matching ``marker`` and/or ``log_group_prefix`` to ``channel`` (first match wins).

    :param channel: the Slack channel (a key of the webhook secret, e.g. ``"#oncall"``).
    :param marker: only alerts with this marker. Default: - any marker
    :param log_group_prefix: only alerts from log groups whose name starts with this. Default: - any log group
    """

    channel: str
    marker: Optional[str] = None
    log_group_prefix: Optional[str] = None


def marker_filter_pattern(markers: Sequence[str]) -> logs.IFilterPattern:
    """One regex filter pattern matching each marker as text (``[CRITICAL]``) or as a JSON ``level``.

    CloudWatch Logs cannot combine term matching with a JSON selector (``{ $.level = ... }``) in one
    pattern, and a quoted term cannot contain the double quotes of ``"level":"CRITICAL"``. A regex
    pattern (``%...%``, alternatives with ``|``) covers both forms: ``\\[CRITICAL\\]`` for text and
    ``level.{3,4}CRITICAL`` for ``"level":"CRITICAL"`` / ``"level": "CRITICAL"`` (regex patterns may
    not contain ``"``). The function re-checks every event exactly (markers.classify).
    """
    alternatives = []
    for marker in markers:
        alternatives += [f"\\[{marker}\\]", f"level.{{3,4}}{marker}"]
    return logs.FilterPattern.literal("%" + "|".join(alternatives) + "%")


@jsii.implements(lambda_.IDestination)
class _QueueDestination:
    """An on-failure destination whose permissions are granted by LogAlerts itself, without the
    wildcard KMS actions (``kms:ReEncrypt*``, ``kms:GenerateDataKey*``) that ``SqsDestination`` adds."""

    def __init__(self, queue: sqs.IQueue) -> None:
        self._queue = queue

    def bind(self, scope: Construct, fn: lambda_.IFunction, *, type: Any = None) -> lambda_.DestinationConfig:
        return lambda_.DestinationConfig(destination=self._queue.queue_arn)


class LogAlerts(Construct):
    """Alerts from log markers to Slack (and SNS), with every alert kept in a DynamoDB audit table."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        log_groups: Optional[Sequence[logs.ILogGroup]] = None,
        markers: Optional[Sequence[str]] = None,
        channel: Optional[str] = None,
        routes: Optional[Sequence[AlertRoute]] = None,
        webhook_secret: Optional[secretsmanager.ISecret] = None,
        table: Optional[dynamodb.ITable] = None,
        retention_days: Optional[int] = None,
        topic: Optional[sns.ITopic] = None,
        redact: Optional[bool] = None,
        redaction_disabled: Optional[Sequence[str]] = None,
        redaction_patterns: Optional[Mapping[str, str]] = None,
        data_protection: Optional[bool] = None,
        max_messages: Optional[int] = None,
        filter_pattern: Optional[logs.IFilterPattern] = None,
        encryption_key: Optional[kms.IKey] = None,
        retry_attempts: Optional[int] = None,
        max_event_age_hours: Optional[int] = None,
        secret_ttl_seconds: Optional[int] = None,
        webhook_timeout_seconds: Optional[int] = None,
        alarm_actions: Optional[Sequence[cloudwatch.IAlarmAction]] = None,
        log_retention: Optional[logs.RetentionDays] = None,
    ) -> None:
        """
        :param log_groups: log groups to subscribe. Default: - none; add them with ``add_log_group``
        :param markers: markers in priority order; uppercase letters, digits, ``_``. Default: ``("CRITICAL", "ALERT")``
        :param channel: channel of alerts no route claims (a key of the webhook secret). Default: ``"default"``
        :param routes: routes by marker and/or log-group prefix to other channels. Default: - none
        :param webhook_secret: secret holding the webhook URL, or a JSON object channel → URL.
            Default: - a new secret (KMS-encrypted) with an empty ``default`` entry; set it with the printed command
        :param table: the audit table; its partition key must be ``log_id`` (string).
            Default: - a new table (on-demand, PITR, customer-managed KMS key, TTL, retained)
        :param retention_days: days an alert stays in the table (TTL ``expires_at``). Default: 365
        :param topic: SNS topic receiving one message per alert (e.g. PagerDuty, e-mail). Default: - no SNS fan-out
        :param redact: mask secrets and personal data before anything leaves the function. Default: true
        :param redaction_disabled: built-in redaction rules to switch off (``"email"``, ``"card"``, ...). Default: - none
        :param redaction_patterns: extra redaction rules, name → Python regex (the whole match is masked). Default: - none
        :param data_protection: also attach a CloudWatch Logs data-protection policy (e-mail, card numbers,
            AWS secret keys) to subscribed log groups created in this app (``logs.LogGroup``). Default: false
        :param max_messages: alerts shown in full per Slack message (the rest are counted). Default: 5
        :param filter_pattern: the subscription filter pattern. Default: - a regex matching the markers as
            ``[MARKER]`` text or as a JSON ``level``
        :param encryption_key: key for the table, the secret and the dead-letter queue. Default: - a new key with rotation
        :param retry_attempts: Lambda's asynchronous retries before the batch goes to the queue (0-2). Default: 2
        :param max_event_age_hours: how long Lambda keeps retrying an event (1-6). Default: 6
        :param secret_ttl_seconds: how long the function caches the webhook secret (0-3600). Default: 300
        :param webhook_timeout_seconds: timeout of one webhook attempt (1-30). Default: 5
        :param alarm_actions: actions of the alarms (errors, throttles, dead letters). Default: - none
        :param log_retention: retention of the function's own log group. Default: one month
        """
        super().__init__(scope, id)
        self.markers = tuple(markers) if markers is not None else DEFAULT_MARKERS
        self.channel = channel if channel is not None else "default"
        self.routes = tuple(routes or ())
        self.retention_days = 365 if retention_days is None else retention_days
        self.max_messages = 5 if max_messages is None else max_messages
        retry_attempts = 2 if retry_attempts is None else retry_attempts
        max_event_age_hours = 6 if max_event_age_hours is None else max_event_age_hours
        secret_ttl_seconds = 300 if secret_ttl_seconds is None else secret_ttl_seconds
        webhook_timeout_seconds = 5 if webhook_timeout_seconds is None else webhook_timeout_seconds
        redaction_disabled = tuple(redaction_disabled or ())
        redaction_patterns = dict(redaction_patterns or {})
        self._data_protection = bool(data_protection)
        self._validate(redaction_disabled, redaction_patterns, table)
        check_range(NAME, "retention_days", self.retention_days, 1, 3650, " days")
        check_range(NAME, "max_messages", self.max_messages, 1, 20)
        check_range(NAME, "retry_attempts", retry_attempts, 0, 2)
        check_range(NAME, "max_event_age_hours", max_event_age_hours, 1, 6, " hours")
        check_range(NAME, "secret_ttl_seconds", secret_ttl_seconds, 0, 3600, " s")
        check_range(NAME, "webhook_timeout_seconds", webhook_timeout_seconds, 1, 30, " s")
        self.filter_pattern = filter_pattern or marker_filter_pattern(self.markers)
        check(NAME, "markers", len(self.filter_pattern.log_pattern_string) <= MAX_FILTER_PATTERN_CHARS,
              f"make a filter pattern longer than CloudWatch Logs' {MAX_FILTER_PATTERN_CHARS} characters; "
              "use fewer markers")

        self.encryption_key: kms.IKey = encryption_key or new_key(
            self, "Key", description="Encrypts the LogAlerts table, webhook secret and dead-letter queue")
        self.table: dynamodb.ITable = table or self._new_table()
        self.webhook_secret: secretsmanager.ISecret = webhook_secret or self._new_secret()
        self.topic: Optional[sns.ITopic] = topic
        self.dead_letter_queue = sqs.Queue(
            self,
            "DeadLetterQueue",
            encryption=sqs.QueueEncryption.KMS,
            encryption_master_key=self.encryption_key,
            enforce_ssl=True,
            retention_period=Duration.days(14),
            removal_policy=RemovalPolicy.RETAIN,
        )
        dead_letter_reason = ("This queue is itself the dead-letter destination of the alerts function "
                              "(failed invocations and unprocessable input); it has no queue behind it.")
        nag.acknowledge(self.dead_letter_queue, "SQS3", dead_letter_reason)
        nag.acknowledge(self.dead_letter_queue, "SQSRedrivePolicy", dead_letter_reason, pack=nag.SERVERLESS)

        self.service_name = f"log-alerts-{Names.unique_id(self)}"[:200]
        environment = {
            "TABLE_NAME": self.table.table_name,
            "WEBHOOK_SECRET_ID": self.webhook_secret.secret_arn,
            "SECRET_TTL_SECONDS": str(secret_ttl_seconds),
            "MARKERS": ",".join(self.markers),
            "DEFAULT_CHANNEL": self.channel,
            "ROUTES": self._routes_json(),
            "DEAD_LETTER_QUEUE_URL": self.dead_letter_queue.queue_url,
            "RETENTION_DAYS": str(self.retention_days),
            "MAX_MESSAGES": str(self.max_messages),
            "REDACT": "false" if redact is False else "true",
            "REDACT_DISABLED": ",".join(redaction_disabled),
            "REDACT_EXTRA": json.dumps(redaction_patterns, separators=(",", ":")),
            "WEBHOOK_TIMEOUT_SECONDS": str(webhook_timeout_seconds),
        }
        if topic is not None:
            environment["TOPIC_ARN"] = topic.topic_arn
        self.function = library_function(
            self,
            "Function",
            handler="log_alerts.handler.handler",
            description="LogAlerts: marker log events to Slack, SNS and the audit table",
            service=self.service_name,
            environment=environment,
            timeout=Duration.seconds(90),
            memory_size=256,
            log_retention=log_retention or logs.RetentionDays.ONE_MONTH,
        )
        self.function.configure_async_invoke(
            on_failure=_QueueDestination(self.dead_letter_queue),
            retry_attempts=retry_attempts,
            max_event_age=Duration.hours(max_event_age_hours),
        )
        failures_go_to_destination(self.function)
        self._grant_least_privilege(topic)
        self.alarms = self._alarms(alarm_actions or ())
        self.subscriptions: list[logs.SubscriptionFilter] = []
        for log_group in log_groups or ():
            self.add_log_group(log_group)

    # --- public API ----------------------------------------------------------------------------
    def add_log_group(self, log_group: logs.ILogGroup) -> logs.SubscriptionFilter:
        """Subscribe ``log_group``; its filter is named ``log-constructs-alerts`` (one of its two slots)."""
        subscription = subscribe_function(
            self,
            f"Subscription{log_group.node.addr[:12]}",
            construct_name=NAME,
            log_group=log_group,
            function=self.function,
            filter_name=ALERTS_FILTER_NAME,
            filter_pattern=self.filter_pattern,
        )
        self.subscriptions.append(subscription)
        if self._data_protection:
            self._protect(log_group)
        return subscription

    def metric(self, metric_name: str, *, dimensions: Optional[Mapping[str, str]] = None,
               statistic: str = "Sum", period: Duration = Duration.minutes(5)) -> cloudwatch.Metric:
        """A metric the function emits (EMF, namespace ``LogConstructs``, dimension ``service``)."""
        return cloudwatch.Metric(namespace=METRICS_NAMESPACE, metric_name=metric_name,
                                 dimensions_map={"service": self.service_name, **(dimensions or {})},
                                 statistic=statistic, period=period)

    def metric_alerts(self, marker: str, **options: Any) -> cloudwatch.Metric:
        """New alerts with ``marker`` (replays not counted)."""
        check(NAME, "marker", marker in self.markers, f"must be one of {', '.join(self.markers)}, got {marker!r}")
        return self.metric("Alerts", dimensions={"marker": marker}, **options)

    def metric_slack_messages(self, **options: Any) -> cloudwatch.Metric:
        return self.metric("SlackMessages", **options)

    def metric_delivery_failures(self, **options: Any) -> cloudwatch.Metric:
        return self.metric("DeliveryFailures", **options)

    def metric_redactions(self, **options: Any) -> cloudwatch.Metric:
        return self.metric("Redactions", **options)

    def metric_invalid_events(self, **options: Any) -> cloudwatch.Metric:
        return self.metric("InvalidEvents", **options)

    def metric_errors(self, **options: Any) -> cloudwatch.Metric:
        return self.function.metric_errors(**{"period": Duration.minutes(5), "statistic": "Sum", **options})

    def metric_throttles(self, **options: Any) -> cloudwatch.Metric:
        return self.function.metric_throttles(**{"period": Duration.minutes(5), "statistic": "Sum", **options})

    def metric_dead_letters(self, **options: Any) -> cloudwatch.Metric:
        return self.dead_letter_queue.metric_approximate_number_of_messages_visible(
            **{"period": Duration.minutes(5), "statistic": "Maximum", **options})

    def grant_read_alerts(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` read the audit table (and its index)."""
        return self.table.grant_read_data(grantee)

    def grant_set_webhook(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` write the webhook secret (e.g. a deployment pipeline)."""
        return self.webhook_secret.grant_write(grantee)

    # --- internals -----------------------------------------------------------------------------
    def _validate(self, redaction_disabled: Sequence[str], redaction_patterns: Mapping[str, str],
                  table: Optional[dynamodb.ITable]) -> None:
        check(NAME, "markers", len(self.markers) > 0, "must name at least one marker")
        check(NAME, "markers", len(self.markers) <= 10, f"may hold at most 10 markers, got {len(self.markers)}")
        for marker in self.markers:
            check(NAME, "markers", isinstance(marker, str) and bool(MARKER_RE.match(marker)),
                  f"entries must be uppercase letters, digits or '_' (at most 32, starting with a letter), got {marker!r}")
        check(NAME, "markers", len(set(self.markers)) == len(self.markers), f"has duplicates: {list(self.markers)}")
        check(NAME, "channel", isinstance(self.channel, str) and 0 < len(self.channel.strip()) <= 80,
              f"must be a non-empty channel name of at most 80 characters, got {self.channel!r}")
        for index, route in enumerate(self.routes):
            prop = f"routes[{index}]"
            check(NAME, prop, isinstance(route, AlertRoute), f"must be an AlertRoute, got {type(route).__name__}")
            check(NAME, f"{prop}.channel", isinstance(route.channel, str) and 0 < len(route.channel.strip()) <= 80,
                  f"must be a non-empty channel name of at most 80 characters, got {route.channel!r}")
            check(NAME, prop, route.marker is not None or route.log_group_prefix is not None,
                  "needs a marker or a log_group_prefix (an unconditional route is the channel prop)")
            check(NAME, f"{prop}.marker", route.marker is None or route.marker in self.markers,
                  f"must be one of the markers {', '.join(self.markers)}, got {route.marker!r}")
            check(NAME, f"{prop}.log_group_prefix",
                  route.log_group_prefix is None or (isinstance(route.log_group_prefix, str) and route.log_group_prefix != ""),
                  f"must be a non-empty string, got {route.log_group_prefix!r}")
        unknown = sorted(set(redaction_disabled) - set(REDACTION_RULES))
        check(NAME, "redaction_disabled", not unknown,
              f"names unknown rule(s) {', '.join(map(repr, unknown))}; the rules are {', '.join(REDACTION_RULES)}")
        for name, pattern in redaction_patterns.items():
            check(NAME, "redaction_patterns", isinstance(name, str) and bool(RULE_NAME_RE.match(name)),
                  f"names must be lower-case identifiers, got {name!r}")
            check(NAME, "redaction_patterns", name not in REDACTION_RULES,
                  f"{name!r} is a built-in rule; choose another name")
            try:
                compiled = re.compile(pattern)
            except (re.error, TypeError) as error:
                raise PropError(f"{NAME}: redaction_patterns[{name!r}] is not a valid regex: {error}") from None
            check(NAME, f"redaction_patterns[{name!r}]", compiled.search("") is None,
                  "matches the empty string and would mask everywhere")
        check(NAME, "routes", len(self._routes_json()) <= MAX_ROUTES_JSON_CHARS,
              f"are too many for the function's environment ({MAX_ROUTES_JSON_CHARS} characters of JSON at most)")
        schema = getattr(table, "schema", None)
        if table is not None and callable(schema):
            partition_key = schema().partition_key
            check(NAME, "table", partition_key.name == "log_id" and partition_key.type == dynamodb.AttributeType.STRING,
                  f"must have the string partition key 'log_id', got {partition_key.name!r}")

    def _routes_json(self) -> str:
        return json.dumps([{k: v for k, v in (("channel", r.channel), ("marker", r.marker),
                                               ("log_group_prefix", r.log_group_prefix)) if v is not None}
                           for r in self.routes], separators=(",", ":"))

    def _new_table(self) -> dynamodb.Table:
        table = dynamodb.Table(
            self,
            "Table",
            partition_key=dynamodb.Attribute(name="log_id", type=dynamodb.AttributeType.STRING),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            encryption=dynamodb.TableEncryption.CUSTOMER_MANAGED,
            encryption_key=self.encryption_key,
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

    def _new_secret(self) -> secretsmanager.Secret:
        # A secret's value cannot be empty; the template holds only an empty "default" entry and a
        # random filler the function ignores. The real URL is set outside CloudFormation.
        secret = secretsmanager.Secret(
            self,
            "WebhookSecret",
            description="Slack incoming webhook URL(s) for LogAlerts: a URL, or JSON {channel: URL, default: URL}",
            encryption_key=self.encryption_key,
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
        nag.acknowledge(secret, "SMG4", rotation_reason)
        nag.acknowledge_all(secret, {nag.NIST_800_53_R5: "SecretsManagerRotationEnabled",
                                     nag.HIPAA_SECURITY: "SecretsManagerRotationEnabled"}, reason=rotation_reason)
        CfnOutput(self, "WebhookSecretArn", value=secret.secret_arn,
                  description="Secret holding the Slack webhook URL(s) of LogAlerts")
        CfnOutput(
            self,
            "SetWebhookCommand",
            description="Run once with your Slack incoming webhook URL(s)",
            value=(f"aws secretsmanager put-secret-value --secret-id {secret.secret_arn} --secret-string "
                   "'{\"default\":\"https://hooks.slack.com/services/...\"}'"),
        )
        return secret

    def _grant_least_privilege(self, topic: Optional[sns.ITopic]) -> None:
        fn = self.function
        fn.add_to_role_policy(iam.PolicyStatement(
            sid="AlertsTable",
            actions=["dynamodb:BatchGetItem", "dynamodb:BatchWriteItem"],
            resources=[self.table.table_arn],
        ))
        fn.add_to_role_policy(iam.PolicyStatement(
            sid="WebhookSecret",
            actions=["secretsmanager:GetSecretValue"],
            resources=[self.webhook_secret.secret_arn],
        ))
        fn.add_to_role_policy(iam.PolicyStatement(
            sid="DeadLetterQueue",
            actions=["sqs:SendMessage"],
            resources=[self.dead_letter_queue.queue_arn],
        ))
        # One statement per key: Decrypt (secret, table reads, queue), Encrypt + GenerateDataKey
        # (table writes, queue and topic messages). No wildcard actions.
        keys: dict[str, kms.IKey] = {}
        for key in (self.encryption_key, getattr(self.table, "encryption_key", None),
                    getattr(self.webhook_secret, "encryption_key", None), getattr(topic, "master_key", None)):
            if key is not None:
                keys.setdefault(key.node.path, key)
        for key in keys.values():
            key.grant(fn, "kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey")
        if topic is not None:
            # Not topic.grant_publish: it adds kms:GenerateDataKey* for an encrypted topic (a wildcard
            # action); the topic's key is covered by the statement above.
            fn.add_to_role_policy(iam.PolicyStatement(sid="AlertsTopic", actions=["sns:Publish"],
                                                      resources=[topic.topic_arn]))

    def _alarms(self, actions: Sequence[cloudwatch.IAlarmAction]) -> list[cloudwatch.Alarm]:
        specs = [
            ("ErrorsAlarm", self.metric_errors(), "LogAlerts function failed (Slack down, secret unset, ...)"),
            ("ThrottlesAlarm", self.metric_throttles(), "LogAlerts function was throttled"),
            ("DeadLettersAlarm", self.metric_dead_letters(),
             "LogAlerts dead-letter queue holds batches that were never fully notified: fix, then redrive"),
        ]
        alarms = []
        for alarm_id, metric, description in specs:
            alarm = metric.create_alarm(
                self, alarm_id, threshold=1, evaluation_periods=1, alarm_description=description,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING)
            for action in actions:
                alarm.add_alarm_action(action)
            alarms.append(alarm)
        return alarms

    def _protect(self, log_group: logs.ILogGroup) -> None:
        cfn = log_group.node.default_child if isinstance(log_group, logs.LogGroup) else None
        if not isinstance(cfn, logs.CfnLogGroup):
            Annotations.of(self).add_warning_v2(
                "log-constructs:alerts-data-protection-imported",
                f"data_protection: {log_group.node.path} is not a log group created in this app; "
                "attach a data-protection policy to it where it is defined")
            return
        if cfn.data_protection_policy is not None:
            Annotations.of(self).add_warning_v2(
                "log-constructs:alerts-data-protection-existing",
                f"data_protection: {log_group.node.path} already has a data-protection policy; left unchanged")
            return
        identifiers = [f"arn:{Aws.PARTITION}:dataprotection::aws:data-identifier/{name}" for name in DATA_IDENTIFIERS]
        cfn.data_protection_policy = {
            "Name": "log-constructs-alerts",
            "Description": "Masks what LogAlerts redacts, at the source",
            "Version": "2021-06-01",
            "Statement": [
                {"Sid": "audit", "DataIdentifier": identifiers, "Operation": {"Audit": {"FindingsDestination": {}}}},
                {"Sid": "redact", "DataIdentifier": identifiers, "Operation": {"Deidentify": {"MaskConfig": {}}}},
            ],
        }


__all__ = ["AlertRoute", "LogAlerts", "marker_filter_pattern"]
