"""Hive type strings (as Glue stores them) parsed into a tree, for tests.

``parse("struct<a:string,b:array<int>>")`` gives
``("struct", (("a", ("string",)), ("b", ("array", ("int",)))))``. ``to_duckdb`` renders a tree as
a DuckDB type, and ``conform`` shapes a decoded JSON value the way the CloudTrail SerDe presents
it to that type (keys matched case-insensitively, nested JSON kept as text in string columns).
"""

from __future__ import annotations

import json
import re
from typing import Any

Type = tuple

_TOKEN = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*|[<>,:])")
_PRIMITIVES = {"string": "VARCHAR", "boolean": "BOOLEAN", "int": "INTEGER", "bigint": "BIGINT", "double": "DOUBLE"}


class HiveTypeError(ValueError):
    """The text is not a Hive type this parser knows."""


def parse(text: str) -> Type:
    tokens, pos = [], 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if not match:
            if text[pos:].strip():
                raise HiveTypeError(f"unexpected {text[pos:pos + 10]!r} in {text!r}")
            break
        tokens.append(match.group(1))
        pos = match.end()
    tree, rest = _parse(tokens, text)
    if rest:
        raise HiveTypeError(f"trailing {''.join(rest)!r} in {text!r}")
    return tree


def _expect(tokens: list[str], token: str, text: str) -> list[str]:
    if not tokens or tokens[0] != token:
        raise HiveTypeError(f"expected {token!r} in {text!r}")
    return tokens[1:]


def _parse(tokens: list[str], text: str) -> tuple[Type, list[str]]:
    if not tokens:
        raise HiveTypeError(f"missing type in {text!r}")
    head, rest = tokens[0].lower(), tokens[1:]
    if head in _PRIMITIVES:
        return (head,), rest
    if head == "array":
        element, rest = _parse(_expect(rest, "<", text), text)
        return ("array", element), _expect(rest, ">", text)
    if head == "map":
        key, rest = _parse(_expect(rest, "<", text), text)
        value, rest = _parse(_expect(rest, ",", text), text)
        return ("map", key, value), _expect(rest, ">", text)
    if head == "struct":
        rest = _expect(rest, "<", text)
        fields, names = [], set()
        while True:
            if not rest or not re.match(r"^[A-Za-z_]", rest[0]):
                raise HiveTypeError(f"expected a field name in {text!r}")
            name = rest[0]
            if name.lower() in names:
                raise HiveTypeError(f"duplicate field {name!r} in {text!r}")
            names.add(name.lower())
            field_type, rest = _parse(_expect(rest[1:], ":", text), text)
            fields.append((name, field_type))
            if rest and rest[0] == ",":
                rest = rest[1:]
                continue
            return ("struct", tuple(fields)), _expect(rest, ">", text)
    raise HiveTypeError(f"unknown type {tokens[0]!r} in {text!r}")


def to_duckdb(tree: Type) -> str:
    kind = tree[0]
    if kind in _PRIMITIVES:
        return _PRIMITIVES[kind]
    if kind == "array":
        return to_duckdb(tree[1]) + "[]"
    if kind == "map":
        return f"MAP({to_duckdb(tree[1])}, {to_duckdb(tree[2])})"
    return "STRUCT(" + ", ".join(f'"{name}" {to_duckdb(sub)}' for name, sub in tree[1]) + ")"


def conform(value: Any, tree: Type) -> Any:
    """``value`` as the CloudTrail SerDe would present it to a column of type ``tree``."""
    if value is None:
        return None
    kind = tree[0]
    if kind == "string":
        if isinstance(value, str):
            return value
        if isinstance(value, bool):
            return "true" if value else "false"
        return json.dumps(value, separators=(",", ":"))
    if kind in _PRIMITIVES:
        return value
    if kind == "array":
        return [conform(item, tree[1]) for item in value] if isinstance(value, list) else None
    if kind == "map":
        return {str(k): conform(v, tree[2]) for k, v in value.items()} if isinstance(value, dict) else None
    if not isinstance(value, dict):
        return None
    by_lower = {key.lower(): item for key, item in value.items()}
    return {name: conform(by_lower.get(name.lower()), sub) for name, sub in tree[1]}


def unknown_keys(value: Any, tree: Type, path: str = "") -> list[str]:
    """Keys of ``value`` (recursively) that the type has no field for: data the table would drop."""
    kind = tree[0]
    if kind == "array" and isinstance(value, list):
        return [key for item in value for key in unknown_keys(item, tree[1], path + "[]")]
    if kind != "struct" or not isinstance(value, dict):
        return []
    fields = {name.lower(): sub for name, sub in tree[1]}
    missing = []
    for key, item in value.items():
        if key.lower() not in fields:
            missing.append(f"{path}.{key}" if path else key)
        else:
            missing.extend(unknown_keys(item, fields[key.lower()], f"{path}.{key}" if path else key))
    return missing
