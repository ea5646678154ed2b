"""LogPipeline with sink=ServerlessSink(...): the collection group, the collection, every policy, delivery,
set-up, alarms, and the props a collection cannot honour refused by name."""
from __future__ import annotations

import json

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_opensearchservice as opensearch
from aws_cdk.assertions import Match, Template

from log_constructs import LogPipeline, PropError, ServerlessSink
from log_constructs.pipeline.serverless import REFUSED_WITH_SERVERLESS, SETUP_COLLECTION_PERMISSIONS
from opensearch_setup.contract import ENV_INDEX_SETUP, ENV_SERVICE
from tests.support.iam import role_statements

ACCOUNT = "111122223333"
READER_ARN = "arn:aws:iam::111122223333:role/LogReaders"


def _stack(id: str = "Test") -> cdk.Stack:
    return cdk.Stack(cdk.App(), id, env=cdk.Environment(account=ACCOUNT, region="eu-west-1"))


def _resolved(template: Template, value) -> str:
    """A policy string, with Fn::Join parts written as their logical ids (``<Key:Arn>``)."""
    if isinstance(value, str):
        return value
    parts = value["Fn::Join"][1]
    return "".join(p if isinstance(p, str) else f"<{p['Fn::GetAtt'][0]}:{p['Fn::GetAtt'][1]}>"
                   if "Fn::GetAtt" in p else f"<{p.get('Ref')}>" for p in parts)


def _loads(template: Template, resource: dict) -> object:
    text = _resolved(template, resource["Properties"]["Policy"])
    return json.loads(text)


def _one(template: Template, resource_type: str, policy_type: str) -> object:
    (resource,) = [r for r in template.find_resources(resource_type).values()
                   if r["Properties"]["Type"] == policy_type]
    return _loads(template, resource)


@pytest.fixture(scope="module")
def public() -> tuple[LogPipeline, Template]:
    stack = _stack()
    pipeline = LogPipeline(stack, "Logs", sink=ServerlessSink())
    return pipeline, Template.from_stack(stack)


@pytest.fixture(scope="module")
def in_vpc() -> tuple[LogPipeline, Template]:
    stack = _stack("Vpc")
    vpc = ec2.Vpc(stack, "Vpc", max_azs=2)
    readers = iam.Role(stack, "Readers", assumed_by=iam.AccountRootPrincipal())
    pipeline = LogPipeline(stack, "Logs", vpc=vpc, index="app-logs", index_delete_after_days=90,
                           sink=ServerlessSink(max_indexing_ocu=8, min_search_ocu=1, readers=[readers, READER_ARN]))
    return pipeline, Template.from_stack(stack)


def test_the_collection_group_is_nextgen_with_no_idle_compute(public):
    # GIVEN the serverless sink with defaults / WHEN synthesized / THEN compute may scale to zero, capped at 4 OCUs
    _, template = public
    template.has_resource_properties("AWS::OpenSearchServerless::CollectionGroup", {
        "Generation": "NEXTGEN",
        "CapacityLimits": {"MinIndexingCapacityInOcu": 0, "MinSearchCapacityInOcu": 0,
                           "MaxIndexingCapacityInOcu": 4, "MaxSearchCapacityInOcu": 4},
    })


def test_the_capacity_limits_are_props(in_vpc):
    _, template = in_vpc
    template.has_resource_properties("AWS::OpenSearchServerless::CollectionGroup", {
        "CapacityLimits": {"MinIndexingCapacityInOcu": 0, "MinSearchCapacityInOcu": 1,
                           "MaxIndexingCapacityInOcu": 8, "MaxSearchCapacityInOcu": 4}})


def test_the_collection_is_a_retained_time_series_collection_in_the_group_after_its_policies(public):
    pipeline, template = public
    (logical_id, collection), = template.find_resources("AWS::OpenSearchServerless::Collection").items()
    assert collection["Properties"]["Type"] == "TIMESERIES"
    assert collection["Properties"]["CollectionGroupName"] == pipeline.collection.name
    assert collection["DeletionPolicy"] == "Retain"
    depends = set(collection["DependsOn"])
    assert {k for k in template.find_resources("AWS::OpenSearchServerless::SecurityPolicy")} <= depends
    # No provisioned domain, no admin secret: nothing of the domain sink is created.
    assert not template.find_resources("AWS::OpenSearchService::Domain")
    assert not template.find_resources("AWS::SecretsManager::Secret")
    assert pipeline.domain is None and pipeline.admin_secret is None


def test_the_encryption_policy_uses_the_pipelines_customer_managed_key(public):
    pipeline, template = public
    policy = _one(template, "AWS::OpenSearchServerless::SecurityPolicy", "encryption")
    key_id = next(iter(template.find_resources("AWS::KMS::Key")))
    assert policy == {"Rules": [{"ResourceType": "collection", "Resource": [f"collection/{pipeline.collection.name}"]}],
                      "AWSOwnedKey": False, "KmsARN": f"<{key_id}:Arn>"}


def test_without_a_vpc_the_collection_endpoint_is_public_and_dashboards_closed(public):
    pipeline, template = public
    (rule,) = _one(template, "AWS::OpenSearchServerless::SecurityPolicy", "network")
    assert rule == {"Rules": [{"ResourceType": "collection", "Resource": [f"collection/{pipeline.collection.name}"]}],
                    "AllowFromPublic": True}
    assert not template.find_resources("AWS::OpenSearchServerless::VpcEndpoint")


def test_with_a_vpc_the_collection_and_dashboards_are_reachable_through_its_endpoint_only(in_vpc):
    pipeline, template = in_vpc
    (endpoint_id, endpoint), = template.find_resources("AWS::OpenSearchServerless::VpcEndpoint").items()
    assert len(endpoint["Properties"]["SubnetIds"]) >= 1
    (rule,) = _one(template, "AWS::OpenSearchServerless::SecurityPolicy", "network")
    name = pipeline.collection.name
    assert rule == {"Rules": [{"ResourceType": "collection", "Resource": [f"collection/{name}"]},
                              {"ResourceType": "dashboard", "Resource": [f"collection/{name}"]}],
                    "AllowFromPublic": False, "SourceVPCEs": [f"<{endpoint_id}:Id>"]}
    # Firehose's ENIs sit in the endpoint's security group and subnets.
    stream = next(iter(template.find_resources("AWS::KinesisFirehose::DeliveryStream").values()))
    vpc_config = stream["Properties"]["AmazonOpenSearchServerlessDestinationConfiguration"]["VpcConfiguration"]
    assert vpc_config["SecurityGroupIds"] == endpoint["Properties"]["SecurityGroupIds"]


def test_the_data_access_policy_gives_each_principal_one_job_and_nobody_public(public):
    pipeline, template = public
    name = pipeline.collection.name
    statements = _one(template, "AWS::OpenSearchServerless::AccessPolicy", "data")
    by_principal = {s["Principal"][0]: s["Rules"] for s in statements}
    writer = f"<{template_logical(template, 'LogsDeliveryRole', 'AWS::IAM::Role')}:Arn>"
    setup = f"<{template_logical(template, 'LogsCollectionSetupFunctionRole', 'AWS::IAM::Role')}:Arn>"
    assert by_principal == {
        writer: [{"ResourceType": "index", "Resource": [f"index/{name}/logs*"],
                  "Permission": ["aoss:CreateIndex", "aoss:UpdateIndex", "aoss:WriteDocument"]}],
        setup: [{"ResourceType": "collection", "Resource": [f"collection/{name}"],
                 "Permission": list(SETUP_COLLECTION_PERMISSIONS)}],
    }
    assert "*" not in json.dumps(statements).replace("logs*", "")


def test_readers_may_read_the_index_only(in_vpc):
    pipeline, template = in_vpc
    name = pipeline.collection.name
    statements = _one(template, "AWS::OpenSearchServerless::AccessPolicy", "data")
    (reader,) = [s for s in statements if READER_ARN in s["Principal"]]
    assert len(reader["Principal"]) == 2
    assert reader["Rules"] == [
        {"ResourceType": "index", "Resource": [f"index/{name}/app-logs*"],
         "Permission": ["aoss:DescribeIndex", "aoss:ReadDocument"]},
        {"ResourceType": "collection", "Resource": [f"collection/{name}"],
         "Permission": ["aoss:DescribeCollectionItems"]}]
    statements = role_statements(template, "Readers")
    assert {"Sid": "ReadLogCollection", "Effect": "Allow", "Action": ["aoss:APIAccessAll", "aoss:DashboardsAccessAll"],
            "Resource": {"Fn::GetAtt": [template_logical(template, "LogsCollection", "AWS::OpenSearchServerless::Collection"),
                                        "Arn"]}} in statements


def template_logical(template: Template, prefix: str, resource_type: str) -> str:
    (logical_id,) = [k for k in template.find_resources(resource_type) if k.startswith(prefix)]
    return logical_id


def test_the_lifecycle_policy_replaces_ism(public, in_vpc):
    for (pipeline, template), days, index in ((public, 30, "logs"), (in_vpc, 90, "app-logs")):
        rules = _one(template, "AWS::OpenSearchServerless::LifecyclePolicy", "retention")
        assert rules == {"Rules": [{"ResourceType": "index", "Resource": [f"index/{pipeline.collection.name}/{index}*"],
                                    "MinIndexRetention": f"{days}d"}]}


def test_no_lifecycle_policy_when_index_lifecycle_is_off():
    stack = _stack()
    LogPipeline(stack, "Logs", sink=ServerlessSink(), index_lifecycle=False)
    assert not Template.from_stack(stack).find_resources("AWS::OpenSearchServerless::LifecyclePolicy")


def test_firehose_delivers_to_the_collection_with_the_s3_backup(public):
    _, template = public
    collection = template_logical(template, "LogsCollection", "AWS::OpenSearchServerless::Collection")
    template.has_resource_properties("AWS::KinesisFirehose::DeliveryStream", {
        "DeliveryStreamEncryptionConfigurationInput": {"KeyType": "CUSTOMER_MANAGED_CMK", "KeyARN": Match.any_value()},
        "AmazonOpenSearchServerlessDestinationConfiguration": Match.object_like({
            "CollectionEndpoint": {"Fn::GetAtt": [collection, "CollectionEndpoint"]},
            "IndexName": "logs",
            "S3BackupMode": "AllDocuments",
            "S3Configuration": Match.object_like({"CompressionFormat": "GZIP", "EncryptionConfiguration": Match.any_value()}),
        }),
    })
    stream = next(iter(template.find_resources("AWS::KinesisFirehose::DeliveryStream").values()))
    assert "IndexRotationPeriod" not in stream["Properties"]["AmazonOpenSearchServerlessDestinationConfiguration"]
    assert collection in stream["DependsOn"]


def test_iam_lets_firehose_and_the_setup_function_call_this_collection_only(public):
    _, template = public
    collection = template_logical(template, "LogsCollection", "AWS::OpenSearchServerless::Collection")
    expected = {"Sid": "CallLogCollection", "Effect": "Allow", "Action": "aoss:APIAccessAll",
                "Resource": {"Fn::GetAtt": [collection, "Arn"]}}
    for role in ("LogsDeliveryRole", "LogsCollectionSetupFunctionRole"):
        statements = role_statements(template, role)
        assert expected in statements
        assert not any(str(s.get("Action")).startswith("es:") for s in statements)


def test_the_setup_custom_resource_puts_only_the_index_template_signed_for_aoss(public):
    _, template = public
    (props,) = [r["Properties"] for r in template.find_resources("Custom::OpenSearchSetup").values()]
    assert props["IndexTemplate"] == {"Name": "logs", "IndexPatterns": ["logs*"]}
    assert not {"Security", "IsmPolicy", "Dashboards"} & set(props)
    function = next(f for k, f in template.find_resources("AWS::Lambda::Function").items()
                    if k.startswith("LogsCollectionSetupFunction"))
    env = function["Properties"]["Environment"]["Variables"]
    assert env[ENV_SERVICE] == "aoss"
    assert json.loads(_resolved(template, env[ENV_INDEX_SETUP])) == {"IndexTemplate": props["IndexTemplate"]}


def test_alarms_watch_ocu_limits_indexing_errors_and_delivery(public):
    pipeline, template = public
    ids = {alarm.node.id for alarm in pipeline.alarms}
    assert {"IndexingCapacityAlarm", "SearchCapacityAlarm", "IndexingErrorsAlarm", "DocumentErrorsAlarm",
            "DeliverySuccessAlarm", "DataFreshnessAlarm"} <= ids
    assert not {"ClusterRedAlarm", "FreeStorageAlarm"} & ids
    # the OCUs of the collection's group: ClientId alone would count only collections outside any group
    (group_id,) = template.find_resources("AWS::OpenSearchServerless::CollectionGroup")
    for metric_name in ("IndexingOCU", "SearchOCU"):
        template.has_resource_properties("AWS::CloudWatch::Alarm", {
            "Namespace": "AWS/AOSS", "MetricName": metric_name, "Threshold": 4,
            "Dimensions": Match.array_equals([
                {"Name": "ClientId", "Value": ACCOUNT},
                {"Name": "CollectionGroupId", "Value": {"Fn::GetAtt": [group_id, "Id"]}},
                {"Name": "CollectionGroupName", "Value": pipeline.collection.name}])})
    template.has_resource_properties("AWS::CloudWatch::Alarm", {
        "Namespace": "AWS/Firehose", "MetricName": "DeliveryToAmazonOpenSearchServerless.Success"})
    rows = pipeline.dashboard_widgets(period=cdk.Duration.minutes(5))
    assert len(rows) == 5 and rows[-1].title == "Redaction"
    with pytest.raises(ValueError, match="metric_cluster_status_red is a domain metric"):
        pipeline.metric_cluster_status_red()


# One valid domain-only value per refused prop: each must be refused with its name and the reason.
REFUSED_VALUES = {
    "engine_version": opensearch.EngineVersion.OPENSEARCH_2_19, "data_node_instance_type": "r6g.large.search",
    "data_nodes": 3, "volume_gib": 100, "master_nodes": 3, "master_node_instance_type": "m7g.large.search",
    "zone_awareness_azs": 3, "free_storage_alarm_mib": 1024, "index_rotation": "day", "index_shards": 2,
    "index_replicas": 1, "index_field_limit": 3000, "index_warm_after_days": 7, "index_cold_after_days": 14,
    "dashboards_saved_objects": True,
}


@pytest.mark.parametrize("prop", sorted(REFUSED_WITH_SERVERLESS))
def test_every_prop_a_collection_cannot_honour_is_refused_by_name(prop):
    stack = _stack()
    value = (opensearch.Domain.from_domain_endpoint(stack, "Own", "https://search-x.eu-west-1.es.amazonaws.com")
             if prop == "domain" else REFUSED_VALUES[prop])
    with pytest.raises(PropError) as raised:
        LogPipeline(stack, "Logs", sink=ServerlessSink(), **{prop: value})
    message = str(raised.value)
    assert message.startswith(f"LogPipeline: {prop} cannot be used with sink=ServerlessSink(...) (")
    assert REFUSED_WITH_SERVERLESS[prop] in message


def test_every_refused_prop_has_a_sample_value():
    assert set(REFUSED_WITH_SERVERLESS) - {"domain"} == set(REFUSED_VALUES)


@pytest.mark.parametrize("sink, message", [
    (ServerlessSink(min_indexing_ocu=-1), "sink.min_indexing_ocu must be 0 or more in steps of 0.5 OCU"),
    (ServerlessSink(max_search_ocu=0), "sink.max_search_ocu must be at least 1 OCU"),
    (ServerlessSink(min_search_ocu=6, max_search_ocu=4), "sink.min_search_ocu must not exceed sink.max_search_ocu (4)"),
    (ServerlessSink(max_indexing_ocu=1.3), "sink.max_indexing_ocu must be at least 1 OCU, in steps of 0.5"),
    (ServerlessSink(collection_name="Logs_1"), "sink.collection_name must be 3-28 characters"),
])
def test_bad_sink_props_are_refused_by_name(sink, message):
    with pytest.raises(PropError, match=message.replace("(", r"\(").replace(")", r"\)")):
        LogPipeline(_stack(), "Logs", sink=sink)


def test_a_sink_of_another_type_is_refused():
    with pytest.raises(PropError, match="LogPipeline: sink must be a ServerlessSink"):
        LogPipeline(_stack(), "Logs", sink="serverless")  # type: ignore[arg-type]


def test_bulk_delivery_is_refused_with_the_serverless_sink():
    # GIVEN bulk mode (the shipper's _bulk writes with _id = the event id) / THEN refused by name with why
    with pytest.raises(PropError, match=r"LogPipeline: delivery_mode must be 'firehose' with sink=ServerlessSink"):
        LogPipeline(_stack(), "Logs", sink=ServerlessSink(), delivery_mode="bulk")


# Metrics AWS/AOSS publishes (Amazon OpenSearch Service developer guide, "Monitoring OpenSearch Serverless with
# Amazon CloudWatch"); there is no throttling metric, throttled requests count as 4xx.
DOCUMENTED_AOSS_METRICS = {"IndexingOCU", "SearchOCU", "IngestionRequestErrors", "IngestionDocumentErrors", "4xx",
                           "5xx", "2xx", "3xx", "SearchRequestErrors", "IngestionRequestRate", "IngestionDocumentRate"}


def test_no_alarm_relies_on_a_metric_aws_does_not_publish(public):
    _, template = public
    names = {a["Properties"]["MetricName"] for a in template.find_resources("AWS::CloudWatch::Alarm").values()
             if a["Properties"].get("Namespace") == "AWS/AOSS"}
    assert names and names <= DOCUMENTED_AOSS_METRICS
    assert not any("hrottl" in name for name in names)


@pytest.fixture(scope="module")
def classic() -> tuple[LogPipeline, Template]:
    stack = _stack("Classic")
    pipeline = LogPipeline(stack, "Logs", sink=ServerlessSink(generation="classic"))
    return pipeline, Template.from_stack(stack)


def test_the_classic_generation_creates_the_collection_without_a_group(classic):
    pipeline, template = classic
    assert not template.find_resources("AWS::OpenSearchServerless::CollectionGroup")
    (collection,) = template.find_resources("AWS::OpenSearchServerless::Collection").values()
    assert collection["Properties"]["Type"] == "TIMESERIES" and "CollectionGroupName" not in collection["Properties"]
    assert pipeline.collection.group is None and pipeline.collection.limits == {}
    # THEN the OCU metrics are the account's for collections outside any group, and no alarm assumes a limit
    assert pipeline.metric_indexing_ocu().dimensions == {"ClientId": ACCOUNT}
    ids = {alarm.node.id for alarm in pipeline.alarms}
    assert not {"IndexingCapacityAlarm", "SearchCapacityAlarm"} & ids
    assert {"IndexingErrorsAlarm", "DocumentErrorsAlarm"} <= ids
    rows = pipeline.dashboard_widgets(period=cdk.Duration.minutes(5))
    assert len(rows) == 5 and rows[-1].title == "Redaction"


@pytest.mark.parametrize("sink, message", [
    (ServerlessSink(generation="classic", max_indexing_ocu=8),
     "LogPipeline: sink.max_indexing_ocu applies to generation='nextgen' only (it sets the collection group's "
     "limit; a classic collection has no group and uses the account-level capacity limits), got 8"),
    (ServerlessSink(generation="NEXTGEN"), "LogPipeline: sink.generation must be one of 'nextgen', 'classic', "
                                           "got 'NEXTGEN'"),
])
def test_generation_props_are_checked_by_name(sink, message):
    with pytest.raises(PropError) as raised:
        LogPipeline(_stack(), "Logs", sink=sink)
    assert str(raised.value) == message
