"""Masking of secrets and personal data, shared by the functions that let log text leave them.

The alerts function masks what it posts and stores; the log shipper masks every document before it
leaves the function. One engine (:mod:`redaction.engine`), one set of rules (:mod:`redaction.rules`),
their names (:mod:`redaction.names`), and the shipper's cheap pre-check (:mod:`redaction.precheck`).
Standard library only; never imported by ``logship``.
"""
from .engine import BUILTIN_NAMES, BUILTIN_RULES, MASK, Redactor, Rule, luhn_ok, secret_key
from .names import BUILTIN_RULE_NAMES, CUSTOM_KEY_RULE, RULE_NAME_PATTERN

__all__ = ["BUILTIN_NAMES", "BUILTIN_RULES", "BUILTIN_RULE_NAMES", "CUSTOM_KEY_RULE", "MASK", "RULE_NAME_PATTERN",
           "Redactor", "Rule", "luhn_ok", "secret_key"]
