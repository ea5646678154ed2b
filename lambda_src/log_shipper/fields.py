"""Keys of a structured message made acceptable to OpenSearch's document parser (the ``json`` field).

An empty or blank key, or a blank part of a dotted key (``.a``, ``a.``, ``a..b``), becomes ``_``
(``_.a``, ``a._``, ``a._.b``); an object or array deeper than :data:`MAX_JSON_DEPTH` levels
(``json`` being level 1) is kept as its JSON text; after :data:`MAX_JSON_KEYS` keys the remaining
ones are folded, by their dotted path, into :data:`OVERFLOW_FIELD`.
"""
from __future__ import annotations

import json
from typing import Any

# OpenSearch's index.mapping.depth.limit (20): the depth of an object path, ``json`` being 1 (arrays
# count as a level here too, to stay on the safe side).
MAX_JSON_DEPTH = 20
# Keys kept structured per document (all levels); the rest go to the ``json_overflow`` string.
MAX_JSON_KEYS = 1000
OVERFLOW_FIELD = "json_overflow"
_CONTAINERS = frozenset({dict, list})


def _clean_key(key: str) -> str:
    if "." not in key:
        return key if key and not key.isspace() else "_"
    return ".".join(part if part and not part.isspace() else "_" for part in key.split("."))


class _Sanitizer:
    __slots__ = ("budget", "overflow")

    def __init__(self) -> None:
        self.budget = MAX_JSON_KEYS
        self.overflow: dict[str, Any] = {}

    def value(self, value: Any, level: int, path: str) -> Any:
        if type(value) is dict:
            return self.object(value, level + 1, path)
        if type(value) is list:
            if level + 1 > MAX_JSON_DEPTH:
                return json.dumps(value, ensure_ascii=False)
            return [self.value(item, level + 1, path) for item in value]
        return value

    def object(self, fields: dict[str, Any], level: int, path: str) -> Any:
        if level > MAX_JSON_DEPTH:
            return json.dumps(fields, ensure_ascii=False)
        out: dict[str, Any] = {}
        for key, inner in fields.items():
            if self.budget <= 0:
                self.overflow[path + key] = inner
                continue
            self.budget -= 1
            clean = key
            if "." in key or not key or key.isspace():
                clean = _clean_key(key)
                if level + clean.count(".") > MAX_JSON_DEPTH:  # each part of a dotted key is a level
                    clean = clean.replace(".", "_")
                while clean in out or (clean != key and clean in fields):  # no key is lost
                    clean += "_"
            if type(inner) is dict or type(inner) is list:
                inner = self.value(inner, level + clean.count("."), path + clean + ".")
            out[clean] = inner
        return out


def is_clean(fields: dict[str, Any], source: str = "") -> bool:
    """Whether ``fields`` is already acceptable as it is: no key blank or dotted, within depth and key budget.

    :param source: a text holding the JSON that ``fields`` was parsed from. With a single ``{`` and no
        ``[`` it holds no nested object or array, which spares a look at every value.
    """
    one_brace = 0 <= source.find("{") == source.rfind("{")  # (two memchr scans: str.count tests every character)
    if (one_brace and "[" not in source) or _CONTAINERS.isdisjoint(map(type, fields.values())):
        return _plain_keys(fields) and len(fields) <= MAX_JSON_KEYS  # the usual object: flat, only keys to check
    return 0 <= _clean_object(fields, 1) <= MAX_JSON_KEYS


def _plain_keys(fields: dict[str, Any]) -> bool:
    """No key of ``fields`` is empty, blank or dotted (each test over all keys at once, in C)."""
    keys = "".join(fields)
    # A blank key needs whitespace in the keys joined: one scan finds none in the usual object.
    return "." not in keys and "" not in fields and (keys.split(None, 1) == [keys] or
                                                      not any(map(str.isspace, fields)))


# These two follow _Sanitizer.object and _Sanitizer.value level for level, and count keys instead
# of copying: -1 as soon as the sanitizer would change something. The keys of an object are tested
# all at once, in C; its values one by one (a nested object is small, where a loop beats a pass in C).
def _clean_object(fields: dict[str, Any], level: int) -> int:
    if level > MAX_JSON_DEPTH or not _plain_keys(fields):
        return -1
    keys = len(fields)
    for inner in fields.values():
        if type(inner) is dict:
            inner_keys = _clean_object(inner, level + 1)
        elif type(inner) is list:
            inner_keys = _clean_value(inner, level)
        else:
            continue
        if inner_keys < 0 or keys > MAX_JSON_KEYS:
            return -1
        keys += inner_keys
    return keys


def _clean_value(value: Any, level: int) -> int:
    if type(value) is dict:
        return _clean_object(value, level + 1)
    if type(value) is not list:
        return 0
    if level + 1 > MAX_JSON_DEPTH:
        return -1
    keys = 0
    for item in value:
        if type(item) is dict or type(item) is list:
            item_keys = _clean_value(item, level + 1)
            if item_keys < 0 or keys > MAX_JSON_KEYS:
                return -1
            keys += item_keys
    return keys


def sanitize_fields(fields: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """``fields`` as OpenSearch accepts them under ``json``, and the keys past the cap (by path)."""
    if is_clean(fields):
        return dict(fields), {}
    sanitizer = _Sanitizer()
    clean = sanitizer.object(fields, 1, "")
    return clean, sanitizer.overflow

