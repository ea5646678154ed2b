"""Early, named validation of construct props (skipping unresolved tokens)."""
from __future__ import annotations

from typing import Any, Iterable, Optional

from aws_cdk import Token


class PropError(ValueError):
    """A construct prop has a value the construct cannot use; the message names the prop."""


def _resolved(value: Any) -> bool:
    return value is not None and not Token.is_unresolved(value)


def check_range(construct: str, prop: str, value: Optional[float], low: float, high: float, unit: str = "") -> None:
    """Raise :class:`PropError` when ``value`` lies outside ``[low, high]``."""
    if _resolved(value) and not low <= value <= high:
        raise PropError(
            f"{construct}: {prop} must be between {low} and {high}{unit}, got {value}{unit}"
        )


def check_choice(construct: str, prop: str, value: Optional[object], choices: Iterable[object]) -> None:
    """Raise :class:`PropError` when ``value`` is not one of ``choices``."""
    allowed = tuple(choices)
    if _resolved(value) and value not in allowed:
        raise PropError(f"{construct}: {prop} must be one of {', '.join(map(repr, allowed))}, got {value!r}")


def check(construct: str, prop: str, ok: bool, why: str) -> None:
    """Raise :class:`PropError` with ``why`` unless ``ok``."""
    if not ok:
        raise PropError(f"{construct}: {prop} {why}")
