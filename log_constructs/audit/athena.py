"""The query side of the audit trail: Glue database and table, Athena workgroup, saved queries."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence

from aws_cdk import Duration, Names, Stack, Token
from aws_cdk import aws_athena as athena
from aws_cdk import aws_glue as glue
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from . import queries as audit_queries
from . import schema as cloudtrail_schema
from .._private.buckets import secure_bucket
from .._private.keys import new_key

TABLE_NAME = "cloudtrail_logs"
ENGINE_VERSION = "Athena engine version 3"


@dataclass(frozen=True)
class QueryLayer:
    database: glue.CfnDatabase
    database_name: str
    table: glue.CfnTable
    workgroup: athena.CfnWorkGroup
    named_queries: dict[str, athena.CfnNamedQuery]
    results_bucket: s3.Bucket
    results_key: kms.Key


def build_query_layer(
    scope: Construct,
    *,
    trail_bucket: s3.IBucket,
    database_name: str,
    workgroup_name: str,
    accounts: Sequence[str],
    regions: Sequence[str],
    history_days: int,
    organization_id: Optional[str],
    results_expire_days: int,
    scan_limit_bytes: int,
    query_window_days: int,
) -> QueryLayer:
    stack = Stack.of(scope)
    database = glue.CfnDatabase(
        scope,
        "Database",
        catalog_id=stack.account,
        database_input=glue.CfnDatabase.DatabaseInputProperty(
            name=database_name, description="CloudTrail logs of the audit trail (log_constructs AuditTrail)"
        ),
    )
    parameters = {
        "classification": "cloudtrail",
        "EXTERNAL": "TRUE",
        "read_restored_glacier_objects": "true",
        **cloudtrail_schema.projection_parameters(
            bucket_name=trail_bucket.bucket_name,
            accounts=accounts,
            regions=regions,
            history_days=history_days,
            organization_id=organization_id,
            is_unresolved=Token.is_unresolved,
        ),
    }
    table = glue.CfnTable(
        scope,
        "Table",
        catalog_id=stack.account,
        database_name=database_name,
        table_input=glue.CfnTable.TableInputProperty(
            name=TABLE_NAME,
            description="CloudTrail records; partitions projected on account, region and date (yyyy/MM/dd)",
            table_type="EXTERNAL_TABLE",
            parameters=parameters,
            partition_keys=[glue.CfnTable.ColumnProperty(**c) for c in cloudtrail_schema.glue_partition_keys()],
            storage_descriptor=glue.CfnTable.StorageDescriptorProperty(
                columns=[glue.CfnTable.ColumnProperty(**c) for c in cloudtrail_schema.glue_columns()],
                location=cloudtrail_schema.trail_root(trail_bucket.bucket_name, organization_id=organization_id) + "/",
                input_format=cloudtrail_schema.INPUT_FORMAT,
                output_format=cloudtrail_schema.OUTPUT_FORMAT,
                serde_info=glue.CfnTable.SerdeInfoProperty(serialization_library=cloudtrail_schema.SERDE_LIBRARY),
            ),
        ),
    )
    table.node.add_dependency(database)

    results_key = new_key(scope, "QueryResultsKey", description="Encrypts the audit trail's Athena query results")
    results_bucket = secure_bucket(
        scope,
        "QueryResultsBucket",
        encryption_key=results_key,
        access_logs_prefix=f"audit-trail/{Names.unique_id(scope)}/query-results/",
        lifecycle_rules=[
            s3.LifecycleRule(
                id="ExpireQueryResults",
                expiration=Duration.days(results_expire_days),
                noncurrent_version_expiration=Duration.days(1),
                abort_incomplete_multipart_upload_after=Duration.days(1),
            )
        ],
    )
    workgroup = athena.CfnWorkGroup(
        scope,
        "WorkGroup",
        name=workgroup_name,
        description="Audit queries over the CloudTrail table; settings enforced",
        state="ENABLED",
        recursive_delete_option=False,
        work_group_configuration=athena.CfnWorkGroup.WorkGroupConfigurationProperty(
            enforce_work_group_configuration=True,
            publish_cloud_watch_metrics_enabled=True,
            bytes_scanned_cutoff_per_query=scan_limit_bytes,
            requester_pays_enabled=False,
            engine_version=athena.CfnWorkGroup.EngineVersionProperty(selected_engine_version=ENGINE_VERSION),
            result_configuration=athena.CfnWorkGroup.ResultConfigurationProperty(
                output_location=f"s3://{results_bucket.bucket_name}/results/",
                expected_bucket_owner=stack.account,
                encryption_configuration=athena.CfnWorkGroup.EncryptionConfigurationProperty(
                    encryption_option="SSE_KMS", kms_key=results_key.key_arn
                ),
            ),
        ),
    )
    named_queries = {}
    for query in audit_queries.QUERIES:
        named = athena.CfnNamedQuery(
            scope,
            f"{query.key}Query",
            name=query.name,
            description=query.description,
            database=database_name,
            work_group=workgroup.ref,
            query_string=query.render(database=database_name, table=TABLE_NAME, days=query_window_days),
        )
        named.node.add_dependency(table)
        named_queries[query.key] = named
    return QueryLayer(database, database_name, table, workgroup, named_queries, results_bucket, results_key)
