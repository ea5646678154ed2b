"""A log group's owner opts it out of the governor's shipping with a tag (``log-constructs:ship=false``).

The governor reads the tags (``ListTagsForResource``) only of a group it is about to subscribe, so a
group that complies costs no extra call. Retention is governed either way.
"""
from __future__ import annotations

from typing import Any, Mapping

from .contract import SHIP_TAG_KEY, SHIP_TAG_OPT_OUT

OPTED_OUT_REASON = (f"opted out of shipping: tagged {SHIP_TAG_KEY}={SHIP_TAG_OPT_OUT} by its owner (its application "
                    "ships its logs itself)")


def group_arn(group: Mapping[str, Any]) -> str:
    """The log group's ARN without the ``:*`` that ``DescribeLogGroups``' ``arn`` ends with."""
    arn = str(group.get("logGroupArn") or group.get("arn", ""))
    return arn[:-2] if arn.endswith(":*") else arn


def opted_out(tags: Mapping[str, str]) -> bool:
    """Whether the tags say ``log-constructs:ship=false`` (the value in any case, spaces around it ignored)."""
    return str(tags.get(SHIP_TAG_KEY, "")).strip().lower() == SHIP_TAG_OPT_OUT


def is_opted_out(logs: Any, limiter: Any, group: Mapping[str, Any]) -> bool:
    """One ``ListTagsForResource`` call (rate-limited) for the group of a ``DescribeLogGroups`` page."""
    answer = limiter.call("ListTagsForResource", logs.list_tags_for_resource, resourceArn=group_arn(group))
    return opted_out(answer.get("tags") or {})
