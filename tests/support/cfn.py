"""CloudFormation values in construct tests: a string with its intrinsic functions flattened."""
from __future__ import annotations

import json


def joined(value) -> str:
    """A CloudFormation string with its Fn::Join flattened (Refs and GetAtts as ${Name})."""
    if isinstance(value, dict) and "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return separator.join(joined(p) for p in parts)
    if isinstance(value, dict) and "Ref" in value:
        return "${" + value["Ref"] + "}"
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        return "${" + ".".join(value["Fn::GetAtt"]) + "}"
    return value if isinstance(value, str) else json.dumps(value)
