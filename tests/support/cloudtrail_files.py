"""Write CloudTrail log files the way CloudTrail does, and load them as the Athena table reads them.

``write_log_files`` puts records into gzip-compressed JSON files with a ``Records`` array under
CloudTrail's key layout (``AWSLogs/<account>/CloudTrail/<region>/<yyyy>/<MM>/<dd>/<file>``).
``load_table`` reads those files back into DuckDB as ``<database>.<table>``: the columns come from
``cloudtrail_schema.COLUMNS`` (Hive types turned into DuckDB types), each record is shaped as the
CloudTrail SerDe presents it, and the partition columns come from expanding the table's
``storage.location.template`` against each object's key, as partition projection does.
"""

from __future__ import annotations

import gzip
import json
import secrets
import string
from collections import defaultdict
from datetime import datetime
from pathlib import Path
from typing import Iterable, Optional

import duckdb

from log_constructs.audit import schema as cloudtrail_schema
from tests.support import hive_types


def object_key(account: str, region: str, when: datetime, organization_id: Optional[str] = None) -> str:
    """A key as CloudTrail names its log files (account trail, or organization trail)."""
    folder = f"AWSLogs/{organization_id + '/' if organization_id else ''}{account}/CloudTrail/{region}"
    suffix = "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(16))
    name = f"{account}_CloudTrail_{region}_{when:%Y%m%dT%H%MZ}_{suffix}.json.gz"
    return f"{folder}/{when:%Y/%m/%d}/{name}"


def write_log_files(root: Path, records: Iterable[dict], organization_id: Optional[str] = None) -> list[str]:
    """Write ``records`` as CloudTrail log files under ``root`` (the bucket); return their keys."""
    files: dict[tuple[str, str, str], list[dict]] = defaultdict(list)
    for record in records:
        files[(record["recipientAccountId"], record["awsRegion"], record["eventTime"][:10])].append(record)
    keys = []
    for (account, region, _day), batch in sorted(files.items()):
        when = datetime.strptime(batch[0]["eventTime"], "%Y-%m-%dT%H:%M:%SZ")
        key = object_key(account, region, when, organization_id)
        path = root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(gzip.compress(json.dumps({"Records": batch}).encode()))
        keys.append(key)
    return keys


def table_columns() -> dict[str, str]:
    """DuckDB column types for the data columns and the partition columns."""
    columns = {name: hive_types.to_duckdb(hive_types.parse(t)) for name, t in cloudtrail_schema.COLUMNS}
    columns.update({name: "VARCHAR" for name, _ in cloudtrail_schema.PARTITION_KEYS})
    return columns


def load_table(
    conn: duckdb.DuckDBPyConnection,
    root: Path,
    keys: Iterable[str],
    *,
    bucket_name: str,
    template: str,
    database: str,
    table: str,
) -> None:
    """Create ``database.table`` in DuckDB from the log files at ``keys`` under ``root``."""
    trees = [(name, hive_types.parse(t)) for name, t in cloudtrail_schema.COLUMNS]
    rows = []
    for key in keys:
        partitions = cloudtrail_schema.partition_values(template, f"s3://{bucket_name}/{key}")
        if partitions is None:
            continue  # outside the table's location, as Athena would skip it
        document = json.loads(gzip.decompress((root / key).read_bytes()))
        for record in document["Records"]:
            by_lower = {k.lower(): v for k, v in record.items()}
            row = {name: hive_types.conform(by_lower.get(name), tree) for name, tree in trees}
            rows.append({**row, **partitions})
    staged = root / f"_{database}_{table}.ndjson"
    staged.write_text("".join(json.dumps(row) + "\n" for row in rows))
    conn.execute(f"CREATE SCHEMA IF NOT EXISTS {database}")
    columns = ", ".join(f"'{name}': '{kind}'" for name, kind in table_columns().items())
    conn.execute(
        f"CREATE OR REPLACE TABLE {database}.{table} AS "
        f"SELECT * FROM read_json('{staged}', format='newline_delimited', columns={{{columns}}})"
    )
