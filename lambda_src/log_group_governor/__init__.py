"""The log group governor: retention and subscription for every log group of an account and region.

Modules:

* :mod:`log_group_governor.handler`: the Lambda entry point (thin: decode, then govern).
* :mod:`log_group_governor.contract`: what the LogGroupGovernor construct and the function agree on.
* :mod:`log_group_governor.events`: the events it receives (CloudTrail ``CreateLogGroup``, sweeps).
* :mod:`log_group_governor.planning`: pure decisions: what to do to one log group.
* :mod:`log_group_governor.governor`: the work against CloudWatch Logs: one group, or a resumable sweep.
* :mod:`log_group_governor.ratelimit`: client-side rate limits per API, and backoff on throttling.
* :mod:`log_group_governor.opt_out`: the ``log-constructs:ship=false`` tag, read before subscribing a group.
"""
