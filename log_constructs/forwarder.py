"""LogForwarder: a member account's log groups, in one region, to the central account's destination there.

Deployed once per member account and region (a plain stack, or a StackSet for a whole organization).
A CloudWatch Logs destination only takes log groups of its own region, so the ARN's region must be
the stack's; an env-agnostic stack (one StackSet template for every region) builds it with
``Aws.REGION`` (:meth:`LogForwarder.to_central`).
"""
from __future__ import annotations

import re
from typing import Optional, Sequence

from aws_cdk import Annotations, Names, RemovalPolicy, Stack, Token
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct

from ._private.roles import library_role
from ._private.validation import PropError, check, check_choice
from .destinations import CrossAccountLogDestination
from .governor import LogGroupGovernor
from .governor.account_policy import subscription_account_policy
from .organization import DEFAULT_DESTINATION_NAME, destination_arn as central_destination_arn

NAME = "LogForwarder"
MODES = ("account", "per-group")
# CloudWatch Logs log group names (an account policy excludes exact names only).
_LOG_GROUP_NAME = re.compile(r"[\.\-_/#A-Za-z0-9]{1,512}")


class LogForwarder(Construct):
    """Forwards the log groups of this account and region to a CloudWatch Logs destination of another
    account in the same region (the central pipeline's), never the library's own log groups.

    Example::

        LogForwarder(stack, "Forwarder",
                     destination_arn="arn:aws:logs:eu-west-1:111111111111:destination:log-constructs-central")
        # or, with the stack's region (also an env-agnostic StackSet template):
        LogForwarder.to_central(stack, "Forwarder", central_account="111111111111")

    :param destination_arn: the destination, ``arn:aws:logs:<region>:<account>:destination:<name>``; its
        region must be the stack's (in an env-agnostic stack: ``Aws.REGION``). Required.
    :param mode: ``"account"``: one account-level subscription filter policy (``AWS::Logs::AccountPolicy``)
        covers every log group, present and future; ``"per-group"``: a ``LogGroupGovernor`` puts one
        subscription filter on each log group, for accounts whose account policy is already taken.
        Default: ``"account"``.
    :param filter_pattern: which events are forwarded. Default: ``FilterPattern.all_events()``.
    :param exclude_log_groups: log groups never forwarded: exact names in ``account`` mode (the policy's
        ``LogGroupName NOT IN [...]``, at most 25 KB with the library's own), prefixes or globs in
        ``per-group`` mode. The library's own log groups of this app in this account and region are
        always excluded. Default: - none.
    :param role: the role CloudWatch Logs assumes to send (``account`` mode; a destination whose policy
        grants an organization requires one). Default: - a new role that may only ``logs:PutLogEvents``
        on this account's log groups in this region.
    :param retention: ``per-group`` mode: the retention the governor also gives every log group it
        subscribes. Default: - the governor's (``RetentionDays.ONE_MONTH``, only where none is set).
    :param log_retention: ``per-group`` mode: retention of the governor function's own log group. Default: - the governor's
    :param removal_policy: ``per-group`` mode: the governor's data resources. Default: ``RemovalPolicy.RETAIN``
    :param encryption_key: ``per-group`` mode: the governor's key. Default: - a new key with rotation
    :param alarm_actions: ``per-group`` mode: actions of the governor's alarms. Default: - alarms without actions (a synth warning, ``log-constructs:no-alarm-actions``, says so)
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        destination_arn: Optional[str] = None,
        mode: Optional[str] = None,
        filter_pattern: Optional[logs.IFilterPattern] = None,
        exclude_log_groups: Optional[Sequence[str]] = None,
        role: Optional[iam.IRole] = None,
        retention: Optional[logs.RetentionDays] = None,
        log_retention: Optional[logs.RetentionDays] = None,
        removal_policy: Optional[RemovalPolicy] = None,
        encryption_key: Optional[kms.IKey] = None,
        alarm_actions: Optional[Sequence[cloudwatch.IAlarmAction]] = None,
    ) -> None:
        super().__init__(scope, id)
        mode = mode or "account"
        exclude = list(exclude_log_groups or [])
        check_choice(NAME, "mode", mode, MODES)
        if destination_arn is None:
            raise PropError(f"{NAME}: destination_arn is required (the central destination of this region)")
        destination = _destination(self, destination_arn)
        self.destination_arn = destination_arn
        self.mode = mode
        self.filter_pattern = filter_pattern or logs.FilterPattern.all_events()
        self.account_policy: Optional[logs.CfnAccountPolicy] = None
        self.role: Optional[iam.IRole] = None
        self.governor: Optional[LogGroupGovernor] = None
        if mode == "account":
            for name in exclude:
                check(NAME, "exclude_log_groups", isinstance(name, str) and bool(_LOG_GROUP_NAME.fullmatch(name)),
                      f"entries must be exact log group names with mode='account' (an account policy cannot "
                      f"match prefixes or globs: use mode='per-group' for those), got {name!r}")
            self.role = role or library_role(self, "Role", assumed_by=CrossAccountLogDestination.service_principal(self),
                                             description="CloudWatch Logs sends this account's log groups to the central destination")
            destination.bind_log_destination(self).grant_write(self.role)  # type: ignore[misc]
            self.account_policy = subscription_account_policy(
                self, "AccountPolicy", construct_name=NAME, prop="exclude_log_groups",
                policy_name=f"log-constructs-{Names.unique_id(self)}"[:256],
                destination_arn=destination_arn, filter_pattern=self.filter_pattern, excluded=exclude,
                role_arn=self.role.role_arn)
        else:
            self.governor = LogGroupGovernor(
                self, "Governor", ship_to=destination, filter_pattern=filter_pattern, exclude=exclude,
                retention=retention, log_retention=log_retention, removal_policy=removal_policy,
                encryption_key=encryption_key, alarm_actions=alarm_actions)
        self.alarms: list[cloudwatch.Alarm] = list(self.governor.alarms) if self.governor is not None else []

    @classmethod
    def to_central(cls, scope: Construct, id: str, *, central_account: str,
                   destination_name: Optional[str] = None, **props: object) -> "LogForwarder":
        """A forwarder to ``central_account``'s destination ``destination_name`` in the stack's region
        (``Aws.REGION`` in an env-agnostic stack). ``props``: the other props of :class:`LogForwarder`.

        Default ``destination_name``: ``log-constructs-central`` (the central side's default)."""
        stack = Stack.of(scope)
        arn = central_destination_arn(account=central_account, region=stack.region,
                                      name=destination_name or DEFAULT_DESTINATION_NAME, partition=stack.partition)
        return cls(scope, id, destination_arn=arn, **props)  # type: ignore[arg-type]


def _destination(scope: Construct, arn: str) -> CrossAccountLogDestination:
    """The destination, checked: an ARN of a CloudWatch Logs destination in the stack's region."""
    if not isinstance(arn, str):
        raise PropError(f"{NAME}: destination_arn must be a string ARN, got {type(arn).__name__}")
    try:
        destination = CrossAccountLogDestination(arn)
    except PropError as error:
        raise PropError(str(error).replace(CrossAccountLogDestination.NAME, NAME, 1)) from None
    region = destination.parts.get("region")
    stack_region = Stack.of(scope).region
    if region is None or Token.is_unresolved(region):
        return destination  # Aws.REGION: the stack's region by construction
    if Token.is_unresolved(stack_region):
        Annotations.of(scope).add_warning_v2(
            "log-constructs:forwarder-fixed-region",
            f"{NAME}: destination_arn names region {region}, but the stack is env-agnostic: deployed to another "
            f"region it fails. Build the ARN with Aws.REGION (LogForwarder.to_central) for a template of every region")
        return destination
    if region != stack_region:
        raise PropError(
            f"{NAME}: destination_arn must be a destination in the stack's region {stack_region} (a CloudWatch "
            f"Logs destination only takes log groups of its own region), got one in {region}: {arn}")
    return destination
