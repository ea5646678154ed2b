"""The example platform: one stack that composes every construct with realistic settings."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from log_constructs import AuditTrail, LogPipeline
from log_constructs._private.functions import (
    LATEST_RUNTIME_REASON,
    OUTSIDE_VPC_REASON,
    OUTSIDE_VPC_RULES,
    invoked_synchronously,
    library_function,
    send_failures_to,
)
from log_constructs._private.keys import new_key
from log_constructs._private.queues import dead_letter_queue
from log_constructs._private.roles import library_role
from log_constructs._private.topics import alarm_topic
from log_constructs import LoggingDashboard  # operability (issue 7)

# --- ApplicationLogging demo (issue 6) ---
from aws_cdk import Duration

from log_constructs import ApplicationLogging
from log_constructs._private import nag
from log_constructs._private.functions import ARCHITECTURE, RUNTIME

DEMO_SHOP_CODE = Path(__file__).resolve().parents[1] / "examples" / "demo_shop"


class LoggingPlatformStack(cdk.Stack):
    def __init__(self, scope: Construct, id: str, *, settings: Mapping[str, Any], **kwargs: Any) -> None:
        super().__init__(scope, id, **kwargs)
        self.settings = settings
        # Every alarm of the platform notifies this topic (subscribe your on-call tool to it).
        self.alarm_topic = alarm_topic(self, "AlarmTopic", display_name="Logging platform alarms")
        self.demo_function = self._demo_function(settings.get("demo", {}))
        self.pipeline = self._pipeline(settings.get("pipeline", {}))
        self.audit = self._audit_trail(settings.get("audit", {}))
        self.alerts = self._alerts(settings.get("alerts", {}))
        # Keep last: ships to self.pipeline and alerts with self.alerts when those exist.
        self.application = self._application(settings.get("application", {}))
        # After the pipeline (it ships to it), before the dashboard (which shows it).
        self.governor = self._governor(settings.get("governor", {}))
        # Keep very last: the dashboard shows whatever the sections above built.
        self.dashboard = self._dashboard(settings.get("dashboard", {}))

    def _demo_function(self, cfg: Mapping[str, Any]) -> lambda_.Function:
        """A small function whose logs travel the whole path (shipper, alerts); run it with `aws lambda invoke`."""
        function = library_function(
            self,
            "DemoOrders",
            handler="demo_app.handler.handler",
            description="Demo: writes structured order logs, some of them [CRITICAL]",
            service="orders-demo",
            log_retention=logs.RetentionDays(cfg.get("log_retention", "ONE_WEEK")),
            reserved_concurrent_executions=2,
            code=lambda_.Code.from_asset(str(DEMO_SHOP_CODE), exclude=["**/__pycache__", "**/*.pyc"]),
        )
        invoked_synchronously(function, by="the person running the demo (aws lambda invoke)")
        return function

    def _pipeline(self, cfg: Mapping[str, Any]) -> LogPipeline:
        """The EKK pipeline; the demo function's log group is shipped into it."""
        pipeline = LogPipeline(
            self,
            "Logs",
            index=cfg.get("index", "app-logs"),
            index_rotation=cfg.get("index_rotation", "day"),
            retry_seconds=cfg.get("retry_seconds", 300),
            buffer_interval_seconds=cfg.get("buffer_interval_seconds", 60),
            buffer_mib=cfg.get("buffer_mib", 5),
            backup_mode=cfg.get("backup_mode", "all"),
            data_node_instance_type=cfg.get("data_node_instance_type", "t3.small.search"),
            data_nodes=cfg.get("data_nodes"),
            volume_gib=cfg.get("volume_gib", 10),
            zone_awareness_azs=cfg.get("zone_awareness_azs"),
            master_nodes=cfg.get("master_nodes", 0),
            backup_expiration_days=cfg.get("backup_expiration_days", 365),
            log_retention=logs.RetentionDays(cfg.get("log_retention", "ONE_MONTH")),
            alarm_topic=self.alarm_topic,
            **_index_setup(self.settings.get("opensearch", {})),
        )
        pipeline.add_log_group(self.demo_function.log_group)
        return pipeline

    def _audit_trail(self, cfg: Mapping[str, Any]) -> AuditTrail:
        """The account's audit trail; its log group is also shipped into the pipeline."""
        break_glass = cfg.get("break_glass_role_arn")
        mode = cfg.get("object_lock_mode", "GOVERNANCE")
        if mode not in ("GOVERNANCE", "COMPLIANCE"):
            raise ValueError(f"log-platform.audit.object_lock_mode must be GOVERNANCE or COMPLIANCE, got {mode!r}")
        audit = AuditTrail(
            self,
            "Audit",
            object_lock_mode=s3.ObjectLockMode[mode],
            object_lock_days=cfg.get("object_lock_days", 365),
            glacier_after_days=cfg.get("glacier_after_days", 90),
            log_retention=logs.RetentionDays(cfg.get("log_retention", "ONE_YEAR")),
            query_history_days=cfg.get("query_history_days", 365),
            query_window_days=cfg.get("query_window_days", 7),
            query_scan_limit_gib=cfg.get("query_scan_limit_gib", 10),
            query_results_expire_days=cfg.get("query_results_expire_days", 30),
            # IAM in this account decides who may assume the auditor role.
            auditor_principal=iam.AccountRootPrincipal() if cfg.get("auditor", True) else None,
            break_glass_role=iam.Role.from_role_arn(self, "AuditBreakGlass", break_glass, mutable=False)
            if break_glass
            else None,
        )
        if cfg.get("alarm_email"):
            audit.alarm_topic.add_subscription(subscriptions.EmailSubscription(cfg["alarm_email"]))
        if cfg.get("ship_to_pipeline", True):
            self.pipeline.add_log_group(audit.log_group)
        return audit

    # --- LogAlerts (issue 3) -------------------------------------------------------------------
    def _alerts(self, cfg: Mapping[str, Any]) -> "LogAlerts":
        """Marker events of the demo function → Slack (#oncall / #ops) and the alerts table; the
        alerts' own alarms go to the audit trail's alarm topic (one place for platform alarms)."""
        from aws_cdk import aws_cloudwatch_actions as cw_actions

        from log_constructs import AlertRoute, LogAlerts

        return LogAlerts(
            self,
            "Alerts",
            log_groups=[self.demo_function.log_group],
            markers=cfg.get("markers"),
            channel=cfg.get("channel"),
            routes=[AlertRoute(**route) for route in cfg.get("routes", [])],
            retention_days=cfg.get("retention_days"),
            max_messages=cfg.get("max_messages"),
            data_protection=cfg.get("data_protection"),
            alarm_actions=[cw_actions.SnsAction(self.audit.alarm_topic)],
        )
    # --- ApplicationLogging demo (issue 6) ---------------------------------------------------
    def _application(self, cfg: Mapping[str, Any]) -> ApplicationLogging:
        """A demo shop: two functions of one service logging into one application log group,
        shipped to the pipeline and watched by the alerts when the stack has them."""
        name = cfg.get("name", "shop")
        shop = Construct(self, "ShopApp")
        payments = self._shop_function(shop, "Payments", "demo_app.payments.handler",
                                       "Demo shop: authorizes payments, [CRITICAL] when the provider is down",
                                       {"PAYMENT_LIMIT_CENTS": str(cfg.get("payment_limit_cents", 100000))})
        checkout = self._shop_function(shop, "Checkout", "demo_app.checkout.handler",
                                       "Demo shop: accepts orders and requests their payment",
                                       {"PAYMENTS_FUNCTION": payments.function_name})
        payments.grant_invoke(checkout)
        # Checkout invokes payments asynchronously: what still fails after Lambda's retries is kept.
        failures = dead_letter_queue(shop, "PaymentFailures", encryption_key=new_key(
            shop, "Key", description="Encrypts the demo shop's failed payment events"))
        send_failures_to(payments, failures)
        invoked_synchronously(checkout, by="the person running the demo (aws lambda invoke)")
        nag.acknowledge(
            checkout.role,  # type: ignore[arg-type]
            "IAM5",
            "lambda:InvokeFunction on the payments function and its versions/aliases (ARN:*), nothing else.",
            findings=[nag.arn_of(payments, ":*")],
        )
        return ApplicationLogging(
            self,
            "ShopLogging",
            application_name=name,
            retention=logs.RetentionDays(cfg.get("log_retention", "ONE_MONTH")),
            application_log_level=cfg.get("application_log_level", "INFO"),
            system_log_level=cfg.get("system_log_level", "WARN"),
            scopes=[shop],
            ship_to=getattr(self, "pipeline", None),
            alerts=getattr(self, "alerts", None),
        )

    def _shop_function(self, scope: Construct, id: str, handler: str, description: str,
                       environment: Mapping[str, str]) -> lambda_.Function:
        """A plain application function: logging, layer, tracing and log permissions come from
        ApplicationLogging, so its role starts empty."""
        role = library_role(scope, f"{id}Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
                            description=f"Execution role of the demo shop's {id.lower()} function")
        fn = lambda_.Function(
            scope,
            id,
            role=role,
            description=description,
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            handler=handler,
            code=lambda_.Code.from_asset(str(DEMO_SHOP_CODE), exclude=["**/__pycache__", "**/*.pyc"]),
            timeout=Duration.seconds(10),
            memory_size=256,
            reserved_concurrent_executions=2,
            environment=dict(environment),
        )
        nag.acknowledge(fn, "LambdaLatestVersion", LATEST_RUNTIME_REASON, pack=nag.SERVERLESS)
        nag.acknowledge_all(fn, OUTSIDE_VPC_RULES, reason=OUTSIDE_VPC_REASON)
        nag.acknowledge(
            fn,
            "L1",
            "Pinned to Python 3.13 like the library's functions: the runtime the pinned Powertools layer "
            "and the tests cover.",
        )
        return fn

    # --- operability (issue 7) ---------------------------------------------------------------------
    def _dashboard(self, cfg: Mapping[str, Any]) -> LoggingDashboard:
        """One CloudWatch dashboard over every construct this stack built (whichever exist)."""
        return LoggingDashboard(
            self,
            "Dashboard",
            pipeline=getattr(self, "pipeline", None),
            alerts=getattr(self, "alerts", None),
            governor=getattr(self, "governor", None),
            audit=getattr(self, "audit", None),
            dashboard_name=cfg.get("name", f"{self.stack_name}-logging"),
            period=cdk.Duration.minutes(cfg.get("period_minutes", 5)),
            start=cfg.get("start", "-PT12H"),
        )


    # --- log group governor (issue 4) ---------------------------------------------------------
    def _governor(self, cfg: Mapping[str, Any]) -> "LogGroupGovernor":
        """Retention for every log group of the account and region, shipped to the pipeline if there is one."""
        from aws_cdk import aws_events as events

        from log_constructs import LogGroupGovernor

        return LogGroupGovernor(
            self,
            "Governor",
            retention=logs.RetentionDays(cfg.get("retention", "ONE_MONTH")),
            retention_mode=cfg.get("retention_mode", "missing"),
            ship_to=getattr(self, "pipeline", None),
            exclude=cfg.get("exclude"),
            sweep_schedule=events.Schedule.rate(cdk.Duration.hours(cfg.get("sweep_every_hours", 24))),
            subscription_mode=cfg.get("subscription_mode", "per-group"),
            dry_run=cfg.get("dry_run", False),
            rate_limits=cfg.get("rate_limits"),
        )

def _index_setup(cfg: Mapping[str, Any]) -> dict[str, Any]:
    """LogPipeline's index set-up props from the ``opensearch`` context block (issue 7)."""
    keys = ("index_template", "index_shards", "index_replicas", "index_field_limit", "index_lifecycle",
            "index_delete_after_days", "index_warm_after_days", "index_cold_after_days", "dashboards_saved_objects")
    return {key: cfg[key] for key in keys if key in cfg}
