"""The example platform: one stack that composes every construct with realistic settings."""
from __future__ import annotations

from typing import Any, Mapping

import aws_cdk as cdk
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from log_constructs import LogPipeline
from log_constructs import LoggingDashboard  # operability (issue 7)
from log_constructs._private.functions import library_function


class LoggingPlatformStack(cdk.Stack):
    def __init__(self, scope: Construct, id: str, *, settings: Mapping[str, Any], **kwargs: Any) -> None:
        super().__init__(scope, id, **kwargs)
        self.settings = settings
        self.demo_function = self._demo_function(settings.get("demo", {}))
        self.pipeline = self._pipeline(settings.get("pipeline", {}))
        # Keep last: the dashboard shows whatever the sections above built.
        self.dashboard = self._dashboard(settings.get("dashboard", {}))

    def _demo_function(self, cfg: Mapping[str, Any]) -> lambda_.Function:
        """A small function whose logs travel the whole path (shipper, alerts)."""
        return library_function(
            self,
            "DemoOrders",
            handler="demo_app.handler.handler",
            description="Demo: writes structured order logs, some of them [CRITICAL]",
            service="orders-demo",
            log_retention=logs.RetentionDays(cfg.get("log_retention", "ONE_WEEK")),
        )

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
            **_index_setup(self.settings.get("opensearch", {})),
        )
        pipeline.add_log_group(self.demo_function.log_group)
        return pipeline

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


def _index_setup(cfg: Mapping[str, Any]) -> dict[str, Any]:
    """LogPipeline's index set-up props from the ``opensearch`` context block (issue 7)."""
    keys = ("index_template", "index_shards", "index_replicas", "index_field_limit", "index_lifecycle",
            "index_delete_after_days", "index_warm_after_days", "index_cold_after_days", "dashboards_saved_objects")
    return {key: cfg[key] for key in keys if key in cfg}
