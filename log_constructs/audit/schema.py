"""The Glue/Athena table definition for CloudTrail log files, as plain data.

The columns follow AWS's own Athena DDL for CloudTrail (the "partition projection" example in
the Athena User Guide), extended by the record fields that DDL leaves out but CloudTrail writes
(``managementevent`` on every record; in ``useridentity``, ``inscopeof`` for credentials issued to
a compute resource, ``credentialid`` for IAM Identity Center users and ``sessioncontext.sourceidentity``).
Column names are lower case: the CloudTrail SerDe matches JSON keys case-insensitively, so
``sourceIPAddress`` lands in ``sourceipaddress``. Fields whose shape depends on the service
(``requestparameters``, ``responseelements``, ``additionaleventdata``, ``serviceeventdetails``,
``edgedevicedetails``) are strings holding the JSON text; query them with ``json_extract_scalar``.

Partitions are projected (no crawler, no ``MSCK REPAIR``): ``account`` and ``region`` are
``enum`` projections and ``date`` is a ``date`` projection in CloudTrail's ``yyyy/MM/dd`` layout.
"""

from __future__ import annotations

import re
from typing import Callable, Mapping, Optional, Sequence

SERDE_LIBRARY = "com.amazon.emr.hive.serde.CloudTrailSerde"
INPUT_FORMAT = "com.amazon.emr.cloudtrail.CloudTrailInputFormat"
OUTPUT_FORMAT = "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat"

DATE_FORMAT = "yyyy/MM/dd"
"""Java date format of the ``date`` partition: CloudTrail's ``<yyyy>/<MM>/<dd>`` key segments."""

PARTITION_KEYS: tuple[tuple[str, str], ...] = (
    ("account", "string"),
    ("region", "string"),
    ("date", "string"),
)
"""Partition columns (name, Hive type). ``date`` is a reserved word: quote it in SQL."""


def _struct(*fields: tuple[str, str]) -> str:
    return "struct<" + ",".join(f"{name}:{hive_type}" for name, hive_type in fields) + ">"


_S = "string"

_SESSION_ISSUER = _struct(
    ("type", _S), ("principalid", _S), ("arn", _S), ("accountid", _S), ("username", _S)
)
_SESSION_CONTEXT = _struct(
    ("attributes", _struct(("mfaauthenticated", _S), ("creationdate", _S))),
    ("sessionissuer", _SESSION_ISSUER),
    ("ec2roledelivery", _S),
    ("webidfederationdata", _struct(("federatedprovider", _S), ("attributes", "map<string,string>"))),
    ("sourceidentity", _S),
)
_USER_IDENTITY = _struct(
    ("type", _S),
    ("principalid", _S),
    ("arn", _S),
    ("accountid", _S),
    ("invokedby", _S),
    ("accesskeyid", _S),
    ("username", _S),
    ("onbehalfof", _struct(("userid", _S), ("identitystorearn", _S))),
    ("sessioncontext", _SESSION_CONTEXT),
    (
        "inscopeof",
        _struct(("issuertype", _S), ("credentialsissuedto", _S), ("sourcearn", _S), ("sourceaccount", _S)),
    ),
    ("credentialid", _S),
)

COLUMNS: tuple[tuple[str, str], ...] = (
    ("eventversion", _S),
    ("useridentity", _USER_IDENTITY),
    ("eventtime", _S),
    ("eventsource", _S),
    ("eventname", _S),
    ("awsregion", _S),
    ("sourceipaddress", _S),
    ("useragent", _S),
    ("errorcode", _S),
    ("errormessage", _S),
    ("requestparameters", _S),
    ("responseelements", _S),
    ("additionaleventdata", _S),
    ("requestid", _S),
    ("eventid", _S),
    ("readonly", _S),
    ("resources", "array<" + _struct(("arn", _S), ("accountid", _S), ("type", _S)) + ">"),
    ("eventtype", _S),
    ("apiversion", _S),
    ("managementevent", _S),
    ("recipientaccountid", _S),
    ("serviceeventdetails", _S),
    ("sharedeventid", _S),
    ("vpcendpointid", _S),
    ("vpcendpointaccountid", _S),
    ("eventcategory", _S),
    (
        "addendum",
        _struct(("reason", _S), ("updatedfields", _S), ("originalrequestid", _S), ("originaleventid", _S)),
    ),
    ("sessioncredentialfromconsole", _S),
    ("edgedevicedetails", _S),
    ("tlsdetails", _struct(("tlsversion", _S), ("ciphersuite", _S), ("clientprovidedhostheader", _S))),
)
"""Table columns (name, Hive type string) in the order of AWS's DDL."""

_ACCOUNT_RE = re.compile(r"^\d{12}$")
_REGION_RE = re.compile(r"^[a-z]{2,4}(-[a-z]+)+-\d+$")
_ORG_ID_RE = re.compile(r"^o-[a-z0-9]{10,32}$")
_PREFIX_RE = re.compile(r"^[A-Za-z0-9!_.*'()/-]*$")


def glue_columns() -> list[dict[str, str]]:
    """The columns in the shape ``glue.CfnTable.ColumnProperty`` takes (``name``, ``type``)."""
    return [{"name": name, "type": hive_type} for name, hive_type in COLUMNS]


def glue_partition_keys() -> list[dict[str, str]]:
    """The partition keys in the shape ``glue.CfnTable.ColumnProperty`` takes."""
    return [{"name": name, "type": hive_type} for name, hive_type in PARTITION_KEYS]


def trail_root(bucket_name: str, *, key_prefix: Optional[str] = None, organization_id: Optional[str] = None) -> str:
    """``s3://`` URI of the folder that holds the per-account ``CloudTrail/`` folders.

    CloudTrail writes ``[prefix/]AWSLogs/<account>/CloudTrail/...`` for a trail of one account and
    ``[prefix/]AWSLogs/<org-id>/<account>/CloudTrail/...`` for an organization trail.
    """
    parts = [f"s3://{bucket_name}"]
    if key_prefix:
        parts.append(key_prefix.strip("/"))
    parts.append("AWSLogs")
    if organization_id:
        parts.append(organization_id)
    return "/".join(parts)


def storage_location_template(
    bucket_name: str, *, key_prefix: Optional[str] = None, organization_id: Optional[str] = None
) -> str:
    """The ``storage.location.template`` for CloudTrail's key layout.

    ``.../AWSLogs/[<org-id>/]${account}/CloudTrail/${region}/${date}``, where ``${date}`` expands
    to ``yyyy/MM/dd``. Digest files (``CloudTrail-Digest/``) and Insights events
    (``CloudTrail-Insight/``) live beside ``CloudTrail/`` and are deliberately not covered.
    """
    root = trail_root(bucket_name, key_prefix=key_prefix, organization_id=organization_id)
    return root + "/${account}/CloudTrail/${region}/${date}"


def projection_parameters(
    *,
    bucket_name: str,
    accounts: Sequence[str],
    regions: Sequence[str],
    history_days: int,
    key_prefix: Optional[str] = None,
    organization_id: Optional[str] = None,
    is_unresolved: Callable[[object], bool] = lambda value: False,
) -> dict[str, str]:
    """Table parameters that turn on partition projection over ``account``, ``region``, ``date``.

    :param bucket_name: the trail's bucket (a plain name or a CDK token).
    :param accounts: account IDs the trail logs (one for an account trail; the member accounts
        to make queryable for an organization trail).
    :param regions: regions to project; a region not listed is invisible to queries.
    :param history_days: how far back the ``date`` projection reaches (``NOW-<n>DAYS``).
    :param key_prefix: the trail's S3 key prefix, if any.
    :param organization_id: the organization ID (``o-...``) for an organization trail.
    :param is_unresolved: tells deploy-time values (CDK tokens) apart; they are not checked.
    """
    validate_projection_inputs(
        accounts=accounts,
        regions=regions,
        history_days=history_days,
        key_prefix=key_prefix,
        organization_id=organization_id,
        is_unresolved=is_unresolved,
    )
    return {
        "projection.enabled": "true",
        "projection.account.type": "enum",
        "projection.account.values": ",".join(accounts),
        "projection.region.type": "enum",
        "projection.region.values": ",".join(regions),
        "projection.date.type": "date",
        "projection.date.format": DATE_FORMAT,
        "projection.date.range": f"NOW-{history_days}DAYS,NOW",
        "projection.date.interval": "1",
        "projection.date.interval.unit": "DAYS",
        "storage.location.template": storage_location_template(
            bucket_name, key_prefix=key_prefix, organization_id=organization_id
        ),
    }


def validate_projection_inputs(
    *,
    accounts: Sequence[str],
    regions: Sequence[str],
    history_days: int,
    key_prefix: Optional[str] = None,
    organization_id: Optional[str] = None,
    is_unresolved: Callable[[object], bool] = lambda value: False,
) -> None:
    """Raise ``ValueError`` listing every invalid input (tokens, per ``is_unresolved``, pass)."""
    problems: list[str] = []
    if not accounts:
        problems.append("accounts: give at least one account ID to project")
    for account in accounts:
        if not is_unresolved(account) and not _ACCOUNT_RE.match(account):
            problems.append(f"accounts: {account!r} is not a 12-digit account ID")
    if not regions:
        problems.append("regions: give at least one region to project")
    for region in regions:
        if not is_unresolved(region) and not _REGION_RE.match(region):
            problems.append(f"regions: {region!r} is not a region name such as 'eu-west-1'")
    if isinstance(history_days, bool) or not isinstance(history_days, int) or history_days < 1:
        problems.append(f"history_days: {history_days!r} must be a whole number of days >= 1")
    if key_prefix and not is_unresolved(key_prefix) and not _PREFIX_RE.match(key_prefix):
        problems.append(f"key_prefix: {key_prefix!r} may only contain letters, digits and !_.*'()/-")
    if organization_id and not is_unresolved(organization_id) and not _ORG_ID_RE.match(organization_id):
        problems.append(f"organization_id: {organization_id!r} is not an organization ID such as 'o-a1b2c3d4e5'")
    if problems:
        raise ValueError("Invalid CloudTrail table settings:\n  - " + "\n  - ".join(problems))


def column_names() -> frozenset[str]:
    """Names of the data columns (without partition keys)."""
    return frozenset(name for name, _ in COLUMNS)


def partition_values(
    template: str, object_location: str, *, placeholders: Mapping[str, str] | None = None
) -> Optional[dict[str, str]]:
    """The partition values a projection ``template`` gives the folder of ``object_location``.

    Returns ``None`` when the object does not live under the template (for example a digest
    file). Useful to check the template against real keys; Athena does the same expansion.
    """
    patterns = {"account": r"\d{12}", "region": r"[a-z0-9-]+", "date": r"\d{4}/\d{2}/\d{2}"}
    patterns.update(placeholders or {})
    regex = ""
    for piece in re.split(r"(\$\{[a-z]+\})", template):
        name = piece[2:-1] if piece.startswith("${") else None
        regex += f"(?P<{name}>{patterns[name]})" if name else re.escape(piece)
    match = re.fullmatch(regex + r"/[^/]+", object_location)
    return match.groupdict() if match else None
