"""Masking of secrets and personal data before anything leaves the function.

Built-in rules, in the order they apply (each can be switched off by name, extra rules added by
name; a match becomes ``[REDACTED:<rule>]``; patterns in :mod:`log_alerts.redaction_rules`):

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
the document is written back as JSON. Extra rules also see the re-encoded line. A line whose JSON
repeats a key is redacted as text: decoding would keep only the last value.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Optional, Sequence

from .contract import REDACTION_RULES
from .redaction_rules import BUILTIN_RULES, MASK, Rule, _whole, luhn_ok, secret_key, value_span

__all__ = ["BUILTIN_NAMES", "BUILTIN_RULES", "MASK", "Redactor", "Rule", "luhn_ok", "secret_key"]

BUILTIN_NAMES = REDACTION_RULES
if tuple(rule.name for rule in BUILTIN_RULES) != REDACTION_RULES:  # pragma: no cover - a broken edit
    raise ImportError("log_alerts.redaction: BUILTIN_RULES must follow contract.REDACTION_RULES")
KEY_RULE = "password_json"
# JSON nested deeper than this is redacted as text (the text rules cover JSON syntax too).
MAX_DEPTH = 64
# The smallest JSON integer the text rules look at: card numbers have 13 digits or more.
MIN_CARD = 10 ** 12
# A lone surrogate decoded from a ``\\udXXX`` escape goes back as that escape (it is not UTF-8).
_SURROGATE = re.compile("[\ud800-\udfff]")


class _TooDeep(Exception):
    pass


class _DuplicateKey(ValueError):
    pass


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # json.loads keeps a duplicate key's last value, and a redacted re-encoding would drop the others:
    # such a line is no document to walk, and is redacted as text (the key rules read JSON syntax too).
    document = dict(pairs)
    if len(document) != len(pairs):
        raise _DuplicateKey
    return document


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
            span = value_span(match)
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
        document = json.loads(stripped, object_pairs_hook=_unique_keys)
    except (ValueError, RecursionError):
        return None
    return document if isinstance(document, (dict, list)) else None


@dataclass
class Redactor:
    rules: Sequence[Rule] = field(default_factory=lambda: BUILTIN_RULES)
    extra: Sequence[Rule] = ()

    @classmethod
    def build(cls, *, disabled: Iterable[str] = (), extra: Optional[Mapping[str, str]] = None) -> "Redactor":
        """The built-in rules minus ``disabled``, plus ``extra`` (name → regex, whole match masked)."""
        off = set(disabled)
        unknown = off - set(BUILTIN_NAMES)
        if unknown:
            raise ValueError(f"unknown redaction rule(s): {', '.join(sorted(unknown))}")
        rules = [rule for rule in BUILTIN_RULES if rule.name not in off]
        extras = [Rule(name, re.compile(pattern), _whole) for name, pattern in (extra or {}).items()]
        return cls(rules + extras, tuple(extras))

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
                    json.dumps(walked, ensure_ascii=False, separators=(", ", ": ") if '": ' in text else (",", ":")))
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
        if isinstance(value, str):
            nested = _json_document(value)
            if nested is not None:
                return json.dumps(self._walk(nested, counts, depth + 1), ensure_ascii=False)
            return self._text(value, counts)
        if isinstance(value, list):
            return [self._walk(item, counts, depth + 1) for item in value]
        if isinstance(value, dict):
            result: dict[str, Any] = {}
            for key, item in value.items():
                name = self._text(key, counts)
                if self._keys_masked and secret_key(key) and not (item is None or isinstance(item, bool) or item == ""):
                    counts[KEY_RULE] = counts.get(KEY_RULE, 0) + 1
                    result[name] = MASK.format(name=KEY_RULE)
                else:
                    result[name] = self._walk(item, counts, depth + 1)
            return result
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= MIN_CARD:
            # A card number written as a JSON number; masked, it becomes the mask string.
            digits = str(value)
            redacted = self._text(digits, counts)
            return value if redacted is digits else redacted
        return value
