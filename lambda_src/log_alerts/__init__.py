"""The LogAlerts function: marker events from CloudWatch Logs → redacted → DynamoDB, Slack, SNS.

``handler.py`` is thin; the logic lives in pure modules (``markers``, ``redaction``, ``routing``,
``slack``, ``items``) and in ``process`` which drives them with injected AWS clients.
"""
