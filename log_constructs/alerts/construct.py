"""LogAlerts: marker events of subscribed log groups → Slack, an optional SNS topic, and a DynamoDB audit table.

Applications write ``[CRITICAL] ...`` / ``[ALERT] ...`` lines, or JSON logs whose ``level`` is such
a marker. A subscription filter per log group sends only candidate events to one function, which
redacts them, posts one Slack message per channel and invocation, publishes one SNS message per
alert (optional) and stores every alert in the table. See the README section "LogAlerts".
"""
from __future__ import annotations

import re
from typing import Mapping, Optional, Sequence, Union

from aws_cdk import Duration, Names, RemovalPolicy
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sns as sns
from constructs import Construct

from .._lambda_src.log_alerts import contract
from .._lambda_src.log_alerts.contract import DEFAULT_WEBHOOK_HOSTS, AlertsConfig
from .._private.failures import grant_key_use, send_failures_to
from .._private.functions import METRICS_NAMESPACE, library_function
from .._private.keys import new_key
from .._private.metrics import (AlarmSpec, create_alarms, destination_delivery_failures, function_row, graph, graph_row,
                                metric, queue_depth, queue_row)
from .._private.queues import dead_letter_queue
from .._private.removal import apply_removal_policy
from .._private import attach
from .._private.subscriptions import allow_log_delivery
from .._private.validation import check, check_range
from ..protocols import DashboardRow
from .attachment import (ATTACH_POINTS, FILTER_PATTERN, FUNCTION_ARN, FUNCTION_NAME, KIND, LEGACY_ATTACH_POINTS,
                         LOG_GROUP_PARTS, AlertsAttachment, ImportedLogAlerts)
from .props import (DEFAULT_MARKERS, MAX_FILTER_PATTERN_CHARS, NAME, AlertRoute, marker_filter_pattern, validate,
                    validate_markers)
from .data_protection import DataProtection, account_policy
from .resources import new_secret, new_table, protect


class LogAlerts(AlertsAttachment, Construct):
    """Alerts from log markers to Slack (and SNS), with every alert kept in a DynamoDB audit table.

    :param name: Publishes the alerts' attach points (function ARN, filter pattern) as SSM String
        parameters ``/log-constructs/alerts/<name>/...``, so that stacks of other CDK apps in this account and
        region attach with ``LogAlerts.from_name(scope, id, name=...)``. 1-64 letters, digits, ``_``, ``.``,
        ``-``; unique per app, and per account and region. Default: - ``<stack name>/<path>`` (still
        published: other stacks of this app attach through it)
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
    :param data_protection: also mask inside CloudWatch Logs with a data-protection policy. ``True``: on every log
        group subscribed with ``log_groups``/``add_log_group`` that was created in this app (``logs.LogGroup``;
        others get a warning), audit and mask of e-mail addresses, card numbers, AWS secret keys, private keys.
        ``DataProtection(...)``: per log group or for the whole account (one per account: a second is refused),
        with custom identifiers from the redaction rules that translate and a findings destination. A first line
        at the source; the function's own redaction stays the guarantee. Default: false
    :param max_messages: alerts shown in full per Slack message (the rest are counted). Default: 5
    :param filter_pattern: the subscription filter pattern. Default: - a regex matching the markers as
        ``[MARKER]`` text or as a JSON ``level``
    :param encryption_key: key for the table, the secret and the dead-letter queue. Default: - a new key with rotation
    :param retry_attempts: Lambda's asynchronous retries before the batch goes to the queue (0-2). Default: 2
    :param max_event_age_hours: how long Lambda keeps retrying an event (1-6). Default: 6
    :param secret_ttl_seconds: how long the function caches the webhook secret (0-3600). Default: 300
    :param webhook_timeout_seconds: timeout of one webhook attempt (1-30). Default: 5
    :param webhook_hosts: the hosts a webhook URL may name (https only, exact names). Default: hooks.slack.com
    :param alarm_actions: actions of the alarms (errors, throttles, dead letters). Default: - alarms without actions (a synth warning, ``log-constructs:no-alarm-actions``, says so)
    :param log_retention: retention of the function's own log group. Default: one month
    :param removal_policy: what happens to the table, the webhook secret, the key, the dead-letter queue and the log group when they leave the stack
        (a DynamoDB table with deletion protection stays until that is turned off). Default: ``RemovalPolicy.RETAIN``
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        name: Optional[str] = None,
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
        data_protection: Optional[Union[bool, DataProtection]] = None,
        max_messages: Optional[int] = None,
        filter_pattern: Optional[logs.IFilterPattern] = None,
        encryption_key: Optional[kms.IKey] = None,
        retry_attempts: Optional[int] = None,
        max_event_age_hours: Optional[int] = None,
        secret_ttl_seconds: Optional[int] = None,
        webhook_timeout_seconds: Optional[int] = None,
        webhook_hosts: Optional[Sequence[str]] = None,
        alarm_actions: Optional[Sequence[cloudwatch.IAlarmAction]] = None,
        log_retention: Optional[logs.RetentionDays] = None,
        removal_policy: Optional[RemovalPolicy] = None,
    ) -> None:
        super().__init__(scope, id)
        apply_removal_policy(self, removal_policy)
        self.name: str = attach.check_name(NAME, name) if name is not None else attach.default_name(self)
        attach.register(self, NAME, KIND, self.name)
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
        self.data_protection: Optional[DataProtection] = (
            data_protection if isinstance(data_protection, DataProtection) else
            DataProtection(custom_identifiers=False) if data_protection else None)
        if self.data_protection is not None:
            self.data_protection.validate()
        self._redaction_patterns = redaction_patterns
        validate(markers=self.markers, channel=self.channel, routes=self.routes, redaction_disabled=redaction_disabled,
                 redaction_patterns=redaction_patterns, table=table)
        check_range(NAME, "retention_days", self.retention_days, 1, 3650, " days")
        check_range(NAME, "max_messages", self.max_messages, 1, 20)
        check_range(NAME, "retry_attempts", retry_attempts, 0, 2)
        check_range(NAME, "max_event_age_hours", max_event_age_hours, 1, 6, " hours")
        check_range(NAME, "secret_ttl_seconds", secret_ttl_seconds, 0, 3600, " s")
        check_range(NAME, "webhook_timeout_seconds", webhook_timeout_seconds, 1, 30, " s")
        hosts = tuple(webhook_hosts) if webhook_hosts is not None else DEFAULT_WEBHOOK_HOSTS
        check(NAME, "webhook_hosts", bool(hosts) and all(
            isinstance(h, str) and re.fullmatch(r"[A-Za-z0-9.-]{1,253}", h) for h in hosts),
            "must be one or more host names (letters, digits, '.', '-')")
        self.filter_pattern = filter_pattern or marker_filter_pattern(self.markers)
        check(NAME, "markers", len(self.filter_pattern.log_pattern_string) <= MAX_FILTER_PATTERN_CHARS,
              f"make a filter pattern longer than CloudWatch Logs' {MAX_FILTER_PATTERN_CHARS} characters; "
              "use fewer markers")

        self.encryption_key: kms.IKey = encryption_key or new_key(
            self, "Key", description="Encrypts the LogAlerts table, webhook secret, dead-letter queue and function environment")
        self.table: dynamodb.ITable = table or new_table(self, self.encryption_key)
        self.webhook_secret: secretsmanager.ISecret = webhook_secret or new_secret(self, self.encryption_key)
        self.topic: Optional[sns.ITopic] = topic
        self.dead_letter_queue = dead_letter_queue(self, "DeadLetterQueue", encryption_key=self.encryption_key)

        self.service_name = f"log-alerts-{Names.unique_id(self)}"[:200]
        environment = AlertsConfig(
            table_name=self.table.table_name,
            secret_id=self.webhook_secret.secret_arn,
            secret_ttl_s=secret_ttl_seconds,
            markers=self.markers,
            default_channel=self.channel,
            routes=self.routes,
            topic_arn=topic.topic_arn if topic is not None else None,
            dead_letter_queue_url=self.dead_letter_queue.queue_url,
            retention_days=self.retention_days,
            max_messages=self.max_messages,
            redact=redact is not False,
            redact_disabled=tuple(redaction_disabled),
            redact_extra=dict(redaction_patterns),
            webhook_timeout_s=webhook_timeout_seconds,
            webhook_hosts=hosts,
        ).to_environment()
        self.function = library_function(
            self,
            "Function",
            handler="log_alerts.handler.handler",
            description="LogAlerts: marker log events to Slack, SNS and the audit table",
            service=self.service_name,
            environment=environment,
            environment_encryption=self.encryption_key,
            timeout=Duration.seconds(90),
            memory_size=256,
            log_retention=log_retention or logs.RetentionDays.ONE_MONTH,
        )
        send_failures_to(self.function, self.dead_letter_queue, retry_attempts=retry_attempts,
                         max_event_age=Duration.hours(max_event_age_hours))
        self._grant_least_privilege(topic)
        self.alarms: list[cloudwatch.Alarm] = create_alarms(self, [
            AlarmSpec("ErrorsAlarm", self.metric_errors(), "LogAlerts function failed (Slack down, secret unset, ...)"),
            AlarmSpec("ThrottlesAlarm", self.metric_throttles(), "LogAlerts function was throttled"),
            AlarmSpec("DeadLettersAlarm", self.metric_dead_letters(),
                      "LogAlerts dead-letter queue holds batches that were never fully notified: fix, then redrive"),
        ], alarm_actions)
        self.subscriptions: list[logs.SubscriptionFilter] = []
        # CloudWatch Logs of this account and region may invoke the function: one permission, created here,
        # so subscribing a log group of any stack never changes this one.
        allow_log_delivery(self.function)
        self.function_arn: str = self.function.function_arn
        published = {FUNCTION_NAME: self.function.function_name, FUNCTION_ARN: self.function_arn,
                     FILTER_PATTERN: self.filter_pattern.log_pattern_string}
        self.attach_parameters = attach.publish(self, KIND, self.name, {
            point: published[point] for point in (*ATTACH_POINTS, *LEGACY_ATTACH_POINTS)})
        attach.name_log_groups(self, KIND, self.name, LOG_GROUP_PARTS)
        self.account_data_protection_policy: Optional[logs.CfnAccountPolicy] = (
            account_policy(self, self.data_protection, redaction_patterns)
            if self.data_protection is not None and self.data_protection.account_level else None)
        for log_group in log_groups or ():
            self.add_log_group(log_group)

    @staticmethod
    def from_name(scope: Construct, id: str, *, name: str, markers: Optional[Sequence[str]] = None) -> ImportedLogAlerts:
        """The alerts published as ``name`` in this account and region (by any CDK app), for ``alerts=``
        and ``add_log_group``; resolved when ``scope``'s stack deploys.

        :param markers: the markers the alerts were configured with (the filter pattern is built from them
            here, never read from a parameter). Default: ``DEFAULT_MARKERS``
        """
        if markers is not None:
            validate_markers(tuple(markers))
        return ImportedLogAlerts(scope, id, name=attach.check_from_name(NAME, scope, name), markers=markers)

    def add_log_group(self, log_group: logs.ILogGroup, *,
                      filter_pattern: Optional[logs.IFilterPattern] = None) -> logs.SubscriptionFilter:
        """Subscribe ``log_group``; its filter, named ``log-constructs-alerts`` (one of its two slots), is
        created in the log group's stack. With ``data_protection``, a log group of this app also gets the
        data-protection policy.

        :param filter_pattern: the events to send to the function. Default: - the construct's ``filter_pattern``
        """
        subscription = super().add_log_group(log_group, filter_pattern=filter_pattern)
        if self.data_protection is not None and not self.data_protection.account_level:
            protect(self, log_group, self.data_protection.document(self._redaction_patterns))
        return subscription

    def _alerts_function(self) -> Optional[lambda_.IFunction]:
        return self.function

    # --- metrics ---------------------------------------------------------------------------------
    def metric(self, metric_name: str, *, dimensions: Optional[Mapping[str, str]] = None,
               period: Optional[Duration] = None, statistic: Optional[str] = None,
               label: Optional[str] = None) -> cloudwatch.Metric:
        """A metric the function emits (EMF, namespace ``LogConstructs``, dimension ``service``). Default: Sum over 5 minutes."""
        return metric(METRICS_NAMESPACE, metric_name, {"service": self.service_name, **(dimensions or {})},
                      period=period, statistic=statistic, label=label)

    def metric_alerts(self, marker: str, *, period: Optional[Duration] = None, statistic: Optional[str] = None,
                      label: Optional[str] = None) -> cloudwatch.Metric:
        """New alerts with ``marker`` (replays not counted)."""
        check(NAME, "marker", marker in self.markers, f"must be one of {', '.join(self.markers)}, got {marker!r}")
        return self.metric(contract.METRIC_ALERTS, dimensions={contract.MARKER_DIMENSION: marker}, period=period, statistic=statistic, label=label)

    def metric_slack_messages(self, *, period: Optional[Duration] = None, statistic: Optional[str] = None,
                              label: Optional[str] = None) -> cloudwatch.Metric:
        """Slack messages posted."""
        return self.metric(contract.METRIC_SLACK_MESSAGES, period=period, statistic=statistic, label=label)

    def metric_delivery_failures(self, *, period: Optional[Duration] = None, statistic: Optional[str] = None,
                                 label: Optional[str] = None) -> cloudwatch.Metric:
        """Slack or SNS deliveries that failed after the retries."""
        return self.metric(contract.METRIC_DELIVERY_FAILURES, period=period, statistic=statistic, label=label)

    def metric_redactions(self, *, period: Optional[Duration] = None, statistic: Optional[str] = None,
                          label: Optional[str] = None) -> cloudwatch.Metric:
        """Values masked by the redaction rules."""
        return self.metric(contract.METRIC_REDACTIONS, period=period, statistic=statistic, label=label)

    def metric_invalid_events(self, *, period: Optional[Duration] = None, statistic: Optional[str] = None,
                              label: Optional[str] = None) -> cloudwatch.Metric:
        """Input the function could not decode (sent to the dead-letter queue)."""
        return self.metric(contract.METRIC_INVALID_EVENTS, period=period, statistic=statistic, label=label)

    def metric_errors(self, *, period: Optional[Duration] = None, statistic: Optional[str] = None,
                      label: Optional[str] = None) -> cloudwatch.Metric:
        """Failed invocations of the function. Default: Sum over 5 minutes."""
        return self.function.metric_errors(period=period or Duration.minutes(5), statistic=statistic or "Sum",
                                           label=label)

    def metric_throttles(self, *, period: Optional[Duration] = None, statistic: Optional[str] = None,
                         label: Optional[str] = None) -> cloudwatch.Metric:
        """Throttled invocations of the function. Default: Sum over 5 minutes."""
        return self.function.metric_throttles(period=period or Duration.minutes(5), statistic=statistic or "Sum",
                                              label=label)

    def metric_dead_letters(self, *, period: Optional[Duration] = None, statistic: Optional[str] = None,
                            label: Optional[str] = None) -> cloudwatch.Metric:
        """Batches waiting in the dead-letter queue. Default: Maximum over 5 minutes."""
        return queue_depth(self.dead_letter_queue, period=period, statistic=statistic, label=label)

    def metric_destination_delivery_failures(
            self, *, period: Optional[Duration] = None, statistic: Optional[str] = None,
            label: Optional[str] = None) -> cloudwatch.Metric:
        """Records Lambda could not deliver to the function's on-failure destination (lost).

        Default: Sum over 5 minutes.
        """
        return destination_delivery_failures(self.function, period=period, statistic=statistic, label=label)

    # --- dashboard (IMonitorable) ------------------------------------------------------------------
    @property
    def dashboard_title(self) -> str:
        """``Log alerts (<path>)``."""
        return f"Log alerts ({self.node.path})"

    def dashboard_widgets(self, *, period: Duration) -> list[DashboardRow]:
        """Slack delivery, alerts per marker, the function and the dead-letter queue."""
        p = {"period": period}
        per_marker = [self.metric_alerts(marker, label=marker, **p) for marker in self.markers]
        return [
            graph_row("Slack", [
                ("Slack messages / delivery failures", [self.metric_slack_messages(**p),
                                                        self.metric_delivery_failures(**p)]),
                ("Redactions / invalid events", [self.metric_redactions(**p), self.metric_invalid_events(**p)]),
            ]),
            DashboardRow("Alerts per marker", [graph("Alerts per marker", per_marker, width=24)]),
            function_row([(f"{self.node.id} function", self.function)], period),
            queue_row([(f"{self.node.id} dead letter queue", self.dead_letter_queue)], period),
        ]

    # --- grants ------------------------------------------------------------------------------------
    def grant_read_alerts(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` read the audit table (and its index)."""
        return self.table.grant_read_data(grantee)

    def grant_set_webhook(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` write the webhook secret (e.g. a deployment pipeline)."""
        return self.webhook_secret.grant_write(grantee)

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
        # One statement per key: Decrypt (secret, table reads, queue), Encrypt + GenerateDataKey
        # (table writes, queue and topic messages). No wildcard actions.
        keys: dict[str, kms.IKey] = {}
        for key in (self.encryption_key, self.table.encryption_key, self.webhook_secret.encryption_key,
                    topic.master_key if topic is not None else None):
            if key is not None:
                keys.setdefault(key.node.path, key)
        for key in keys.values():
            grant_key_use(fn, key)
        if topic is not None:
            # Not topic.grant_publish: it adds kms:GenerateDataKey* for an encrypted topic (a wildcard
            # action); the topic's key is covered by the statement above.
            fn.add_to_role_policy(iam.PolicyStatement(sid="AlertsTopic", actions=["sns:Publish"],
                                                      resources=[topic.topic_arn]))
