"""Cross-account CloudWatch Logs destinations of a LogPipeline, built from names only.

One destination per source region, named ``destination_name``, in that region (a destination must
sit in the region of the log groups that subscribe to it). Its target is that region's ingestion
stream ``<destination_name>-<region>`` in the pipeline's region, and CloudWatch Logs writes to it
with the role ``<destination_name>-<region>`` (IAM is global; the pipeline creates every role).
The pipeline's own region's destination is created by :class:`~log_constructs.LogPipeline`; each
other region's by :class:`RegionalLogDestination`, in a stack of that region.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Optional, Sequence

from aws_cdk import CfnOutput, Stack, Token
from aws_cdk import aws_logs as logs
from constructs import Construct

from .._private.validation import PropError
from ..organization import DEFAULT_DESTINATION_NAME, check_account_id, check_organization_id, check_region

# What a sender needs on the destination: a subscription filter per log group, or an account-level
# subscription filter policy (AWS::Logs::AccountPolicy) pointing at it.
SENDER_ACTIONS = ["logs:PutSubscriptionFilter", "logs:PutAccountPolicy"]
# Kinesis stream names and IAM role names share these characters; a role name holds 64 of them.
_NAME = re.compile(r"[A-Za-z0-9_.-]+")
_ROLE_NAME_MAX = 64
MAX_POLICY_BYTES = 5120  # PutDestinationPolicy's limit


def partition_of(region: str) -> str:
    """The partition a region name belongs to."""
    for prefix, partition in (("cn-", "aws-cn"), ("us-gov-", "aws-us-gov"), ("us-isob-", "aws-iso-b"),
                              ("us-iso-", "aws-iso")):
        if region.startswith(prefix):
            return partition
    return "aws"


def regional_name(destination_name: str, region: str) -> str:
    """The name of a source region's ingestion stream and of its destination role."""
    return f"{destination_name}-{region}"


@dataclass(frozen=True)
class Senders:
    """Who may send: listed accounts, an organization, or both (never anyone)."""

    accounts: tuple[str, ...]
    organization_id: Optional[str]

    @classmethod
    def from_props(cls, construct: str, source_accounts: Optional[Sequence[str]],
                   organization_id: Optional[str]) -> "Senders":
        if source_accounts is not None and (isinstance(source_accounts, str) or not source_accounts):
            raise PropError(f"{construct}: source_accounts must be a non-empty list of 12-digit account ids, "
                            f"got {source_accounts!r}")
        for account in source_accounts or ():
            check_account_id(construct, "source_accounts", account)
        check_organization_id(construct, "organization_id", organization_id)
        return cls(tuple(dict.fromkeys(source_accounts or ())), organization_id)

    @property
    def enabled(self) -> bool:
        return bool(self.accounts or self.organization_id)


def check_destination_name(construct: str, name: str, regions: Sequence[str]) -> None:
    longest = max((len(r) for r in regions), default=0)
    if not (isinstance(name, str) and _NAME.fullmatch(name) and len(name) + 1 + longest <= _ROLE_NAME_MAX):
        raise PropError(
            f"{construct}: destination_name must be letters, digits, '_', '.' or '-', at most "
            f"{_ROLE_NAME_MAX - 1 - longest} characters (it names '<destination_name>-<region>' streams and IAM "
            f"roles), got {name!r}")


def destination_policy(*, partition: str, region: str, account: str, name: str, senders: Senders) -> str:
    """The destination's access policy: the listed accounts, and/or any principal of the organization."""
    resource = f"arn:{partition}:logs:{region}:{account}:destination:{name}"
    statements = []
    if senders.accounts:
        statements.append({"Sid": "ListedAccountsSubscribe", "Effect": "Allow",
                           "Principal": {"AWS": list(senders.accounts)}, "Action": SENDER_ACTIONS,
                           "Resource": resource})
    if senders.organization_id:
        statements.append({"Sid": "OrganizationSubscribes", "Effect": "Allow", "Principal": "*",
                           "Action": SENDER_ACTIONS, "Resource": resource,
                           "Condition": {"StringEquals": {"aws:PrincipalOrgID": senders.organization_id}}})
    policy = json.dumps({"Version": "2012-10-17", "Statement": statements}, separators=(",", ":"))
    if len(policy.encode()) > MAX_POLICY_BYTES:
        raise PropError(f"LogPipeline: source_accounts ({len(senders.accounts)} accounts) make a destination policy "
                        f"of {len(policy)} bytes, more than CloudWatch Logs' {MAX_POLICY_BYTES}; give "
                        "organization_id instead")
    return policy


def new_destination(scope: Construct, id: str, *, central_account: str, central_region: str, region: str,
                    name: str, senders: Senders) -> logs.CfnDestination:
    """The destination of ``region`` (the stack's), into its ingestion stream in ``central_region``."""
    partition = partition_of(central_region)
    resource_name = regional_name(name, region)
    return logs.CfnDestination(
        scope, id,
        destination_name=name,
        role_arn=f"arn:{partition}:iam::{central_account}:role/{resource_name}",
        target_arn=f"arn:{partition}:kinesis:{central_region}:{central_account}:stream/{resource_name}",
        destination_policy=destination_policy(partition=partition, region=region, account=central_account,
                                              name=name, senders=senders),
    )


class RegionalLogDestination(Construct):
    """The central pipeline's CloudWatch Logs destination in another source region.

    Put it in a stack of the central account and of that region (``env=Environment(account=<central>,
    region=<source region>)``), deployed after the pipeline's stack (whose ``source_regions`` include
    that region: the pipeline creates the stream and the role this destination uses). It references
    both by ARNs built from names, so no cross-stack reference exists. Member accounts of the region
    subscribe to ``destination_arn`` (also a ``CfnOutput`` ``DestinationArn``).

    :param central_account: The pipeline's account (12 digits). Required.
    :param central_region: The pipeline's region (where the ingestion streams are). Required.
    :param source_accounts: Accounts whose log groups may subscribe. Default: - none (give this or ``organization_id``)
    :param organization_id: Any account of this organization may subscribe (``aws:PrincipalOrgID``).
        Default: - none
    :param destination_name: As given to the pipeline. Default: ``DEFAULT_DESTINATION_NAME``
    """

    def __init__(self, scope: Construct, id: str, *, central_account: str, central_region: str,
                 source_accounts: Optional[Sequence[str]] = None, organization_id: Optional[str] = None,
                 destination_name: Optional[str] = None) -> None:
        super().__init__(scope, id)
        construct = "RegionalLogDestination"
        check_account_id(construct, "central_account", central_account)
        check_region(construct, "central_region", central_region)
        if Token.is_unresolved(central_account) or Token.is_unresolved(central_region):
            raise PropError(f"{construct}: central_account and central_region must be names, not tokens, "
                            f"got {central_account!r} and {central_region!r}")
        senders = Senders.from_props(construct, source_accounts, organization_id)
        if not senders.enabled:
            raise PropError(f"{construct}: give source_accounts or organization_id (who may subscribe), got neither")
        region = Stack.of(self).region
        if Token.is_unresolved(region):
            raise PropError(f"{construct}: the stack's region must be known (Stack env=Environment(region=...)), "
                            f"got {region!r}")
        if region == central_region:
            raise PropError(f"{construct}: the stack's region {region!r} is central_region, whose destination "
                            "LogPipeline creates itself; use this construct in the other source regions")
        if partition_of(region) != partition_of(central_region):
            raise PropError(f"{construct}: the stack's region {region!r} is a source region the pipeline cannot "
                            f"serve: it is in partition {partition_of(region)!r}, the pipeline in "
                            f"{partition_of(central_region)!r}")
        self.destination_name = destination_name if destination_name is not None else DEFAULT_DESTINATION_NAME
        check_destination_name(construct, self.destination_name, [region])
        self.destination = new_destination(self, "Destination", central_account=central_account,
                                           central_region=central_region, region=region,
                                           name=self.destination_name, senders=senders)
        self.destination_arn: str = self.destination.attr_arn
        CfnOutput(self, "DestinationArn", value=self.destination_arn,
                  description=f"CloudWatch Logs destination of {region} for member accounts' subscriptions")
