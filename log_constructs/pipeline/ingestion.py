"""LogPipeline's cross-account ingestion: one on-demand Kinesis stream per source region, read by the shipper.

The region of a log event is carried by which stream it arrives on: the destination of region R
puts into the stream ``<destination_name>-R`` only, and the shipper maps the stream of each
record (``eventSourceARN``, set by Lambda) to R through its configuration. The account is the
payload's ``owner``, set by CloudWatch Logs.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence

from aws_cdk import Duration, Stack, Token
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from .._private import nag
from .._private.metrics import delivery_failures_alarm
from .._private.roles import library_role
from .._private.validation import PropError, check, check_range
from ..organization import DEFAULT_DESTINATION_NAME, check_region
from .log_destination import Senders, check_destination_name, new_destination, partition_of, regional_name

NAME = "LogPipeline"
# The mappings retry a batch (whole or from its first reported record) until its records are this old;
# only then does the on-failure queue get its shard and sequence numbers. With the default 24 h
# retention the records can still be read from the stream for 18 h (logops redrive), and
# the iterator-age alarm has been on since the records were ITERATOR_AGE_ALARM_FRACTION of this old.
DEFAULT_MAX_RECORD_AGE = Duration.hours(6)
DEFAULT_RETENTION = Duration.hours(24)
# Two batches per shard at a time: twice a shard's throughput, still in order per partition key.
DEFAULT_PARALLELIZATION_FACTOR = 2
BATCH_SIZE = 100
# An on-demand stream starts with 4 shards and splits under load. The shipper reserves no concurrency
# unless asked (shipper_reserved_concurrency): the mappings then share the account's unreserved pool. A
# reservation must cover the streams at their initial shards; the suggested one covers streams split to
# SHARD_HEADROOM times as many, plus direct subscriptions (the throttle alarm says when it is outgrown).
ON_DEMAND_INITIAL_SHARDS = 4
SHARD_HEADROOM = 2
DIRECT_SUBSCRIPTION_CONCURRENCY = 10
# The iterator-age alarm: records older than this share of the maximum record age (at most 5 minutes)
# wait in a stream, long before a batch is given up on (a 10-minute Firehose outage raises it).
ITERATOR_AGE_ALARM_FRACTION = 1 / 24
MAX_ITERATOR_AGE_ALARM = Duration.minutes(5)


def iterator_age_alarm_ms(max_record_age: Duration) -> int:
    """The iterator age (ms) that raises the alarm, well before ``max_record_age``."""
    return int(min(max_record_age.to_seconds() * ITERATOR_AGE_ALARM_FRACTION,
                   MAX_ITERATOR_AGE_ALARM.to_seconds()) * 1000)


@dataclass(frozen=True)
class IngestionSettings:
    senders: Senders
    regions: tuple[str, ...]
    destination_name: str
    retention: Duration
    max_record_age: Duration
    parallelization_factor: int

    @property
    def stream_names(self) -> dict[str, str]:
        """Ingestion stream name → the source region it serves (the shipper's configuration)."""
        return {regional_name(self.destination_name, region): region for region in self.regions}

    @property
    def initial_concurrency(self) -> int:
        """Concurrent batches the mappings start on on-demand streams at their initial shards."""
        return len(self.regions) * ON_DEMAND_INITIAL_SHARDS * self.parallelization_factor

    @property
    def concurrency(self) -> int:
        """Concurrent batches the mappings start on on-demand streams that have split up to ``SHARD_HEADROOM`` times."""
        return self.initial_concurrency * SHARD_HEADROOM

    @property
    def iterator_age_alarm_ms(self) -> int:
        """The iterator age (ms) that raises the alarm, well before ``max_record_age``."""
        return iterator_age_alarm_ms(self.max_record_age)


def ingestion_settings(scope: Construct, *, source_accounts: Optional[Sequence[str]], organization_id: Optional[str],
                       source_regions: Optional[Sequence[str]], destination_name: Optional[str],
                       retention: Optional[Duration], max_record_age: Optional[Duration],
                       parallelization_factor: Optional[int]) -> Optional[IngestionSettings]:
    """The validated settings, or None when no cross-account ingestion is asked for."""
    senders = Senders.from_props(NAME, source_accounts, organization_id)
    if not senders.enabled:
        given = [name for name, value in (("source_regions", source_regions), ("destination_name", destination_name),
                                          ("ingestion_retention", retention),
                                          ("ingestion_max_record_age", max_record_age),
                                          ("ingestion_parallelization_factor", parallelization_factor))
                 if value is not None]
        if given:
            raise PropError(f"{NAME}: {', '.join(given)} configure cross-account ingestion, which needs "
                            "source_accounts or organization_id; got neither")
        return None
    home = Stack.of(scope).region
    if Token.is_unresolved(home):
        raise PropError(f"{NAME}: cross-account ingestion needs the stack's region (Stack env=Environment("
                        f"account=..., region=...)): destinations and roles are named per region, got {home!r}")
    if source_regions is not None and (isinstance(source_regions, str) or not source_regions):
        raise PropError(f"{NAME}: source_regions must be a non-empty list of region names, got {source_regions!r}")
    regions = tuple(dict.fromkeys(source_regions or [home]))
    for region in regions:
        check_region(NAME, "source_regions", region)
        if Token.is_unresolved(region) or partition_of(region) != partition_of(home):
            raise PropError(f"{NAME}: source_regions holds {region!r}, a source region the pipeline cannot serve: "
                            f"a CloudWatch Logs destination there cannot reach a stream in {home!r} "
                            f"(partition {partition_of(home)!r})")
    name = destination_name if destination_name is not None else DEFAULT_DESTINATION_NAME
    check_destination_name(NAME, name, regions)
    retention = retention or DEFAULT_RETENTION
    max_age = max_record_age or DEFAULT_MAX_RECORD_AGE
    factor = parallelization_factor if parallelization_factor is not None else DEFAULT_PARALLELIZATION_FACTOR
    check_range(NAME, "ingestion_retention", retention.to_seconds() / 3600, 24, 8760, " h")
    check_range(NAME, "ingestion_max_record_age", max_age.to_seconds(), 60, 7 * 86400, " s")
    check(NAME, "ingestion_max_record_age", max_age.to_seconds() < retention.to_seconds(),
          f"must be shorter than ingestion_retention ({retention.to_human_string()}), so that a record given up "
          f"on can still be read from the stream; got {max_age.to_human_string()}")
    check(NAME, "ingestion_parallelization_factor", isinstance(factor, int) and 1 <= factor <= 10,
          f"must be an integer between 1 and 10, got {factor!r}")
    return IngestionSettings(senders, regions, name, retention, max_age, factor)


def reserved_concurrency(reserved: Optional[int], settings: Optional[IngestionSettings]) -> Optional[int]:
    """The shipper's reserved concurrency, validated: None (the account's unreserved pool) unless given."""
    if reserved is None or Token.is_unresolved(reserved):
        return reserved
    check(NAME, "shipper_reserved_concurrency", isinstance(reserved, int) and reserved >= 1,
          f"must be a positive integer (leave it unset to reserve none), got {reserved!r}")
    if settings is not None:
        least = settings.initial_concurrency
        check(NAME, "shipper_reserved_concurrency", reserved >= least,
              f"must be at least {least} with cross-account ingestion: the mappings start {least} batches at once "
              f"({len(settings.regions)} source region(s) x {ON_DEMAND_INITIAL_SHARDS} initial shards x "
              f"ingestion_parallelization_factor {settings.parallelization_factor}); "
              f"{settings.concurrency + DIRECT_SUBSCRIPTION_CONCURRENCY} also covers split streams and direct "
              f"subscriptions; got {reserved}")
    return reserved


def destination_role(scope: Construct, id: str, *, settings: IngestionSettings, region: str,
                     stream: kinesis.Stream, key: kms.IKey) -> iam.Role:
    """The role CloudWatch Logs of ``region`` assumes to put into ``stream`` (and only that)."""
    stack = Stack.of(scope)
    partition = partition_of(stack.region)
    senders = settings.senders
    # Confused deputy: only CloudWatch Logs acting for the listed accounts (and this one) in that region,
    # or for accounts of the organization in that region.
    source_arns = [f"arn:{partition}:logs:{region}:{account}:*" for account in (*senders.accounts, stack.account)]
    role = library_role(
        scope, id,
        role_name=regional_name(settings.destination_name, region),
        assumed_by=iam.ServicePrincipal("logs.amazonaws.com",
                                        conditions={"StringLike": {"aws:SourceArn": source_arns}}),
        description=f"CloudWatch Logs of {region} puts member accounts' log events into its ingestion stream",
    )
    if senders.organization_id:
        assert role.assume_role_policy is not None
        role.assume_role_policy.add_statements(iam.PolicyStatement(
            actions=["sts:AssumeRole"], principals=[iam.ServicePrincipal("logs.amazonaws.com")],
            conditions={"StringEquals": {"aws:SourceOrgID": senders.organization_id},
                        "StringLike": {"aws:SourceArn": f"arn:{partition}:logs:{region}:*:*"}},
        ))
    role.add_to_principal_policy(iam.PolicyStatement(
        sid="PutIntoItsStream", actions=["kinesis:PutRecord", "kinesis:PutRecords"],
        resources=[stream.stream_arn]))
    role.add_to_principal_policy(iam.PolicyStatement(
        sid="EncryptForKinesis", actions=["kms:GenerateDataKey"], resources=[key.key_arn],
        conditions={"StringEquals": {"kms:ViaService": f"kinesis.{stack.region}.amazonaws.com"}}))
    return role


@dataclass
class Ingestion:
    streams: dict[str, kinesis.Stream]
    roles: dict[str, iam.Role]
    event_sources: list[sources.KinesisEventSource]
    destination: object


def add_ingestion(scope: Construct, *, settings: IngestionSettings, key: kms.IKey, shipper: lambda_.Function,
                  failure_queue: sqs.IQueue) -> Ingestion:
    """The streams, roles and mappings of every source region, and the destination of the pipeline's own."""
    stack = Stack.of(scope)
    streams: dict[str, kinesis.Stream] = {}
    roles: dict[str, iam.Role] = {}
    mappings: list[sources.KinesisEventSource] = []
    for region in settings.regions:
        stream = kinesis.Stream(
            scope, f"IngestionStream-{region}",
            stream_name=regional_name(settings.destination_name, region),
            stream_mode=kinesis.StreamMode.ON_DEMAND,
            encryption=kinesis.StreamEncryption.KMS, encryption_key=key,
            retention_period=settings.retention,
        )
        streams[region] = stream
        nag.acknowledge(stream, "KDS3", "Encrypted with the pipeline's customer-managed key (rotated, its key policy "
                        "in this stack), which controls access more tightly than the AWS managed aws/kinesis key.")
        roles[region] = destination_role(scope, f"DestinationRole-{region}", settings=settings, region=region,
                                         stream=stream, key=key)
        source = sources.KinesisEventSource(
            stream,
            starting_position=lambda_.StartingPosition.TRIM_HORIZON,
            batch_size=BATCH_SIZE,
            bisect_batch_on_error=True,
            report_batch_item_failures=True,
            # No retry limit: a batch is retried until max_record_age (a Firehose outage must not skip records).
            max_record_age=settings.max_record_age,
            parallelization_factor=settings.parallelization_factor,
            on_failure=sources.SqsDlq(failure_queue),
        )
        shipper.add_event_source(source)
        delivery_failures_alarm(shipper)  # the on-failure queue can refuse too (one alarm per function)
        mappings.append(source)
    assert shipper.role is not None
    nag.acknowledge(shipper.role, "IAM5", "The event source mappings' on-failure destination (SqsDlq) grants "
                    "sending to the dead-letter queue with its key's kms:GenerateDataKey* and kms:ReEncrypt* "
                    "(aws-cdk-lib's encrypt grant), on that one key only.",
                    findings=["Action::kms:GenerateDataKey*", "Action::kms:ReEncrypt*"])
    destination = None
    if stack.region in settings.regions:
        destination = new_destination(scope, "Destination", central_account=stack.account,
                                      central_region=stack.region, region=stack.region,
                                      name=settings.destination_name, senders=settings.senders)
        destination.node.add_dependency(roles[stack.region].managed_policy, streams[stack.region])
    return Ingestion(streams, roles, mappings, destination)
