"""Where a library function's failed invocations go: one mechanism, least privilege.

Asynchronous invocations that still fail after Lambda's retries go to an SQS on-failure
destination (``EventInvokeConfig``): the record carries the event and the error. The function's
role gets exactly ``sqs:SendMessage`` on that queue and ``kms:Decrypt`` / ``kms:Encrypt`` /
``kms:GenerateDataKey`` on its key; aws-cdk-lib's ``SqsDestination`` would add the wildcard actions
``kms:GenerateDataKey*`` and ``kms:ReEncrypt*``.
"""
from __future__ import annotations

from typing import Any

import jsii
from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from . import nag
from .keys import grant_key
from .metrics import delivery_failures_alarm

DLQ_RULES = {nag.NIST_800_53_R5: "LambdaDLQ", nag.HIPAA_SECURITY: "LambdaDLQ", nag.SERVERLESS: "LambdaDLQ"}


@jsii.implements(lambda_.IDestination)
class _QueueDestination:
    """An on-failure destination that only names the queue; the permissions are granted by ``send_failures_to``."""

    def __init__(self, queue: sqs.IQueue) -> None:
        self._queue = queue

    def bind(self, scope: Construct, fn: lambda_.IFunction, *, type: Any = None) -> lambda_.DestinationConfig:
        return lambda_.DestinationConfig(destination=self._queue.queue_arn)


KEY_ACTIONS = ("kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey")


def grant_key_use(function: lambda_.IFunction, key: kms.IKey, actions: tuple[str, ...] = KEY_ACTIONS) -> iam.Grant:
    """The one statement a library function gets per KMS key it encrypts or decrypts with (no wildcard).

    A later grant on the same key adds its missing actions to that statement instead of a second one.
    """
    grants: dict[str, iam.Grant] = function.__dict__.setdefault("_log_constructs_key_grants", {})
    grant = grants.get(key.node.path)
    if grant is None:
        grant = grants[key.node.path] = grant_key(key, function, *actions)
        return grant
    for statement in grant.principal_statements:
        statement.add_actions(*[action for action in actions if action not in statement.actions])
    return grant


def grant_send_failures(function: lambda_.IFunction, queue: sqs.IQueue) -> None:
    """Let ``function`` send to ``queue`` (and use its key), with no wildcard action."""
    function.add_to_role_policy(iam.PolicyStatement(sid="DeadLetterQueue", actions=["sqs:SendMessage"],
                                                    resources=[queue.queue_arn]))
    if queue.encryption_master_key is not None:
        grant_key_use(function, queue.encryption_master_key)


def send_failures_to(
    function: lambda_.Function,
    queue: sqs.IQueue,
    *,
    retry_attempts: int = 2,
    max_event_age: Duration = Duration.hours(6),
) -> cloudwatch.Alarm:
    """Asynchronous invocations that still fail after the retries go to ``queue`` (on-failure destination).

    The destination record carries the event and the error, and is the successor of a function's
    DeadLetterConfig; configuring both would put every failed event into the queues twice. The
    function may also send to the queue itself (events it cannot process). A record Lambda cannot
    deliver to the queue is lost, so the function gets an alarm on ``DestinationDeliveryFailures``
    (``metrics.delivery_failures_alarm``), which the owning construct's ``create_alarms`` takes in.
    Returned so that its owner gives it an action (``alarm.add_alarm_action(...)``); answers ``LambdaDLQ``.

    :param function: the function. Required
    :param queue: the on-failure destination (:func:`dead_letter_queue`). Required
    :param retry_attempts: Lambda's retries of a failed asynchronous invocation, 0-2. Default: 2
    :param max_event_age: how long an event may wait for its invocation, 60 s to 6 hours. Default: 6 hours
    """
    function.configure_async_invoke(
        retry_attempts=retry_attempts,
        max_event_age=max_event_age,
        on_failure=_QueueDestination(queue),
    )
    grant_send_failures(function, queue)
    alarm = delivery_failures_alarm(function)
    nag.acknowledge_all(
        function,
        DLQ_RULES,
        reason="Failed asynchronous invocations go to an SQS on-failure destination (EventInvokeConfig) with the "
        "event and the error; a DeadLetterConfig as well would deliver every failed event twice.",
    )
    return alarm


def invoked_synchronously(function: lambda_.IFunction, *, by: str) -> None:
    """Record that ``function`` is only invoked synchronously (``by`` whom), where a DLQ never applies:
    acknowledges ``LambdaDLQ`` in every pack that checks it.

    :param function: the function. Required
    :param by: who invokes it and receives its errors (e.g. ``"the orders API"``); part of the reason. Required
    """
    nag.acknowledge_all(
        function,
        DLQ_RULES,
        reason=f"Invoked synchronously by {by}, which receives every error; a dead-letter queue only ever "
        "receives failed asynchronous invocations.",
    )
