"""Saved Athena (Trino) queries over the CloudTrail table of ``cloudtrail_schema``.

Each query reads only the last ``days`` daily partitions (a predicate on the projected ``date``
partition, so Athena lists only those prefixes) and returns what an auditor looks at first.
Templates use ``{database}``, ``{table}`` and ``{days}``; ``render`` fills them in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

RECENT = "\"date\" >= date_format(current_date - interval '{days}' day, '%Y/%m/%d')"
"""Partition predicate: the ``date`` partitions of the last ``days`` days, today included."""

PRINCIPAL = (
    "coalesce(useridentity.arn, useridentity.principalid, useridentity.invokedby, useridentity.type)"
)
"""Who made the call: the ARN, else the principal ID, else the invoking service, else the type."""

_EVENT_COLUMNS = (
    "eventtime, eventsource, eventname, awsregion, sourceipaddress, useragent, "
    f"{PRINCIPAL} AS principal, errorcode, eventid"
)

IAM_CHANGE_EVENTS = (
    # The CIS IAM policy-change list ...
    "DeleteGroupPolicy", "DeleteRolePolicy", "DeleteUserPolicy",
    "PutGroupPolicy", "PutRolePolicy", "PutUserPolicy",
    "CreatePolicy", "DeletePolicy", "CreatePolicyVersion", "DeletePolicyVersion", "SetDefaultPolicyVersion",
    "AttachRolePolicy", "DetachRolePolicy", "AttachUserPolicy", "DetachUserPolicy",
    "AttachGroupPolicy", "DetachGroupPolicy",
    # ... plus users, their credentials and group membership, and role trust.
    "CreateUser", "DeleteUser", "UpdateUser", "CreateLoginProfile", "UpdateLoginProfile", "DeleteLoginProfile",
    "CreateAccessKey", "UpdateAccessKey", "DeleteAccessKey", "AddUserToGroup", "RemoveUserFromGroup",
    "EnableMFADevice", "DeactivateMFADevice", "UpdateAssumeRolePolicy",
)  # fmt: skip

NETWORK_FILTER_EVENTS = (
    "AuthorizeSecurityGroupIngress", "AuthorizeSecurityGroupEgress",
    "RevokeSecurityGroupIngress", "RevokeSecurityGroupEgress",
    "ModifySecurityGroupRules", "CreateSecurityGroup", "DeleteSecurityGroup",
    "CreateNetworkAcl", "CreateNetworkAclEntry", "DeleteNetworkAcl", "DeleteNetworkAclEntry",
    "ReplaceNetworkAclEntry", "ReplaceNetworkAclAssociation",
)  # fmt: skip

TRAIL_TAMPER_EVENTS = ("StopLogging", "DeleteTrail", "UpdateTrail", "PutEventSelectors", "PutInsightSelectors")

KMS_KEY_LOSS_EVENTS = ("DisableKey", "ScheduleKeyDeletion")

S3_BUCKET_POLICY_EVENTS = (
    "PutBucketAcl", "PutBucketPolicy", "PutBucketCors", "PutBucketLifecycle", "PutBucketReplication",
    "DeleteBucketPolicy", "DeleteBucketCors", "DeleteBucketLifecycle", "DeleteBucketReplication",
    "PutBucketPublicAccessBlock", "DeleteBucketPublicAccessBlock",
)  # fmt: skip


def _in(names: tuple[str, ...]) -> str:
    return "(" + ", ".join(f"'{name}'" for name in names) + ")"


def _events(source: str, names: tuple[str, ...], extra_columns: str = "") -> str:
    columns = _EVENT_COLUMNS + (f", {extra_columns}" if extra_columns else "")
    return (
        f"SELECT {columns}\nFROM {{database}}.{{table}}\n"
        f"WHERE {RECENT}\n  AND eventsource = '{source}'\n  AND eventname IN {_in(names)}\n"
        "ORDER BY eventtime DESC"
    )


@dataclass(frozen=True)
class AuditQuery:
    """A saved query: ``key`` is stable (construct IDs), ``name`` is what Athena shows."""

    key: str
    name: str
    description: str
    template: str

    def render(self, *, database: str, table: str, days: int) -> str:
        """The query text for a table ``database.table`` over the last ``days`` days."""
        return render(self.template, database=database, table=table, days=days)


_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")


def render(template: str, *, database: str, table: str, days: int) -> str:
    """Fill a template; names must be lower-case Glue identifiers and ``days`` at least 1."""
    for label, value in (("database", database), ("table", table)):
        if not _IDENTIFIER.match(value):
            raise ValueError(f"{label}: {value!r} must be a lower-case identifier (letters, digits, _)")
    if isinstance(days, bool) or not isinstance(days, int) or days < 1:
        raise ValueError(f"days: {days!r} must be a whole number of days >= 1")
    return template.format(database=database, table=table, days=days)


QUERIES: tuple[AuditQuery, ...] = (
    AuditQuery(
        "RootActivity",
        "root-account-activity",
        "Calls made with the root user's credentials (not on its behalf by an AWS service).",
        f"SELECT {_EVENT_COLUMNS}\nFROM {{database}}.{{table}}\nWHERE {RECENT}\n"
        "  AND useridentity.type = 'Root'\n  AND useridentity.invokedby IS NULL\n"
        "  AND eventtype <> 'AwsServiceEvent'\nORDER BY eventtime DESC",
    ),
    AuditQuery(
        "ConsoleLoginWithoutMfa",
        "console-logins-without-mfa",
        "Successful console sign-ins of IAM users and the root user that did not use MFA.",
        f"SELECT {_EVENT_COLUMNS}\nFROM {{database}}.{{table}}\nWHERE {RECENT}\n"
        "  AND eventname = 'ConsoleLogin'\n  AND useridentity.type IN ('IAMUser', 'Root')\n"
        "  AND json_extract_scalar(responseelements, '$.ConsoleLogin') = 'Success'\n"
        "  AND coalesce(json_extract_scalar(additionaleventdata, '$.MFAUsed'), 'No') <> 'Yes'\n"
        "ORDER BY eventtime DESC",
    ),
    AuditQuery(
        "FailedConsoleLogins",
        "failed-console-logins",
        "Failed console sign-ins, with the user name tried and the source address.",
        "SELECT eventtime, sourceipaddress, useragent, errormessage, eventid,\n"
        "  coalesce(useridentity.username, useridentity.arn, useridentity.principalid) AS username\n"
        f"FROM {{database}}.{{table}}\nWHERE {RECENT}\n  AND eventname = 'ConsoleLogin'\n"
        "  AND (errormessage IS NOT NULL\n"
        "    OR json_extract_scalar(responseelements, '$.ConsoleLogin') = 'Failure')\n"
        "ORDER BY eventtime DESC",
    ),
    AuditQuery(
        "AccessDeniedByPrincipal",
        "access-denied-by-principal",
        "AccessDenied and UnauthorizedOperation errors counted per principal.",
        f"SELECT {PRINCIPAL} AS principal, count(*) AS denied_calls,\n"
        "  count(DISTINCT eventname) AS distinct_actions, min(eventtime) AS first_seen,\n"
        "  max(eventtime) AS last_seen\n"
        f"FROM {{database}}.{{table}}\nWHERE {RECENT}\n"
        "  AND (errorcode LIKE 'AccessDenied%' OR errorcode LIKE '%UnauthorizedOperation')\n"
        f"GROUP BY {PRINCIPAL}\nORDER BY denied_calls DESC",
    ),
    AuditQuery(
        "IamChanges",
        "iam-policy-and-user-changes",
        "Changes to IAM policies, users, their credentials, group membership and role trust.",
        _events("iam.amazonaws.com", IAM_CHANGE_EVENTS, "requestparameters"),
    ),
    AuditQuery(
        "NetworkFilterChanges",
        "security-group-and-nacl-changes",
        "Changes to security groups and network ACLs.",
        _events("ec2.amazonaws.com", NETWORK_FILTER_EVENTS, "requestparameters"),
    ),
    AuditQuery(
        "TrailChanges",
        "cloudtrail-stop-delete-update",
        "Trails stopped, deleted or reconfigured.",
        _events(
            "cloudtrail.amazonaws.com", TRAIL_TAMPER_EVENTS, "json_extract_scalar(requestparameters, '$.name') AS trail"
        ),
    ),
    AuditQuery(
        "KmsKeyDisableOrDeletion",
        "kms-key-disable-or-scheduled-deletion",
        "KMS keys disabled or scheduled for deletion.",
        _events(
            "kms.amazonaws.com", KMS_KEY_LOSS_EVENTS, "json_extract_scalar(requestparameters, '$.keyId') AS key_id"
        ),
    ),
    AuditQuery(
        "S3BucketPolicyChanges",
        "s3-bucket-policy-changes",
        "Changes to bucket policies, ACLs, CORS, lifecycle, replication and public access blocks.",
        _events(
            "s3.amazonaws.com",
            S3_BUCKET_POLICY_EVENTS,
            "json_extract_scalar(requestparameters, '$.bucketName') AS bucket",
        ),
    ),
    AuditQuery(
        "TopPrincipals",
        "top-principals-by-calls",
        "The 25 principals with the most calls.",
        f"SELECT {PRINCIPAL} AS principal, count(*) AS calls\nFROM {{database}}.{{table}}\n"
        f"WHERE {RECENT}\nGROUP BY {PRINCIPAL}\nORDER BY calls DESC\nLIMIT 25",
    ),
    AuditQuery(
        "TopSourceIps",
        "top-source-ips-by-calls",
        "The 25 source addresses (or calling services) with the most calls.",
        f"SELECT sourceipaddress, count(*) AS calls\nFROM {{database}}.{{table}}\nWHERE {RECENT}\n"
        "GROUP BY sourceipaddress\nORDER BY calls DESC\nLIMIT 25",
    ),
)
