"""A cheap test that a line cannot hold anything a redactor's rules mask, run before the redactor.

Most log lines hold no secret. For those the redactor's work (a JSON parse, a walk, every rule's
pattern) is wasted; :class:`PreCheck` answers "no rule can match" from what every match of each rule
must contain: a lower-case string (``"pass"``, ``"@"``, ``"eyj"``) or, for card numbers and AWS key
ids, a pattern far simpler than the rule's. It may answer "maybe" for a line no rule masks (the
redactor then finds nothing and the line stays as it is); it never answers "no" for a line a rule
masks. A ``\\u`` escape always means "maybe": a JSON line's decoded text can hold what its raw text
spells with escapes (``"p\\u0061ssword"``). Extra patterns are searched as they are.

:meth:`PreCheck.flags` answers for a whole batch with a few passes over its short ASCII lines joined,
each in C: a pattern per anchor character for the literals, one translation of the bytes for the digit
shapes, ``find`` and patterns that start with a literal. Long lines and lines that are not ASCII are
answered one by one (one pattern for all the literals: on a short text, fewer calls beat faster scans).
"""
from __future__ import annotations

import re
from bisect import bisect_left
from itertools import accumulate, count
from operator import add
from typing import Any, Callable, Optional, Sequence

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
# (Written to start with a literal, so that ``re`` skips from one "A" to the next in C.)
PATTERNS: dict[str, re.Pattern[str]] = {
    "aws_key_id": re.compile(r"A(?:KIA|SIA|BIA|CCA|IDA|ROA|GPA|IPA|NPA|NVA|PKA)[A-Z0-9]{16}"),
}
# What a match needs in the line: one of these characters (each looked for with memchr).
NEEDS: dict[str, str] = {"aws_key_id": "A"}
# Card numbers and numbers written with an exponent are found in one shape of the lines' UTF-8 bytes
# (one C pass): every digit written 0, e and E e, letters and _ a, a sign +, the separators ``- . space``
# -, every other byte x. Then a run of 13-19 digits is found by ``find`` (memchr-fast; ``re`` would stop
# at every digit), and by patterns that start with a literal (``re`` skips ahead to it in C) digit groups
# with separators (the card rule's shapes) and a mantissa's last digit, e, a sign or none, an exponent of
# 1-3 digits and a byte that may end a number (not a hex id such as ``9e8f``; a card number written as a
# JSON float has one).
_SHAPE = bytes.maketrans(bytes(range(256)), bytes(
    0x30 if 0x30 <= b <= 0x39 else 0x65 if b in b"eE" else 0x2B if b == 0x2B else 0x2D if b in b"-. " else
    0x61 if (0x41 <= b <= 0x5A or 0x61 <= b <= 0x7A or b == 0x5F) else 0x78 for b in range(256)))
_THIRTEEN_DIGITS = b"0" * 13
_TWENTY_DIGITS = b"0" * 20
_CARD_GROUPS = re.compile(rb"0000-(?:0000-0000-0|000000-0000)")
_EXPONENT_SHAPE = re.compile(rb"0e[+-]?0{1,3}(?:[-x]|\Z)")
_EXPONENT_NUMBER = re.compile(r"(?<![0-9A-Za-z_.-])-?[0-9]+(?:\.[0-9]+)?[eE][+-]?[0-9]+(?![0-9A-Za-z_.])")


def card_positions(shape: bytes) -> list[int]:
    """Where a card-shaped run of digits or group of digits starts in ``shape`` (a line, or lines, translated
    with ``_SHAPE``)."""
    found = []
    start = shape.find(_THIRTEEN_DIGITS)
    while start != -1:
        if start and shape[start - 1] == 0x30:  # inside a run already too long: on past it
            start = shape.find(_THIRTEEN_DIGITS, start + 13)
        elif shape.startswith(_TWENTY_DIGITS, start):  # a run of 20 digits or more is no card number
            start = shape.find(_THIRTEEN_DIGITS, start + 20)
        else:  # a run of 13-19 digits
            found.append(start)
            start = shape.find(_THIRTEEN_DIGITS, start + 13)
    return found + [match.start() for match in _CARD_GROUPS.finditer(shape)]


def exponent_positions(shape: bytes) -> list[int]:
    """Where a mantissa's last digit may be, in ``shape`` (a line, or lines, translated with ``_SHAPE``)."""
    return [match.start() for match in _EXPONENT_SHAPE.finditer(shape)]


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
    shape = line.encode("utf-8", "surrogatepass").translate(_SHAPE)
    if card_positions(shape):
        return True
    exponents = exponent_positions(shape)
    if not line.isascii():  # positions in the bytes are not positions in the text: the number is searched for
        return bool(exponents) and _EXPONENT_NUMBER.search(line) is not None
    return any(_exponent_at(line, position) for position in exponents)


# Characters from the rarest in log text to the most common (English letter frequencies; digits, spaces
# and punctuation count as common): a literal is looked for from its rarest character, so that most of
# a text is skipped in C.
RARITY = "\\@%zqxjkvbpygfwmucldrhsnioate"
# Characters so common that a pattern stopping at each would crawl: a literal made only of these is
# searched for alone in a line (``str.find``), and a batch's passes are anchored elsewhere where they can.
COMMON = frozenset("snioate")


def _rank(char: str) -> int:
    """Where ``char`` stands in :data:`RARITY` (a character it does not list counts as the most common)."""
    return RARITY.find(char) % (len(RARITY) + 1)


def _rarest(literal: str) -> int:
    return min(range(len(literal)), key=lambda i: _rank(literal[i]))


def _innermost(literals: Sequence[str]) -> list[str]:
    """The literals that hold no other (``private key`` holds ``key``: where it is, ``key`` is too), longest first."""
    unique = set(literals)
    kept = [literal for literal in unique if not any(other != literal and other in literal for other in unique)]
    return sorted(kept, key=lambda literal: (-len(literal), literal))


def _after(literal: str, i: int) -> str:
    """The pattern of ``literal`` past its character ``i``: the rest, then a look back for its start (if any)."""
    return re.escape(literal[i + 1:]) + (f"(?<={re.escape(literal)})" if i else "")


def _entered_at(anchor: str, rests: Sequence[str]) -> str:
    return f"{re.escape(anchor)}(?:{'|'.join(rests)})"


def literal_pattern(literals: Sequence[str]) -> re.Pattern[str]:
    """One pattern matching wherever one of ``literals`` occurs (it finds a place of one, not every one).

    It is entered at each literal's rarest character, reads on for the rest of the literal and only then
    looks back for its start (most stops end at the next character, before any look-behind). A literal
    that holds another (``private key``, ``key``) is left to the shorter one.
    """
    anchors: dict[str, list[str]] = {}
    for literal in _innermost(literals):
        i = _rarest(literal)
        anchors.setdefault(literal[i], []).append(_after(literal, i))
    return re.compile("|".join(_entered_at(anchor, rests) for anchor, rests in anchors.items()))


def anchor_passes(literals: Sequence[str]) -> tuple[tuple[str, re.Pattern[str]], ...]:
    """Patterns that together match wherever one of ``literals`` occurs, one per anchor character.

    A pattern that starts with one character is searched for as that character (``re`` steps from one to
    the next in a tight loop), about twenty times faster than one that starts with a set of characters, as
    :func:`literal_pattern`'s does; a stop that is no literal costs little. So a batch is scanned once per
    anchor, and the anchors are few: each is the character (not in :data:`COMMON` where possible) held by
    the most literals not yet covered, the rarer on a tie, and each literal is anchored at its rarest anchor.
    """
    kept = _innermost(literals)
    left = set(kept)
    anchors: list[str] = []
    while left:
        chars = {char for literal in left for char in literal}
        chars = (chars - COMMON) or chars
        anchor = min(chars, key=lambda char: (-sum(char in literal for literal in left), _rank(char), char))
        anchors.append(anchor)
        left = {literal for literal in left if anchor not in literal}
    rests: dict[str, list[str]] = {anchor: [] for anchor in anchors}
    for literal in kept:
        anchor = min((char for char in anchors if char in literal), key=lambda char: (_rank(char), char))
        rests[anchor].append(_after(literal, literal.index(anchor)))
    return tuple((anchor, re.compile(_entered_at(anchor, rests[anchor]))) for anchor in anchors)


ALWAYS = ("\\u",)
# Above this many characters, literals whose characters are not all in the line are not searched for, and
# patterns whose characters are not in it are not run: a few memchr passes instead of dozens of scans.
LONG_LINE = 2048


def _first(search: Callable[[Any, int], Optional[re.Match[Any]]]) -> Callable[[Any, int], int]:
    """``search`` as ``str.find`` answers: where the first match from a position starts, or -1."""
    def find(text: Any, position: int) -> int:
        match = search(text, position)
        return -1 if match is None else match.start()
    return find


def _occurs(literal: str, text: str) -> bool:
    """``literal in text`` for a long text: from each place of the literal's rarest character (by ``RARITY``),
    found by memchr, while there are few; the whole text scanned for the literal otherwise."""
    rarest = _rarest(literal)
    char = literal[rarest]
    position = text.find(char)
    for _ in range(8):
        if position == -1:
            return False
        if position >= rarest and text.startswith(literal, position - rarest):
            return True
        position = text.find(char, position + 1)
    return literal in text


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
        anchored = [literal for literal in self.literals if literal[_rarest(literal)] not in COMMON]
        self._literal = _first(literal_pattern(anchored).search)
        self._alone = tuple(literal for literal in self.literals if literal not in anchored)
        self._passes = tuple((anchor, _first(pattern.search)) for anchor, pattern in anchor_passes(self.literals))
        self._chars = tuple(sorted({char for literal in self.literals for char in literal}))
        self._literal_chars = tuple((literal, frozenset(literal)) for literal in self.literals)

    def maybe(self, line: str) -> bool:
        """Whether a rule may mask something in ``line`` (False: the line is certainly left as it is)."""
        lowered = line.lower()
        if len(line) > LONG_LINE:
            return self._maybe_long(line, lowered)
        return (self._literal(lowered, 0) != -1 or any(literal in lowered for literal in self._alone)
                or self._searched(line))

    def flags(self, lines: Sequence[str]) -> list[bool]:
        """``maybe`` of every line; each search runs once over the short ASCII lines joined."""
        out = [False] * len(lines)
        texts = list(lines)
        for i in [i for i, line in enumerate(lines) if len(line) > LONG_LINE or not line.isascii()]:
            out[i] = self.maybe(lines[i])
            texts[i] = ""  # its place in the joined text stays, empty
        # Literals, shapes and the built-in patterns hold no newline: a hit lies within one line, the k-th
        # of which ends where ``ends[k]`` says (the joined text's newline after it, or its end).
        joined = "\n".join(texts)
        ends = list(map(add, accumulate(map(len, texts)), count()))

        def mark(find: Callable[[Any, int], int], text: str | bytes) -> None:
            position = find(text, 0)
            while position != -1:
                k = bisect_left(ends, position)
                out[k] = True
                position = find(text, ends[k] + 1)

        lowered = joined.lower()
        for anchor, find in self._passes:
            if anchor in lowered:  # (a memchr: most batches lack some anchors)
                mark(find, lowered)
        for search, needs in self.searches:
            if search is _card_search:
                shape = joined.encode("ascii").translate(_SHAPE)  # its positions are joined's
                for position in card_positions(shape):
                    out[bisect_left(ends, position)] = True
                for position in exponent_positions(shape):
                    k = bisect_left(ends, position)
                    if not out[k] and _exponent_at(joined, position):
                        out[k] = True
            elif needs:
                mark(_first(search), joined)
            else:  # an extra pattern: line by line (it may match a newline)
                for k, text in enumerate(texts):
                    if text and not out[k] and search(text) is not None:
                        out[k] = True
        return out

    def _maybe_long(self, line: str, lowered: str) -> bool:
        present = frozenset(char for char in self._chars if char in lowered)
        return (any(chars <= present and _occurs(literal, lowered) for literal, chars in self._literal_chars)
                or self._searched(line))

    def _searched(self, line: str) -> bool:
        """Whether a pattern of ``self.searches`` finds something in ``line`` (each only where its characters are)."""
        return any((not needs or any(char in line for char in needs)) and search(line) is not None
                   for search, needs in self.searches)
