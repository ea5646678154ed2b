"""LogPipeline's index set-up props: what reaches the set-up custom resource, and validation."""
from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk import aws_opensearchservice as opensearch
from aws_cdk.assertions import Template

from log_constructs import LogPipeline
from log_constructs import PropError


def _stack() -> cdk.Stack:
    return cdk.Stack(cdk.App(), "Test", env=cdk.Environment(account="111122223333", region="eu-west-1"))


def _setup_properties(template: Template) -> dict:
    resource = next(iter(template.find_resources("Custom::OpenSearchSetup").values()))
    return resource["Properties"]


@pytest.fixture(scope="module")
def defaults() -> Template:
    """The one synthesis of this module: a pipeline with the default index set-up."""
    stack = _stack()
    LogPipeline(stack, "Defaults", index="app-logs")
    return Template.from_stack(stack)


def test_defaults_apply_template_lifecycle_and_dashboards_to_the_index_pattern(defaults):
    # GIVEN a single-node pipeline with defaults / WHEN synthesized
    props = _setup_properties(defaults)
    # THEN the custom resource gets all three parts for app-logs*, with 0 replicas on one node
    assert props["IndexTemplate"] == {"Name": "app-logs", "IndexPatterns": ["app-logs*"], "Shards": 1,
                                      "Replicas": 0, "FieldLimit": 2000}
    assert props["IsmPolicy"] == {"PolicyId": "app-logs-lifecycle", "IndexPatterns": ["app-logs*"],
                                  "DeleteAfterDays": 30}
    assert props["Dashboards"] == {"IndexPattern": "app-logs*", "TimeField": "@timestamp"}
    assert props["Security"]["IndexPatterns"] == ["app-logs*"]


def test_numbers_and_tiers_are_passed_through():
    # GIVEN a three-node pipeline with every number set (the wiring into the resource is shown above)
    pipeline = LogPipeline(_stack(), "Logs", index="audit", data_nodes=3, zone_awareness_azs=3, index_shards=3,
                           index_replicas=2, index_field_limit=5000, index_delete_after_days=400,
                           index_warm_after_days=30, index_cold_after_days=90, dashboards_saved_objects=False)
    # WHEN its set-up properties are rendered THEN they carry those numbers and no Dashboards part
    props = pipeline.index_setup.properties(pipeline.index)
    assert props["IndexTemplate"] == {"Name": "audit", "IndexPatterns": ["audit*"], "Shards": 3, "Replicas": 2,
                                      "FieldLimit": 5000}
    assert props["IsmPolicy"] == {"PolicyId": "audit-lifecycle", "IndexPatterns": ["audit*"],
                                  "DeleteAfterDays": 400, "WarmAfterDays": 30, "ColdAfterDays": 90}
    assert "Dashboards" not in props


def test_each_part_can_be_turned_off():
    pipeline = LogPipeline(_stack(), "Logs", index_template=False, index_lifecycle=False,
                           dashboards_saved_objects=False)
    assert pipeline.index_setup.properties(pipeline.index) == {}


@pytest.mark.parametrize("props, message", [
    ({"index_shards": 0}, "LogPipeline: index_shards must be between 1 and 1024, got 0"),
    ({"index_replicas": 1}, "LogPipeline: index_replicas must be at most data_nodes - 1 (0)"),
    ({"index_field_limit": 50}, "LogPipeline: index_field_limit must be between 100 and 100000, got 50"),
    ({"index_delete_after_days": 0}, "LogPipeline: index_delete_after_days must be between 1 and 36500 days"),
    ({"index_cold_after_days": 10}, "LogPipeline: index_cold_after_days needs index_warm_after_days"),
    ({"index_warm_after_days": 40, "index_delete_after_days": 30},
     "LogPipeline: index_delete_after_days must come after the warm and cold transitions"),
    ({"index_warm_after_days": 10, "index_cold_after_days": 5, "index_delete_after_days": 30},
     "LogPipeline: index_delete_after_days must come after the warm and cold transitions"),
])
def test_invalid_index_props_name_the_prop(props, message):
    with pytest.raises(PropError) as raised:
        LogPipeline(_stack(), "Logs", **props)
    assert str(raised.value).startswith(message)


def test_index_props_with_your_own_domain_are_refused():
    stack = _stack()
    domain = opensearch.Domain.from_domain_endpoint(stack, "Own", "https://search-own-abc.eu-west-1.es.amazonaws.com")
    with pytest.raises(PropError, match="index_delete_after_days applies only to a domain this construct creates"):
        LogPipeline(stack, "Logs", domain=domain, index_delete_after_days=10)
    # Turning the parts off, or leaving them unset, is fine with your own domain.
    LogPipeline(stack, "Logs2", domain=domain, index_lifecycle=False)
