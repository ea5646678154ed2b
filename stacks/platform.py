"""The example platform: one stack that composes every construct with realistic settings."""
from __future__ import annotations

from typing import Any, Mapping

import aws_cdk as cdk
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from log_constructs._private.functions import library_function


class LoggingPlatformStack(cdk.Stack):
    def __init__(self, scope: Construct, id: str, *, settings: Mapping[str, Any], **kwargs: Any) -> None:
        super().__init__(scope, id, **kwargs)
        self.settings = settings
        self.demo_function = self._demo_function(settings.get("demo", {}))
        self.alerts = self._alerts(settings.get("alerts", {}))

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

    # --- LogAlerts (issue 3) -------------------------------------------------------------------
    def _alerts(self, cfg: Mapping[str, Any]) -> "LogAlerts":
        """Marker events of the demo function → Slack (#oncall / #ops), the audit table, alarms."""
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
        )
