"""LoggingDashboard: one CloudWatch dashboard for the whole logging platform.

Each source is an :class:`~log_constructs.protocols.IMonitorable` (every construct of this library,
or one of your own): it gives its section title, its rows of widgets and its alarms. Sources are
given at construction (``sources=[...]``) or added later (``add(construct)``), in any order.

A dashboard shows constructs of its own stack only: a platform's dashboard naming an application's
resources would make the platform depend on that application. Its "Applications" section shows
every application of the account and region through metric search expressions instead, which name
no stack; an application's own dashboard lives in the application's stack.
"""
from __future__ import annotations

import re
from typing import Optional, Sequence

from aws_cdk import Duration, Stack, Token
from aws_cdk import aws_cloudwatch as cloudwatch
import jsii
from constructs import Construct, IValidation

from ._private.metrics import graph

from ._private.validation import PropError, check
from .protocols import DashboardRow, IMonitorable

NAME = "LoggingDashboard"
# ApplicationLogging's default log group names start with /applications/.
APPLICATION_LOG_GROUP_WORD = "applications"


def _search(expression: str, label: str, period: Duration) -> cloudwatch.MathExpression:
    return cloudwatch.MathExpression(expression=expression, label=label, period=period, using_metrics={})


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
    :param applications_overview: Begin with an "Applications" section: the log volume of every log
        group whose name holds the word ``applications`` (``ApplicationLogging``'s default
        ``/applications/<name>``) and the errors of every Lambda function of the account and region,
        found by metric search expressions, so the dashboard names no application stack. Default: True
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
        applications_overview: Optional[bool] = None,
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
        if applications_overview is not False:
            self._add_section("Applications", [DashboardRow("Every application (metric search)", [
                graph("Log events per application log group", [_search(
                    f"SEARCH('{{AWS/Logs,LogGroupName}} MetricName=\"IncomingLogEvents\" "
                    f"{APPLICATION_LOG_GROUP_WORD}', 'Sum', {self.period.to_seconds()})", "", self.period)]),
                graph("Errors per Lambda function", [_search(
                    f"SEARCH('{{AWS/Lambda,FunctionName}} MetricName=\"Errors\"', 'Sum', "
                    f"{self.period.to_seconds()})", "", self.period)]),
            ])])
        for source in sources or ():
            self.add(source)
        self.node.add_validation(_HasSections(self))

    def add(self, source: IMonitorable) -> None:
        """Add a section for ``source``: its rows, then the states of its alarms."""
        if not isinstance(source, IMonitorable):
            raise PropError(f"{NAME}: sources must be IMonitorable (alarms, dashboard_title, dashboard_widgets), "
                            f"e.g. a LogPipeline or LogAlerts, got {type(source).__name__}")
        home = Stack.of(self)
        if isinstance(source, Construct) and Stack.of(source) is not home:
            raise PropError(
                f"{NAME}: sources must be in the dashboard's stack {home.node.path!r}; {source.node.path} is in "
                f"{Stack.of(source).node.path!r}, and showing it would make {home.node.path!r} depend on it. Give "
                f"that stack a LoggingDashboard of its own; this dashboard's Applications section already shows "
                f"every application's log volume and errors")
        rows = [row for row in source.dashboard_widgets(period=self.period) if row.widgets]
        alarms = list(source.alarms)
        if alarms:
            rows.append(DashboardRow("Alarms", [cloudwatch.AlarmStatusWidget(
                title="Alarm states", alarms=alarms, width=24, height=2 + (len(alarms) + 3) // 4,
                sort_by=cloudwatch.AlarmStatusWidgetSortBy.STATE_UPDATED_TIMESTAMP)]))
        if rows:
            self._add_section(source.dashboard_title, rows)

    def _add_section(self, title: str, rows: Sequence[DashboardRow]) -> None:
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
