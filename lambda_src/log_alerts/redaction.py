"""Masking of secrets and personal data before anything leaves the function.

Built-in rules (each can be switched off by name, extra rules added by name):

================  ===========================================================================
``aws_key_id``    AWS access key ids (``AKIA…``, ``ASIA…``; 20 characters)
``aws_secret``    AWS secret access keys, recognised by the name in front of them
``jwt``           JSON Web Tokens (``eyJ….eyJ….sig``)
``bearer``        ``Bearer <token>`` (e.g. an ``Authorization`` header)
``password_json`` ``"password": "…"`` and similar keys in JSON
``password_kv``   ``password=…`` / ``token: …`` and similar keys in ``key=value`` text
``email``         e-mail addresses
``card``          payment card numbers of 13–19 digits, spaces or dashes allowed, **Luhn-checked**
================  ===========================================================================
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable, Iterable, Mapping, Optional, Sequence

from .contract import REDACTION_RULES

MASK = "[REDACTED:{name}]"
_SECRET_KEYS = r"(?:password|passwd|pwd|pass|secret|client_secret|token|access_token|refresh_token|api[_-]?key|apikey)"


def luhn_ok(digits: str) -> bool:
    """The Luhn checksum of a string of digits."""
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = ord(char) - 48
        if index % 2:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


@dataclass(frozen=True)
class Rule:
    name: str
    pattern: re.Pattern[str]
    # Returns the replacement for a match, or None to keep the match as it is.
    replace: Callable[[re.Match[str], str], Optional[str]]


def _whole(match: re.Match[str], mask: str) -> Optional[str]:
    return mask


def _value_group(match: re.Match[str], mask: str) -> Optional[str]:
    start, end = match.span("value")
    offset = match.start()
    text = match.group(0)
    return text[: start - offset] + mask + text[end - offset:]


def _card(match: re.Match[str], mask: str) -> Optional[str]:
    digits = re.sub(r"[ -]", "", match.group(0))
    return mask if 13 <= len(digits) <= 19 and luhn_ok(digits) else None


BUILTIN_RULES: tuple[Rule, ...] = (
    Rule("jwt", re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*"), _whole),
    Rule("bearer", re.compile(r"(?i)\b(?:bearer|basic)\s+(?P<value>[A-Za-z0-9\-._~+/]{8,}=*)"), _value_group),
    Rule(
        "aws_secret",
        re.compile(
            r"(?i)(?:aws_?)?secret_?(?:access_?)?key[\"']?\s*[:=]\s*[\"']?(?P<value>[A-Za-z0-9/+=]{40})(?![A-Za-z0-9/+=])"
        ),
        _value_group,
    ),
    Rule("aws_key_id", re.compile(r"\b(?:AKIA|ASIA|ABIA|ACCA|AIDA|AROA)[A-Z0-9]{16}\b"), _whole),
    Rule(
        "password_json",
        re.compile(rf"(?i)\"{_SECRET_KEYS}\"\s*:\s*\"(?P<value>(?:[^\"\\]|\\.)*)\""),
        _value_group,
    ),
    Rule(
        "password_kv",
        re.compile(rf"(?i)\b{_SECRET_KEYS}\s*[=:]\s*(?!\[REDACTED)(?P<value>[^\s,;&\"'}}]+)"),
        _value_group,
    ),
    Rule("email", re.compile(r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b"), _whole),
    Rule("card", re.compile(r"(?<![\d-])\d(?:[ -]?\d){12,18}(?![\d-])"), _card),
)
BUILTIN_NAMES = REDACTION_RULES
if tuple(rule.name for rule in BUILTIN_RULES) != REDACTION_RULES:  # pragma: no cover - a broken edit
    raise ImportError("log_alerts.redaction: BUILTIN_RULES must follow contract.REDACTION_RULES")


@dataclass
class Redactor:
    rules: Sequence[Rule] = field(default_factory=lambda: BUILTIN_RULES)

    @classmethod
    def build(cls, *, disabled: Iterable[str] = (), extra: Optional[Mapping[str, str]] = None) -> "Redactor":
        """The built-in rules minus ``disabled``, plus ``extra`` (name → regex, whole match masked)."""
        off = set(disabled)
        unknown = off - set(BUILTIN_NAMES)
        if unknown:
            raise ValueError(f"unknown redaction rule(s): {', '.join(sorted(unknown))}")
        rules = [rule for rule in BUILTIN_RULES if rule.name not in off]
        for name, pattern in (extra or {}).items():
            rules.append(Rule(name, re.compile(pattern), _whole))
        return cls(rules)

    def redact(self, text: str) -> tuple[str, dict[str, int]]:
        """``text`` with every match masked, and how many matches each rule masked."""
        counts: dict[str, int] = {}
        for rule in self.rules:
            mask = MASK.format(name=rule.name)

            def substitute(match: re.Match[str], rule: Rule = rule, mask: str = mask) -> str:
                replacement = rule.replace(match, mask)
                if replacement is None:
                    return match.group(0)
                counts[rule.name] = counts.get(rule.name, 0) + 1
                return replacement

            text = rule.pattern.sub(substitute, text)
        return text, counts
