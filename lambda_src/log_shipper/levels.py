"""The level a log message carries: a JSON field, Lambda's and Python's text formats, markers.

Normalized to upper case, with ``WARNING`` → ``WARN`` and ``ERR`` → ``ERROR`` (Lambda's names).
Each regex runs only when a cheap test on the text says it can match (a level between the second
and third tab, a ``[`` near the start, a first letter some level begins with): most lines of a
batch need one regex or none.
"""
from __future__ import annotations

import re
from typing import Any

LEVEL_NAMES = ("TRACE", "DEBUG", "INFO", "NOTICE", "WARN", "WARNING", "ERROR", "ERR", "CRITICAL", "FATAL", "ALERT",
               "EMERGENCY")
_LEVELS = "|".join(LEVEL_NAMES)
_LEVEL_SET = frozenset(LEVEL_NAMES)
_ALIASES = {"WARNING": "WARN", "ERR": "ERROR"}
_PINO_LEVELS = {10: "TRACE", 20: "DEBUG", 30: "INFO", 40: "WARN", 50: "ERROR", 60: "FATAL"}
# Each level name as written in Lambda's text format → its normalized name.
LEVELS = {name: _ALIASES.get(name, name) for name in LEVEL_NAMES}
_SPELLINGS = {spelling: _ALIASES.get(name, name) for name in LEVEL_NAMES
              for spelling in (name, name.lower(), name.title())}
_JSON_LEVEL_KEYS = ("level", "levelname", "log.level", "severity")
# Lambda's text format (Node.js, Java, .NET and the managed runtimes' system log): time, request id, level.
LAMBDA_TEXT = re.compile(rf"^(\S+)\t(\S+)\t({_LEVELS})\t(.*)\Z", re.DOTALL)
# Python runtime's text format, and "[ERROR] something" / "2026-01-01 10:00:00 [error] ..." markers.
MARKER = re.compile(rf"\[({_LEVELS})\]", re.IGNORECASE)
MARKER_WINDOW = 160
# Python logging's default format: "ERROR:root:message" (case-sensitive, so its first letter tells).
PY_DEFAULT = re.compile(rf"^({_LEVELS}):[\w.]*:")
_PY_FIRST_LETTERS = frozenset(name[0] for name in LEVEL_NAMES)


def normalize(level: Any) -> str | None:
    if type(level) is str and level in _SPELLINGS:  # the usual spellings, looked up
        return _SPELLINGS[level]
    if isinstance(level, bool):
        return None
    if isinstance(level, int):
        return _PINO_LEVELS.get(level)
    if not isinstance(level, str):
        return None
    name = level.strip().upper()
    if not name or len(name) > 16 or not name.isalpha():
        return None
    return _ALIASES.get(name, name)


def lambda_text(message: str) -> tuple[str, str, str, str] | None:
    """What :data:`LAMBDA_TEXT` matches (time, request id, level, rest), or None; without running it.

    The fields cannot hold a tab, so a match has its level exactly between the 2nd and 3rd tab; the
    time and the request id are then non-empty and hold no whitespace (``str.split()`` splits at what
    ``\\s`` matches).
    """
    if "\t" not in message:
        return None
    parts = message.split("\t", 3)
    if len(parts) < 4 or parts[2] not in _LEVEL_SET:
        return None
    time, request_id, level, rest = parts
    both = time + request_id
    if not time or not request_id or both.split() != [both]:
        return None
    return time, request_id, level, rest


def marker_level(message: str) -> str | None:
    """The level of a ``[LEVEL]`` marker near the start or of Python logging's default format, or None."""
    if message[:1] == "[":  # Python's runtime format: "[ERROR]\t..." (the first marker is the one at 0)
        end = message.find("]", 1, 12)
        level = _SPELLINGS.get(message[1:end]) if end > 0 else None
        if level:
            return level
    head = message[:MARKER_WINDOW]
    if "[" in head:
        match = MARKER.search(head)
        if match:
            return normalize(match.group(1))
    if head[:1] in _PY_FIRST_LETTERS:
        match = PY_DEFAULT.match(head)
        if match:
            return normalize(match.group(1))
    return None


def text_level(message: str) -> str | None:
    """The level a plain-text message carries, or None."""
    parts = lambda_text(message)
    if parts:
        return normalize(parts[2])
    return marker_level(message)


def json_level(fields: dict[str, Any]) -> str | None:
    """The level of a structured message (``level``, ``levelname``, ``log.level`` or ``severity``)."""
    for key in _JSON_LEVEL_KEYS:
        if key in fields:
            value = fields[key]
            level = (type(value) is str and _SPELLINGS.get(value)) or normalize(value)  # the usual: looked up
            if level:
                return level
    return None
