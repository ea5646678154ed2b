"""The LogAlerts function: marker events from CloudWatch Logs → redacted → DynamoDB, Slack, SNS.

``handler.py`` is thin; the logic lives in pure modules (``markers``, ``routing``,
``slack``, ``items``; redaction is the shared ``redaction`` package) and in ``process``, which drives
them with injected AWS clients.
"""
