"""What the governor says about the ``log-constructs:ship=false`` tag where it cannot honour it."""
from __future__ import annotations

from aws_cdk import Annotations
from constructs import Construct

from .._lambda_src.log_group_governor.contract import SHIP_TAG_KEY, SHIP_TAG_OPT_OUT

SHIP_TAG_IGNORED_WARNING = "log-constructs:ship-tag-ignored"


def warn_account_policy_ignores_ship_tag(governor: Construct) -> None:
    """An account-level subscription policy selects log groups by name only: say so at synth time."""
    Annotations.of(governor).add_warning_v2(
        SHIP_TAG_IGNORED_WARNING,
        f"LogGroupGovernor {governor.node.path}: with subscription_mode='account-policy' the tag "
        f"{SHIP_TAG_KEY}={SHIP_TAG_OPT_OUT} (ApplicationLogging(ships_with_logship=True)) cannot opt a log group "
        "out: an account-level subscription filter policy selects log groups by name only (LogGroupName NOT IN "
        "[...]). List every opted-out application log group by its exact name in exclude=, or use "
        "subscription_mode='per-group', which reads the tag. Acknowledge this warning once the list is complete.")
