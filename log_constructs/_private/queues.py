"""Dead-letter / on-failure queues of the library: KMS-encrypted, TLS only, 14 days of retention, retained."""
from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from . import nag

RETENTION = Duration.days(14)  # the SQS maximum: time to notice the alarm and redrive


def dead_letter_queue(scope: Construct, id: str, *, encryption_key: kms.IKey) -> sqs.Queue:
    """A queue that holds what a function could not process, until someone redrives it: KMS-encrypted,
    TLS only, 14 days, retained when the stack is deleted.

    :param scope: the construct to create the queue in. Required
    :param id: its construct id. Required
    :param encryption_key: the queue's KMS key (:func:`log_constructs.compliance.encryption_key`). Required
    """
    queue = sqs.Queue(
        scope,
        id,
        encryption=sqs.QueueEncryption.KMS,
        encryption_master_key=encryption_key,
        enforce_ssl=True,
        retention_period=RETENTION,
        removal_policy=RemovalPolicy.RETAIN,  # it holds data nobody has looked at yet
    )
    reason = ("This queue is itself the dead-letter / on-failure destination: its messages wait here (14 days, "
              "alarmed) to be inspected and redriven, there is no further queue to move them to.")
    nag.acknowledge(queue, "SQS3", reason)
    nag.acknowledge(queue, "SQSRedrivePolicy", reason, pack=nag.SERVERLESS)
    return queue
