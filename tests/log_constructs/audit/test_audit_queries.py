"""The saved Athena queries: valid Trino SQL, and right answers over CloudTrail files.

The queries run, transpiled to DuckDB by sqlglot, over a table loaded from gzip JSON files that
the test writes as CloudTrail does, under CloudTrail's key layout, with the partitions taken
from the table's projection template.
"""

import copy
import json
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

import duckdb
import pytest
import sqlglot
from sqlglot import exp

from log_constructs.audit import queries as audit_queries
from log_constructs.audit import schema as cloudtrail_schema
from log_constructs.audit.queries import QUERIES
from tests.support.cloudtrail_files import load_table, write_log_files

EVENTS = Path(__file__).resolve().parents[2] / "events" / "cloudtrail"
SAMPLES = {path.stem: json.loads(path.read_text()) for path in sorted(EVENTS.glob("*.json"))}
BY_KEY = {q.key: q for q in QUERIES}
DATABASE, TABLE, BUCKET, DAYS = "audit", "cloudtrail_logs", "audit-trail-bucket", 7
# Copies of these events, 30 days old, must fall outside every query's 7-day window.
OLD = ("root_console_login_no_mfa", "ec2_run_instances_unauthorized", "iam_attach_role_policy")


def _on_day(record: dict, day: datetime, suffix: str = "") -> dict:
    moved = copy.deepcopy(record)
    moved["eventTime"] = day.strftime("%Y-%m-%d") + record["eventTime"][10:]
    moved["eventID"] = record["eventID"] + suffix
    return moved


def _recent_records() -> list[dict]:
    yesterday = datetime.now(timezone.utc) - timedelta(days=1)
    return [_on_day(record, yesterday) for record in SAMPLES.values()]


def _principal(record: dict) -> str:
    identity = record["userIdentity"]
    for field in ("arn", "principalId", "invokedBy", "type"):
        if identity.get(field):
            return identity[field]
    return None


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    # GIVEN every sample event logged yesterday, and copies of some logged 30 days ago,
    # written as CloudTrail writes log files into the trail's bucket
    bucket = tmp_path_factory.mktemp("bucket")
    old_day = datetime.now(timezone.utc) - timedelta(days=30)
    records = _recent_records() + [_on_day(SAMPLES[name], old_day, "-old") for name in OLD]
    keys = write_log_files(bucket, records)
    template = cloudtrail_schema.projection_parameters(
        bucket_name=BUCKET, accounts=["111122223333"], regions=["us-east-1", "eu-west-1"], history_days=90
    )["storage.location.template"]
    conn = duckdb.connect()
    load_table(conn, bucket, keys, bucket_name=BUCKET, template=template, database=DATABASE, table=TABLE)
    assert conn.execute(f"SELECT count(*) FROM {DATABASE}.{TABLE}").fetchone()[0] == len(records)
    yield conn
    conn.close()


def run(conn, key: str) -> list[dict]:
    sql = BY_KEY[key].render(database=DATABASE, table=TABLE, days=DAYS)
    duck = sqlglot.transpile(sql, read="trino", write="duckdb")[0]
    cursor = conn.execute(duck)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def event_ids(rows: list[dict]) -> set[str]:
    return {row["eventid"] for row in rows}


def ids_of(*names: str) -> set[str]:
    return {SAMPLES[name]["eventID"] for name in names}


def test_query_keys_and_names_are_unique_and_cover_the_issue():
    # GIVEN the saved queries
    # THEN each has a unique key and Athena name, and all asked-for questions are there
    assert len({q.key for q in QUERIES}) == len({q.name for q in QUERIES}) == len(QUERIES) == 11
    assert set(BY_KEY) == {
        "RootActivity", "ConsoleLoginWithoutMfa", "FailedConsoleLogins", "AccessDeniedByPrincipal",
        "IamChanges", "NetworkFilterChanges", "TrailChanges", "KmsKeyDisableOrDeletion",
        "S3BucketPolicyChanges", "TopPrincipals", "TopSourceIps",
    }  # fmt: skip


@pytest.mark.parametrize("query", QUERIES, ids=lambda q: q.key)
def test_every_query_parses_as_trino_and_reads_only_recent_partitions(query):
    # GIVEN a query rendered for a table
    sql = query.render(database=DATABASE, table=TABLE, days=DAYS)
    # WHEN it is parsed as Trino (Athena engine v3) SQL
    tree = sqlglot.parse_one(sql, read="trino")
    # THEN it is one SELECT over that table, filtered on the projected date partition
    assert isinstance(tree, exp.Select)
    assert {(t.db, t.name) for t in tree.find_all(exp.Table)} == {(DATABASE, TABLE)}
    where_columns = {c.name for c in tree.args["where"].find_all(exp.Column)}
    assert "date" in where_columns
    assert f"interval '{DAYS}' day" in sql


def test_render_rejects_bad_names_and_day_counts():
    # WHEN a query is rendered with an unsafe table name or a bad day count
    # THEN it is refused with the offending value named
    with pytest.raises(ValueError, match=r"table: 'logs; DROP TABLE x' must be a lower-case identifier"):
        QUERIES[0].render(database=DATABASE, table="logs; DROP TABLE x", days=DAYS)
    with pytest.raises(ValueError, match=r"days: 0 must be a whole number of days >= 1"):
        audit_queries.render(QUERIES[0].template, database=DATABASE, table=TABLE, days=0)


def test_root_activity_returns_the_roots_own_recent_calls(db):
    # WHEN the root activity query runs
    rows = run(db, "RootActivity")
    # THEN it returns the root sign-in, not the call a service made for root, nor the old copy
    assert event_ids(rows) == ids_of("root_console_login_no_mfa")
    assert rows[0]["principal"] == "arn:aws:iam::111122223333:root"


def test_console_logins_without_mfa_returns_iam_user_and_root_sign_ins_without_mfa(db):
    # WHEN the console-login-without-MFA query runs
    rows = run(db, "ConsoleLoginWithoutMfa")
    # THEN it returns the IAM user's and the root user's sign-ins without MFA, and neither the
    # MFA sign-in, the failed one, nor the federated one (whose MFA is the identity provider's)
    assert event_ids(rows) == ids_of("iam_user_console_login_no_mfa", "root_console_login_no_mfa")


def test_failed_console_logins_returns_the_failed_sign_in(db):
    # WHEN the failed-console-login query runs
    rows = run(db, "FailedConsoleLogins")
    # THEN it returns the failure with the user name tried and where it came from
    assert [(r["eventid"], r["username"], r["sourceipaddress"]) for r in rows] == [
        (SAMPLES["console_login_failed"]["eventID"], "carol", "203.0.113.200")
    ]


def test_access_denied_by_principal_counts_recent_denials_per_principal(db):
    # WHEN the access-denied query runs
    rows = run(db, "AccessDeniedByPrincipal")
    # THEN the developer's two recent denials (EC2 and S3) are counted, the old one is not
    assert [(r["principal"], r["denied_calls"], r["distinct_actions"]) for r in rows] == [
        ("arn:aws:sts::111122223333:assumed-role/Developer/frank", 2, 2)
    ]


@pytest.mark.parametrize(
    "key, expected",
    [
        ("IamChanges", ("iam_attach_role_policy", "iam_create_user")),
        ("NetworkFilterChanges", ("ec2_authorize_sg_ingress", "ec2_create_network_acl_entry")),
        ("TrailChanges", ("cloudtrail_stop_logging",)),
        ("KmsKeyDisableOrDeletion", ("kms_schedule_key_deletion",)),
        ("S3BucketPolicyChanges", ("s3_put_bucket_policy",)),
    ],
)
def test_change_queries_return_exactly_the_changes_they_are_for(db, key, expected):
    # WHEN a change query runs
    rows = run(db, key)
    # THEN it returns exactly those changes: not Auto Scaling's DeletePolicy, not reads, not old copies
    assert event_ids(rows) == ids_of(*expected)


def test_change_queries_pull_the_changed_resource_out_of_the_request(db):
    # WHEN the trail, key and bucket queries run
    trail, key, bucket = run(db, "TrailChanges"), run(db, "KmsKeyDisableOrDeletion"), run(db, "S3BucketPolicyChanges")
    # THEN each row names what was changed
    assert trail[0]["trail"] == "arn:aws:cloudtrail:eu-west-1:111122223333:trail/org-audit"
    assert key[0]["key_id"] == "1234abcd-12ab-34cd-56ef-1234567890ab"
    assert bucket[0]["bucket"] == "public-site"


def test_top_principals_and_source_ips_count_recent_calls(db):
    # GIVEN the counts worked out from the recent records directly
    recent = _recent_records()
    principals = Counter(_principal(r) for r in recent)
    addresses = Counter(r["sourceIPAddress"] for r in recent)
    # WHEN the top-N queries run
    top_principals = run(db, "TopPrincipals")
    top_addresses = run(db, "TopSourceIps")
    # THEN they return those counts, busiest first
    assert {(r["principal"], r["calls"]) for r in top_principals} == set(principals.items())
    assert {(r["sourceipaddress"], r["calls"]) for r in top_addresses} == set(addresses.items())
    assert top_principals[0]["calls"] == max(principals.values())
    assert [r["calls"] for r in top_addresses] == sorted((r["calls"] for r in top_addresses), reverse=True)
