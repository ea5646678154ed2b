"""AuditTrail: CloudTrail into a locked bucket, Athena over it, CIS alarms on what matters.

* :mod:`log_constructs.audit.construct`: :class:`AuditTrail`, the trail, its bucket, key, log group, alarms
  and dashboard rows
* :mod:`log_constructs.audit.props`: its props and their validation
* :mod:`log_constructs.audit.policies`: who may write, read and change the trail's data (bucket and key policy
  statements)
* :mod:`log_constructs.audit.filters`: the metric filter patterns of the CIS AWS Foundations monitoring
  controls
* :mod:`log_constructs.audit.athena`: the query side: Glue database and table, Athena workgroup, saved queries
* :mod:`log_constructs.audit.schema`: the Glue/Athena table definition for CloudTrail log files, as plain data
* :mod:`log_constructs.audit.queries`: the saved Athena queries over that table
"""
from .construct import AuditTrail

__all__ = ["AuditTrail"]
