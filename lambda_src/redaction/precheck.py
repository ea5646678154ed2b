"""A cheap test that a line cannot hold anything a redactor's rules mask, run before the redactor.

Most log lines hold no secret. For those the redactor's work (a JSON parse, a walk, every rule's
pattern) is wasted; :class:`PreCheck` answers "no rule can match" from what every match of each rule
must contain: a lower-case string (``"pass"``, ``"@"``, ``"eyj"``) or, for card numbers and AWS key
ids, a pattern far simpler than the rule's. It may answer "maybe" for a line no rule masks (the
redactor then finds nothing and the line stays as it is); it never answers "no" for a line a rule
masks. A ``\\u`` escape always means "maybe": a JSON line's decoded text can hold what its raw text
spells with escapes (``"p\\u0061ssword"``). Extra patterns are searched as they are.
"""
from __future__ import annotations

import re
from bisect import bisect_right
from itertools import accumulate
from typing import Callable, Optional, Sequence

from .engine import Redactor
from .rules import STEMS

# Per built-in rule: lower-case strings one of which every match of the rule contains (in the raw
# line, or in a JSON line whose escapes are covered by ``\\u``).
LITERALS: dict[str, tuple[str, ...]] = {
    "private_key": ("private key",),
    "jwt": ("eyj",),
    "bearer": ("bearer", "basic", "digest", "negotiate", "token"),
    "url_credentials": ("@",),
    # GitHub's gh?_ and github_pat_ share "gh" (one search; a line with "high" is only a false "maybe").
    "vendor_token": ("xox", "xapp-", "hooks.slack.com", "gh", "glpat-", "sk_", "rk_", "whsec_", "aiza", "npm_",
                     "pypi-", "sg.", "sk-", "shp", "dop_v1_", "hf_"),
    "aws_secret": ("secret",),
    "password_json": STEMS,
    "password_kv": STEMS,
    "email": ("@", "%40"),
}
# Rules whose matches are better found by a pattern: AWS key ids (case-sensitive), behind a memchr for "A".
PATTERNS: dict[str, re.Pattern[str]] = {
    "aws_key_id": re.compile(r"(?:AKIA|ASIA|ABIA|ACCA|AIDA|AROA|AGPA|AIPA|ANPA|ANVA|APKA)[A-Z0-9]{16}"),
}
# What a match needs in the line: one of these characters (each looked for with memchr).
NEEDS: dict[str, str] = {"aws_key_id": "A"}
# Card numbers: the line's UTF-8 bytes with every digit written 0, the separators - and every other byte x
# (one C pass); then a bounded run of 13-19 digits, digit groups with separators, or a number written
# with an exponent of 10 or more (a JSON number) -- the card rule's shapes, found by literal searches.
_CARD_TABLE = bytes.maketrans(bytes(range(256)), bytes(
    0x30 if 0x30 <= b <= 0x39 else 0x2D if b in b" .-" else 0x65 if b in b"eE" else 0x2B if b == 0x2B else 0x78
    for b in range(256)))
# A run of digits starts after a byte that is no digit: x, - (a separator), e or + (an exponent).
_CARD_RUN_STARTS = tuple(lead + b"0" * 13 for lead in (b"x", b"-", b"e", b"+"))
_CARD_RUN = re.compile(rb"0{13,19}(?!0)")
_CARD_GROUPS = (b"0000-0000-0000-0", b"0000-000000-0000")
# A number with an exponent (a card number written as a JSON float): in a second shape (digits 0, e and E
# e, signs +, letters, ``_`` and ``.`` a, anything else x) a mantissa's last digit, e, a sign or none, an
# exponent of 1-3 digits and a byte that ends a number (not in a hex id such as ``9e8f``); then the number.
_EXPONENT_TABLE = bytes.maketrans(bytes(range(256)), bytes(
    0x30 if 0x30 <= b <= 0x39 else 0x65 if b in b"eE" else 0x2B if b in b"+-" else
    0x61 if (0x41 <= b <= 0x5A or 0x61 <= b <= 0x7A or b in b"_.") else 0x78 for b in range(256)))
_EXPONENT_SHAPES = tuple(b"0e" + sign + b"0" * digits + b"x" for sign in (b"", b"+") for digits in (1, 2, 3))
_EXPONENT_NUMBER = re.compile(r"(?<![0-9A-Za-z_.-])-?[0-9]+(?:\.[0-9]+)?[eE][+-]?[0-9]+(?![0-9A-Za-z_.])")


def card_positions(shape: bytes) -> list[int]:
    """Where a card-shaped run of digits or group of digits starts in ``shape`` (a line, or lines, translated
    with ``_CARD_TABLE`` after a leading ``x``), and where a number may be written with an exponent."""
    found: list[int] = []
    for lead in _CARD_RUN_STARTS:
        start = shape.find(lead)
        while start != -1:
            if _CARD_RUN.match(shape, start + 1):  # 13-19 digits: longer runs are no card number
                found.append(start + 1)
            start = shape.find(lead, start + 14)
    return found + _occurrences(shape, _CARD_GROUPS)


def exponent_positions(shape: bytes) -> list[int]:
    """Where a mantissa's last digit may be, in ``shape`` translated with ``_EXPONENT_TABLE`` (lines + ``x``)."""
    return _occurrences(shape, _EXPONENT_SHAPES)


def _occurrences(shape: bytes, needles: tuple[bytes, ...]) -> list[int]:
    found: list[int] = []
    for needle in needles:
        start = shape.find(needle)
        while start != -1:
            found.append(start)
            start = shape.find(needle, start + 1)
    return found


def _exponent_at(text: str, index: int) -> bool:
    """Whether the digit at ``text[index]``, before an ``e``, ends the mantissa of a number (not of a hex id)."""
    start = index
    while start > 0 and text[start - 1] in "0123456789.":
        start -= 1
    if start > 0 and text[start - 1] == "-":
        start -= 1
    return _EXPONENT_NUMBER.match(text, start) is not None


def card_maybe(line: str) -> bool:
    """Whether ``line`` holds a shape the card rule looks at (its checksum decides later)."""
    data = b"\n" + line.encode("utf-8", "surrogatepass") + b"\n"
    if card_positions(data.translate(_CARD_TABLE)):
        return True
    exponents = exponent_positions(data.translate(_EXPONENT_TABLE))
    if not line.isascii():  # positions in the bytes are not positions in the text: the number is searched for
        return bool(exponents) and _EXPONENT_NUMBER.search(line) is not None
    return any(_exponent_at(line, position - 1) for position in exponents)


ALWAYS = ("\\u",)
# Above this many characters, literals whose characters are not all in the line are not searched for, and
# patterns whose characters are not in it are not run: a few memchr passes instead of dozens of scans.
LONG_LINE = 2048


def _card_search(line: str) -> Optional[bool]:
    return True if card_maybe(line) else None


class PreCheck:
    """``maybe(line)``: False only when no rule of ``redactor`` can mask anything in ``line``."""

    def __init__(self, redactor: Redactor) -> None:
        literals: dict[str, None] = dict.fromkeys(ALWAYS)
        searches: list[tuple[Callable[[str], Optional[re.Match[str]]], str]] = []
        extra = {id(rule) for rule in redactor.extra}
        for rule in redactor.rules:
            if id(rule) in extra:
                searches.append((rule.pattern.search, ""))
            elif rule.name == "card":
                searches.append((_card_search, "0123456789"))
            elif rule.name in PATTERNS:
                searches.append((PATTERNS[rule.name].search, NEEDS[rule.name]))
            elif rule.name in LITERALS:
                literals.update(dict.fromkeys(LITERALS[rule.name]))
            else:  # a keyed rule of extra secret key names, or a rule this module does not know: its hints
                if not rule.hints:
                    searches.append((rule.pattern.search, ""))
                literals.update(dict.fromkeys(hint.lower() for hint in rule.hints))
        self.literals = tuple(literals)
        self.searches = tuple(searches)
        self._chars = tuple(sorted({char for literal in self.literals for char in literal}))
        self._literal_chars = tuple((literal, frozenset(literal)) for literal in self.literals)

    def maybe(self, line: str) -> bool:
        """Whether a rule may mask something in ``line`` (False: the line is certainly left as it is)."""
        lowered = line.lower()
        if len(line) > LONG_LINE:
            return self._maybe_long(line, lowered)
        for literal in self.literals:
            if literal in lowered:
                return True
        for search, needs in self.searches:
            if (not needs or any(char in line for char in needs)) and search(line) is not None:
                return True
        return False

    def flags(self, lines: Sequence[str]) -> list[bool]:
        """``maybe`` of every line, with each literal searched once in all short ASCII lines joined."""
        out = [False] * len(lines)
        batch = [i for i, line in enumerate(lines) if len(line) <= LONG_LINE and line.isascii()]
        chosen = set(batch)
        for i, line in enumerate(lines):
            if i not in chosen:
                out[i] = self.maybe(line)
        if not batch:
            return out
        texts = [lines[i] for i in batch]
        joined = "\n".join(texts)  # literals and card shapes hold no newline: a hit lies within one line
        starts = [0, *accumulate(len(text) + 1 for text in texts)]

        def hits(find: Callable[[str | bytes, int], int], needle: str | bytes) -> None:
            position = find(needle, 0)  # type: ignore[arg-type]
            while position != -1:
                k = bisect_right(starts, position) - 1
                out[batch[k]] = True
                position = find(needle, starts[k + 1])  # type: ignore[arg-type]

        lowered = joined.lower()
        for literal in self.literals:
            hits(lowered.find, literal)
        for search, needs in self.searches:
            if search is _card_search:
                data = b"\n" + joined.encode("ascii") + b"\n"
                for position in card_positions(data.translate(_CARD_TABLE)):
                    out[batch[bisect_right(starts, position - 1) - 1]] = True
                for position in exponent_positions(data.translate(_EXPONENT_TABLE)):
                    k = bisect_right(starts, position - 1) - 1
                    if not out[batch[k]] and _exponent_at(joined, position - 1):
                        out[batch[k]] = True
            elif needs:
                if needs in joined:
                    for k, text in enumerate(texts):
                        if not out[batch[k]] and search(text) is not None:
                            out[batch[k]] = True
            else:  # an extra pattern: line by line (it may match a newline)
                for k, text in enumerate(texts):
                    if not out[batch[k]] and search(text) is not None:
                        out[batch[k]] = True
        return out

    def _maybe_long(self, line: str, lowered: str) -> bool:
        present = frozenset(char for char in self._chars if char in lowered)
        for literal, chars in self._literal_chars:
            if chars <= present and literal in lowered:
                return True
        for search, needs in self.searches:
            if (not needs or any(char in line for char in needs)) and search(line) is not None:
                return True
        return False
