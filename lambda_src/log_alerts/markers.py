"""Which events are alerts: a ``[MARKER]`` in the text, or a JSON log line whose ``level`` is a marker.

The subscription filter already keeps only candidate events (see ``filter_pattern`` in
``log_constructs/alerts.py``); this is the exact check, so a loose filter match never becomes an alert.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional, Sequence

from log_subscription import json_object

from .contract import LEVEL_KEYS, MARKER_PATTERN as MARKER_RE


@dataclass(frozen=True)
class Classified:
    marker: str
    text: str  # what a human reads: the JSON ``message`` field, or the whole line


def classify(message: str, markers: Sequence[str]) -> Optional[Classified]:
    """The first marker of ``markers`` (priority order) that the event carries, or ``None``.

    Text form: ``[CRITICAL]`` anywhere in the line. JSON form: a top-level ``level`` (or
    ``levelname``/``log_level``) equal to the marker, case-insensitively.
    """
    document = json_object(message)
    text = message
    level = None
    if document is not None:
        for key in LEVEL_KEYS:
            if isinstance(document.get(key), str):
                level = document[key].upper()
                break
        body = document.get("message")
        if isinstance(body, str) and body:
            text = body
    for marker in markers:
        if level == marker or f"[{marker}]" in message:
            return Classified(marker, text)
    return None


def app_name(log_group: str) -> str:
    """The application a log group belongs to: its last path segment (``/aws/lambda/orders`` → ``orders``)."""
    segments = [segment for segment in log_group.split("/") if segment]
    return segments[-1] if segments else log_group or "unknown"
