"""A matcher for the JSON subset of CloudWatch Logs filter patterns, for tests.

Implements what the CloudWatch Logs User Guide ("Filter and pattern syntax", JSON log events)
documents, and nothing else:

- ``{ SELECTOR OP VALUE }`` with ``SELECTOR`` = ``$`` followed by ``.name`` and ``[index]`` steps;
- ``=`` and ``!=`` against a string, quoted or not; a ``*`` at the start and/or the end of the
  string matches any text there (``*Event``, ``Event*``, ``*Event*``, and ``*`` alone matches any
  value), a ``*`` inside the string is a literal ``*``;
- ``=``, ``!=``, ``<``, ``>``, ``<=``, ``>=`` against a number (numeric comparison);
- ``IS NULL`` (present and ``null``), ``NOT EXISTS`` (absent), ``IS TRUE`` / ``IS FALSE``;
- ``&&``, ``||`` and parentheses, ``&&`` binding tighter than ``||``.

The selector must reach a value node (string, number or boolean): a comparison with a missing
property, ``null``, an object or an array is false, for ``!=`` as much as for ``=``. Matching is
case-sensitive.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Callable, Union

_MISSING = object()

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<and>&&) | (?P<or>\|\|) | (?P<lparen>\() | (?P<rparen>\)) |
        (?P<op>!=|<=|>=|=|<|>) |
        (?P<selector>\$(?:\.[A-Za-z0-9_@-]+|\[\d+\])*) |
        (?P<quoted>"(?:[^"\\]|\\.)*") |
        (?P<word>[^\s()&|"=!<>]+)
    )""",
    re.VERBOSE,
)
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


class PatternSyntaxError(ValueError):
    """The pattern is not in the supported JSON filter pattern syntax."""


@dataclass(frozen=True)
class _Tok:
    kind: str
    text: str
    pos: int


def _tokenize(body: str) -> list[_Tok]:
    tokens, pos = [], 0
    while pos < len(body):
        if body[pos:].strip() == "":
            break
        match = _TOKEN.match(body, pos)
        if not match or match.end() == pos:
            raise PatternSyntaxError(f"unexpected text at {pos}: {body[pos:pos + 20]!r}")
        kind = match.lastgroup
        tokens.append(_Tok(kind, match.group(kind), match.start(kind)))
        pos = match.end()
    return tokens


Node = Callable[[Any], bool]


class _Parser:
    def __init__(self, tokens: list[_Tok]):
        self.tokens, self.i = tokens, 0

    def peek(self, *kinds: str) -> bool:
        return self.i < len(self.tokens) and self.tokens[self.i].kind in kinds

    def take(self, kind: str, text: str | None = None) -> _Tok:
        if not self.peek(kind) or (text is not None and self.tokens[self.i].text != text):
            where = self.tokens[self.i] if self.i < len(self.tokens) else None
            found = f"{where.text!r} at {where.pos}" if where else "the end"
            raise PatternSyntaxError(f"expected {text or kind}, found {found}")
        self.i += 1
        return self.tokens[self.i - 1]

    def parse(self) -> Node:
        node = self.or_expr()
        if self.i != len(self.tokens):
            raise PatternSyntaxError(f"unexpected {self.tokens[self.i].text!r} at {self.tokens[self.i].pos}")
        return node

    def or_expr(self) -> Node:
        parts = [self.and_expr()]
        while self.peek("or"):
            self.take("or")
            parts.append(self.and_expr())
        return parts[0] if len(parts) == 1 else (lambda doc: any(part(doc) for part in parts))

    def and_expr(self) -> Node:
        parts = [self.primary()]
        while self.peek("and"):
            self.take("and")
            parts.append(self.primary())
        return parts[0] if len(parts) == 1 else (lambda doc: all(part(doc) for part in parts))

    def primary(self) -> Node:
        if self.peek("lparen"):
            self.take("lparen")
            node = self.or_expr()
            self.take("rparen")
            return node
        return self.condition()

    def condition(self) -> Node:
        path = _parse_selector(self.take("selector").text)
        if self.peek("word"):
            keyword = self.take("word").text
            if keyword == "IS":
                what = self.take("word").text
                tests = {"NULL": lambda v: v is None, "TRUE": lambda v: v is True, "FALSE": lambda v: v is False}
                if what not in tests:
                    raise PatternSyntaxError(f"expected NULL, TRUE or FALSE after IS, found {what!r}")
                test = tests[what]
                return lambda doc: test(_resolve(doc, path))
            if keyword == "NOT":
                self.take("word", "EXISTS")
                return lambda doc: _resolve(doc, path) is _MISSING
            if keyword == "EXISTS":
                return lambda doc: _resolve(doc, path) is not _MISSING
            raise PatternSyntaxError(f"expected an operator after the selector, found {keyword!r}")
        op = self.take("op").text
        if self.peek("quoted"):
            value: Union[str, float] = json.loads(self.take("quoted").text)
            return _string_test(path, op, value)
        raw = self.take("word").text
        if _NUMBER.match(raw):
            return _number_test(path, op, float(raw), raw)
        return _string_test(path, op, raw)


def _parse_selector(text: str) -> list[Union[str, int]]:
    return [int(step[1:-1]) if step.startswith("[") else step[1:] for step in re.findall(r"\.[^.\[]+|\[\d+\]", text[1:])]


def _resolve(doc: Any, path: list[Union[str, int]]) -> Any:
    node = doc
    for step in path:
        if isinstance(step, int):
            if not isinstance(node, list) or step >= len(node):
                return _MISSING
            node = node[step]
        else:
            if not isinstance(node, dict) or step not in node:
                return _MISSING
            node = node[step]
    return node


def _is_value_node(node: Any) -> bool:
    return isinstance(node, (str, int, float, bool))


def _text(node: Any) -> str:
    if isinstance(node, bool):
        return "true" if node else "false"
    return node if isinstance(node, str) else json.dumps(node)


def _wildcard_equals(text: str, pattern: str) -> bool:
    if pattern == "*":
        return True
    starts, ends = pattern.startswith("*"), pattern.endswith("*") and len(pattern) > 1
    core = pattern[1 if starts else 0 : len(pattern) - 1 if ends else len(pattern)]
    if starts and ends:
        return core in text
    if starts:
        return text.endswith(core)
    if ends:
        return text.startswith(core)
    return text == core


def _string_test(path, op: str, value: str) -> Node:
    if op not in ("=", "!="):
        raise PatternSyntaxError(f"operator {op!r} needs a number, not {value!r}")

    def test(doc: Any) -> bool:
        node = _resolve(doc, path)
        if not _is_value_node(node):
            return False
        return _wildcard_equals(_text(node), value) == (op == "=")

    return test


def _number_test(path, op: str, number: float, raw: str) -> Node:
    compare = {
        "=": lambda a: a == number,
        "!=": lambda a: a != number,
        "<": lambda a: a < number,
        ">": lambda a: a > number,
        "<=": lambda a: a <= number,
        ">=": lambda a: a >= number,
    }[op]

    def test(doc: Any) -> bool:
        node = _resolve(doc, path)
        if isinstance(node, bool) or not _is_value_node(node):
            return False
        if isinstance(node, str):  # a string holding the same text still matches = and !=
            return op in ("=", "!=") and (node == raw) == (op == "=")
        return compare(node)

    return test


def compile_pattern(pattern: str) -> Node:
    """Parse ``pattern`` (``{ ... }``) into a predicate over a decoded JSON log event."""
    text = pattern.strip()
    if not (text.startswith("{") and text.endswith("}")):
        raise PatternSyntaxError("a JSON filter pattern is enclosed in { }")
    return _Parser(_tokenize(text[1:-1])).parse()


def matches(pattern: str, event: Union[str, dict]) -> bool:
    """Whether the JSON log event (text or decoded) matches the filter pattern."""
    if isinstance(event, str):
        try:
            event = json.loads(event)
        except json.JSONDecodeError:
            return False
    return compile_pattern(pattern)(event)
