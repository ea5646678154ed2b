"""LogAlerts: marker events of subscribed log groups → Slack, SNS and a DynamoDB audit table."""
from .attachment import ImportedLogAlerts
from .construct import LogAlerts
from .data_protection import DataProtection
from .props import REDACTION_RULES, AlertRoute, marker_filter_pattern

__all__ = ["AlertRoute", "DataProtection", "ImportedLogAlerts", "LogAlerts", "REDACTION_RULES", "marker_filter_pattern"]
