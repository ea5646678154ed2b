"""Names and checks shared by the central pipeline and the member accounts that forward into it.

The central account and its member accounts are deployed separately (often by StackSets), so they
meet only through ARNs built from names: the central destination of a region is always
``arn:<partition>:logs:<region>:<central account>:destination:<name>``.
"""
from __future__ import annotations

import re
from typing import Optional

from aws_cdk import Token

from ._private.validation import PropError

DEFAULT_DESTINATION_NAME = "log-constructs-central"

_ACCOUNT = re.compile(r"\d{12}")
# AWS Organizations: "o-" followed by 10 to 32 lowercase letters or digits.
_ORGANIZATION = re.compile(r"o-[a-z0-9]{10,32}")
_REGION = re.compile(r"[a-z]{2}(?:-[a-z]+)+-\d")
_DESTINATION_NAME = re.compile(r"[^:*]{1,512}")
_DESTINATION_ARN = re.compile(r"arn:(?P<partition>aws[a-z-]*):logs:(?P<region>[^:]+):(?P<account>[^:]+):destination:(?P<name>[^:*]+)")


def _unresolved(value: object) -> bool:
    return isinstance(value, str) and Token.is_unresolved(value)


def check_account_id(construct: str, prop: str, value: str) -> None:
    """An AWS account id is 12 digits (as a string: leading zeros count)."""
    if not _unresolved(value) and not (isinstance(value, str) and _ACCOUNT.fullmatch(value)):
        raise PropError(f"{construct}: {prop} must be 12-digit AWS account ids, got {value!r}")


def check_organization_id(construct: str, prop: str, value: Optional[str]) -> None:
    """An AWS Organizations id looks like ``o-a1b2c3d4e5``."""
    if value is None or _unresolved(value):
        return
    if not (isinstance(value, str) and _ORGANIZATION.fullmatch(value)):
        raise PropError(
            f"{construct}: {prop} must be an AWS Organizations id ('o-' and 10 to 32 lowercase letters or digits), "
            f"got {value!r}")


def check_region(construct: str, prop: str, value: str) -> None:
    """A region name such as ``eu-west-1`` (tokens are not checked)."""
    if not _unresolved(value) and not (isinstance(value, str) and _REGION.fullmatch(value)):
        raise PropError(f"{construct}: {prop} must be AWS region names such as 'eu-west-1', got {value!r}")


def destination_arn(*, account: str, region: str, name: str = DEFAULT_DESTINATION_NAME,
                    partition: str = "aws") -> str:
    """The ARN of the central CloudWatch Logs destination of ``region`` (built from names only)."""
    check_account_id("destination_arn", "account", account)
    check_region("destination_arn", "region", region)
    if not _DESTINATION_NAME.fullmatch(name):
        raise PropError(f"destination_arn: name must be 1 to 512 characters without ':' or '*', got {name!r}")
    return f"arn:{partition}:logs:{region}:{account}:destination:{name}"


def parse_destination_arn(construct: str, prop: str, value: str) -> dict[str, str]:
    """``partition``, ``region``, ``account`` and ``name`` of a destination ARN, or a :class:`PropError`."""
    match = _DESTINATION_ARN.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        raise PropError(
            f"{construct}: {prop} must be a CloudWatch Logs destination ARN "
            f"(arn:aws:logs:<region>:<account>:destination:<name>), got {value!r}")
    return match.groupdict()
