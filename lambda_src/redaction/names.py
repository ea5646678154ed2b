"""The built-in redaction rules' names, in the order they apply (standard library only, no imports).

Both sides read them from here: the functions' engine (:mod:`redaction.engine` checks that its rules
follow this order) and the constructs, which validate ``redaction_disabled`` and the names of extra
patterns against them.
"""
from __future__ import annotations

import re

BUILTIN_RULE_NAMES = ("private_key", "jwt", "bearer", "url_credentials", "vendor_token", "aws_key_id", "aws_secret",
                      "password_json", "password_kv", "email", "card")
# The rule that masks the values of extra secret key names (``secret_keys``).
CUSTOM_KEY_RULE = "custom_key"
# Names of extra rules: lower-case identifiers, none of the built-in ones.
RULE_NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
