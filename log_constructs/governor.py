"""LogGroupGovernor: retention and (optionally) a subscription for every log group of an account and region.

New log groups are governed when their CloudTrail ``CreateLogGroup`` event arrives (EventBridge);
existing ones by a scheduled sweep and one sweep at deploy time. The function never touches the
loop-prone log groups (its own, its destination's, and every log group of this library).
"""
from __future__ import annotations

import re

import jsii
from typing import Any, Mapping, Optional, Sequence

from aws_cdk import Annotations, Aspects, Duration, IAspect, Names, RemovalPolicy, Stack, Token
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kinesisfirehose as firehose
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from aws_cdk import triggers
from constructs import Construct, IConstruct

from ._private import nag
from ._private.functions import METRICS_NAMESPACE, library_function
from ._private.keys import new_key
from ._private.log_groups import LIBRARY_LOG_GROUP_PREFIX
from ._private.subscriptions import GOVERNOR_FILTER_NAME, PIPELINE_FILTER_NAME
from ._private.validation import PropError, check, check_choice, check_range

NAME = "LogGroupGovernor"
SERVICE = "log-group-governor"
RETENTION_MODES = ("missing", "max")
SUBSCRIPTION_MODES = ("per-group", "account-policy")
# Calls per second per CloudWatch Logs API; see the README for the quotas these stay under.
DEFAULT_RATE_LIMITS = {
    "DescribeLogGroups": 5.0,
    "DescribeSubscriptionFilters": 3.0,
    "PutRetentionPolicy": 3.0,
    "PutSubscriptionFilter": 3.0,
}
# RetentionDays is a jsii enum of names; CloudWatch Logs wants the days (same order as the enum).
RETENTION_DAYS = dict(zip(
    [m for m in logs.RetentionDays if m != logs.RetentionDays.INFINITE],
    (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653),
))
_PATTERN = re.compile(r"^[\.\-_/#A-Za-z0-9*?\[\]]{1,512}$")
# The names the function emits (lambda_src/log_group_governor/planning.py METRIC_NAMES; asserted equal by the tests).
METRIC_NAMES = ("GroupsScanned", "GroupsCompliant", "RetentionSet", "Subscribed", "SkippedNoSlot",
                "SkippedForeignFilter", "GroupsExcluded", "Failed", "ThrottledRetries")


class _Destination:
    """What ``ship_to`` resolved to: its ARN, kind, the role CloudWatch Logs needs, its own log group."""

    def __init__(self, kind: str, arn: str, *, function: Optional[lambda_.IFunction] = None,
                 own_log_groups: Sequence[str] = (), from_pipeline: bool = False,
                 grant: Any = None) -> None:
        self.kind = kind
        self.arn = arn
        self.function = function
        self.own_log_groups = list(own_log_groups)
        self.from_pipeline = from_pipeline
        self.grant = grant  # callable(role) granting CloudWatch Logs' role write access (Firehose/Kinesis)


def _function_log_groups(function: lambda_.IFunction) -> list[str]:
    """The log group names a Lambda function writes to: its configured one and ``/aws/lambda/<name>``."""
    names = [f"/aws/lambda/{function.function_name}"]
    cfn = function.node.default_child
    if isinstance(cfn, lambda_.CfnFunction):
        group = getattr(cfn.logging_config, "log_group", None)
        if isinstance(group, str):
            names.append(group)
    return names


def _resolve_ship_to(ship_to: Any) -> Optional[_Destination]:
    if ship_to is None:
        return None
    shipper = getattr(ship_to, "shipper", None)  # a LogPipeline (duck-typed: its shipper function)
    if shipper is not None:
        return _Destination("lambda", shipper.function_arn, function=shipper,
                            own_log_groups=_function_log_groups(shipper), from_pipeline=True)
    if hasattr(ship_to, "function_arn") and hasattr(ship_to, "add_permission"):
        return _Destination("lambda", ship_to.function_arn, function=ship_to,
                            own_log_groups=_function_log_groups(ship_to))
    if isinstance(ship_to, firehose.CfnDeliveryStream):
        arn = ship_to.attr_arn

        def grant_cfn(role: iam.IRole) -> None:
            role.add_to_principal_policy(iam.PolicyStatement(
                actions=["firehose:PutRecord", "firehose:PutRecordBatch"], resources=[arn]))

        return _Destination("firehose", arn, own_log_groups=[f"/aws/kinesisfirehose/{ship_to.ref}"], grant=grant_cfn)
    if hasattr(ship_to, "delivery_stream_arn") and hasattr(ship_to, "grant_put_records"):
        return _Destination("firehose", ship_to.delivery_stream_arn,
                            own_log_groups=[f"/aws/kinesisfirehose/{ship_to.delivery_stream_name}"],
                            grant=ship_to.grant_put_records)
    if hasattr(ship_to, "stream_arn") and hasattr(ship_to, "grant_write"):
        return _Destination("kinesis", ship_to.stream_arn, grant=ship_to.grant_write)
    raise PropError(
        f"{NAME}: ship_to must be a LogPipeline, a Lambda function, a Firehose delivery stream or a Kinesis "
        f"stream, got {type(ship_to).__name__}"
    )


def _library_log_group_names(root: IConstruct) -> list[str]:
    """Literal names of every log group of this library in the app (for account-policy exclusions)."""
    names = []
    for node in root.node.find_all():
        if isinstance(node, logs.CfnLogGroup):
            name = node.log_group_name
            if isinstance(name, str) and not Token.is_unresolved(name) and name.startswith(LIBRARY_LOG_GROUP_PREFIX):
                names.append(name)
    return sorted(set(names))


def _nag_part(value: str, pseudo: str) -> str:
    """How cdk-nag writes an ARN part in a finding id: the literal, or ``<AWS::Region>`` for a pseudo parameter."""
    return f"<{pseudo}>" if Token.is_unresolved(value) else value


def _selection_criteria(names: Sequence[str]) -> str:
    """``LogGroupName NOT IN [...]``: the only selector a subscription filter account policy accepts."""
    return "LogGroupName NOT IN [" + ", ".join(f'"{n}"' for n in dict.fromkeys(names)) + "]"


@jsii.implements(IAspect)
class _ExcludeLibraryLogGroups:
    """Before synthesis, adds every library log group of the app (even ones created after the governor)."""

    def __init__(self, policy: logs.CfnAccountPolicy, names: Sequence[str]) -> None:
        self._policy = policy
        self._names = list(names)

    def visit(self, node: IConstruct) -> None:
        if node is self._policy:
            self._policy.selection_criteria = _selection_criteria(
                [*self._names, *_library_log_group_names(node.node.root)])


class LogGroupGovernor(Construct):
    """Makes every log group of the account and region comply: a retention policy and, optionally,
    a subscription to a destination, without ever subscribing a loop-prone log group.

    Example::

        LogGroupGovernor(stack, "Governor", retention=logs.RetentionDays.ONE_MONTH, ship_to=pipeline)
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        retention: Optional[logs.RetentionDays] = None,
        retention_mode: Optional[str] = None,
        ship_to: Optional[Any] = None,
        filter_pattern: Optional[str] = None,
        include: Optional[Sequence[str]] = None,
        exclude: Optional[Sequence[str]] = None,
        sweep_schedule: Optional[events.Schedule] = None,
        sweep_at_deploy: Optional[bool] = None,
        subscription_mode: Optional[str] = None,
        dry_run: Optional[bool] = None,
        rate_limits: Optional[Mapping[str, float]] = None,
        timeout: Optional[Duration] = None,
    ) -> None:
        """
        :param retention: the retention every governed log group gets. Default: ``RetentionDays.ONE_MONTH``.
        :param retention_mode: ``"missing"`` sets retention only where none is set (never expire);
            ``"max"`` also shortens a longer retention. A shorter retention is always left alone.
            Default: ``"missing"``.
        :param ship_to: where log groups are subscribed: a ``LogPipeline`` (its shipper function), any
            Lambda function, a Firehose delivery stream (``CfnDeliveryStream``/``IDeliveryStream``) or a
            Kinesis stream. Default: - no subscriptions, retention only.
        :param filter_pattern: the subscription filter pattern. Default: ``""`` (every event).
        :param include: log group name prefixes or glob patterns (``*``, ``?``, ``[...]``) to govern.
            Default: - every log group.
        :param exclude: prefixes or globs never to govern (in ``account-policy`` mode: exact names kept
            out of the account policy). The destination's log group, the governor's and every
            ``/log-constructs/`` log group are excluded whatever this says. Default: - none.
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
        """
        super().__init__(scope, id)
        stack = Stack.of(self)
        partition, region, account = stack.partition, stack.region, stack.account
        retention = retention or logs.RetentionDays.ONE_MONTH
        retention_mode = retention_mode or "missing"
        subscription_mode = subscription_mode or "per-group"
        include = list(include or [])
        exclude = list(exclude or [])
        timeout = timeout or Duration.minutes(5)
        check_choice(NAME, "retention_mode", retention_mode, RETENTION_MODES)
        check_choice(NAME, "subscription_mode", subscription_mode, SUBSCRIPTION_MODES)
        check(NAME, "retention", retention != logs.RetentionDays.INFINITE,
              "must be a number of days; INFINITE is what the governor exists to prevent")
        for prop, patterns in (("include", include), ("exclude", exclude)):
            for pattern in patterns:
                check(NAME, prop, isinstance(pattern, str) and bool(_PATTERN.match(pattern)),
                      f"entries must be log group name prefixes or globs of [.-_/#A-Za-z0-9*?[]], got {pattern!r}")
        rates = dict(DEFAULT_RATE_LIMITS)
        for api, rate in (rate_limits or {}).items():
            check_choice(NAME, "rate_limits", api, tuple(DEFAULT_RATE_LIMITS))
            check_range(NAME, f"rate_limits[{api!r}]", rate, 0.1, 100, " calls/s")
            rates[api] = float(rate)
        if not Token.is_unresolved(timeout.to_seconds()):
            check_range(NAME, "timeout", timeout.to_seconds(), 60, 900, " s")
        destination = _resolve_ship_to(ship_to)
        if subscription_mode == "account-policy":
            check(NAME, "subscription_mode", destination is not None,
                  "'account-policy' needs ship_to: the policy subscribes log groups to that destination")
            check(NAME, "include", not include,
                  "is not supported with subscription_mode='account-policy': an account policy can only "
                  "exclude exact log group names (LogGroupName NOT IN [...])")
            for name in exclude:
                check(NAME, "exclude", not any(c in name for c in "*?["),
                      f"entries must be exact log group names with subscription_mode='account-policy', got {name!r}")

        self.retention = retention
        self.retention_mode = retention_mode
        self.subscription_mode = subscription_mode
        self.dry_run = bool(dry_run)
        self.rate_limits = rates
        self.filter_name = PIPELINE_FILTER_NAME if destination is not None and destination.from_pipeline \
            else GOVERNOR_FILTER_NAME
        log_group_arn_pattern = f"arn:{partition}:logs:{region}:{account}:log-group:*"

        # --- dead-letter queue: undeliverable and malformed events --------------------------------
        self.dead_letter_key = new_key(self, "DeadLetterKey", description=f"Encrypts the dead-letter queue of {self.node.path}")
        self.dead_letter_key.add_to_resource_policy(iam.PolicyStatement(
            sid="AllowEventBridgeToDeadLetter",
            principals=[iam.ServicePrincipal("events.amazonaws.com")],
            actions=["kms:Decrypt", "kms:GenerateDataKey"],
            resources=["*"],  # in a key policy, "*" means this key
            conditions={"StringEquals": {"aws:SourceAccount": account}},
        ))
        self.dead_letter_queue = sqs.Queue(
            self, "DeadLetterQueue",
            encryption=sqs.QueueEncryption.KMS,
            encryption_master_key=self.dead_letter_key,
            enforce_ssl=True,
            retention_period=Duration.days(14),
            removal_policy=RemovalPolicy.RETAIN,
        )
        dead_letter_reason = ("This queue is itself the dead-letter queue of the governor's EventBridge targets and "
                              "function; a dead-letter queue of a dead-letter queue would only move the same messages.")
        nag.acknowledge(self.dead_letter_queue, "SQS3", dead_letter_reason)
        nag.acknowledge(self.dead_letter_queue, "SQSRedrivePolicy", dead_letter_reason, pack=nag.SERVERLESS)

        # --- the function ------------------------------------------------------------------------
        self.function = library_function(
            self, "Function",
            handler="log_group_governor.handler.handler",
            description="Log group governor: retention and subscriptions for every log group",
            service=SERVICE,
            timeout=timeout,
            memory_size=256,
        )
        own_groups = [self.function.log_group.log_group_name]
        if destination is not None:
            own_groups += destination.own_log_groups
        per_group_destination = destination if subscription_mode == "per-group" else None
        environment = {
            "RETENTION_DAYS": str(RETENTION_DAYS[retention]),
            "RETENTION_MODE": retention_mode,
            "DRY_RUN": "true" if self.dry_run else "false",
            "INCLUDE": ",".join(include),
            "EXCLUDE": ",".join(exclude),
            "ALWAYS_EXCLUDE": ",".join(own_groups),
            "RATE_LIMITS": ",".join(f"{api}={rate:g}" for api, rate in rates.items()),
            "TIME_RESERVE_MS": str(min(30_000, int(timeout.to_milliseconds() / 5))),
            "DEAD_LETTER_QUEUE_URL": self.dead_letter_queue.queue_url,
            "FILTER_NAME": self.filter_name,
            "FILTER_NAME_OWNED": "false" if self.filter_name == PIPELINE_FILTER_NAME else "true",
        }
        if per_group_destination is not None:
            environment["DESTINATION_ARN"] = per_group_destination.arn
            environment["FILTER_PATTERN"] = filter_pattern or ""
        for key, value in environment.items():
            self.function.add_environment(key, value)
        cfn_function = self.function.node.default_child
        assert isinstance(cfn_function, lambda_.CfnFunction)
        cfn_function.dead_letter_config = lambda_.CfnFunction.DeadLetterConfigProperty(
            target_arn=self.dead_letter_queue.queue_arn)
        # Explicit instead of grant_send_messages (whose kms:GenerateDataKey*/ReEncrypt* wildcards are more than needed).
        self.function.add_to_role_policy(iam.PolicyStatement(
            sid="DeadLetter", actions=["sqs:SendMessage"], resources=[self.dead_letter_queue.queue_arn]))
        self.function.add_to_role_policy(iam.PolicyStatement(
            sid="DeadLetterEncryption", actions=["kms:GenerateDataKey", "kms:Decrypt"],
            resources=[self.dead_letter_key.key_arn]))

        # --- least-privilege CloudWatch Logs access -------------------------------------------------
        role = self.function.role
        assert role is not None
        role.add_to_principal_policy(iam.PolicyStatement(
            sid="ListLogGroups", actions=["logs:DescribeLogGroups"], resources=["*"]))
        group_actions = ["logs:PutRetentionPolicy"]
        if per_group_destination is not None:
            group_actions += ["logs:DescribeSubscriptionFilters", "logs:PutSubscriptionFilter"]
        role.add_to_principal_policy(iam.PolicyStatement(
            sid="GovernLogGroups", actions=group_actions, resources=[log_group_arn_pattern]))
        nag.acknowledge(
            role, "IAM5",
            "logs:DescribeLogGroups has no resource-level permissions; the governor governs every log group "
            "of this account and region by design (log-group:*), with only the Put/Describe actions it uses.",
            findings=["Resource::*", f"Resource::arn:{_nag_part(partition, 'AWS::Partition')}:logs:"
                      f"{_nag_part(region, 'AWS::Region')}:{_nag_part(account, 'AWS::AccountId')}:log-group:*"],
        )
        # Continuing a sweep: the function invokes itself asynchronously. A separate policy (not the
        # role's own one, which the function depends on) avoids a dependency cycle; customer-managed,
        # like every policy of the library (NIST/HIPAA/PCI IAMNoInlinePolicy).
        iam.ManagedPolicy(self, "ContinueSweepPolicy", roles=[role], statements=[iam.PolicyStatement(
            actions=["lambda:InvokeFunction"], resources=[self.function.function_arn])])

        # --- the destination: permission for CloudWatch Logs, role for Firehose/Kinesis -------------
        self.destination_role: Optional[iam.Role] = None
        if destination is not None and destination.kind == "lambda":
            assert destination.function is not None
            # One permission for the whole account's log groups: per-group permissions would hit the
            # function policy size limit long before 20,000 log groups.
            destination.function.add_permission(
                f"InvokeFromLogs{Names.unique_id(self)}",
                principal=iam.ServicePrincipal("logs.amazonaws.com"),
                source_account=account,
                source_arn=log_group_arn_pattern,
            )
        elif destination is not None:
            self.destination_role = iam.Role(
                self, "LogsToDestinationRole",
                assumed_by=iam.ServicePrincipal("logs.amazonaws.com", conditions={
                    "StringLike": {"aws:SourceArn": f"arn:{partition}:logs:{region}:{account}:*"}}),
                description="CloudWatch Logs writes subscribed log events to the governor's destination",
            )
            destination.grant(self.destination_role)
            if per_group_destination is not None:
                self.function.add_environment("DESTINATION_ROLE_ARN", self.destination_role.role_arn)
                role.add_to_principal_policy(iam.PolicyStatement(
                    sid="PassRoleToCloudWatchLogs", actions=["iam:PassRole"],
                    resources=[self.destination_role.role_arn],
                    conditions={"StringEquals": {"iam:PassedToService": "logs.amazonaws.com"}}))

        # --- account-level subscription filter policy ------------------------------------------------
        self.account_policy: Optional[logs.CfnAccountPolicy] = None
        if subscription_mode == "account-policy":
            assert destination is not None
            document: dict[str, Any] = {"DestinationArn": destination.arn, "FilterPattern": filter_pattern or "",
                                        "Distribution": "Random"}
            if self.destination_role is not None:
                document["RoleArn"] = self.destination_role.role_arn

            self.account_policy = logs.CfnAccountPolicy(
                self, "AccountPolicy",
                policy_name=f"log-constructs-{Names.unique_id(self)}"[:256],
                policy_type="SUBSCRIPTION_FILTER_POLICY",
                scope="ALL",
                policy_document=stack.to_json_string(document),
                selection_criteria=_selection_criteria([*own_groups, *exclude]),
            )
            Aspects.of(self.account_policy).add(_ExcludeLibraryLogGroups(self.account_policy, [*own_groups, *exclude]))

        # --- new log groups: CloudTrail CreateLogGroup via EventBridge ------------------------------
        self.create_rule = events.Rule(
            self, "CreateLogGroupRule",
            description="New log groups (CloudTrail CreateLogGroup) to the log group governor",
            event_pattern=events.EventPattern(
                source=["aws.logs"],
                detail_type=["AWS API Call via CloudTrail"],
                detail={"eventSource": ["logs.amazonaws.com"], "eventName": ["CreateLogGroup"]},
            ),
            targets=[targets.LambdaFunction(self.function, dead_letter_queue=self.dead_letter_queue,
                                            retry_attempts=4, max_event_age=Duration.hours(2))],
        )

        # --- existing log groups: scheduled sweep and one sweep at deploy time ------------------------
        self.sweep_rule = events.Rule(
            self, "SweepSchedule",
            description="Scheduled sweep of every log group by the log group governor",
            schedule=sweep_schedule or events.Schedule.rate(Duration.days(1)),
            targets=[targets.LambdaFunction(self.function, event=events.RuleTargetInput.from_object({"action": "sweep"}),
                                            dead_letter_queue=self.dead_letter_queue, retry_attempts=2)],
        )
        self.deploy_trigger: Optional[triggers.Trigger] = None
        if sweep_at_deploy is None or sweep_at_deploy:
            # Asynchronous (Event): the deployment only waits for Lambda to accept the invocation.
            self.deploy_trigger = triggers.Trigger(self, "SweepAtDeploy", handler=self.function,
                                                   invocation_type=triggers.InvocationType.EVENT,
                                                   execute_on_handler_change=True)
            # The trigger invokes the function's current version (and is granted function:*); EventBridge
            # invokes the unqualified function, which is what the rule targets' permissions are for.
            Annotations.of(self.function).acknowledge_warning(
                "@aws-cdk/aws-lambda:addPermissionsToVersionOrAlias",
                "EventBridge invokes the unqualified function; only the deploy-time trigger uses the version, "
                "and it is granted invoke on function:* itself")

    # --- metrics ---------------------------------------------------------------------------------
    def metric(self, metric_name: str, *, statistic: str = "Sum", period: Optional[Duration] = None) -> cloudwatch.Metric:
        """A metric the governor emits (EMF, namespace ``LogConstructs``, dimension ``service``)."""
        return cloudwatch.Metric(namespace=METRICS_NAMESPACE, metric_name=metric_name,
                                 dimensions_map={"service": SERVICE}, statistic=statistic,
                                 period=period or Duration.days(1))

    def metric_groups_scanned(self, **kwargs: Any) -> cloudwatch.Metric:
        return self.metric("GroupsScanned", **kwargs)

    def metric_retention_set(self, **kwargs: Any) -> cloudwatch.Metric:
        return self.metric("RetentionSet", **kwargs)

    def metric_subscribed(self, **kwargs: Any) -> cloudwatch.Metric:
        return self.metric("Subscribed", **kwargs)

    def metric_skipped_no_slot(self, **kwargs: Any) -> cloudwatch.Metric:
        return self.metric("SkippedNoSlot", **kwargs)

    def metric_failed(self, **kwargs: Any) -> cloudwatch.Metric:
        return self.metric("Failed", **kwargs)

    def grant_invoke_sweep(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` start a sweep (invoke the function with ``{"action": "sweep"}``)."""
        return self.function.grant_invoke(grantee)
