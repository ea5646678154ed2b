"""Shared internals of the construct library. Not part of the public API.

Only what several constructs share:

* :mod:`log_constructs._private.assets`: where the function code lives, and what each function's asset holds
* :mod:`log_constructs._private.attach`: attach points (SSM parameters read by name) and the per-app registry
  of names
* :mod:`log_constructs._private.buckets`: S3 buckets with the secure defaults, and the per-stack access log
  bucket
* :mod:`log_constructs._private.failures`: where a function's failed asynchronous invocations go (SQS, least
  privilege)
* :mod:`log_constructs._private.functions`: the one way the library builds a Lambda function, and its custom
  resource providers
* :mod:`log_constructs._private.keys`: customer-managed KMS keys, and the per-stack key for log groups
* :mod:`log_constructs._private.log_groups`: the library's log groups (encrypted, with retention)
* :mod:`log_constructs._private.metrics`: metrics, alarms and dashboard widgets built the same way by every
  construct
* :mod:`log_constructs._private.nag`: cdk-nag acknowledgements on the narrowest construct, and the matching
  checkov skips
* :mod:`log_constructs._private.queues`: dead-letter and on-failure queues
* :mod:`log_constructs._private.removal`: ``removal_policy`` applied to the data resources below a construct
* :mod:`log_constructs._private.roles`: IAM roles whose permissions live in one customer-managed policy
* :mod:`log_constructs._private.subscriptions`: subscription filters, their per-log-group slots and the loop
  checks
* :mod:`log_constructs._private.topics`: SNS topics the alarms notify
* :mod:`log_constructs._private.redaction`: validation of redaction patterns (alerts, pipeline)
* :mod:`log_constructs._private.validation`: named prop validation (``PropError``)
"""
