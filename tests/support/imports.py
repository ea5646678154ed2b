"""Reading imports from source: the absolute module a ``from ... import`` names."""
from __future__ import annotations

import ast


def imported_from(node: ast.ImportFrom, package: str) -> str:
    """The module ``node`` imports from, its leading dots resolved against ``package`` (the importer's package)."""
    base = node.module or ""
    if not node.level:
        return base
    parent = package.split(".")[: len(package.split(".")) - node.level + 1]
    return ".".join([*parent, base] if base else parent)
