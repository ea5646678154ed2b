"""Decoding the events the governor receives: CloudTrail ``CreateLogGroup`` via EventBridge, and sweeps.

Pure: no AWS calls. A malformed event raises :class:`MalformedEvent` (the handler dead-letters it);
an event for another account or region, or for a failed API call, is :class:`Ignored`.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Mapping, Optional, Union

from aws_lambda_powertools.utilities.data_classes import EventBridgeEvent

LOG_GROUP_NAME = re.compile(r"^[\.\-_/#A-Za-z0-9]{1,512}$")
DETAIL_TYPE = "AWS API Call via CloudTrail"


class MalformedEvent(ValueError):
    """The event cannot be understood; it goes to the dead-letter queue."""


@dataclass(frozen=True)
class NewLogGroup:
    name: str
    event_id: str


@dataclass(frozen=True)
class Ignored:
    reason: str
    event_id: str = ""


@dataclass(frozen=True)
class SweepRequest:
    event: Mapping[str, Any]


Decoded = Union[NewLogGroup, Ignored, SweepRequest]


def is_sweep(event: Any) -> bool:
    """A scheduled sweep (``{"action": "sweep"}``), a continuation (with ``cursor``), or an invocation
    without payload (``{}``: how ``triggers.Trigger`` and ``aws lambda invoke`` call at deploy time)."""
    return isinstance(event, Mapping) and (event == {} or event.get("action") == "sweep")


def decode(event: Any, *, account: str, region: str) -> Decoded:
    if is_sweep(event):
        return SweepRequest(event)
    if not isinstance(event, Mapping) or not {"detail", "source", "detail-type"} <= event.keys():
        raise MalformedEvent("neither a sweep request nor an EventBridge event (source, detail-type, detail)")
    bridge = EventBridgeEvent(dict(event))
    event_id = str(event.get("id", ""))
    if bridge.source != "aws.logs" or bridge.detail_type != DETAIL_TYPE:
        raise MalformedEvent(f"unexpected source/detail-type {bridge.source!r}/{bridge.detail_type!r}")
    detail = bridge.detail
    if not isinstance(detail, Mapping):
        raise MalformedEvent("detail is not an object")
    if detail.get("eventSource") != "logs.amazonaws.com" or detail.get("eventName") != "CreateLogGroup":
        raise MalformedEvent(f"not a CreateLogGroup call: {detail.get('eventSource')}/{detail.get('eventName')}")
    event_account = str(detail.get("recipientAccountId") or bridge.account or "")
    event_region = str(detail.get("awsRegion") or bridge.region or "")
    if event_account != account:
        return Ignored(f"log group of account {event_account or '?'}, this governor serves {account}", event_id)
    if event_region != region:
        return Ignored(f"log group in region {event_region or '?'}, this governor serves {region}", event_id)
    if detail.get("errorCode"):
        return Ignored(f"CreateLogGroup failed ({detail.get('errorCode')}): no log group to govern", event_id)
    parameters = detail.get("requestParameters")
    name: Optional[Any] = parameters.get("logGroupName") if isinstance(parameters, Mapping) else None
    if not isinstance(name, str) or not LOG_GROUP_NAME.match(name):
        raise MalformedEvent(f"requestParameters.logGroupName missing or invalid: {name!r}")
    return NewLogGroup(name, event_id)
