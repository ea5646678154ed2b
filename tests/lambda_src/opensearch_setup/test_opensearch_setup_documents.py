"""Pure parts of the OpenSearch set-up: properties, desired documents, comparisons, saved objects."""
from __future__ import annotations

import json

import pytest

from opensearch_setup import documents, saved_objects
from opensearch_setup.contract import SetupConfig
from opensearch_setup.props import (
    ENDPOINT_OVERRIDE_ENV,
    DashboardsSettings,
    IndexTemplateSettings,
    IsmSettings,
    SecuritySettings,
    parse,
)
from opensearch_setup.signed_http import SetupError

ENDPOINT = "search-logs-abc123.eu-west-1.es.amazonaws.com"


def base(**parts):
    return {"DomainEndpoint": ENDPOINT, "Region": "eu-west-1", **parts}


# --- properties --------------------------------------------------------------------------------
def test_numbers_arrive_as_strings_from_cloudformation_and_are_accepted():
    # GIVEN properties as CloudFormation passes them (every scalar a string)
    properties = base(
        IndexTemplate={"Name": "logs", "IndexPatterns": ["logs*"], "Shards": "2", "Replicas": "0", "FieldLimit": "2000"},
        IsmPolicy={"PolicyId": "logs-retention", "IndexPatterns": ["logs*"], "DeleteAfterDays": "30",
                   "WarmAfterDays": "7"},
    )
    # WHEN parsed by a function configured with the same parts
    configured = {name: properties[name] for name in ("IndexTemplate", "IsmPolicy")}
    settings = parse(properties, SetupConfig(index_setup=json.dumps(configured)).to_environment())
    # THEN the numbers are ints, a replica count of 0 is kept, the URL is https
    assert settings.base_url == f"https://{ENDPOINT}"
    assert (settings.index_template.shards, settings.index_template.replicas, settings.index_template.field_limit) == (2, 0, 2000)
    assert (settings.ism.delete_after_days, settings.ism.warm_after_days, settings.ism.cold_after_days) == (30, 7, None)
    assert settings.security is None and settings.dashboards is None


def test_every_problem_is_listed_in_one_error():
    # GIVEN properties with several mistakes
    properties = {"Region": "eu-west-1",
                  "IndexTemplate": {"Name": "", "IndexPatterns": [], "Shards": "two"},
                  "IsmPolicy": {"PolicyId": "p", "IndexPatterns": ["logs*"], "DeleteAfterDays": "7", "WarmAfterDays": "9"}}
    # WHEN parsed THEN one error names each of them
    with pytest.raises(SetupError) as raised:
        parse(properties, {})
    message = str(raised.value)
    for expected in ("DomainEndpoint must be a non-empty string", "IndexTemplate.Name must be a non-empty string",
                     "IndexTemplate.IndexPatterns must be a non-empty list", "IndexTemplate.Shards must be an integer",
                     "warm < cold < delete"):
        assert expected in message


def test_the_endpoint_override_needs_the_test_switch():
    properties = base(Endpoint="http://127.0.0.1:9200")
    # WITHOUT the environment switch the override fails the deployment
    with pytest.raises(SetupError, match=f"honoured only when {ENDPOINT_OVERRIDE_ENV}=1"):
        parse(properties, {})
    # WITH it the base URL is the override
    assert parse(properties, {ENDPOINT_OVERRIDE_ENV: "1"}).base_url == "http://127.0.0.1:9200"


def test_a_domain_endpoint_with_a_scheme_is_refused():
    with pytest.raises(SetupError, match="DomainEndpoint must be a host name without scheme"):
        parse(base(DomainEndpoint=f"https://{ENDPOINT}"), {})


# --- security documents -------------------------------------------------------------------------
SECURITY = SecuritySettings("log_constructs_firehose_writer", ("arn:aws:iam::1:role/firehose",), ("logs*",),
                            "admin", "arn:aws:secretsmanager:eu-west-1:1:secret:admin", "arn:aws:iam::1:role/setup")


def test_writer_role_matches_what_opensearch_returns_for_it():
    # GIVEN the role as GET returns it: extra flags, empty fls/masked_fields, other order
    returned = {"reserved": False, "hidden": False, "static": False, "tenant_permissions": [],
                "cluster_permissions": ["cluster_monitor", "cluster_composite_ops"],
                "index_permissions": [{"index_patterns": ["logs*"], "fls": [], "masked_fields": [],
                                       "allowed_actions": ["manage", "crud", "create_index"]}]}
    desired = documents.writer_role(SECURITY)
    # THEN it matches; a missing action or another pattern does not
    assert documents.role_matches(returned, desired)
    returned["index_permissions"][0]["allowed_actions"].remove("manage")
    assert not documents.role_matches(returned, desired)
    assert not documents.role_matches(None, desired)


def test_merged_mapping_keeps_what_is_there_and_adds_ours():
    # GIVEN all_access mapped to the master role and a person's user
    existing = {"backend_roles": ["arn:master"], "users": ["alice"], "hosts": [], "and_backend_roles": []}
    # WHEN the admin user and master role are merged in
    merged = documents.merged_mapping(existing, backend_roles=("arn:master",), users=("admin",))
    # THEN nothing is dropped and the result is stable
    assert merged == {"backend_roles": ["arn:master"], "hosts": [], "users": ["admin", "alice"]}
    assert not documents.mapping_matches(existing, merged)
    assert documents.mapping_matches({**merged, "reserved": False, "and_backend_roles": []}, merged)


def test_admin_user_is_current_only_for_the_same_secret_version():
    body = documents.internal_user({"backend_roles": ["ops"], "attributes": {"team": "sre"}}, "pw", "v1")
    assert body == {"password": "pw", "backend_roles": ["ops"],
                    "attributes": {"team": "sre", documents.SECRET_VERSION_ATTRIBUTE: "v1"}}
    returned = {"hash": "", "attributes": body["attributes"], "backend_roles": ["ops"]}
    assert documents.user_is_current(returned, "v1")
    assert not documents.user_is_current(returned, "v2")
    assert not documents.user_is_current(None, "v1")


@pytest.mark.parametrize("secret_string, password", [
    ('{"username": "admin", "password": "Pa55-word!"}', "Pa55-word!"),
    ("Plain-Pa55-word!", "Plain-Pa55-word!"),
    ("12345678", "12345678"),  # valid JSON, but not an object: a plain password
])
def test_password_from_json_or_plain_secret(secret_string, password):
    assert documents.password_from_secret(secret_string) == password


def test_a_secret_without_password_fails_without_echoing_it():
    with pytest.raises(ValueError) as raised:
        documents.password_from_secret('{"username": "admin", "pass": "Leaky-Value-1"}')
    assert "Leaky-Value-1" not in str(raised.value)


# --- index template -----------------------------------------------------------------------------
TEMPLATE = IndexTemplateSettings("logs", ("logs*",), shards=2, replicas=1, field_limit=1500)


def test_index_template_maps_the_pipeline_fields():
    body = documents.index_template(TEMPLATE)
    mappings = body["template"]["mappings"]
    assert mappings["properties"]["@timestamp"] == {"type": "date"}
    for name in ("level", "log_group", "log_stream", "account", "app_name"):
        assert mappings["properties"][name] == {"type": "keyword"}
    assert mappings["properties"]["message"]["type"] == "text"
    assert mappings["properties"]["message"]["fields"]["keyword"] == {"type": "keyword", "ignore_above": 8191}
    assert mappings["dynamic_templates"][0]["strings_as_keyword"]["mapping"]["type"] == "keyword"
    assert body["template"]["settings"]["index"] == {
        "number_of_shards": 2, "number_of_replicas": 1, "mapping": {"total_fields": {"limit": 1500}}}
    assert body["index_patterns"] == ["logs*"]


def test_index_template_keeps_json_fields_unindexed_and_detects_no_dates():
    # GIVEN the template of a daily index that every application's log lines share
    mappings = documents.index_template(TEMPLATE)["template"]["mappings"]
    # THEN `json` maps nothing below it and adds nothing dynamically (kept in _source only),
    assert mappings["properties"]["json"] == {"type": "object", "dynamic": False}
    # the folded keys past the shipper's cap are full text, and no string becomes a date
    assert mappings["properties"]["json_overflow"] == {"type": "text"}
    assert mappings["date_detection"] is False


def test_index_template_with_json_unindexed_matches_what_opensearch_returns():
    # GIVEN the template as OpenSearch answers a GET: booleans of the mapping as strings
    desired = documents.index_template(TEMPLATE)
    returned = json.loads(json.dumps(desired))
    returned["template"]["mappings"]["properties"]["json"]["dynamic"] = "false"
    returned["template"]["mappings"]["date_detection"] = "false"
    # THEN it is the same template (no PUT on the next run); a json mapped dynamically is not
    assert documents.template_matches(returned, desired)
    returned["template"]["mappings"]["properties"]["json"]["dynamic"] = "true"
    assert not documents.template_matches(returned, desired)


def test_index_template_matches_the_flattened_string_settings_opensearch_returns():
    desired = documents.index_template(TEMPLATE)
    returned = json.loads(json.dumps(desired))
    returned["composed_of"] = []
    returned["template"]["settings"] = {"index": {"mapping": {"total_fields": {"limit": "1500"}},
                                                  "number_of_shards": "2", "number_of_replicas": "1"}}
    assert documents.template_matches(returned, desired)
    returned["template"]["settings"]["index"]["number_of_replicas"] = "2"
    assert not documents.template_matches(returned, desired)


# --- ISM ----------------------------------------------------------------------------------------
def test_ism_policy_delete_only():
    policy = documents.ism_policy(IsmSettings("p", ("logs*",), delete_after_days=14))
    assert [s["name"] for s in policy["states"]] == ["hot", "delete"]
    assert policy["states"][0]["transitions"] == [{"state_name": "delete", "conditions": {"min_index_age": "14d"}}]
    assert "delete" in policy["states"][1]["actions"][0] and policy["states"][1]["transitions"] == []
    assert policy["ism_template"] == [{"index_patterns": ["logs*"], "priority": 100}]


def test_ism_policy_hot_warm_cold_delete_uses_cold_delete():
    policy = documents.ism_policy(IsmSettings("p", ("logs*",), delete_after_days=365, warm_after_days=7,
                                              cold_after_days=30))
    names = [s["name"] for s in policy["states"]]
    assert names == ["hot", "warm", "cold", "delete"]
    ages = [s["transitions"][0]["conditions"]["min_index_age"] for s in policy["states"][:-1]]
    assert ages == ["7d", "30d", "365d"]
    assert "warm_migration" in policy["states"][1]["actions"][0]
    assert policy["states"][2]["actions"][0]["cold_migration"]["timestamp_field"] == "@timestamp"
    assert "cold_delete" in policy["states"][3]["actions"][0]


def test_ism_policy_matches_what_opensearch_returns():
    desired = documents.ism_policy(IsmSettings("p", ("logs*",), delete_after_days=30, warm_after_days=3))
    returned = json.loads(json.dumps(desired))
    returned.update(policy_id="p", last_updated_time=1, schema_version=21, error_notification=None)
    returned["ism_template"][0]["last_updated_time"] = 2
    assert documents.policy_matches(returned, desired)
    returned["states"][0]["transitions"][0]["conditions"]["min_index_age"] = "4d"
    assert not documents.policy_matches(returned, desired)


# --- saved objects ------------------------------------------------------------------------------
DASHBOARDS = DashboardsSettings("logs*")


def test_saved_objects_have_stable_ids_and_consistent_references():
    objects = saved_objects.saved_objects(DASHBOARDS)
    ids = {(o["type"], o["id"]) for o in objects}
    assert len(ids) == len(objects) == 6
    assert objects == saved_objects.saved_objects(DashboardsSettings("logs*"))  # stable
    for o in objects:
        for reference in o["references"]:
            assert (reference["type"], reference["id"]) in ids
    dashboard = next(o for o in objects if o["type"] == "dashboard")
    panel_refs = {p["panelRefName"] for p in json.loads(dashboard["attributes"]["panelsJSON"])}
    assert panel_refs == {r["name"] for r in dashboard["references"]}
    pattern = next(o for o in objects if o["type"] == "index-pattern")
    assert pattern["attributes"] == {"title": "logs*", "timeFieldName": "@timestamp"}
    search = next(o for o in objects if o["type"] == "search")
    assert "ERROR" in search["attributes"]["kibanaSavedObjectMeta"]["searchSourceJSON"]


def test_saved_object_comparison_ignores_what_dashboards_adds():
    pattern = saved_objects.saved_objects(DASHBOARDS)[0]
    stored = {**pattern, "attributes": {**pattern["attributes"], "fields": "[...]"}, "version": "W/1"}
    assert saved_objects.object_matches(stored, pattern)
    assert not saved_objects.object_matches({**stored, "attributes": {"title": "other*"}}, pattern)
    assert not saved_objects.object_matches({"id": pattern["id"], "type": "index-pattern",
                                             "error": {"statusCode": 404}}, pattern)
