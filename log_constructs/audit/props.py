"""AuditTrail's props: validated before anything is built."""
from __future__ import annotations

import re

from aws_cdk import Token
from aws_cdk import aws_s3 as s3

from .._private.validation import PropError, check, check_range
from . import schema as cloudtrail_schema

_NAME = "AuditTrail"
_TRAIL_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{1,126}[A-Za-z0-9]$")
_DATABASE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,254}$")
_ORG_ID = re.compile(r"^o-[a-z0-9]{10,32}$")


def validate(
    *,
    bucket,
    object_lock_mode,
    object_lock_days,
    glacier_after_days,
    trail_name,
    is_organization_trail,
    organization_id,
    data_event_buckets,
    database_name,
    query_accounts,
    query_regions,
    query_history_days,
    query_window_days,
    query_scan_limit_gib,
    query_results_expire_days,
    encryption_key=None,
    attach_point_writers=None,
) -> None:
    if encryption_key is not None:
        # An alias's ARN ends in alias/<name>; CloudTrail records PutKeyPolicy with the key's ARN (key/<id>).
        check(_NAME, "encryption_key", ":alias/" not in str(encryption_key.key_arn),
              f"must be a key, not an alias ({encryption_key.node.path}): CloudTrail records PutKeyPolicy under the "
              "key's ARN (key/<id>), so the key-policy alarm could never match an alias. Pass the key itself or "
              "kms.Key.from_key_arn(scope, id, 'arn:...:key/<id>')")
    if attach_point_writers is not None:
        check(_NAME, "attach_point_writers", 1 <= len(attach_point_writers) <= 2,
              f"must name one or two roles (the metric filter pattern holds at most 1024 characters), "
              f"got {len(attach_point_writers)}")
    for prop, value, low, high, unit in (
        ("object_lock_days", object_lock_days, 1, 36500, " days"),
        ("glacier_after_days", glacier_after_days, 1, 36500, " days"),
        ("query_history_days", query_history_days, 1, 36500, " days"),
        ("query_window_days", query_window_days, 1, 3650, " days"),
        ("query_scan_limit_gib", query_scan_limit_gib, 1, 10240, " GiB"),
        ("query_results_expire_days", query_results_expire_days, 1, 3650, " days"),
    ):
        if value is not None and not Token.is_unresolved(value):
            check(_NAME, prop, isinstance(value, int) and not isinstance(value, bool), f"must be a whole number, got {value!r}")
        check_range(_NAME, prop, value, low, high, unit)
    if bucket is not None:
        for prop, value in (("object_lock_mode", object_lock_mode), ("object_lock_days", object_lock_days),
                            ("glacier_after_days", glacier_after_days)):  # fmt: skip
            check(_NAME, prop, value is None, "applies only to the bucket the construct creates; "
                  "configure your own bucket yourself (or leave out bucket)")
        check(_NAME, "data_event_buckets", all(b is not bucket for b in data_event_buckets),
              "must not contain the trail's own bucket: recording its writes would log CloudTrail's deliveries")
    if object_lock_mode is not None:
        check(_NAME, "object_lock_mode", isinstance(object_lock_mode, s3.ObjectLockMode),
              f"must be s3.ObjectLockMode.GOVERNANCE or COMPLIANCE, got {object_lock_mode!r}")
    if trail_name is not None and not Token.is_unresolved(trail_name):
        check(_NAME, "trail_name", bool(_TRAIL_NAME.match(trail_name)),
              f"must be 3-128 letters, digits, '.', '_' or '-', starting and ending with a letter or digit, got {trail_name!r}")
    if is_organization_trail:
        check(_NAME, "organization_id", organization_id is not None,
              "is required when is_organization_trail is True (log files go under AWSLogs/<org-id>/)")
    elif organization_id is not None:
        check(_NAME, "organization_id", False, "is only used with is_organization_trail=True")
    if organization_id is not None and not Token.is_unresolved(organization_id):
        check(_NAME, "organization_id", bool(_ORG_ID.match(organization_id)),
              f"must be an organization ID such as 'o-a1b2c3d4e5', got {organization_id!r}")
    if database_name is not None and not Token.is_unresolved(database_name):
        check(_NAME, "database_name", bool(_DATABASE_NAME.match(database_name)),
              f"must be lower-case letters, digits and '_', not starting with a digit, got {database_name!r}")
    if query_accounts is not None or query_regions is not None:
        try:
            cloudtrail_schema.validate_projection_inputs(
                accounts=list(query_accounts if query_accounts is not None else ["000000000000"]),
                regions=list(query_regions if query_regions is not None else ["us-east-1"]),
                history_days=1,
                is_unresolved=Token.is_unresolved,
            )
        except ValueError as error:
            problems = str(error).split("\n  - ")[1:]
            raise PropError(f"{_NAME}: " + "; ".join(f"query_{p}" for p in problems)) from None
