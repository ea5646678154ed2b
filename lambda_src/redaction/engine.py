"""Masking of secrets and personal data before anything leaves the function.

Built-in rules, in the order they apply (each can be switched off by name, extra rules added by
name; a match becomes ``[REDACTED:<rule>]``; patterns in :mod:`redaction.rules`):

===================  ========================================================================
``private_key``      PEM private keys (``-----BEGIN … PRIVATE KEY-----`` to its ``END`` line)
``jwt``              JSON Web Tokens (``eyJ….eyJ….sig``)
``bearer``           ``Authorization`` values and ``Bearer``/``Basic``/``Digest`` tokens
``url_credentials``  the password of ``scheme://user:password@host``
``vendor_token``     Slack ``xox*``/webhook URLs, GitHub ``gh*_``, Stripe ``sk_live_``, GitLab,
                     Google, npm, PyPI, SendGrid, OpenAI/Anthropic, Shopify, DigitalOcean, ...
``aws_key_id``       AWS access key ids (``AKIA…``, ``ASIA…``; 20 characters)
``aws_secret``       AWS secret access keys after their name (``_``, ``-``, ``.`` or space separated)
``password_json``    values of secret-named keys in JSON (decoded, nested JSON strings too), JSON
                     escaped in strings and Python dict reprs
``password_kv``      values of secret-named keys in ``key=value`` / ``key: value`` text
``email``            e-mail addresses (``@`` also as ``\\u0040`` or ``%40``)
``card``             payment card numbers, 13–19 digits, none or one separator (space, ``-``,
                     ``.``) between groups, **Luhn-checked**; in JSON also as numbers
===================  ========================================================================

A secret-named key is one with a component such as ``password``, ``secret``, ``token``, ``api_key``,
``credentials`` (``db_password``, ``DB_PASSWORD``, ``clientSecret``, ``x-api-key``), unless its
last component describes the secret (``token_count``, ``secret_name``, ``password_policy``).

A log line that is JSON is decoded: secret-named keys lose their values whatever their type, every
string is redacted as text, a string that is itself JSON is decoded and redacted the same way, and
the document is written back as JSON. Extra rules also see the re-encoded line. An object that
repeats a key is walked pair by pair (every value of the key is redacted, and every pair written
back), so a repeated key never weakens the JSON rules. A number with an integral value of 13 digits
or more, written as an integer or as a float (``4111111111111111.0``, ``4.111111111111111e15``), is
checked like a card number.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, Iterable, Mapping, Optional, Sequence

from .names import BUILTIN_RULE_NAMES, CUSTOM_KEY_RULE
from .rules import BUILTIN_RULES, MASK, Rule, _whole, custom_key_rule, luhn_ok, secret_key, value_span

__all__ = ["BUILTIN_NAMES", "BUILTIN_RULES", "MASK", "Redactor", "Rule", "luhn_ok", "secret_key"]

BUILTIN_NAMES = BUILTIN_RULE_NAMES
if tuple(rule.name for rule in BUILTIN_RULES) != BUILTIN_RULE_NAMES:  # pragma: no cover - a broken edit
    raise ImportError("redaction.engine: BUILTIN_RULES must follow names.BUILTIN_RULE_NAMES")
KEY_RULE = "password_json"
# JSON nested deeper than this is redacted as text (the text rules cover JSON syntax too).
MAX_DEPTH = 64
# The smallest JSON integer the text rules look at: card numbers have 13 digits or more.
MIN_CARD = 10 ** 12
# A lone surrogate decoded from a ``\\udXXX`` escape goes back as that escape (it is not UTF-8).
_SURROGATE = re.compile("[\ud800-\udfff]")


class _TooDeep(Exception):
    pass


class _Pairs(list):  # type: ignore[type-arg]
    """A JSON object that repeats a key: every (key, value) pair, in order (a dict would keep the last)."""


class _Float(str):
    """A JSON number with a fraction or an exponent, as written (re-encoded unchanged)."""


def _object(pairs: list[tuple[str, Any]]) -> Any:
    document = dict(pairs)
    return document if len(document) == len(pairs) else _Pairs(pairs)


def _dumps(value: Any, separators: tuple[str, str]) -> str:
    """``value`` as JSON, with every pair of a repeated key and every number as written."""
    item, key = separators
    if isinstance(value, _Float):
        return str(value)
    if isinstance(value, (dict, _Pairs)):
        pairs = value.items() if isinstance(value, dict) else value
        return "{" + item.join(json.dumps(k, ensure_ascii=False) + key + _dumps(v, separators) for k, v in pairs) + "}"
    if isinstance(value, list):
        return "[" + item.join(_dumps(v, separators) for v in value) + "]"
    return json.dumps(value, ensure_ascii=False)


def _integral_digits(value: Any) -> Optional[str]:
    """The digits of a JSON number whose value is an integer of 13 digits or more (a card number's size)."""
    if isinstance(value, int) and not isinstance(value, bool):
        number: Any = value
    elif isinstance(value, _Float):
        try:
            number = Decimal(value)
        except InvalidOperation:
            return None
        if not number.is_finite() or number != number.to_integral_value():
            return None
        number = int(number)
    else:
        return None
    return str(number) if abs(number) >= MIN_CARD else None


def _apply(rule: Rule, text: str, counts: dict[str, int]) -> str:
    mask = rule.mask
    if not (rule.keyed or rule.rescan):
        def substitute(match: re.Match[str]) -> str:
            replacement = rule.replace(match, mask)
            if replacement is None:
                return match.group(0)
            counts[rule.name] = counts.get(rule.name, 0) + 1
            return replacement

        return rule.pattern.sub(substitute, text)
    pieces: list[str] = []
    last = position = 0
    while True:
        match = rule.pattern.search(text, position)
        if match is None:
            break
        if rule.keyed:
            span = value_span(match, rule.key_test)
            if span is None:
                position = match.end("key")
                continue
            start, end, replacement = span[0], max(span[1], match.end()), mask
        else:
            replacement = rule.replace(match, mask)
            if replacement is None:
                position = match.start() + 1
                continue
            start, end = match.span()
        pieces += (text[last:start], replacement)
        counts[rule.name] = counts.get(rule.name, 0) + 1
        last = position = max(end, start + 1)
    if not pieces:
        return text
    pieces.append(text[last:])
    return "".join(pieces)


def _json_document(text: str) -> Optional[Any]:
    stripped = text.strip()
    if not stripped or stripped[0] not in "{[" or stripped[-1] not in "}]":
        return None
    try:
        document = json.loads(stripped, object_pairs_hook=_object, parse_float=_Float)
    except (ValueError, RecursionError):
        return None
    return document if isinstance(document, (dict, list)) else None  # (a _Pairs is a list)


@dataclass
class Redactor:
    rules: Sequence[Rule] = field(default_factory=lambda: BUILTIN_RULES)
    extra: Sequence[Rule] = ()
    # Extra secret key names (lower case): their values are masked as ``custom_key``, in JSON and in text.
    secret_names: frozenset[str] = frozenset()

    @classmethod
    def build(cls, *, disabled: Iterable[str] = (), extra: Optional[Mapping[str, str]] = None,
              secret_keys: Iterable[str] = ()) -> "Redactor":
        """The built-in rules minus ``disabled``, plus ``extra`` (name → regex, whole match masked), plus
        ``secret_keys`` (key names whose values are masked, compared case-insensitively)."""
        off = set(disabled)
        unknown = off - set(BUILTIN_NAMES)
        if unknown:
            raise ValueError(f"unknown redaction rule(s): {', '.join(sorted(unknown))}")
        rules = [rule for rule in BUILTIN_RULES if rule.name not in off]
        names = frozenset(key.lower() for key in secret_keys if key)
        if names:
            rules.append(custom_key_rule(CUSTOM_KEY_RULE, names))
        extras = [Rule(name, re.compile(pattern), _whole) for name, pattern in (extra or {}).items()]
        return cls(rules + extras, tuple(extras), names)

    @property
    def _keys_masked(self) -> bool:
        return any(rule.name == KEY_RULE for rule in self.rules)

    def redact(self, text: str) -> tuple[str, dict[str, int]]:
        """``text`` with every match masked, and how many matches each rule masked."""
        counts: dict[str, int] = {}
        document = _json_document(text)
        if document is not None:
            try:
                walked = self._walk(document, counts, 0)
            except (_TooDeep, RecursionError):
                counts.clear()
            else:
                # Unchanged lines stay as written; changed ones keep the line's compact or spaced style.
                redacted = text if not counts else _SURROGATE.sub(
                    lambda m: f"\\u{ord(m.group()):04x}",
                    _dumps(walked, (", ", ": ") if '": ' in text else (",", ":")))
                for rule in self.extra:
                    redacted = _apply(rule, redacted, counts)
                return redacted, counts
        return self._text(text, counts), counts

    def _text(self, text: str, counts: dict[str, int]) -> str:
        lowered = text.lower()
        for rule in self.rules:
            if rule.hints and not any(hint in lowered for hint in rule.hints):
                continue
            redacted = _apply(rule, text, counts)
            if redacted is not text:
                text, lowered = redacted, redacted.lower()
        return text

    def _walk(self, value: Any, counts: dict[str, int], depth: int) -> Any:
        if depth > MAX_DEPTH:
            raise _TooDeep
        if isinstance(value, _Float):
            pass
        elif isinstance(value, str):
            nested = _json_document(value)
            if nested is not None:
                return _dumps(self._walk(nested, counts, depth + 1), (", ", ": "))
            return self._text(value, counts)
        if isinstance(value, (dict, _Pairs)):
            pairs = [self._pair(key, item, counts, depth) for key, item in
                     (value.items() if isinstance(value, dict) else value)]
            return dict(pairs) if isinstance(value, dict) else _Pairs(pairs)
        if isinstance(value, list):
            return [self._walk(item, counts, depth + 1) for item in value]
        digits = _integral_digits(value)
        if digits is not None:
            # A card number written as a JSON number; masked, it becomes the mask string.
            redacted = self._text(digits, counts)
            return value if redacted is digits else redacted
        return value

    def _pair(self, key: str, item: Any, counts: dict[str, int], depth: int) -> tuple[str, Any]:
        name = self._text(key, counts)
        if not (item is None or isinstance(item, bool) or item == ""):
            rule = (KEY_RULE if self._keys_masked and secret_key(key) else
                    CUSTOM_KEY_RULE if self.secret_names and key.lower() in self.secret_names else None)
            if rule is not None:
                counts[rule] = counts.get(rule, 0) + 1
                return name, MASK.format(name=rule)
        return name, self._walk(item, counts, depth + 1)
