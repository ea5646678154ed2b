"""The example platform: one stack that composes every construct with realistic settings."""
from __future__ import annotations

from typing import Any, Mapping

import aws_cdk as cdk
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from log_constructs import LogPipeline
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
