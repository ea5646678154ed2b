"""LogGroupGovernor: retention and subscriptions for every log group of an account and region."""
from .construct import METRIC_NAMES, LogGroupGovernor

__all__ = ["LogGroupGovernor", "METRIC_NAMES"]
