"""The built-in redaction rules: one pattern and one replacement per rule name (names.BUILTIN_RULE_NAMES).

Every pattern is written to stay linear on hostile input: a run of token characters is entered only at
its start (a look-behind instead of ``\\b``, which would also treat ``_`` as a word character), repeats
that could overlap are possessive or bounded, and nothing nests an unbounded repeat inside another.
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Callable, Optional

MASK = "[REDACTED:{name}]"

# Key names whose values are secrets: a component of the name (split at ``_ - . space`` and at
# camelCase humps) or two adjacent components joined (``api`` + ``key``) is one of these words...
SECRET_WORDS = frozenset({
    "password", "passwd", "pwd", "pass", "passphrase", "passcode", "secret", "secrets", "token", "tokens",
    "apikey", "apikeys", "credential", "credentials", "creds", "authorization", "auth", "cookie", "cookies",
    "signature", "privatekey", "accesskey", "secretkey", "sessiontoken", "sessionkey", "clientsecret",
})
# ... or a component ends with one of these (``dbpassword``, ``csrftoken``)...
SECRET_ENDINGS = ("password", "passwd", "secret", "token", "apikey", "credentials", "passphrase")
# ... unless the last component says the value is about the secret, not the secret itself.
HARMLESS_LAST = frozenset({
    "count", "len", "length", "size", "type", "kind", "expiry", "expires", "expiration", "ttl", "age",
    "policy", "enabled", "required", "status", "name", "arn", "id", "ids", "hint", "rotated", "rotation",
    "changed", "reset", "set", "valid", "invalid", "error", "errors", "format", "version", "provider", "used",
    "usage", "limit", "max", "min", "remaining",
})
_COMPONENT = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")
# What a key must contain to be looked at (the exact decision is secret_key's).
STEMS = ("pass", "pwd", "secret", "token", "key", "auth", "cred", "cookie", "signature", "session")
_STEMS = "(?:" + "|".join(STEMS) + ")"
_KEY = rf"(?i:[A-Za-z0-9_.\-]{{0,40}}?{_STEMS}[A-Za-z0-9_.\-]{{0,40}})"
# A value after ``key:`` / ``key=``: double-quoted, single-quoted, quoted with escaped quotes (JSON
# inside a JSON string), or bare (up to a delimiter). Only searched after a secret-named key, so a
# long value is scanned once.
VALUE = re.compile(r"(?:\"(?P<dq>(?:[^\"\\]|\\.)*+)\""
                   r"|'(?P<sq>(?:[^'\\]|\\.)*+)'"
                   r"|\\++\"(?P<ev>(?:[^\"\\]++|\\++(?!\"))*+)\\++\""
                   r"|(?P<uv>(?![{\[]|\[REDACTED|(?i:bearer|basic|digest|negotiate)\s)[^\s,;&\"'<>{}()\[\]]++))")
_SEPARATOR = r"[ \t]*+(?::|=>?)[ \t]*+"
_TRIVIAL = frozenset({"", "null", "None", "true", "false", "True", "False", "nil", "undefined"})
_ALREADY = re.compile(r"\[REDACTED:[a-z0-9_]+\]")


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


@functools.lru_cache(maxsize=4096)
def secret_key(name: str) -> bool:
    """Whether a key name (``db_password``, ``DB_PASSWORD``, ``clientSecret``, ``x-api-key``) names a secret."""
    parts = [part.lower() for part in _COMPONENT.findall(name)]
    if not parts or (len(parts) > 1 and parts[-1] in HARMLESS_LAST):
        return False
    if any(part in SECRET_WORDS or (len(part) > 6 and part.endswith(SECRET_ENDINGS)) for part in parts):
        return True
    return any(a + b in SECRET_WORDS for a, b in zip(parts, parts[1:]))


@dataclass(frozen=True)
class Rule:
    name: str
    pattern: re.Pattern[str]
    # Returns the replacement for a match, or None to keep the match as it is.
    replace: Callable[[re.Match[str], str], Optional[str]]
    # Keyed rules: the match is a key; the span to mask comes from value_span (None: keep, search on
    # after the key, since a kept key's value may hold keys).
    keyed: bool = False
    # A kept match is searched again from its second character (a card may start inside a longer
    # run of digit groups that failed the checksum).
    rescan: bool = False
    # Lower-case strings one of which every match contains: a line holding none skips the rule.
    hints: tuple[str, ...] = ()
    # Keyed rules: whether a key names a secret. Default: - :func:`secret_key`
    key_test: Optional[Callable[[str], bool]] = None

    @property
    def mask(self) -> str:
        return MASK.format(name=self.name)


def _whole(match: re.Match[str], mask: str) -> Optional[str]:
    return mask


def _group(match: re.Match[str], mask: str, name: str) -> str:
    start, end = match.span(name)
    offset = match.start()
    text = match.group(0)
    return text[: start - offset] + mask + text[end - offset:]


def _value_group(match: re.Match[str], mask: str) -> Optional[str]:
    return _group(match, mask, "value")


def value_span(match: re.Match[str], key_test: Optional[Callable[[str], bool]] = None) -> Optional[tuple[int, int]]:
    """Where the value after a secret-named key is (``None``: not a secret key, or nothing to hide)."""
    if not (key_test or secret_key)(match.group("key")):
        return None
    value = VALUE.match(match.string, match.end())
    if value is None:
        return None
    for name in ("dq", "sq", "ev", "uv"):
        text = value.group(name)
        if text is not None:
            return None if text in _TRIVIAL or _ALREADY.fullmatch(text) else value.span(name)
    return None  # pragma: no cover - one alternative always matches


def _authorization(match: re.Match[str], mask: str) -> Optional[str]:
    # Without an Authorization key in front, "Basic <word>" may be prose: ask for a digit or symbol.
    if match.group("auth") is None and not re.search(r"[0-9+/=._~-]", match.group("value")):
        return None
    return _group(match, mask, "value")


def _card(match: re.Match[str], mask: str) -> Optional[str]:
    digits = re.sub(r"[ .-]", "", match.group(0))
    return mask if 13 <= len(digits) <= 19 and luhn_ok(digits) else None


_VENDOR = "|".join((
    r"xox[abposre]-[A-Za-z0-9-]{10,}+",  # Slack bot/user/app tokens
    r"xapp-[0-9]-[A-Za-z0-9-]{10,}+",
    r"hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9/_-]{8,}+",  # Slack webhook URLs
    r"gh[pousr]_[A-Za-z0-9]{36,}+",  # GitHub
    r"github_pat_[A-Za-z0-9_]{22,}+",
    r"glpat-[A-Za-z0-9_-]{20,}+",  # GitLab
    r"(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,}+",  # Stripe secret and restricted keys
    r"whsec_[A-Za-z0-9]{24,}+",  # Stripe webhook signing secrets
    r"AIza[0-9A-Za-z_-]{35,}+",  # Google API keys
    r"npm_[A-Za-z0-9]{36,}+",
    r"pypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{50,}+",
    r"SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43,}+",  # SendGrid
    r"sk-(?:proj-|ant-[a-z]{3,5}[0-9]{2}-)?[A-Za-z0-9_-]{32,}+",  # OpenAI, Anthropic
    r"(?:shpat|shpss|shpca|shppa)_[a-fA-F0-9]{32,}+",  # Shopify
    r"dop_v1_[a-f0-9]{64,}+",  # DigitalOcean
    r"hf_[A-Za-z0-9]{34,}+",  # Hugging Face
))

BUILTIN_RULES: tuple[Rule, ...] = (
    Rule("private_key", re.compile(
        r"-----BEGIN (?:[A-Z0-9]{1,20} ){0,3}PRIVATE KEY(?: BLOCK)?-----"
        r"(?:[A-Za-z0-9+/=\s\\:,.]++|-(?!----))*+(?:-----END [A-Z0-9 ]{0,60}-----)?"), _whole, hints=("private key",)),
    Rule("jwt", re.compile(
        r"(?<![A-Za-z0-9-])eyJ[A-Za-z0-9_-]{5,1024}+\.eyJ[A-Za-z0-9_-]{5,}+\.[A-Za-z0-9_-]*+"), _whole, hints=("eyj",)),
    Rule("bearer", re.compile(
        r"(?i)(?:(?P<auth>(?<![A-Za-z0-9])(?:proxy-)?authorization)(?:\\*[\"'])?[ \t]*+[:=][ \t]*+(?:\\*[\"'])?)?"
        r"(?<![A-Za-z0-9])(?:bearer|basic|digest|negotiate|token)[ \t]++(?P<value>[A-Za-z0-9._~+/-]{8,}+=*+)"),
        _authorization, hints=("bearer", "basic", "digest", "negotiate", "token")),
    Rule("url_credentials", re.compile(
        r"(?i)(?<![A-Za-z0-9+.-])[a-z][a-z0-9+.-]{0,30}+:(?:\\?/){2}[^\s:/@\"'<>\\]{0,256}+:"
        r"(?P<value>[^\s?#@\"'<>\\][^\s?#\"'<>\\]{0,511})@"), _value_group, hints=(":/", ":\\/")),
    Rule("vendor_token", re.compile(rf"(?<![A-Za-z0-9])(?:{_VENDOR})"), _whole),
    Rule("aws_key_id", re.compile(
        r"(?<![A-Za-z0-9])(?:AKIA|ASIA|ABIA|ACCA|AIDA|AROA|AGPA|AIPA|ANPA|ANVA|APKA)[A-Z0-9]{16}(?![A-Za-z0-9])"),
        _whole),
    Rule("aws_secret", re.compile(
        r"(?i)(?<![A-Za-z0-9])(?:aws[_. -]?)?secret[_. -]?(?:access[_. -]?)?key(?:\\*[\"'])?[ \t]*+(?:[:=]|=>)?"
        r"[ \t]*+(?:\\*[\"'])?(?P<value>[A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])"), _value_group, hints=("secret",)),
    # Quoted keys: JSON, JSON escaped inside a string, Python dict reprs.
    Rule("password_json", re.compile(rf"(?<!\\)(?P<q>\\*+[\"'])(?P<key>{_KEY})(?P=q){_SEPARATOR}"),
         _whole, keyed=True, hints=STEMS),
    # Bare keys: key=value, key: value, HTTP headers, query strings, environment dumps (not ARN parts).
    Rule("password_kv", re.compile(rf"(?<![A-Za-z0-9_.:\\-])(?P<key>{_KEY}){_SEPARATOR}"),
         _whole, keyed=True, hints=STEMS),
    Rule("email", re.compile(
        # The local part stops before a ``%40`` (a ``%`` is allowed in it otherwise).
        r"(?<![A-Za-z0-9._%+-])(?:[A-Za-z0-9._+-]|%(?!40)){1,64}+(?:@|\\u0040|%40)(?:[A-Za-z0-9-]{1,63}\.){1,8}"
        r"[A-Za-z]{2,24}(?![A-Za-z0-9-])"), _whole, hints=("@", "\\u0040", "%40")),
    Rule("card", re.compile(
        r"(?<![0-9])(?:[0-9]{13,19}+|[0-9]{4}(?P<s>[ .-])[0-9]{4}(?P=s)[0-9]{4}(?P=s)[0-9]{1,7}"
        r"|[0-9]{4}(?P<t>[ .-])[0-9]{6}(?P=t)[0-9]{4,5})(?![0-9])"), _card, rescan=True),
)


def custom_key_rule(name: str, keys: frozenset[str]) -> Rule:
    """A keyed rule for extra secret key names (compared case-insensitively), quoted or bare."""
    alternatives = "|".join(re.escape(key) for key in sorted(keys, key=len, reverse=True))
    pattern = re.compile(rf"(?<![A-Za-z0-9_.\\-])(?P<q>\\*+[\"']|)(?P<key>(?i:{alternatives}))(?P=q){_SEPARATOR}")
    return Rule(name, pattern, _whole, keyed=True, hints=tuple(sorted(keys)), key_test=lambda key: key.lower() in keys)
