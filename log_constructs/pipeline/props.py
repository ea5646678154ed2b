"""LogPipeline's props: their defaults and their validation, every check before anything is built.

:func:`pipeline_props` turns the constructor's keyword arguments into one :class:`PipelineProps`, the
settings every step of the pipeline (sink, delivery, shipper, ingestion, alarms) reads.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional, Sequence

from aws_cdk import Duration, Token
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_logs as logs
from aws_cdk import aws_opensearchservice as opensearch
from constructs import Construct

from .._lambda_src.log_shipper import contract as shipper_contract
from .._lambda_src.log_shipper.contract import DEADLINE_MARGIN_MS, MAX_TIMEOUT_SECONDS, MIN_TIMEOUT_SECONDS
from .._private.validation import PropError, check, check_choice, check_range
from .domain import DomainSizing
from .index_setup import IndexSetup
from .ingestion import IngestionSettings, ingestion_settings, reserved_concurrency
from .serverless import ServerlessSink, refuse_unsupported

NAME = "LogPipeline"
INDEX_ROTATIONS = {"none": "NoRotation", "hour": "OneHour", "day": "OneDay", "week": "OneWeek", "month": "OneMonth"}
BACKUP_MODES = {"all": "AllDocuments", "failed": "FailedDocumentsOnly"}


@dataclass(frozen=True)
class DeliverySettings:
    """What the delivery stream is told: the index, its rotation, retries, buffering and backup mode."""

    index: str
    rotation: str
    retry_seconds: int
    interval_seconds: int
    size_mib: int
    backup_mode: str


@dataclass(frozen=True)
class BackupLifecycle:
    """When the backup bucket's objects move to Standard-IA and Glacier, and when they expire (days)."""

    infrequent_access_days: int
    glacier_days: int
    expiration_days: int


@dataclass(frozen=True)
class ShipperSettings:
    """The shipper function's size, time, network egress and concurrency."""

    memory_mib: int
    timeout: Duration
    egress: Optional[Sequence[ec2.IPeer]]
    reserved_concurrency: Optional[int]
    bulk_max_bytes: int


@dataclass(frozen=True)
class PipelineProps:
    """LogPipeline's props, validated, with their defaults applied (bring-your-own resources aside)."""

    index: str
    delivery_mode: str
    sink: Optional[ServerlessSink]
    domain: Optional[opensearch.IDomain]
    delivery: DeliverySettings
    backup: BackupLifecycle
    sizing: DomainSizing
    vpc: Optional[ec2.IVpc]
    vpc_subnets: Optional[ec2.SubnetSelection]
    log_retention: logs.RetentionDays
    index_setup: IndexSetup
    ingestion: Optional[IngestionSettings]
    shipper: ShipperSettings
    free_storage_alarm_mib: int
    data_freshness_alarm_seconds: int

    @property
    def bulk(self) -> bool:
        """Whether the shipper indexes with ``_bulk`` itself (Firehose then only archives to S3)."""
        return self.delivery_mode == shipper_contract.MODE_BULK


def pipeline_props(
    scope: Construct, *, sink: Optional[ServerlessSink], domain: Optional[opensearch.IDomain],
    delivery_mode: Optional[str], bulk_max_mib: Optional[int], index: Optional[str], index_rotation: Optional[str],
    retry_seconds: Optional[int], buffer_interval_seconds: Optional[int], buffer_mib: Optional[int],
    backup_mode: Optional[str], backup_infrequent_access_days: Optional[int], backup_glacier_days: Optional[int],
    backup_expiration_days: Optional[int], engine_version: Optional[opensearch.EngineVersion],
    data_node_instance_type: Optional[str], data_nodes: Optional[int], volume_gib: Optional[int],
    master_nodes: Optional[int], master_node_instance_type: Optional[str], zone_awareness_azs: Optional[int],
    vpc: Optional[ec2.IVpc], vpc_subnets: Optional[ec2.SubnetSelection], log_retention: Optional[logs.RetentionDays],
    shipper_memory_mib: Optional[int], shipper_timeout: Optional[Duration],
    shipper_egress: Optional[Sequence[ec2.IPeer]], shipper_reserved_concurrency: Optional[int],
    free_storage_alarm_mib: Optional[int], data_freshness_alarm_seconds: Optional[int],
    index_template: Optional[bool], index_shards: Optional[int], index_replicas: Optional[int],
    index_field_limit: Optional[int], index_lifecycle: Optional[bool], index_delete_after_days: Optional[int],
    index_warm_after_days: Optional[int], index_cold_after_days: Optional[int],
    dashboards_saved_objects: Optional[bool], source_accounts: Optional[Sequence[str]],
    organization_id: Optional[str], source_regions: Optional[Sequence[str]], destination_name: Optional[str],
    ingestion_retention: Optional[Duration], ingestion_max_record_age: Optional[Duration],
    ingestion_parallelization_factor: Optional[int],
) -> PipelineProps:
    """Every prop of LogPipeline checked (a :class:`PropError` names the first bad one), with its default."""
    index = index if index is not None else "logs"
    mode = delivery_mode if delivery_mode is not None else shipper_contract.MODE_FIREHOSE
    bulk = _validate_delivery_mode(mode, bulk_max_mib=bulk_max_mib, retry_seconds=retry_seconds,
                                   backup_mode=backup_mode)
    if sink is not None:
        check(NAME, "sink", isinstance(sink, ServerlessSink),
              f"must be a ServerlessSink, or unset for a provisioned domain, got {type(sink).__name__}")
        check(NAME, "delivery_mode", not bulk,
              "must be 'firehose' with sink=ServerlessSink(...): Firehose's serverless destination indexes "
              "(a time-series collection assigns document ids itself), got 'bulk'")
        refuse_unsupported({
            "domain": domain, "engine_version": engine_version, "data_node_instance_type": data_node_instance_type,
            "data_nodes": data_nodes, "volume_gib": volume_gib, "master_nodes": master_nodes,
            "master_node_instance_type": master_node_instance_type, "zone_awareness_azs": zone_awareness_azs,
            "free_storage_alarm_mib": free_storage_alarm_mib, "index_rotation": index_rotation,
            "index_shards": index_shards, "index_replicas": index_replicas,
            "index_field_limit": index_field_limit, "index_warm_after_days": index_warm_after_days,
            "index_cold_after_days": index_cold_after_days, "dashboards_saved_objects": dashboards_saved_objects,
        })
        dashboards_saved_objects = False
    settings = DeliverySettings(
        index=index,
        rotation=index_rotation if index_rotation is not None else ("none" if sink else "day"),
        retry_seconds=retry_seconds if retry_seconds is not None else 300,
        interval_seconds=buffer_interval_seconds if buffer_interval_seconds is not None else 60,
        size_mib=buffer_mib if buffer_mib is not None else 5,
        backup_mode=backup_mode if backup_mode is not None else "all",
    )
    backup = BackupLifecycle(
        infrequent_access_days=backup_infrequent_access_days if backup_infrequent_access_days is not None else 30,
        glacier_days=backup_glacier_days if backup_glacier_days is not None else 90,
        expiration_days=backup_expiration_days if backup_expiration_days is not None else 365,
    )
    azs = zone_awareness_azs
    sizing = DomainSizing(
        engine_version=engine_version or opensearch.EngineVersion.OPENSEARCH_2_19,
        instance_type=data_node_instance_type or "t3.small.search",
        nodes=data_nodes if data_nodes is not None else (azs or 1),
        volume=volume_gib if volume_gib is not None else 10,
        masters=master_nodes if master_nodes is not None else 0,
        master_type=master_node_instance_type or "m7g.large.search",
        azs=azs,
    )
    _validate(
        settings, sizing, backup, domain=domain, vpc=vpc,
        domain_sizing_given=any(v is not None for v in (engine_version, data_node_instance_type, data_nodes,
                                                       volume_gib, master_nodes, zone_awareness_azs)),
    )
    ingestion = ingestion_settings(
        scope, source_accounts=source_accounts, organization_id=organization_id, source_regions=source_regions,
        destination_name=destination_name, retention=ingestion_retention,
        max_record_age=ingestion_max_record_age, parallelization_factor=ingestion_parallelization_factor)
    # Validated here, applied by the set-up custom resource.
    index_setup = IndexSetup.from_props(
        own_domain=domain is not None, data_nodes=sizing.nodes, template=index_template, shards=index_shards,
        replicas=index_replicas, field_limit=index_field_limit, lifecycle=index_lifecycle,
        delete_after_days=index_delete_after_days, warm_after_days=index_warm_after_days,
        cold_after_days=index_cold_after_days, dashboards=dashboards_saved_objects,
    )
    shipper = _shipper_settings(bulk=bulk, vpc=vpc, memory_mib=shipper_memory_mib, timeout=shipper_timeout,
                                egress=shipper_egress, reserved=shipper_reserved_concurrency,
                                bulk_max_mib=bulk_max_mib, ingestion=ingestion)
    return PipelineProps(
        index=index, delivery_mode=mode, sink=sink, domain=domain, delivery=settings, backup=backup, sizing=sizing,
        vpc=vpc, vpc_subnets=vpc_subnets, log_retention=log_retention or logs.RetentionDays.ONE_MONTH,
        index_setup=index_setup, ingestion=ingestion, shipper=shipper,
        free_storage_alarm_mib=(free_storage_alarm_mib if free_storage_alarm_mib is not None
                                else max(sizing.volume * 1024 // 4, 1)),
        data_freshness_alarm_seconds=data_freshness_alarm_seconds if data_freshness_alarm_seconds is not None else 900,
    )


def _shipper_settings(*, bulk: bool, vpc: Optional[ec2.IVpc], memory_mib: Optional[int],
                      timeout: Optional[Duration], egress: Optional[Sequence[ec2.IPeer]], reserved: Optional[int],
                      bulk_max_mib: Optional[int], ingestion: Optional[IngestionSettings]) -> ShipperSettings:
    timeout = timeout or Duration.minutes(2)
    _check_shipper_timeout(timeout)
    # The shipper is in the VPC in bulk mode only (it calls the domain itself).
    check(NAME, "shipper_egress", egress is None or (bulk and vpc is not None),
          f"applies to delivery_mode='bulk' with a vpc only (the shipper is in no VPC otherwise), got {egress!r}")
    return ShipperSettings(memory_mib=memory_mib or 512, timeout=timeout, egress=egress,
                           reserved_concurrency=reserved_concurrency(reserved, ingestion),
                           bulk_max_bytes=(bulk_max_mib or 5) * 1024 * 1024)


def _check_shipper_timeout(timeout: Duration) -> None:
    """The shipper starts a chunk only while ``DEADLINE_MARGIN_MS`` is left: a shorter timeout defers everything."""
    seconds = timeout.to_seconds()
    if Token.is_unresolved(seconds):
        return
    check(NAME, "shipper_timeout", MIN_TIMEOUT_SECONDS <= seconds <= MAX_TIMEOUT_SECONDS,
          f"must be between {MIN_TIMEOUT_SECONDS} and {MAX_TIMEOUT_SECONDS} seconds (the shipper starts a Firehose "
          f"call only while {DEADLINE_MARGIN_MS // 1000} s of its time are left, so a shorter timeout would defer "
          f"every payload), got {seconds:g} seconds")


def _validate(settings: DeliverySettings, sizing: DomainSizing, backup: BackupLifecycle, *,
              domain: Optional[opensearch.IDomain], vpc: Optional[ec2.IVpc], domain_sizing_given: bool) -> None:
    index = settings.index
    check(NAME, "index", bool(re.fullmatch(r"[a-z0-9][a-z0-9_\-]{0,79}", index)) and index.count("*") == 0,
          f"must be a lowercase OpenSearch index name (a-z, 0-9, '-', '_', at most 80 characters), got {index!r}")
    check_choice(NAME, "index_rotation", settings.rotation, INDEX_ROTATIONS)
    check_range(NAME, "retry_seconds", settings.retry_seconds, 0, 7200, " s")
    check_range(NAME, "buffer_interval_seconds", settings.interval_seconds, 0, 900, " s")
    check_range(NAME, "buffer_mib", settings.size_mib, 1, 100, " MiB")
    check_choice(NAME, "backup_mode", settings.backup_mode, BACKUP_MODES)
    ia_days, glacier_days = backup.infrequent_access_days, backup.glacier_days
    check_range(NAME, "backup_infrequent_access_days", ia_days, 30, 36500, " days")
    check(NAME, "backup_glacier_days", glacier_days > ia_days,
          f"must be later than backup_infrequent_access_days ({ia_days}), got {glacier_days}")
    check(NAME, "backup_expiration_days", backup.expiration_days > glacier_days,
          f"must be later than backup_glacier_days ({glacier_days}), got {backup.expiration_days}")
    azs, nodes = sizing.azs, sizing.nodes
    if azs is not None:
        check_choice(NAME, "zone_awareness_azs", azs, (2, 3))
        check(NAME, "data_nodes", nodes % azs == 0,
              f"must be a multiple of zone_awareness_azs ({azs}) to balance the AZs, got {nodes}")
    check_range(NAME, "data_nodes", nodes, 1, 80)
    check_range(NAME, "volume_gib", sizing.volume, 10, 16384, " GiB")
    check_choice(NAME, "master_nodes", sizing.masters, (0, 3, 5))
    if domain is not None and (domain_sizing_given or vpc is not None):
        raise PropError(f"{NAME}: domain is your own, so engine_version, sizing, zone_awareness_azs and vpc "
                        "cannot be set; configure them on your domain")


def _validate_delivery_mode(mode: str, *, bulk_max_mib: Optional[int], retry_seconds: Optional[int],
                            backup_mode: Optional[str]) -> bool:
    """Whether the pipeline is in bulk mode; props of the other mode are refused by name."""
    check_choice(NAME, "delivery_mode", mode, shipper_contract.DELIVERY_MODES)
    bulk = mode == shipper_contract.MODE_BULK
    low, high = (n // (1024 * 1024) for n in shipper_contract.BULK_MAX_BYTES_RANGE)
    if bulk:
        check_range(NAME, "bulk_max_mib", bulk_max_mib, max(low, 1), high, " MiB")
        for prop, value, why in (("retry_seconds", retry_seconds, "Firehose does not index in bulk mode: the "
                                  "shipper retries within its invocation, then Lambda retries the batch"),
                                 ("backup_mode", backup_mode, "bulk mode archives every document")):
            check(NAME, prop, value is None, f"applies to delivery_mode='firehose' only ({why}), got {value!r}")
    else:
        check(NAME, "bulk_max_mib", bulk_max_mib is None,
              f"applies to delivery_mode='bulk' only, got {bulk_max_mib!r} with delivery_mode={mode!r}")
    return bulk
