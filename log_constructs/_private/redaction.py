"""Validation of redaction patterns, shared by the constructs whose functions redact (alerts, pipeline)."""
from __future__ import annotations

import re
from typing import Iterable, Mapping

from .._lambda_src.redaction.names import RULE_NAME_PATTERN
from .validation import PropError, check


def check_patterns(construct: str, patterns: Mapping[str, str], reserved: Iterable[str],
                   prop: str = "redaction_patterns") -> None:
    """Names are lower-case identifiers and not ``reserved``; patterns compile and never match ``""``."""
    taken = set(reserved)
    for name, pattern in patterns.items():
        check(construct, prop, isinstance(name, str) and bool(RULE_NAME_PATTERN.match(name)),
              f"names must be lower-case identifiers, got {name!r}")
        check(construct, prop, name not in taken, f"{name!r} is a built-in rule; choose another name")
        try:
            compiled = re.compile(pattern)
        except (re.error, TypeError) as error:
            raise PropError(f"{construct}: {prop}[{name!r}] is not a valid regex: {error}") from None
        check(construct, f"{prop}[{name!r}]", compiled.search("") is None,
              "matches the empty string and would mask everywhere")
