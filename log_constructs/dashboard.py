"""LoggingDashboard: one CloudWatch dashboard for the whole logging platform.

Each source is an :class:`~log_constructs.protocols.IMonitorable` (every construct of this library,
or one of your own): it gives its section title, its rows of widgets and its alarms. Sources are
given at construction (``sources=[...]``) or added later (``add(construct)``), in any order.
"""
from __future__ import annotations

import re
from typing import Optional, Sequence

from aws_cdk import Duration, Token
from aws_cdk import aws_cloudwatch as cloudwatch
import jsii
from constructs import Construct, IValidation

from ._private.validation import PropError, check
from .protocols import DashboardRow, IMonitorable

NAME = "LoggingDashboard"


class LoggingDashboard(Construct):
    """One CloudWatch dashboard with a titled section per monitorable construct.

    Example::

        dashboard = LoggingDashboard(stack, "Dashboard", sources=[pipeline, alerts])
        dashboard.add(governor)  # later, in any order

    :param sources: constructs to show, in this order (``IMonitorable``: a ``LogPipeline``, ``LogAlerts``,
        ``LogGroupGovernor``, ``AuditTrail``, ``ApplicationLogging`` or your own). Default: - none yet;
        add them with ``add``
    :param dashboard_name: Name of the dashboard (letters, digits, ``-``, ``_``; at most 255).
        Default: - a name CloudFormation generates
    :param period: Period of every graph, 1 minute to 1 day. Default: 5 minutes
    :param start: Default time range shown, relative (``-PT12H``, ``-P7D``). Default: ``-PT12H``
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        sources: Optional[Sequence[IMonitorable]] = None,
        dashboard_name: Optional[str] = None,
        period: Optional[Duration] = None,
        start: Optional[str] = None,
    ) -> None:
        super().__init__(scope, id)
        if dashboard_name is not None and not Token.is_unresolved(dashboard_name):
            check(NAME, "dashboard_name", bool(re.fullmatch(r"[A-Za-z0-9_-]{1,255}", dashboard_name)),
                  f"may hold only letters, digits, '-' and '_' (at most 255), got {dashboard_name!r}")
        self.period = period or Duration.minutes(5)
        if not Token.is_unresolved(self.period.to_seconds()):
            seconds = self.period.to_seconds()
            check(NAME, "period", 60 <= seconds <= 86400 and seconds % 60 == 0,
                  f"must be whole minutes between 1 minute and 1 day, got {seconds} s")
        self.start = start or "-PT12H"
        check(NAME, "start", bool(re.fullmatch(r"-P(?=\d|T\d)(\d+[WD])?(T(\d+[HMS])+)?", self.start)),
              f"must be a relative ISO 8601 duration such as -PT12H or -P7D, got {self.start!r}")

        self.dashboard = cloudwatch.Dashboard(
            self, "Resource", dashboard_name=dashboard_name, start=self.start,
            period_override=cloudwatch.PeriodOverride.INHERIT,
        )
        self.sections: list[str] = []
        self.alarms: list[cloudwatch.Alarm] = []
        for source in sources or ():
            self.add(source)
        self.node.add_validation(_HasSections(self))

    def add(self, source: IMonitorable) -> None:
        """Add a section for ``source``: its rows, then the states of its alarms."""
        if not isinstance(source, IMonitorable):
            raise PropError(f"{NAME}: sources must be IMonitorable (alarms, dashboard_title, dashboard_widgets), "
                            f"e.g. a LogPipeline or LogAlerts, got {type(source).__name__}")
        rows = [row for row in source.dashboard_widgets(period=self.period) if row.widgets]
        alarms = list(source.alarms)
        if alarms:
            rows.append(DashboardRow("Alarms", [cloudwatch.AlarmStatusWidget(
                title="Alarm states", alarms=alarms, width=24, height=2 + (len(alarms) + 3) // 4,
                sort_by=cloudwatch.AlarmStatusWidgetSortBy.STATE_UPDATED_TIMESTAMP)]))
        if not rows:
            return
        title = source.dashboard_title
        self.sections.append(title)
        self.dashboard.add_widgets(cloudwatch.TextWidget(markdown=f"## {title}", width=24, height=1))
        for row in rows:
            self.dashboard.add_widgets(cloudwatch.TextWidget(markdown=f"**{row.title}**", width=24, height=1))
            self.dashboard.add_widgets(*row.widgets)


@jsii.implements(IValidation)
class _HasSections:
    """At synth, since ``add`` may come after construction: a dashboard with no section is a mistake."""

    def __init__(self, dashboard: LoggingDashboard) -> None:
        self._dashboard = dashboard

    def validate(self) -> list[str]:
        if self._dashboard.sections:
            return []
        return [f"{NAME}: sources must name at least one construct with metrics or alarms (sources=[...] or "
                f"add(...)), got none at {self._dashboard.node.path}"]
