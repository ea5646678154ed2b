"""CloudWatch Logs data protection for LogAlerts(data_protection=...): per log group, or for the whole account.

A data protection policy masks sensitive data inside CloudWatch Logs itself (what the console, Logs
Insights and subscription filters see), with AWS managed data identifiers and custom ones (regexes).
The functions' redaction (the alerts', the shipper's) stays the guarantee for what leaves CloudWatch;
this is for teams that must also mask inside it. It is billed per GB scanned (see the README's cost
note): a per-group policy scans only those groups, an account policy scans every group of the account.

Custom identifiers come from the redaction rules whose patterns CloudWatch's regex dialect can take (no
look-behind, no possessive repeat, at most 200 characters); the rules that need code (secret-named keys,
the card checksum) are covered by managed identifiers or stay the functions' alone.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Optional, Sequence

from aws_cdk import Aws, Stack
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from constructs import Construct

from .._private.validation import PropError, check

NAME = "LogAlerts"
SCOPES = ("log_group", "account")
# AWS managed data identifiers for what the redaction rules mask (arn:<partition>:dataprotection::aws:data-identifier/<name>).
MANAGED_IDENTIFIERS = ("AwsSecretKey", "CreditCardNumber", "EmailAddress", "OpenSshPrivateKey", "PgpPrivateKey",
                       "PkcsPrivateKey", "PuttyPrivateKey")
# The redaction rules that translate into CloudWatch custom data identifiers (name → regex, ≤ 200 characters).
CUSTOM_IDENTIFIERS: Mapping[str, str] = {
    "jwt": r"eyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*",
    "bearer": r"(?i)(bearer|basic|digest|negotiate|token)[ \t]+[A-Za-z0-9._~+/-]{8,}=*",
    "url_credentials": r"[a-zA-Z][a-zA-Z0-9+.-]{0,30}://[^\s:/@\"']{0,256}:[^\s@/\"']{1,256}@",
    "aws_key_id": r"(AKIA|ASIA|ABIA|ACCA|AIDA|AROA|AGPA|AIPA|ANPA|ANVA|APKA)[A-Z0-9]{16}",
    "slack_token": r"xox[abposre]-[A-Za-z0-9-]{10,}",
    "github_token": r"(gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,})",
    "stripe_key": r"(sk|rk)_(live|test)_[A-Za-z0-9]{16,}",
}
_UNTRANSLATABLE = ("(?<", "(?P", "*+", "++", "?+", "}+", "(?>")
REGISTRY_ID = "LogConstructsAccountDataProtection"


def translatable(pattern: str) -> bool:
    """Whether CloudWatch's custom data identifiers can take ``pattern`` as it is."""
    return len(pattern) <= 200 and not any(token in pattern for token in _UNTRANSLATABLE)


@dataclass(frozen=True)
class DataProtection:
    """``LogAlerts(data_protection=DataProtection(...))``: a CloudWatch Logs data protection policy.

    :param scope: ``"log_group"`` (a policy on each subscribed log group created in this app) or ``"account"``
        (one account-level policy for every log group of the stack's account and region; an account allows
        one, so a second in the same app is refused). Default: ``"log_group"``
    :param managed_identifiers: AWS managed data identifier names. Default: ``MANAGED_IDENTIFIERS``
    :param custom_identifiers: also the redaction rules that translate (``CUSTOM_IDENTIFIERS``) and the
        LogAlerts' ``redaction_patterns`` that do. Default: True
    :param findings_log_group: audit findings to this log group. Default: - findings counted only (metrics)
    :param findings_bucket: audit findings to this bucket. Default: - none
    :param findings_delivery_stream_name: audit findings to this Firehose stream. Default: - none
    :param policy_name: the policy's name. Default: ``"log-constructs-alerts"``
    """

    scope: Optional[str] = None
    managed_identifiers: Optional[Sequence[str]] = None
    custom_identifiers: Optional[bool] = None
    findings_log_group: Optional[logs.ILogGroup] = None
    findings_bucket: Optional[s3.IBucket] = None
    findings_delivery_stream_name: Optional[str] = None
    policy_name: Optional[str] = None

    @property
    def account_level(self) -> bool:
        return self.scope == "account"

    def validate(self) -> None:
        check(NAME, "data_protection.scope", self.scope is None or self.scope in SCOPES,
              f"must be one of {', '.join(map(repr, SCOPES))}, got {self.scope!r}")
        names = tuple(self.managed_identifiers or ())
        check(NAME, "data_protection.managed_identifiers", all(isinstance(n, str) and n.isalnum() for n in names),
              f"must be AWS managed data identifier names (letters and digits, e.g. 'EmailAddress'), got {list(names)}")

    def document(self, patterns: Optional[Mapping[str, str]] = None) -> dict:
        """The policy document (version 2021-06-01): an audit and a de-identify statement on the same identifiers."""
        managed = tuple(self.managed_identifiers) if self.managed_identifiers is not None else MANAGED_IDENTIFIERS
        identifiers: list[str] = [f"arn:{Aws.PARTITION}:dataprotection::aws:data-identifier/{n}" for n in managed]
        document: dict = {"Name": self.policy_name or "log-constructs-alerts",
                          "Description": "Masks what the log constructs' redaction masks, inside CloudWatch Logs",
                          "Version": "2021-06-01"}
        if self.custom_identifiers is not False:
            custom = {**CUSTOM_IDENTIFIERS, **{name: p for name, p in (patterns or {}).items() if translatable(p)}}
            document["Configuration"] = {"CustomDataIdentifier": [{"Name": n, "Regex": r} for n, r in custom.items()]}
            identifiers += list(custom)
        destination: dict = {}
        if self.findings_log_group is not None:
            destination["CloudWatchLogs"] = {"LogGroup": self.findings_log_group.log_group_name}
        if self.findings_bucket is not None:
            destination["S3"] = {"Bucket": self.findings_bucket.bucket_name}
        if self.findings_delivery_stream_name is not None:
            destination["Firehose"] = {"DeliveryStream": self.findings_delivery_stream_name}
        document["Statement"] = [
            {"Sid": "audit", "DataIdentifier": identifiers, "Operation": {"Audit": {"FindingsDestination": destination}}},
            {"Sid": "redact", "DataIdentifier": identifiers, "Operation": {"Deidentify": {"MaskConfig": {}}}},
        ]
        return document


class _Registry(Construct):
    """Which construct holds the account-level policy of each account and region of an app."""

    def __init__(self, scope: Construct, id: str) -> None:
        super().__init__(scope, id)
        self.owners: dict[tuple[str, str], str] = {}


def account_policy(scope: Construct, protection: DataProtection,
                   patterns: Optional[Mapping[str, str]] = None) -> logs.CfnAccountPolicy:
    """The account-level data protection policy, refused when the app already has one for that account and region."""
    stack = Stack.of(scope)
    root = scope.node.root
    registry = root.node.try_find_child(REGISTRY_ID)
    if not isinstance(registry, _Registry):
        registry = _Registry(root, REGISTRY_ID)
    key = (stack.account, stack.region)
    owner = registry.owners.get(key)
    if owner is not None:
        raise PropError(f"{NAME}: data_protection.scope 'account' at {scope.node.path}: an account allows one "
                        f"account-level data protection policy and {owner} already defines it for account "
                        f"{stack.account} in {stack.region}; use scope='log_group' here, or one policy")
    registry.owners[key] = scope.node.path
    return logs.CfnAccountPolicy(scope, "AccountDataProtectionPolicy", policy_name=protection.policy_name or
                                 "log-constructs-alerts", policy_type="DATA_PROTECTION_POLICY", scope="ALL",
                                 policy_document=stack.to_json_string(protection.document(patterns)))
