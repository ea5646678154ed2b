"""ApplicationLogging: one structured, encrypted log group for a whole application.

Many Lambda functions write into the same log group through Lambda's advanced logging controls
(JSON format, application and system log levels, a custom log group), with the Powertools for AWS
Lambda (Python) layer, its environment and X-Ray tracing. Applied to the functions passed
explicitly and, through an Aspect, to every function inside the given scopes. A function that
already sets its own log group is reported (warning ``log-constructs:own-log-group``), not changed.
"""
from __future__ import annotations

import re
from typing import Optional, Sequence, Union

import jsii
from aws_cdk import Annotations, Aspects, Duration, Fn, IAspect, RemovalPolicy, Stack, Token
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct, IConstruct

from ._private import nag
from ._private.functions import powertools_layer_arn, powertools_layer_supports
from ._private.log_groups import LIBRARY_LOG_GROUP_PREFIX, secure_log_group
from ._private.metrics import function_row, graph_row, metric
from ._private.removal import apply_removal_policy
from ._private.validation import PropError, check, check_choice
from .pipeline.logship_layer import logship_target, opt_out_of_governors
from .protocols import DashboardRow, ILogDestination

NAME = "ApplicationLogging"
OWN_LOG_GROUP_WARNING = "log-constructs:own-log-group"
NO_POWERTOOLS_LAYER_WARNING = "log-constructs:no-powertools-layer"
NOT_A_FUNCTION_WARNING = "log-constructs:not-a-function"
APPLICATION_LOG_LEVELS = ("TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL")
SYSTEM_LOG_LEVELS = ("DEBUG", "INFO", "WARN")
# Lambda's application log level -> the Powertools Logger level that lets the same records through.
_POWERTOOLS_LEVELS = {"TRACE": "DEBUG", "DEBUG": "DEBUG", "INFO": "INFO", "WARN": "WARNING", "ERROR": "ERROR",
                      "FATAL": "CRITICAL"}
_NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
_LOG_GROUP_NAME_PATTERN = re.compile(r"^[.\-_/#A-Za-z0-9]{1,512}$")


def default_log_group_name(stack: Stack, application_name: str) -> str:
    """``/applications/<application_name>/<creation id>``: the id is the first group of the stack id's UUID.

    The log group is retained when its stack is deleted; a name that a new creation of the stack
    would reuse makes that creation fail ("log group already exists"). The stack id changes with
    every creation and never with an update, so the name is stable while the stack lives.
    """
    creation_id = Fn.select(0, Fn.split("-", Fn.select(2, Fn.split("/", stack.stack_id))))
    return f"/applications/{application_name}/{creation_id}"


def _level(value: Union[str, lambda_.ApplicationLogLevel, lambda_.SystemLogLevel, None]) -> Optional[str]:
    """``"INFO"`` from ``"INFO"``, ``"info"`` or ``lambda_.ApplicationLogLevel.INFO``."""
    if value is None:
        return None
    if isinstance(value, (lambda_.ApplicationLogLevel, lambda_.SystemLogLevel)):
        value = value.value
    return value.upper() if isinstance(value, str) and not Token.is_unresolved(value) else value


def _own_log_group(function: lambda_.Function) -> bool:
    """Whether the function's ``LoggingConfig`` already names a log group."""
    cfn = function.node.default_child
    config = cfn.logging_config if isinstance(cfn, lambda_.CfnFunction) else None
    if isinstance(config, dict):
        return bool(config.get("logGroup") or config.get("log_group"))
    return isinstance(config, lambda_.CfnFunction.LoggingConfigProperty) and bool(config.log_group)


def _library_function(function: lambda_.Function) -> bool:
    """Whether ``function`` is one of this library's own functions (``library_function``): its log
    group, a sibling named ``<id>LogGroup``, lives under ``/log-constructs/``."""
    scope = function.node.scope
    sibling = scope.node.try_find_child(f"{function.node.id}LogGroup") if scope is not None else None
    cfn = sibling.node.default_child if sibling is not None else None
    return (isinstance(cfn, logs.CfnLogGroup) and isinstance(cfn.log_group_name, str)
            and cfn.log_group_name.startswith(LIBRARY_LOG_GROUP_PREFIX))


@jsii.implements(IAspect)
class _ApplyToFunctions:
    """Applies an :class:`ApplicationLogging` to every ``lambda_.Function`` of a scope."""

    def __init__(self, owner: "ApplicationLogging") -> None:
        self._owner = owner

    def visit(self, node: IConstruct) -> None:
        if isinstance(node, lambda_.Function):
            self._owner.add_function(node)


class ApplicationLogging(Construct):
    """One KMS-encrypted log group (with retention, retained on delete) for a whole application.

    Every function it is applied to gets:

    - Lambda's advanced logging controls: JSON log format, the application and system log levels,
      and the application's log group (its role may write there);
    - the Powertools for AWS Lambda (Python) layer for its runtime and architecture (the official,
      pinned, partition- and region-aware layer), ``POWERTOOLS_SERVICE_NAME``,
      ``POWERTOOLS_LOG_LEVEL`` and ``POWERTOOLS_METRICS_NAMESPACE``;
    - active X-Ray tracing.

    A function that already sets its own log group keeps it and is reported with the warning
    ``log-constructs:own-log-group`` (acknowledge it with
    ``Annotations.of(fn).acknowledge_warning("log-constructs:own-log-group", reason)``). The
    library's own functions (shipper, alerts, ..., logging under ``/log-constructs/``) are skipped
    without a warning, so a whole stack can be given as a scope.

    Note: ``fn.log_group`` of a function this construct redirects still names the default
    ``/aws/lambda/<name>`` group (the L2 cannot be changed after creation); use ``log_group`` here.

    :param application_name: name of the application; the default service name, metrics namespace
        and log group name derive from it. Default: the construct id.
    :param log_group_name: name of the shared log group. A fixed name blocks a new deployment of the
        stack after it was deleted, for as long as the retained group of that name exists. Default:
        ``/applications/<application_name>/<creation id>``, where the creation id is the first 8
        characters of the stack's id (new each time the stack is created, the same across updates):
        a stack deleted and deployed again gets a new group beside the retained one.
    :param log_retention: how long the log group keeps events. Default: ``logs.RetentionDays.ONE_MONTH``.
    :param removal_policy: what happens to the application log group when it leaves the stack Default: ``RemovalPolicy.RETAIN``
    :param encryption_key: KMS key of the log group. Default: - the stack's log groups key of this
        library (rotation on, usable by CloudWatch Logs of this account and region only).
    :param application_log_level: Lambda's application log level (``TRACE``, ``DEBUG``, ``INFO``,
        ``WARN``, ``ERROR``, ``FATAL``); also sets ``POWERTOOLS_LOG_LEVEL`` to match. Default: ``INFO``.
    :param system_log_level: Lambda's system log level (``DEBUG``, ``INFO``, ``WARN``). Default: ``WARN``.
    :param service_name: ``POWERTOOLS_SERVICE_NAME`` of every function. Default: ``application_name``.
    :param metrics_namespace: ``POWERTOOLS_METRICS_NAMESPACE`` of every function. Default: ``application_name``.
    :param functions: functions to apply to now. Default: - none.
    :param scopes: constructs whose functions (all of them, also those added later) get applied to,
        through an Aspect. Default: - none.
    :param ship_to: an ``ILogDestination`` (a ``LogPipeline``, or an adapter of ``log_constructs.destinations``)
        that receives the application's log group. Default: - not shipped.
    :param alerts: an ``ILogDestination`` (a ``LogAlerts``) that watches the application's log group.
        Default: - no alerts.
    :param powertools_layer: add the Powertools layer to Python functions. Default: ``True``.
    :param ships_with_logship: the application ships its logs itself with logship, so the log group is
        tagged ``log-constructs:ship=false`` (no LogGroupGovernor subscribes it: every line would arrive
        twice) and is not subscribed to ``ship_to``; with ``ship_to`` a pipeline, every function gets the
        pipeline's logship layer, ``firehose:PutRecord*`` on its stream and ``LOGSHIP_FIREHOSE_STREAM``
        (``pipeline.add_logship(fn)``). A governor in ``subscription_mode="account-policy"`` cannot read
        tags: the platform lists the group in its ``exclude``. Default: ``False`` (the log group is shipped
        by subscription: ``ship_to``, or a governor)
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        application_name: Optional[str] = None,
        log_group_name: Optional[str] = None,
        log_retention: Optional[logs.RetentionDays] = None,
        removal_policy: Optional[RemovalPolicy] = None,
        encryption_key: Optional[kms.IKey] = None,
        application_log_level: Union[str, lambda_.ApplicationLogLevel, None] = None,
        system_log_level: Union[str, lambda_.SystemLogLevel, None] = None,
        service_name: Optional[str] = None,
        metrics_namespace: Optional[str] = None,
        functions: Optional[Sequence[lambda_.IFunction]] = None,
        scopes: Optional[Sequence[IConstruct]] = None,
        ship_to: Optional[ILogDestination] = None,
        alerts: Optional[ILogDestination] = None,
        powertools_layer: Optional[bool] = None,
        ships_with_logship: Optional[bool] = None,
    ) -> None:
        super().__init__(scope, id)
        apply_removal_policy(self, removal_policy)
        self.application_name = application_name or id
        self.application_log_level = _level(application_log_level) or "INFO"
        self.system_log_level = _level(system_log_level) or "WARN"
        self.service_name = service_name or self.application_name
        self.metrics_namespace = metrics_namespace or self.application_name
        self.powertools_layer = True if powertools_layer is None else powertools_layer
        log_group_name = log_group_name or default_log_group_name(Stack.of(self), self.application_name)
        self._validate(log_group_name, ship_to, alerts)
        self.ships_with_logship = bool(ships_with_logship)
        self._logship_pipeline = logship_target(NAME, ship_to, self.ships_with_logship)

        self.log_group: logs.LogGroup = secure_log_group(
            self,
            "LogGroup",
            retention=log_retention or logs.RetentionDays.ONE_MONTH,
            log_group_name=log_group_name,
            encryption_key=encryption_key,
        )
        if self.ships_with_logship:
            opt_out_of_governors(self.log_group)
        self.functions: list[lambda_.Function] = []
        self._seen: set[str] = set()
        for function in functions or []:
            self.add_function(function)
        for target in scopes or []:
            self.apply_to(target)
        self.ship_to = ship_to
        self.alerts = alerts
        self.alarms: list[cloudwatch.Alarm] = []
        if ship_to is not None and not self.ships_with_logship:
            ship_to.add_log_group(self.log_group)
        if alerts is not None:
            alerts.add_log_group(self.log_group)

    def _validate(self, log_group_name: str, ship_to: object, alerts: object) -> None:
        check(NAME, "application_name", Token.is_unresolved(self.application_name)
              or bool(_NAME_PATTERN.match(self.application_name)),
              f"must be 1-100 letters, digits, '.', '_' or '-' starting with a letter or digit, "
              f"got {self.application_name!r}")
        check(NAME, "log_group_name", Token.is_unresolved(log_group_name)
              or bool(_LOG_GROUP_NAME_PATTERN.match(log_group_name)),
              f"must be 1-512 characters of a-z, A-Z, 0-9, '.', '-', '_', '/', '#', got {log_group_name!r}")
        check_choice(NAME, "application_log_level", self.application_log_level, APPLICATION_LOG_LEVELS)
        check_choice(NAME, "system_log_level", self.system_log_level, SYSTEM_LOG_LEVELS)
        for prop, value, what in (("ship_to", ship_to, "a LogPipeline"), ("alerts", alerts, "a LogAlerts")):
            if value is not None and not isinstance(value, ILogDestination):
                raise PropError(f"{NAME}: {prop} must be {what} (an ILogDestination), got {type(value).__name__}")

    # --- applying ------------------------------------------------------------------------------
    def apply_to(self, scope: IConstruct) -> None:
        """Apply to every ``lambda_.Function`` inside ``scope`` (at synthesis, through an Aspect)."""
        Aspects.of(scope).add(_ApplyToFunctions(self))

    def add_function(self, function: lambda_.IFunction) -> bool:
        """Make ``function`` log into the application's log group; ``False`` when left as it is."""
        path = function.node.path
        if path in self._seen:
            return path in {f.node.path for f in self.functions}
        self._seen.add(path)
        if not isinstance(function, lambda_.Function):
            Annotations.of(function).add_warning_v2(
                NOT_A_FUNCTION_WARNING,
                f"{NAME} {self.node.path}: {path} is not a lambda.Function defined in this app "
                "(imported or a different kind); its logging cannot be configured and is left as it is.",
            )
            return False
        if _library_function(function):
            return False  # the library's own functions keep their own groups (no warning: not the app's)
        if _own_log_group(function):
            Annotations.of(function).add_warning_v2(
                OWN_LOG_GROUP_WARNING,
                f"{NAME} {self.node.path}: {path} already sets its own log group, so it does not log into "
                f"the application's log group; it is left as it is. Remove its log_group to join, or "
                f"acknowledge this warning if it is meant to log on its own.",
            )
            return False
        self._configure(function)
        self.functions.append(function)
        return True

    def _configure(self, function: lambda_.Function) -> None:
        cfn = function.node.default_child
        assert isinstance(cfn, lambda_.CfnFunction)
        cfn.logging_config = lambda_.CfnFunction.LoggingConfigProperty(
            log_format="JSON",
            application_log_level=self.application_log_level,
            system_log_level=self.system_log_level,
            log_group=self.log_group.log_group_name,
        )
        cfn.tracing_config = lambda_.CfnFunction.TracingConfigProperty(mode="Active")
        function.add_environment("POWERTOOLS_SERVICE_NAME", self.service_name)
        function.add_environment("POWERTOOLS_METRICS_NAMESPACE", self.metrics_namespace)
        function.add_environment("POWERTOOLS_LOG_LEVEL",
                                 _POWERTOOLS_LEVELS.get(self.application_log_level, self.application_log_level))
        if self.powertools_layer:
            self._add_powertools_layer(function)
        if self._logship_pipeline is not None:
            self._logship_pipeline.add_logship(function)
        role = function.role
        if role is not None:
            # With a custom log group Lambda writes with the function's role: it needs these two actions.
            self.log_group.grant_write(role)
            role.add_to_principal_policy(
                iam.PolicyStatement(actions=["xray:PutTraceSegments", "xray:PutTelemetryRecords"], resources=["*"])
            )
            nag.acknowledge(
                role,
                "IAM5",
                f"{NAME} turns on active X-Ray tracing; xray:PutTraceSegments and xray:PutTelemetryRecords "
                "support no resource-level permissions.",
                findings=["Resource::*"],
            )

    def _add_powertools_layer(self, function: lambda_.Function) -> None:
        runtime = function.runtime
        if runtime.family != lambda_.RuntimeFamily.PYTHON:
            return  # the Powertools for AWS Lambda (Python) layer only; other runtimes bring their own
        if not powertools_layer_supports(runtime):
            Annotations.of(function).add_warning_v2(
                NO_POWERTOOLS_LAYER_WARNING,
                f"{NAME} {self.node.path}: the pinned Powertools layer is not published for {runtime.name}; "
                f"{function.node.path} gets no layer and must bundle aws-lambda-powertools itself.",
            )
            return
        arn = powertools_layer_arn(runtime=runtime, architecture=function.architecture)
        function.add_layers(lambda_.LayerVersion.from_layer_version_arn(function, "PowertoolsLayer", arn))

    # --- grants and metrics ----------------------------------------------------------------------
    def grant(self, grantee: iam.IGrantable, *actions: str) -> iam.Grant:
        """Grant ``actions`` on the application's log group."""
        return self.log_group.grant(grantee, *actions)

    def grant_write(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` create streams in and put events into the application's log group."""
        return self.log_group.grant_write(grantee)

    def grant_read(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` read the application's log group."""
        return self.log_group.grant_read(grantee)

    def metric(self, metric_name: str, *, period: Optional[Duration] = None, statistic: Optional[str] = None,
               label: Optional[str] = None) -> cloudwatch.Metric:
        """An ``AWS/Logs`` metric of the application's log group (``LogGroupName`` dimension). Default: Sum over 5 minutes.

        Built here rather than with ``LogGroup.metric*``: in aws-cdk-lib 2.275 those carry no
        ``LogGroupName`` dimension and ``metricIncomingLogEvents`` names a metric that does not exist
        (``IncomingLogs``).
        """
        return metric("AWS/Logs", metric_name, {"LogGroupName": self.log_group.log_group_name}, period=period,
                      statistic=statistic, label=label)

    def metric_incoming_log_events(self, *, period: Optional[Duration] = None, statistic: Optional[str] = None,
                                   label: Optional[str] = None) -> cloudwatch.Metric:
        """Log events the application wrote (sum over 5 minutes by default)."""
        return self.metric("IncomingLogEvents", period=period, statistic=statistic, label=label)

    def metric_incoming_bytes(self, *, period: Optional[Duration] = None, statistic: Optional[str] = None,
                              label: Optional[str] = None) -> cloudwatch.Metric:
        """Bytes the application wrote, uncompressed (sum over 5 minutes by default)."""
        return self.metric("IncomingBytes", period=period, statistic=statistic, label=label)

    # --- dashboard (IMonitorable) ------------------------------------------------------------------
    @property
    def dashboard_title(self) -> str:
        """``Application <name> (<path>)``."""
        return f"Application {self.application_name} ({self.node.path})"

    def dashboard_widgets(self, *, period: Duration) -> list[DashboardRow]:
        """What the application logs, and the functions that log into its log group."""
        rows = [graph_row("Logs", [
            ("Log events", [self.metric_incoming_log_events(period=period)]),
            ("Bytes", [self.metric_incoming_bytes(period=period)]),
        ])]
        if self.functions:
            rows.append(function_row([(f.node.id, f) for f in self.functions], period))
        return rows
