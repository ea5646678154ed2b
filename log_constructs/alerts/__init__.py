"""LogAlerts: marker events of subscribed log groups → Slack, SNS and a DynamoDB audit table.

* :mod:`log_constructs.alerts.construct`: :class:`LogAlerts`, its function, metrics, alarms and dashboard rows
* :mod:`log_constructs.alerts.props`: its props (markers, routes, redaction rules) and their validation
* :mod:`log_constructs.alerts.resources`: the audit table, the webhook secret and the data-protection policy
* :mod:`log_constructs.alerts.attachment`: how log groups attach, from its stack and from other stacks and
  apps (:class:`ImportedLogAlerts`, ``LogAlerts.from_name``)
* :mod:`log_constructs.alerts.data_protection`: CloudWatch Logs data protection policies (per log group or
  for the account)
"""
from .attachment import ImportedLogAlerts
from .construct import LogAlerts
from .data_protection import DataProtection
from .props import REDACTION_RULES, AlertRoute, marker_filter_pattern

__all__ = ["AlertRoute", "DataProtection", "ImportedLogAlerts", "LogAlerts", "REDACTION_RULES", "marker_filter_pattern"]
