"""LogGroupGovernor: retention and subscriptions for every log group of an account and region.

* :mod:`log_constructs.governor.construct`: :class:`LogGroupGovernor`, its function, its EventBridge rules
  (new log groups, the scheduled sweep), the sweep at deploy time, metrics and alarms
* :mod:`log_constructs.governor.account_policy`: which log groups the governor leaves out (its own, its
  destination's, the library's)
* :mod:`log_constructs.governor.permissions`: what its function may do, and what CloudWatch Logs needs to
  deliver to its destination
* :mod:`log_constructs.governor.opt_out`: the synth warning where the opt-out tag cannot be honoured
"""
from .construct import METRIC_NAMES, LogGroupGovernor

__all__ = ["LogGroupGovernor", "METRIC_NAMES"]
