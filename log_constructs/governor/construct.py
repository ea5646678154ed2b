"""LogGroupGovernor: retention and (optionally) a subscription for every log group of an account and region.

New log groups are governed when their CloudTrail ``CreateLogGroup`` event arrives (EventBridge);
existing ones by a scheduled sweep and one sweep at deploy time. The function never touches the
loop-prone log groups (its own, its destination's, and every log group of this library).
"""
from __future__ import annotations

import re
from typing import Any, Mapping, Optional, Sequence

from aws_cdk import Annotations, Aspects, Duration, Names, RemovalPolicy, Stack, Token
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import triggers
from constructs import Construct

from .._lambda_src.log_group_governor import contract
from .._private.failures import send_failures_to
from .._private.functions import METRICS_NAMESPACE, acknowledge_trigger_provider, library_function
from .._private.keys import new_key
from .._private.metrics import (AlarmSpec, create_alarms, destination_delivery_failures, function_row, graph_row,
                                metric, queue_depth, queue_row)
from .._private.queues import dead_letter_queue
from .._private.removal import apply_removal_policy
from .._private.subscriptions import GOVERNOR_FILTER_NAME
from .._private.validation import PropError, check, check_choice, check_range
from ..destinations import as_log_destination
from ..protocols import DashboardRow, ILogDestination, LogDestinationConfig
from .account_policy import (ExcludeLibraryLogGroupsFromFunction, check_own_log_groups_named,
                             subscription_account_policy)
from .opt_out import warn_account_policy_ignores_ship_tag
from .permissions import grant_destination, grant_log_groups

NAME = "LogGroupGovernor"
SERVICE = "log-group-governor"
RETENTION_MODES = contract.RETENTION_MODES
SUBSCRIPTION_MODES = ("per-group", "account-policy")
# Calls per second per CloudWatch Logs API; see the README for the quotas these stay under.
DEFAULT_RATE_LIMITS = contract.DEFAULT_RATE_LIMITS
# RetentionDays is a jsii enum of names; CloudWatch Logs wants the days (same order as the enum).
RETENTION_DAYS = dict(zip([m for m in logs.RetentionDays if m != logs.RetentionDays.INFINITE], contract.RETENTION_DAYS))
_PATTERN = re.compile(r"^[\.\-_/#A-Za-z0-9*?\[\]]{1,512}$")
# The names the function emits.
METRIC_NAMES = contract.ALL_METRIC_NAMES


# EventBridge rule names are at most 64 characters; the suffixes (-create, -sweep) take 7.
_RULE_NAME_PREFIX_LENGTH = 57


class LogGroupGovernor(Construct):
    """Makes every log group of the account and region comply: a retention policy and, optionally,
    a subscription to a destination, without ever subscribing a loop-prone log group.

    Example::

        LogGroupGovernor(stack, "Governor", retention=logs.RetentionDays.ONE_MONTH, ship_to=pipeline)

    :param retention: the retention every governed log group gets. Default: ``RetentionDays.ONE_MONTH``.
    :param retention_mode: ``"missing"`` sets retention only where none is set (never expire);
        ``"max"`` also shortens a longer retention. A shorter retention is always left alone.
        Default: ``"missing"``.
    :param ship_to: where log groups are subscribed, an ``ILogDestination``: a ``LogPipeline``, a
        ``LogAlerts``, or ``LambdaLogDestination`` / ``FirehoseLogDestination`` / ``KinesisLogDestination``,
        or the ARN of a CloudWatch Logs destination of another account (``CrossAccountLogDestination``).
        Default: - no subscriptions, retention only.
    :param filter_pattern: the subscription filter pattern. Default: - the destination's own
        (every event for the pipeline and the adapters, the marker pattern for ``LogAlerts``).
    :param include: log group name prefixes or glob patterns (``*``, ``?``, ``[...]``) to govern.
        Default: - every log group.
    :param exclude: prefixes or globs never to govern (in ``account-policy`` mode: exact names kept
        out of the account policy). The destination's log groups (named from a pipeline's or alerts'
        name, ``/log-constructs/<kind>/<name>/...``, wherever they are), the governor's and every
        ``/log-constructs/`` log group are excluded whatever this says; an account policy towards a
        destination whose own log groups cannot be named is refused. Default: - none.
    :param sweep_schedule: when to sweep every existing log group. Default: ``Schedule.rate(Duration.days(1))``.
    :param sweep_at_deploy: also sweep once at every deployment that changes the function
        (asynchronous: never delays or fails the deployment). Default: ``True``.
    :param subscription_mode: ``"per-group"`` puts one subscription filter per log group;
        ``"account-policy"`` creates one CloudWatch Logs account-level subscription filter policy
        instead (requires ``ship_to``). Default: ``"per-group"``.
    :param dry_run: log what would change without changing anything. Default: ``False``.
    :param rate_limits: calls per second per CloudWatch Logs API (``DescribeLogGroups``,
        ``DescribeSubscriptionFilters``, ``PutRetentionPolicy``, ``PutSubscriptionFilter``), each
        between 0.1 and 100. Default: 5, 3, 3, 3 (below the CloudWatch Logs quotas, see README).
    :param timeout: the function's timeout; a sweep that needs longer continues in a fresh
        invocation. Default: 5 minutes.
    :param log_retention: retention of the governor function's own log group. Default: ``RetentionDays.ONE_MONTH``.
    :param removal_policy: what happens to the dead-letter queue, its key and the function's log group when they leave the stack Default: ``RemovalPolicy.RETAIN``
    :param encryption_key: key of the dead-letter queue and the function's environment; a key of this app
        gets the statement that lets EventBridge (this governor's rules only) use it, an imported key must
        already allow that. Default: - a new key with rotation
    :param alarm_actions: actions of the alarms (function errors, dead letters). Default: - alarms without actions (a synth warning, ``log-constructs:no-alarm-actions``, says so)
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        retention: Optional[logs.RetentionDays] = None,
        retention_mode: Optional[str] = None,
        ship_to: Optional[ILogDestination] = None,
        filter_pattern: Optional[logs.IFilterPattern] = None,
        include: Optional[Sequence[str]] = None,
        exclude: Optional[Sequence[str]] = None,
        sweep_schedule: Optional[events.Schedule] = None,
        sweep_at_deploy: Optional[bool] = None,
        subscription_mode: Optional[str] = None,
        dry_run: Optional[bool] = None,
        rate_limits: Optional[Mapping[str, float]] = None,
        timeout: Optional[Duration] = None,
        log_retention: Optional[logs.RetentionDays] = None,
        removal_policy: Optional[RemovalPolicy] = None,
        encryption_key: Optional[kms.IKey] = None,
        alarm_actions: Optional[Sequence[cloudwatch.IAlarmAction]] = None,
    ) -> None:
        super().__init__(scope, id)
        apply_removal_policy(self, removal_policy)
        account = Stack.of(self).account
        retention = retention or logs.RetentionDays.ONE_MONTH
        retention_mode = retention_mode or "missing"
        subscription_mode = subscription_mode or "per-group"
        include = list(include or [])
        exclude = list(exclude or [])
        timeout = timeout or Duration.minutes(5)
        ship_to = as_log_destination(NAME, "ship_to", ship_to)  # a destination ARN string is welcome too
        rates = _validate(retention=retention, retention_mode=retention_mode, subscription_mode=subscription_mode,
                          include=include, exclude=exclude, rate_limits=rate_limits or {}, timeout=timeout,
                          ship_to=ship_to)
        destination: Optional[LogDestinationConfig] = (
            ship_to.bind_log_destination(self) if ship_to is not None else None)
        if subscription_mode == "account-policy" and destination is not None:
            check_own_log_groups_named(NAME, destination, ship_to)
        pattern = filter_pattern or (destination.filter_pattern if destination is not None else None) \
            or logs.FilterPattern.all_events()

        self.retention = retention
        self.retention_mode = retention_mode
        self.subscription_mode = subscription_mode
        self.dry_run = bool(dry_run)
        self.rate_limits = rates
        self.filter_name = (destination.filter_name if destination is not None else None) or GOVERNOR_FILTER_NAME

        # Dead-letter queue: undeliverable and malformed events (EventBridge targets and the function).
        # The rules are named up front: the key policy names their ARNs, and a reference to the rules
        # would be a cycle (rule -> queue -> key -> rule).
        rule_prefix = Names.unique_resource_name(self, max_length=_RULE_NAME_PREFIX_LENGTH, separator="-")
        self._rule_names = {"create": f"{rule_prefix}-create", "sweep": f"{rule_prefix}-sweep"}
        self.dead_letter_key: kms.IKey = encryption_key or new_key(
            self, "DeadLetterKey", description=f"Encrypts the dead-letter queue and the function environment of {self.node.path}")
        self.dead_letter_key.add_to_resource_policy(iam.PolicyStatement(
            sid="AllowEventBridgeToDeadLetter",
            principals=[iam.ServicePrincipal("events.amazonaws.com")],
            actions=["kms:Decrypt", "kms:GenerateDataKey"],
            resources=["*"],  # in a key policy, "*" means this key
            conditions={
                "StringEquals": {"aws:SourceAccount": account},
                "ArnEquals": {"aws:SourceArn": [
                    Stack.of(self).format_arn(service="events", resource="rule", resource_name=name)
                    for name in self._rule_names.values()
                ]},
            },
        ))
        self.dead_letter_queue = dead_letter_queue(self, "DeadLetterQueue", encryption_key=self.dead_letter_key)

        self.function = library_function(
            self, "Function",
            handler="log_group_governor.handler.handler",
            description="Log group governor: retention and subscriptions for every log group",
            service=SERVICE,
            timeout=timeout,
            memory_size=256,
            log_retention=log_retention or logs.RetentionDays.ONE_MONTH,
            environment_encryption=self.dead_letter_key,
        )
        send_failures_to(self.function, self.dead_letter_queue, retry_attempts=2, max_event_age=Duration.hours(6))
        own_groups = [self.function.log_group.log_group_name]
        if destination is not None:
            own_groups += destination.own_log_group_names
        per_group_destination = destination if subscription_mode == "per-group" else None
        grant_log_groups(self, self.function, subscribe=per_group_destination is not None,
                         destination_arn=per_group_destination.destination_arn if per_group_destination else None)
        self.destination_role: Optional[iam.IRole] = None
        if destination is not None:
            self.destination_role = grant_destination(self, destination)
        passed_role = self.destination_role if per_group_destination is not None else None
        if passed_role is not None:
            self.function.add_to_role_policy(iam.PolicyStatement(
                sid="PassRoleToCloudWatchLogs", actions=["iam:PassRole"],
                resources=[passed_role.role_arn],
                conditions={"StringEquals": {"iam:PassedToService": "logs.amazonaws.com"}}))
        environment = contract.GovernorConfig(
            retention_days=RETENTION_DAYS[retention],
            retention_mode=retention_mode,
            destination_arn=per_group_destination.destination_arn if per_group_destination is not None else None,
            role_arn=passed_role.role_arn if passed_role is not None else None,
            filter_name=self.filter_name,
            filter_pattern=pattern.log_pattern_string,
            include=tuple(include),
            exclude=tuple(exclude),
            always_exclude=tuple(own_groups),
            dry_run=self.dry_run,
            rate_limits=rates,
            time_reserve_ms=min(contract.DEFAULT_TIME_RESERVE_MS, int(timeout.to_milliseconds() / 5)),
            dead_letter_queue_url=self.dead_letter_queue.queue_url,
        ).to_environment()
        for key, value in environment.items():
            self.function.add_environment(key, value)
        # Just before synthesis: ALWAYS_EXCLUDE also lists every library log group of the app.
        Aspects.of(self.function).add(ExcludeLibraryLogGroupsFromFunction(
            self.function, own_groups, contract.ENV_ALWAYS_EXCLUDE,
            {**environment, "POWERTOOLS_SERVICE_NAME": SERVICE, "POWERTOOLS_METRICS_NAMESPACE": METRICS_NAMESPACE,
             "POWERTOOLS_LOG_LEVEL": "INFO"}))

        self.account_policy: Optional[logs.CfnAccountPolicy] = None
        if subscription_mode == "account-policy" and destination is not None:
            self.account_policy = self._account_policy(destination, pattern, [*own_groups, *exclude])
            warn_account_policy_ignores_ship_tag(self)
        self._rules(sweep_schedule, sweep_at_deploy is None or sweep_at_deploy)
        self.alarms: list[cloudwatch.Alarm] = create_alarms(self, [
            AlarmSpec("ErrorsAlarm", self.function.metric_errors(period=Duration.minutes(5), statistic="Sum"),
                      "The log group governor function fails"),
            AlarmSpec("DeadLettersAlarm", self.metric_dead_letters(),
                      "Events wait in the log group governor's dead-letter queue: fix, then redrive"),
        ], alarm_actions)

    def _account_policy(self, destination: LogDestinationConfig, pattern: logs.IFilterPattern,
                        excluded: Sequence[str]) -> logs.CfnAccountPolicy:
        return subscription_account_policy(
            self, "AccountPolicy", construct_name=NAME, prop="exclude",
            policy_name=f"log-constructs-{Names.unique_id(self)}"[:256],
            destination_arn=destination.destination_arn, filter_pattern=pattern, excluded=excluded,
            role_arn=self.destination_role.role_arn if self.destination_role is not None else None)

    def _rules(self, sweep_schedule: Optional[events.Schedule], sweep_at_deploy: bool) -> None:
        # New log groups: CloudTrail CreateLogGroup via EventBridge.
        self.create_rule = events.Rule(
            self, "CreateLogGroupRule",
            rule_name=self._rule_names["create"],
            description="New log groups (CloudTrail CreateLogGroup) to the log group governor",
            event_pattern=events.EventPattern(
                source=["aws.logs"],
                detail_type=["AWS API Call via CloudTrail"],
                detail={"eventSource": ["logs.amazonaws.com"], "eventName": ["CreateLogGroup"]},
            ),
            targets=[targets.LambdaFunction(self.function, dead_letter_queue=self.dead_letter_queue,
                                            retry_attempts=4, max_event_age=Duration.hours(2))],
        )
        # Existing log groups: a scheduled sweep and one sweep at deploy time.
        self.sweep_rule = events.Rule(
            self, "SweepSchedule",
            rule_name=self._rule_names["sweep"],
            description="Scheduled sweep of every log group by the log group governor",
            schedule=sweep_schedule or events.Schedule.rate(Duration.days(1)),
            targets=[targets.LambdaFunction(self.function, event=events.RuleTargetInput.from_object({"action": "sweep"}),
                                            dead_letter_queue=self.dead_letter_queue, retry_attempts=2)],
        )
        self.deploy_trigger: Optional[triggers.Trigger] = None
        if sweep_at_deploy:
            # Asynchronous (Event): the deployment only waits for Lambda to accept the invocation.
            self.deploy_trigger = triggers.Trigger(self, "SweepAtDeploy", handler=self.function,
                                                   invocation_type=triggers.InvocationType.EVENT,
                                                   execute_on_handler_change=True)
            acknowledge_trigger_provider(self)
            # The trigger invokes the function's current version (and is granted function:*); EventBridge
            # invokes the unqualified function, which is what the rule targets' permissions are for.
            Annotations.of(self.function).acknowledge_warning(
                "@aws-cdk/aws-lambda:addPermissionsToVersionOrAlias",
                "EventBridge invokes the unqualified function; only the deploy-time trigger uses the version, "
                "and it is granted invoke on function:* itself")

    # --- metrics ---------------------------------------------------------------------------------
    def metric(self, metric_name: str, *, period: Optional[Duration] = None, statistic: Optional[str] = None,
               label: Optional[str] = None) -> cloudwatch.Metric:
        """A metric the governor emits (EMF, namespace ``LogConstructs``, dimension ``service``). Default: Sum per day."""
        return metric(METRICS_NAMESPACE, metric_name, {"service": SERVICE}, period=period, statistic=statistic,
                      label=label, default_period=Duration.days(1))

    def metric_groups_scanned(self, *, period: Optional[Duration] = None, statistic: Optional[str] = None,
                              label: Optional[str] = None) -> cloudwatch.Metric:
        """Log groups a sweep looked at."""
        return self.metric(contract.METRIC_NAMES["scanned"], period=period, statistic=statistic, label=label)

    def metric_retention_set(self, *, period: Optional[Duration] = None, statistic: Optional[str] = None,
                             label: Optional[str] = None) -> cloudwatch.Metric:
        """Log groups that got the retention."""
        return self.metric(contract.METRIC_NAMES["retention_set"], period=period, statistic=statistic, label=label)

    def metric_subscribed(self, *, period: Optional[Duration] = None, statistic: Optional[str] = None,
                          label: Optional[str] = None) -> cloudwatch.Metric:
        """Log groups subscribed to the destination."""
        return self.metric(contract.METRIC_NAMES["subscribed"], period=period, statistic=statistic, label=label)

    def metric_skipped_no_slot(self, *, period: Optional[Duration] = None, statistic: Optional[str] = None,
                               label: Optional[str] = None) -> cloudwatch.Metric:
        """Log groups left unsubscribed because both subscription filter slots were taken."""
        return self.metric(contract.METRIC_NAMES["skipped_no_slot"], period=period, statistic=statistic, label=label)

    def metric_failed(self, *, period: Optional[Duration] = None, statistic: Optional[str] = None,
                      label: Optional[str] = None) -> cloudwatch.Metric:
        """Log groups the governor could not change."""
        return self.metric(contract.METRIC_NAMES["failed"], period=period, statistic=statistic, label=label)

    def metric_dead_letters(self, *, period: Optional[Duration] = None, statistic: Optional[str] = None,
                            label: Optional[str] = None) -> cloudwatch.Metric:
        """Events waiting in the dead-letter queue. Default: Maximum over 5 minutes."""
        return queue_depth(self.dead_letter_queue, period=period, statistic=statistic, label=label)

    def metric_destination_delivery_failures(
            self, *, period: Optional[Duration] = None, statistic: Optional[str] = None,
            label: Optional[str] = None) -> cloudwatch.Metric:
        """Records Lambda could not deliver to the function's on-failure destination (lost).

        Default: Sum over 5 minutes.
        """
        return destination_delivery_failures(self.function, period=period, statistic=statistic, label=label)

    # --- dashboard (IMonitorable) and grants ---------------------------------------------------------
    @property
    def dashboard_title(self) -> str:
        """``Log group governor (<path>)``."""
        return f"Log group governor ({self.node.path})"

    def dashboard_widgets(self, *, period: Duration) -> list[DashboardRow]:
        """Sweep results, the function and the dead-letter queue."""
        p = {"period": period}
        return [
            graph_row("Sweeps", [("Sweep results (log groups)", [
                self.metric_groups_scanned(**p), self.metric_retention_set(**p), self.metric_subscribed(**p),
                self.metric_skipped_no_slot(**p), self.metric_failed(**p)])]),
            function_row([(f"{self.node.id} function", self.function)], period),
            queue_row([(f"{self.node.id} dead letter queue", self.dead_letter_queue)], period),
        ]

    def grant_invoke_sweep(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` start a sweep (invoke the function with ``{"action": "sweep"}``)."""
        return self.function.grant_invoke(grantee)


def _validate(*, retention: logs.RetentionDays, retention_mode: str, subscription_mode: str, include: list[str],
              exclude: list[str], rate_limits: Mapping[str, float], timeout: Duration,
              ship_to: Optional[ILogDestination]) -> dict[str, float]:
    check_choice(NAME, "retention_mode", retention_mode, RETENTION_MODES)
    check_choice(NAME, "subscription_mode", subscription_mode, SUBSCRIPTION_MODES)
    check(NAME, "retention", retention != logs.RetentionDays.INFINITE,
          "must be a number of days; INFINITE is what the governor exists to prevent")
    for prop, patterns in (("include", include), ("exclude", exclude)):
        for pattern in patterns:
            check(NAME, prop, isinstance(pattern, str) and bool(_PATTERN.match(pattern)),
                  f"entries must be log group name prefixes or globs of [.-_/#A-Za-z0-9*?[]], got {pattern!r}")
    rates = dict(DEFAULT_RATE_LIMITS)
    for api, rate in rate_limits.items():
        check_choice(NAME, "rate_limits", api, tuple(DEFAULT_RATE_LIMITS))
        check_range(NAME, f"rate_limits[{api!r}]", rate, 0.1, 100, " calls/s")
        rates[api] = float(rate)
    if not Token.is_unresolved(timeout.to_seconds()):
        check_range(NAME, "timeout", timeout.to_seconds(), 60, 900, " s")
    if ship_to is not None and not isinstance(ship_to, ILogDestination):
        raise PropError(
            f"{NAME}: ship_to must be an ILogDestination (a LogPipeline, a LogAlerts, or a LambdaLogDestination, "
            f"FirehoseLogDestination or KinesisLogDestination around your function or stream, or a CloudWatch "
            f"Logs destination ARN), got {type(ship_to).__name__} {ship_to!r}"[:400])
    if subscription_mode == "account-policy":
        check(NAME, "subscription_mode", ship_to is not None,
              "'account-policy' needs ship_to: the policy subscribes log groups to that destination")
        check(NAME, "include", not include,
              "is not supported with subscription_mode='account-policy': an account policy can only "
              "exclude exact log group names (LogGroupName NOT IN [...])")
        for name in exclude:
            check(NAME, "exclude", not any(c in name for c in "*?["),
                  f"entries must be exact log group names with subscription_mode='account-policy', got {name!r}")
    return rates
