"""The example platform: one stack that composes every construct with realistic settings."""
from __future__ import annotations

from typing import Any, Mapping

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from log_constructs import AuditTrail, LogPipeline
from log_constructs._private.functions import invoked_synchronously, library_function
from log_constructs._private.topics import alarm_topic


class LoggingPlatformStack(cdk.Stack):
    def __init__(self, scope: Construct, id: str, *, settings: Mapping[str, Any], **kwargs: Any) -> None:
        super().__init__(scope, id, **kwargs)
        self.settings = settings
        # Every alarm of the platform notifies this topic (subscribe your on-call tool to it).
        self.alarm_topic = alarm_topic(self, "AlarmTopic", display_name="Logging platform alarms")
        self.demo_function = self._demo_function(settings.get("demo", {}))
        self.pipeline = self._pipeline(settings.get("pipeline", {}))
        self.audit = self._audit_trail(settings.get("audit", {}))

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
