"""The platform team's stack: log pipeline, audit trail, alerts, log group governor and one dashboard."""
from __future__ import annotations

from typing import Any, Mapping

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from constructs import Construct

from log_constructs import (AlertRoute, AuditTrail, LogAlerts, LogGroupGovernor, LoggingDashboard, LogPipeline,
                            ServerlessSink)
from log_constructs.compliance import alarm_topic


def with_retention(cfg: Mapping[str, Any], *keys: str) -> dict[str, Any]:
    """Context settings as construct props: retention names (``"ONE_MONTH"``) become ``RetentionDays``."""
    return {key: logs.RetentionDays[value] if key in keys else value for key, value in cfg.items()}


def serverless_sink(setting: Any) -> ServerlessSink:
    """The ``pipeline.sink`` context: ``"serverless"``, or ``{"serverless": {<ServerlessSink props>}}``."""
    if setting == "serverless":
        return ServerlessSink()
    if isinstance(setting, Mapping) and set(setting) == {"serverless"}:
        return ServerlessSink(**setting["serverless"])
    raise ValueError(f'log-platform context: pipeline.sink must be "serverless" or {{"serverless": {{...}}}} '
                     f"(leave it out for a domain), got {setting!r}")


class PlatformStack(cdk.Stack):
    """Everything a platform team runs once per account and region; applications plug into it."""

    def __init__(self, scope: Construct, id: str, *, settings: Mapping[str, Any],
                 organization: Mapping[str, Any] | None = None, **kwargs: Any) -> None:
        """``organization``: the ``organization`` context; the pipeline then takes the organization's logs
        from every source region (it needs ``env`` of the central account and region)."""
        super().__init__(scope, id, **kwargs)
        self.organization = organization or {}
        # Every alarm of the platform notifies this topic (subscribe your on-call tool to it).
        self.alarm_topic = alarm_topic(self, "AlarmTopic", display_name="Logging platform alarms")
        self.alarm_actions = [cw_actions.SnsAction(self.alarm_topic)]
        self.dashboard = LoggingDashboard(self, "Dashboard", **settings.get("dashboard", {}))
        self.pipeline = self._pipeline(settings.get("pipeline", {}))
        self.audit = self._audit_trail(settings.get("audit", {}))
        self.alerts = self._alerts(settings.get("alerts", {}))
        self.governor = self._governor(settings.get("governor", {}))

    def _pipeline(self, cfg: Mapping[str, Any]) -> LogPipeline:
        org = self.organization
        ingestion = ({"organization_id": org["organization_id"], "source_regions": org["source_regions"],
                      "destination_name": org["destination_name"]} if org else {})
        props = with_retention(cfg, "log_retention")
        if "sink" in props:
            props["sink"] = serverless_sink(props.pop("sink"))
        pipeline = LogPipeline(self, "Logs", alarm_actions=self.alarm_actions, **ingestion, **props)
        self.dashboard.add(pipeline)
        return pipeline

    def _audit_trail(self, cfg: Mapping[str, Any]) -> AuditTrail:
        """The account's audit trail; its log group is also shipped into the pipeline."""
        props = with_retention(cfg, "log_retention")
        auditor = props.pop("auditor", False)
        ship = props.pop("ship_to_pipeline", False)
        # The demo's cdk.json asks for GOVERNANCE with a one-day lock so that a trial deployment can be torn
        # down; the library's default is COMPLIANCE for 365 days, which nobody (root included) can shorten.
        # Drop both settings from cdk.json for a real audit trail.
        if "object_lock_mode" in props:
            props["object_lock_mode"] = s3.ObjectLockMode[props["object_lock_mode"]]
        audit = AuditTrail(
            self,
            "Audit",
            alarm_actions=self.alarm_actions,
            # IAM in this account decides who may assume the auditor role.
            auditor_principal=iam.AccountRootPrincipal() if auditor else None,
            **props,
        )
        if ship:
            self.pipeline.add_log_group(audit.log_group)
        self.dashboard.add(audit)
        return audit

    def _alerts(self, cfg: Mapping[str, Any]) -> LogAlerts:
        """Marker events of the applications' log groups → Slack (#oncall / #ops) and the alerts table."""
        props = dict(cfg)
        routes = [AlertRoute(**route) for route in props.pop("routes", [])]
        alerts = LogAlerts(self, "Alerts", routes=routes, alarm_actions=self.alarm_actions, **props)
        self.dashboard.add(alerts)
        return alerts

    def _governor(self, cfg: Mapping[str, Any]) -> LogGroupGovernor:
        """Retention for every log group of the account and region, each shipped to the pipeline."""
        props = with_retention(cfg, "retention", "log_retention")
        if "sweep_every_hours" in props:
            props["sweep_schedule"] = events.Schedule.rate(cdk.Duration.hours(props.pop("sweep_every_hours")))
        governor = LogGroupGovernor(self, "Governor", ship_to=self.pipeline, alarm_actions=self.alarm_actions,
                                    **props)
        self.dashboard.add(governor)
        return governor
