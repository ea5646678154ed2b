"""The Hive type parser and SerDe shaping the query and schema tests rely on."""

import pytest

from tests.support.hive_types import HiveTypeError, conform, parse, to_duckdb, unknown_keys


def test_nested_types_parse_into_a_tree_and_render_as_duckdb_types():
    # GIVEN a nested Hive type as Glue stores it
    text = "struct<a:string,b:array<struct<c:string>>,m:map<string,string>>"
    # WHEN it is parsed and rendered for DuckDB
    tree = parse(text)
    # THEN the tree keeps the nesting and DuckDB gets the equivalent type
    assert tree == (
        "struct",
        (("a", ("string",)), ("b", ("array", ("struct", (("c", ("string",)),)))), ("m", ("map", ("string",), ("string",)))),
    )
    assert to_duckdb(tree) == 'STRUCT("a" VARCHAR, "b" STRUCT("c" VARCHAR)[], "m" MAP(VARCHAR, VARCHAR))'


@pytest.mark.parametrize(
    "text",
    ["struct<a:string", "struct<a string>", "array<>", "struct<a:string,a:int>", "varchar(10)", "string extra"],
)
def test_malformed_types_are_rejected(text):
    # WHEN a malformed or unknown type is parsed
    # THEN it is rejected
    with pytest.raises(HiveTypeError):
        parse(text)


def test_conform_matches_keys_case_insensitively_and_keeps_nested_json_as_text():
    # GIVEN a record with camelCase keys and an object in a string column
    tree = parse("struct<useridentity:struct<type:string>,requestparameters:string,readonly:string>")
    record = {"userIdentity": {"Type": "Root"}, "requestParameters": {"bucketName": "b"}, "readOnly": True}
    # WHEN it is shaped as the CloudTrail SerDe presents it
    row = conform(record, tree)
    # THEN keys are matched regardless of case, JSON stays text and booleans become strings
    assert row == {"useridentity": {"type": "Root"}, "requestparameters": '{"bucketName":"b"}', "readonly": "true"}


def test_unknown_keys_lists_fields_a_struct_would_drop():
    # GIVEN a struct type and a record with extra fields, nested and in arrays
    tree = parse("struct<a:struct<b:string>,r:array<struct<x:string>>,s:string>")
    record = {"a": {"b": "1", "c": "2"}, "r": [{"x": "1", "y": "2"}], "s": {"anything": 1}, "z": 0}
    # THEN the dropped ones are named by path (a string column takes any JSON)
    assert unknown_keys(record, tree) == ["a.c", "r[].y", "z"]
