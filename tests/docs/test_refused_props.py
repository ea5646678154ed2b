"""The LogPipeline page lists exactly the props the code refuses with the serverless sink and in bulk mode.

The lists are derived from the code by trying: ``LogPipeline`` is built with the mode and one prop set to
a valid value, and a prop is refused when that raises a ``PropError`` naming it that the default mode
(Firehose into a domain) does not raise. Every keyword-only prop
is tried, except those in ``NOT_TRIED`` (each with the reason it cannot be tried alone).
"""
from __future__ import annotations

import functools
import inspect
import re
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_opensearchservice as opensearch
from aws_cdk import aws_s3 as s3

from log_constructs import LogPipeline, PropError, ServerlessSink

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "constructs" / "log-pipeline.md"

# Cross-account ingestion and VPC placement need several props together; none of them is mode-specific.
NOT_TRIED = {"source_accounts", "organization_id", "source_regions", "destination_name", "ingestion_retention",
             "ingestion_max_record_age", "ingestion_parallelization_factor", "vpc", "vpc_subnets", "shipper_egress"}


def sample(stack: cdk.Stack, prop: str):
    """A valid value of ``prop``, outside any mode."""
    return {
        "name": "docs-refused", "sink": ServerlessSink(), "delivery_mode": "bulk", "bulk_max_mib": 5,
        "domain": opensearch.Domain.from_domain_endpoint(stack, "Domain", "https://search-logs-abc.eu-west-1.es.amazonaws.com"),
        "index": "app-logs", "index_rotation": "day", "retry_seconds": 300, "buffer_interval_seconds": 60,
        "buffer_mib": 5, "backup_mode": "all", "backup_bucket": s3.Bucket.from_bucket_name(stack, "Bucket", "backup"),
        "backup_infrequent_access_days": 30, "backup_glacier_days": 90, "backup_expiration_days": 365,
        "encryption_key": kms.Key.from_key_arn(stack, "Key", "arn:aws:kms:eu-west-1:111122223333:key/abc"),
        "engine_version": opensearch.EngineVersion.OPENSEARCH_2_19, "data_node_instance_type": "r7g.large.search",
        "data_nodes": 2, "volume_gib": 100, "master_nodes": 3, "master_node_instance_type": "m7g.large.search",
        "zone_awareness_azs": 2, "log_retention": logs.RetentionDays.ONE_MONTH,
        "removal_policy": cdk.RemovalPolicy.DESTROY, "shipper_memory_mib": 512,
        "shipper_timeout": cdk.Duration.minutes(2), "shipper_reserved_concurrency": 10, "alarm_actions": [],
        "free_storage_alarm_mib": 10_000, "data_freshness_alarm_seconds": 900, "index_template": True,
        "index_shards": 1, "index_replicas": 0, "index_field_limit": 2000, "index_lifecycle": True,
        "index_delete_after_days": 30, "index_warm_after_days": 7, "index_cold_after_days": 14,
        "dashboards_saved_objects": True, "redact": True, "redaction_patterns": {"ticket": r"TICKET-\d+"},
        "redaction_secret_keys": ["ssn"], "redaction_rule_sets": {"/aws/cloudtrail/": "audit"},
    }[prop]


def props() -> list[str]:
    return [p.name for p in inspect.signature(LogPipeline.__init__).parameters.values()
            if p.kind is p.KEYWORD_ONLY and p.name not in NOT_TRIED]


MODES = {"default": lambda: {}, "serverless": lambda: {"sink": ServerlessSink()},
         "bulk": lambda: {"delivery_mode": "bulk"}}


@functools.cache
def refusal(mode: str, prop: str) -> str | None:
    """The PropError naming ``prop`` that building in ``mode`` with it raises, if any."""
    stack = cdk.Stack(cdk.App(), "Refused", env=cdk.Environment(account="111122223333", region="eu-west-1"))
    try:
        LogPipeline(stack, "Logs", **{**MODES[mode](), prop: sample(stack, prop)})
    except PropError as error:
        return str(error) if re.search(rf"\b{prop}\b", str(error)) else None
    return None


def refused(mode: str, prop: str) -> bool:
    """Refused in ``mode``, for a reason of that mode (a prop that needs another fails in every mode)."""
    message = refusal(mode, prop)
    return message is not None and message != refusal("default", prop)


def bulk_only() -> set[str]:
    """The props the default mode (Firehose) refuses as bulk mode's."""
    return {prop for prop in props() if prop != "delivery_mode" and "delivery_mode='bulk'" in (refusal("default", prop) or "")}


def page_list(marker: str, until: str) -> set[str]:
    text = PAGE.read_text()
    start = text.index(f"<!-- {marker}")
    paragraph = text[start:text.index(until, start)]
    return set(re.findall(r"`(\w+)`", paragraph.split("-->", 1)[1])) & set(props())


def test_every_prop_is_tried() -> None:
    # a new prop needs a sample (or a reason in NOT_TRIED), so it cannot escape the lists below
    for prop in props():
        sample(cdk.Stack(cdk.App(), "Samples"), prop)


def test_the_serverless_sink_refuses_exactly_the_props_its_page_lists() -> None:
    # the serverless sink is Firehose mode, so bulk mode's props are refused with it as well
    derived = {prop for prop in props() if prop != "sink" and refused("serverless", prop)} | bulk_only()
    assert derived == page_list("refused with the serverless sink", "\n\n")


def test_bulk_mode_refuses_exactly_the_props_its_page_lists() -> None:
    derived = {prop for prop in props() if prop != "delivery_mode" and refused("bulk", prop)}
    listed = page_list("refused in bulk mode", "; and")
    assert derived == listed
    # and the other way round: the default mode (Firehose) refuses only bulk mode's own prop
    assert bulk_only() == {"bulk_max_mib"}
    assert "`bulk_max_mib` is refused in Firehose mode" in PAGE.read_text()


@pytest.mark.parametrize("prop", ["retry_seconds", "backup_mode"])
def test_a_refusal_names_the_prop_and_the_mode(prop: str) -> None:
    stack = cdk.Stack(cdk.App(), "Refused")
    with pytest.raises(PropError, match=rf"{prop}.*delivery_mode='firehose' only"):
        LogPipeline(stack, "Logs", delivery_mode="bulk", **{prop: sample(stack, prop)})

