"""The CloudTrail table definition: columns against real-shaped records, projection against keys."""

import json
from datetime import datetime
from pathlib import Path

import pytest

from log_constructs.audit import schema
from tests.support import hive_types

EVENTS = Path(__file__).resolve().parents[2] / "events" / "cloudtrail"
SAMPLES = sorted(EVENTS.glob("*.json"))
BUCKET = "audit-trail-bucket"

# A key as CloudTrail writes it (the example of the CloudTrail User Guide, "Finding your log files").
REAL_KEY = (
    "AWSLogs/111122223333/CloudTrail/us-east-2/2014/12/04/"
    "111122223333_CloudTrail_us-east-2_20141204T1255Z_AAAAAAAAAAAAAAAA.json.gz"
)


def _java_to_strftime(java_format: str) -> str:
    return java_format.replace("yyyy", "%Y").replace("MM", "%m").replace("dd", "%d")


def test_there_are_sample_records_to_check_against():
    # GIVEN the sample records under tests/events/cloudtrail
    # THEN there are enough of them to cover management, data, sign-in and service events
    categories = {json.loads(p.read_text()).get("eventType") for p in SAMPLES}
    assert len(SAMPLES) >= 20
    assert {"AwsApiCall", "AwsConsoleSignIn", "AwsServiceEvent"} <= categories


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda p: p.stem)
def test_columns_cover_every_top_level_field_of_a_record(sample):
    # GIVEN a CloudTrail record
    record = json.loads(sample.read_text())
    # WHEN its fields are matched to columns the way the SerDe does (case-insensitively)
    missing = {key for key in record if key.lower() not in schema.column_names()}
    # THEN every field has a column
    assert missing == set()


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda p: p.stem)
def test_struct_columns_cover_the_nested_fields_of_a_record(sample):
    # GIVEN a CloudTrail record and the table's column types
    record = json.loads(sample.read_text())
    row_type = hive_types.parse(schema._struct(*schema.COLUMNS))
    # WHEN the nested objects are matched against the struct types
    dropped = hive_types.unknown_keys(record, row_type)
    # THEN no nested field would be dropped (maps and JSON-text columns take anything)
    assert dropped == []


def test_every_column_type_is_a_valid_hive_type_and_names_are_unique_lower_case():
    # GIVEN the columns and partition keys
    everything = schema.COLUMNS + schema.PARTITION_KEYS
    # WHEN each type is parsed
    for name, hive_type in everything:
        hive_types.parse(hive_type)
    # THEN names are lower case (Glue lower-cases them anyway) and unique
    names = [name for name, _ in everything]
    assert all(name == name.lower() for name in names)
    assert len(names) == len(set(names))


def test_the_columns_keep_aws_ddl_nesting_for_user_identity():
    # GIVEN the useridentity column
    tree = hive_types.parse(dict(schema.COLUMNS)["useridentity"])
    fields = dict(tree[1])
    # THEN the session context and its issuer are nested structs as in AWS's DDL
    session = dict(fields["sessioncontext"][1])
    assert dict(session["attributes"][1]).keys() == {"mfaauthenticated", "creationdate"}
    assert "arn" in dict(session["sessionissuer"][1])
    assert dict(session["webidfederationdata"][1])["attributes"] == ("map", ("string",), ("string",))
    assert dict(schema.COLUMNS)["resources"] == "array<struct<arn:string,accountid:string,type:string>>"


def test_glue_shapes_carry_every_column_and_partition_key():
    # WHEN the Glue column properties are built
    columns, keys = schema.glue_columns(), schema.glue_partition_keys()
    # THEN they list the columns and keys in order, with their types
    assert [(c["name"], c["type"]) for c in columns] == list(schema.COLUMNS)
    assert [k["name"] for k in keys] == ["account", "region", "date"]


def test_projection_template_matches_cloudtrails_real_object_key():
    # GIVEN the projection of a trail's bucket
    params = schema.projection_parameters(
        bucket_name=BUCKET, accounts=["111122223333"], regions=["us-east-2"], history_days=30
    )
    # WHEN a real log file key is expanded against the template
    values = schema.partition_values(params["storage.location.template"], f"s3://{BUCKET}/{REAL_KEY}")
    # THEN the partitions are the account, the region and the day folder of the key
    assert values == {"account": "111122223333", "region": "us-east-2", "date": "2014/12/04"}
    # AND the day folder is in the projection's date format
    fmt = _java_to_strftime(params["projection.date.format"])
    assert datetime.strptime(values["date"], fmt).strftime(fmt) == "2014/12/04"


def test_projection_template_for_a_prefix_and_an_organization_trail():
    # GIVEN an organization trail writing under a key prefix
    template = schema.storage_location_template(BUCKET, key_prefix="audit/", organization_id="o-a1b2c3d4e5")
    key = (
        "audit/AWSLogs/o-a1b2c3d4e5/444455556666/CloudTrail/eu-west-1/2026/11/20/"
        "444455556666_CloudTrail_eu-west-1_20261120T0905Z_BBBBBBBBBBBBBBBB.json.gz"
    )
    # WHEN the organization layout's key is expanded
    values = schema.partition_values(template, f"s3://{BUCKET}/{key}")
    # THEN the member account is the account partition
    assert template == f"s3://{BUCKET}/audit/AWSLogs/o-a1b2c3d4e5/${{account}}/CloudTrail/${{region}}/${{date}}"
    assert values == {"account": "444455556666", "region": "eu-west-1", "date": "2026/11/20"}
    # AND the account-trail layout does not match the organization template
    assert schema.partition_values(template, f"s3://{BUCKET}/audit/{REAL_KEY}") is None


@pytest.mark.parametrize(
    "key",
    [
        "AWSLogs/111122223333/CloudTrail-Digest/us-east-2/2014/12/04/"
        "111122223333_CloudTrail-Digest_us-east-2_trail_us-east-2_20141204T125517Z.json.gz",
        "AWSLogs/111122223333/CloudTrail-Insight/us-east-2/2014/12/04/"
        "111122223333_CloudTrail-Insight_us-east-2_20141204T1255Z_CCCCCCCCCCCCCCCC.json.gz",
        "AWSLogs/111122223333/CloudTrail/us-east-2/2014/12/111122223333_CloudTrail_x.json.gz",
    ],
    ids=["digest", "insight", "no-day-folder"],
)
def test_projection_template_leaves_out_digest_insight_and_misplaced_files(key):
    # GIVEN the template of an account trail
    template = schema.storage_location_template(BUCKET)
    # WHEN a key outside CloudTrail/<region>/<yyyy>/<MM>/<dd>/ is expanded
    # THEN it belongs to no partition
    assert schema.partition_values(template, f"s3://{BUCKET}/{key}") is None


def test_projection_parameters_project_every_partition_key():
    # WHEN the projection is built for two accounts and two regions
    params = schema.projection_parameters(
        bucket_name=BUCKET,
        accounts=["111122223333", "444455556666"],
        regions=["eu-west-1", "us-east-1"],
        history_days=400,
    )
    # THEN every partition key has a projection type and a place in the template
    for name, _ in schema.PARTITION_KEYS:
        assert params[f"projection.{name}.type"] in {"enum", "date", "injected", "integer"}
        assert "${" + name + "}" in params["storage.location.template"]
    # AND the values and the date range are what was asked for
    assert params["projection.enabled"] == "true"
    assert params["projection.account.values"] == "111122223333,444455556666"
    assert params["projection.region.values"] == "eu-west-1,us-east-1"
    assert params["projection.date.type"] == "date"
    assert params["projection.date.format"] == "yyyy/MM/dd"
    assert params["projection.date.range"] == "NOW-400DAYS,NOW"
    assert (params["projection.date.interval"], params["projection.date.interval.unit"]) == ("1", "DAYS")


def test_projection_parameters_reject_every_bad_input_at_once():
    # WHEN the projection is built from bad inputs
    with pytest.raises(ValueError) as error:
        schema.projection_parameters(
            bucket_name=BUCKET,
            accounts=["1234"],
            regions=["Europe"],
            history_days=0,
            key_prefix="bad prefix",
            organization_id="org-1",
        )
    # THEN one error names every problem and the bad values
    assert str(error.value) == (
        "Invalid CloudTrail table settings:\n"
        "  - accounts: '1234' is not a 12-digit account ID\n"
        "  - regions: 'Europe' is not a region name such as 'eu-west-1'\n"
        "  - history_days: 0 must be a whole number of days >= 1\n"
        "  - key_prefix: 'bad prefix' may only contain letters, digits and !_.*'()/-\n"
        "  - organization_id: 'org-1' is not an organization ID such as 'o-a1b2c3d4e5'"
    )


def test_projection_parameters_need_accounts_and_regions_but_let_tokens_through():
    # WHEN no accounts or regions are given
    with pytest.raises(ValueError, match="accounts: give at least one account ID.*\n.*regions: give at least one"):
        schema.projection_parameters(bucket_name=BUCKET, accounts=[], regions=[], history_days=1)
    # AND WHEN the values are unresolved tokens
    schema.validate_projection_inputs(
        accounts=["${Token[AWS.AccountId.1]}"],
        regions=["${Token[AWS.Region.2]}"],
        history_days=1,
        is_unresolved=lambda value: str(value).startswith("${Token"),
    )
    # THEN tokens are accepted (checked at deploy time instead)
