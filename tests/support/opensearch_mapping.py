"""A small model of how an OpenSearch index maps documents under an index template's mappings.

It applies the rules that make OpenSearch refuse a document in a shared index, stricter rather than
looser: field names (empty, blank, starting or ending with ``.``, containing ``..``), object depth
(``index.mapping.depth.limit``, 20), the total field limit, automatic date detection and type
conflicts between dynamically mapped fields. Field names are checked everywhere, even under an
object with ``dynamic: false`` whose children OpenSearch would skip.
"""
from __future__ import annotations

import re
from typing import Any, Mapping

DEPTH_LIMIT = 20
_DATE = re.compile(r"^\d{4}[-/]\d{2}[-/]\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$")


class Refused(Exception):
    """OpenSearch would answer the bulk item with a mapper_parsing_exception / illegal_argument_exception."""


class Index:
    """One index created from ``mappings``; :meth:`index` maps a document or raises :class:`Refused`."""

    def __init__(self, mappings: Mapping[str, Any], field_limit: int = 2000) -> None:
        self.date_detection = mappings.get("date_detection", True) not in (False, "false")
        self.field_limit = field_limit
        self.types: dict[str, str] = {}
        self.dynamic: dict[str, bool] = {"": mappings.get("dynamic", True) not in (False, "false")}
        self._declare(mappings.get("properties") or {}, "")

    def _declare(self, properties: Mapping[str, Any], prefix: str) -> None:
        for name, spec in properties.items():
            path = prefix + name
            self.types[path] = spec.get("type", "object")
            if self.types[path] == "object":
                self.dynamic[path] = spec.get("dynamic", True) not in (False, "false")
                self._declare(spec.get("properties") or {}, path + ".")

    def index(self, document: Mapping[str, Any]) -> None:
        added: dict[str, str] = {}
        self._object(document, "", 0, self.dynamic[""], added)
        if len(self.types) + len(added) > self.field_limit:
            raise Refused(f"Limit of total fields [{self.field_limit}] has been exceeded")
        self.types.update(added)

    def _object(self, fields: Mapping[str, Any], prefix: str, depth: int, dynamic: bool,
                added: dict[str, str]) -> None:
        """``dynamic``: whether fields this object does not map yet are added to the mapping."""
        for key, value in fields.items():
            if not key or key.isspace():
                raise Refused(f"field name cannot be empty or blank: [{prefix}{key}]")
            parts = key.split(".")
            if any(not part or part.isspace() for part in parts):
                raise Refused(f"object field starting or ending with a [.] makes object resolution ambiguous: [{key}]")
            if depth + len(parts) - 1 > DEPTH_LIMIT:
                raise Refused(f"Limit of mapping depth [{DEPTH_LIMIT}] has been exceeded")
            self._value(value, prefix + key, depth + len(parts) - 1, dynamic, added)

    def _value(self, value: Any, path: str, depth: int, dynamic: bool, added: dict[str, str]) -> None:
        mapped = self.types.get(path) or added.get(path)
        if isinstance(value, list):
            for item in value:
                self._value(item, path, depth, dynamic, added)
            return
        if isinstance(value, dict):
            if depth + 1 > DEPTH_LIMIT:
                raise Refused(f"Limit of mapping depth [{DEPTH_LIMIT}] has been exceeded")
            if mapped not in (None, "object"):
                raise Refused(f"object mapping [{path}] tried to parse field as object, but found a concrete value")
            if mapped is None and dynamic:
                added[path] = "object"
            inner = self.dynamic.get(path, dynamic) if mapped is not None else dynamic
            self._object(value, path + ".", depth + 1, inner, added)
            return
        if value is None:
            return
        if mapped is None:
            if dynamic:
                added[path] = _kind(value, self.date_detection)
            return
        if not _accepts(mapped, value):
            raise Refused(f"failed to parse field [{path}] of type [{mapped}]")


def _kind(value: Any, date_detection: bool) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "long"
    if isinstance(value, float):
        return "float"
    if date_detection and _DATE.match(value):
        return "date"
    return "keyword"


def _accepts(mapped: str, value: Any) -> bool:
    if mapped == "object":
        return False  # a concrete value where an object is mapped
    if mapped in ("long", "float"):
        if isinstance(value, bool):
            return False
        if isinstance(value, (int, float)):
            return True
        try:
            float(value)
        except ValueError:
            return False
        return True
    if mapped == "date":
        return isinstance(value, (int, str)) and (isinstance(value, int) or bool(_DATE.match(value)))
    if mapped == "boolean":
        return isinstance(value, bool) or value in ("true", "false")
    return True  # keyword / text take any scalar
