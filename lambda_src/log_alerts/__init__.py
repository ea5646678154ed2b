"""The LogAlerts function: marker events from CloudWatch Logs → redacted → DynamoDB, Slack, SNS.

``handler.py`` is thin; the logic lives in pure modules (``markers``, ``routing``,
``slack``, ``items``; redaction is the shared ``redaction`` package) and in ``process`` which drives them with injected AWS clients.

Modules:

* :mod:`log_alerts.handler`: the Lambda entry point.
* :mod:`log_alerts.contract`: what the LogAlerts construct and the function agree on.
* :mod:`log_alerts.process`: one invocation, with injected clients.
* :mod:`log_alerts.markers`: which events are alerts.
* :mod:`log_alerts.routing`: which channel, and which webhook serves it.
* :mod:`log_alerts.slack`: the Block Kit messages and their delivery.
* :mod:`log_alerts.items`: alerts and their DynamoDB items.
* :mod:`log_alerts.store`: DynamoDB batch calls within their limits.
"""
