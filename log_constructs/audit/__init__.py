"""AuditTrail: CloudTrail into a locked bucket, Athena over it, CIS alarms on what matters."""
from .construct import AuditTrail

__all__ = ["AuditTrail"]
