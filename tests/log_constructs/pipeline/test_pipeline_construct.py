"""LogPipeline: secure defaults, overrides, bring-your-own resources, scoped IAM, prop validation."""
from __future__ import annotations

import json
import re

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch_actions as cw_actions
import pytest
from aws_cdk import aws_logs as logs
from aws_cdk import aws_opensearchservice as opensearch
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Match, Template

from log_constructs import LogPipeline
from log_constructs._private.subscriptions import PIPELINE_FILTER_NAME
from log_constructs import PropError
from tests.support.cfn import joined as _joined
from tests.support.iam import role_statements


def _stack() -> cdk.Stack:
    return cdk.Stack(cdk.App(), "Test", env=cdk.Environment(account="111122223333", region="eu-west-1"))


@pytest.fixture(scope="module")
def default() -> tuple[LogPipeline, Template]:
    stack = _stack()
    pipeline = LogPipeline(stack, "Logs")
    app_logs = logs.LogGroup(stack, "AppLogs")
    pipeline.add_log_group(app_logs, filter_pattern=logs.FilterPattern.literal('{ $.level = "ERROR" }'))
    return pipeline, Template.from_stack(stack)


def _statements(template: Template, role_logical_prefix: str) -> list[dict]:
    return role_statements(template, role_logical_prefix)


def test_domain_is_encrypted_tls_only_with_fine_grained_access(default):
    # GIVEN a pipeline with defaults / WHEN synthesized / THEN the domain has every secure default
    _, template = default
    template.has_resource("AWS::OpenSearchService::Domain", {
        "DeletionPolicy": "Retain",
        "Properties": Match.object_like({
            "EngineVersion": "OpenSearch_2.19",
            "EncryptionAtRestOptions": {"Enabled": True, "KmsKeyId": Match.any_value()},
            "NodeToNodeEncryptionOptions": {"Enabled": True},
            "DomainEndpointOptions": {"EnforceHTTPS": True, "TLSSecurityPolicy": "Policy-Min-TLS-1-2-PFS-2023-10"},
            "AdvancedSecurityOptions": Match.object_like({
                "Enabled": True,
                "InternalUserDatabaseEnabled": True,
                "MasterUserOptions": {"MasterUserName": "admin", "MasterUserPassword": {"Fn::Join": ["", [
                    "{{resolve:secretsmanager:", {"Ref": Match.string_like_regexp("LogsAdminUserSecret")},
                    ":SecretString:::}}"]]}},
            }),
            "EBSOptions": Match.object_like({"EBSEnabled": True, "VolumeType": "gp3", "VolumeSize": 10}),
            "ClusterConfig": Match.object_like({"InstanceType": "t3.small.search", "InstanceCount": 1,
                                                "ZoneAwarenessEnabled": False}),
        }),
    })
    domain = next(iter(template.find_resources("AWS::OpenSearchService::Domain").values()))
    assert set(domain["Properties"]["LogPublishingOptions"]) == {
        "SEARCH_SLOW_LOGS", "INDEX_SLOW_LOGS", "ES_APPLICATION_LOGS", "AUDIT_LOGS"}


def test_domain_log_groups_are_encrypted_with_retention(default):
    _, template = default
    groups = {k: v for k, v in template.find_resources("AWS::Logs::LogGroup").items() if k.startswith("Logs")}
    assert len(groups) >= 7 and all(g["Properties"].get("KmsKeyId") and g["Properties"].get("RetentionInDays") for g in groups.values())
    assert all(g["DeletionPolicy"] == "Retain" for g in groups.values())


def test_delivery_stream_defaults(default):
    _, template = default
    template.has_resource_properties("AWS::KinesisFirehose::DeliveryStream", {
        "DeliveryStreamType": "DirectPut",
        "DeliveryStreamEncryptionConfigurationInput": {"KeyType": "CUSTOMER_MANAGED_CMK", "KeyARN": Match.any_value()},
        "AmazonopensearchserviceDestinationConfiguration": Match.object_like({
            "IndexName": "logs",
            "IndexRotationPeriod": "OneDay",
            "RetryOptions": {"DurationInSeconds": 300},
            "BufferingHints": {"IntervalInSeconds": 60, "SizeInMBs": 5},
            "S3BackupMode": "AllDocuments",
            "CloudWatchLoggingOptions": Match.object_like({"Enabled": True}),
            "S3Configuration": Match.object_like({
                "CompressionFormat": "GZIP",
                "EncryptionConfiguration": {"KMSEncryptionConfig": {"AWSKMSKeyARN": Match.any_value()}},
            }),
        }),
    })


def test_backup_bucket_is_locked_down(default):
    _, template = default
    template.has_resource("AWS::S3::Bucket", {
        "DeletionPolicy": "Retain",
        "Properties": Match.object_like({
            "BucketEncryption": {"ServerSideEncryptionConfiguration": [Match.object_like({
                "BucketKeyEnabled": True,
                "ServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": Match.any_value()}})]},
            "PublicAccessBlockConfiguration": {"BlockPublicAcls": True, "BlockPublicPolicy": True,
                                               "IgnorePublicAcls": True, "RestrictPublicBuckets": True},
            "VersioningConfiguration": {"Status": "Enabled"},
            "LoggingConfiguration": Match.object_like({"DestinationBucketName": Match.any_value()}),
            "LifecycleConfiguration": {"Rules": [Match.object_like({
                "ExpirationInDays": 365,
                "Transitions": [{"StorageClass": "STANDARD_IA", "TransitionInDays": 30},
                                {"StorageClass": "GLACIER", "TransitionInDays": 90}],
            })]},
        }),
    })
    # TLS only
    policies = template.find_resources("AWS::S3::BucketPolicy")
    denies = [s for p in policies.values() for s in p["Properties"]["PolicyDocument"]["Statement"] if s["Effect"] == "Deny"]
    assert any(s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}} for s in denies)
    assert any("s3:TlsVersion" in json.dumps(s["Condition"]) for s in denies)


def test_keys_rotate_and_are_retained(default):
    _, template = default
    keys = template.find_resources("AWS::KMS::Key")
    assert keys and all(k["Properties"]["EnableKeyRotation"] and k["DeletionPolicy"] == "Retain" for k in keys.values())


def test_delivery_role_is_scoped_to_the_domain_index_and_bucket(default):
    _, template = default
    statements = _statements(template, "LogsDeliveryRole")
    resources = json.dumps([s["Resource"] for s in statements])
    assert '"*"' not in resources
    write = next(s for s in statements if "es:ESHttpPut" in s["Action"])
    assert "/logs*" in json.dumps(write["Resource"])
    assert all(a.startswith(("es:", "s3:", "kms:", "logs:")) for s in statements for a in _list(s["Action"]))


def test_shipper_may_only_put_to_its_stream_and_queue(default):
    _, template = default
    statements = _statements(template, "LogsShipperRole")
    put = next(s for s in statements if "firehose:PutRecordBatch" in _list(s["Action"]))
    assert put["Resource"] == {"Fn::GetAtt": [Match.any_value(), "Arn"]} or "DeliveryStream" in json.dumps(put["Resource"])
    wildcard = [s for s in statements if s["Resource"] == "*"]
    assert all(set(_list(s["Action"])) <= {"xray:PutTraceSegments", "xray:PutTelemetryRecords"} for s in wildcard)


def test_shipper_function_and_its_failure_path(default):
    _, template = default
    template.has_resource_properties("AWS::Lambda::Function", {
        "Handler": "log_shipper.handler.handler",
        "Runtime": "python3.13",
        "Architectures": ["arm64"],
        "TracingConfig": {"Mode": "Active"},
        "LoggingConfig": Match.object_like({"LogFormat": "JSON", "LogGroup": Match.any_value()}),
        "Environment": {"Variables": Match.object_like({
            "DELIVERY_STREAM_NAME": Match.any_value(), "DEAD_LETTER_QUEUE_URL": Match.any_value()})},
    })
    template.has_resource_properties("AWS::Lambda::EventInvokeConfig", {
        "MaximumRetryAttempts": 2,
        "DestinationConfig": {"OnFailure": {"Destination": {"Fn::GetAtt": [Match.string_like_regexp("ShipperDeadLetterQueue"), "Arn"]}}},
    })
    template.has_resource_properties("AWS::SQS::Queue", {"KmsMasterKeyId": Match.any_value()})


def test_subscription_uses_the_project_filter_name_and_a_scoped_permission(default):
    _, template = default
    template.has_resource_properties("AWS::Logs::SubscriptionFilter", {
        "FilterName": PIPELINE_FILTER_NAME, "FilterPattern": '{ $.level = "ERROR" }'})
    template.has_resource_properties("AWS::Lambda::Permission", {
        "Principal": "logs.amazonaws.com",
        "SourceAccount": "111122223333", "SourceArn": {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":logs:eu-west-1:111122223333:log-group:*"]]},
    })


def test_setup_custom_resource_maps_the_firehose_role(default):
    _, template = default
    resource = next(iter(template.find_resources("Custom::OpenSearchSetup").values()))
    security = resource["Properties"]["Security"]
    assert security["WriterBackendRoles"] == [{"Fn::GetAtt": [Match.any_value(), "Arn"]}] or \
        "LogsDeliveryRole" in json.dumps(security["WriterBackendRoles"])
    assert security["IndexPatterns"] == ["logs*"]
    assert "AdminSecretArn" in security and "Password" not in json.dumps(resource)


def test_alarms_cover_delivery_cluster_shipper_and_queue(default):
    _, template = default
    alarms = template.find_resources("AWS::CloudWatch::Alarm")
    metrics = {a["Properties"]["MetricName"] for a in alarms.values()}
    assert {"DeliveryToAmazonOpenSearchService.Success", "DeliveryToAmazonOpenSearchService.DataFreshness",
            "ClusterStatus.red", "ClusterStatus.yellow", "FreeStorageSpace", "JVMMemoryPressure", "Errors",
            "ApproximateNumberOfMessagesVisible"} <= metrics
    free = next(a for a in alarms.values() if a["Properties"]["MetricName"] == "FreeStorageSpace")
    assert free["Properties"]["Threshold"] == 2560  # 25% of 10 GiB, in MiB


def test_overrides_and_alarm_actions():
    stack = _stack()
    topic = sns.Topic(stack, "Topic")
    LogPipeline(stack, "Logs", index="app-logs", index_rotation="hour", retry_seconds=60, buffer_interval_seconds=10,
                buffer_mib=1, backup_mode="failed", zone_awareness_azs=2, volume_gib=20, master_nodes=3,
                alarm_actions=[cw_actions.SnsAction(topic)])
    template = Template.from_stack(stack)
    template.has_resource_properties("AWS::KinesisFirehose::DeliveryStream", {
        "AmazonopensearchserviceDestinationConfiguration": Match.object_like({
            "IndexName": "app-logs", "IndexRotationPeriod": "OneHour", "RetryOptions": {"DurationInSeconds": 60},
            "BufferingHints": {"IntervalInSeconds": 10, "SizeInMBs": 1}, "S3BackupMode": "FailedDocumentsOnly"})})
    template.has_resource_properties("AWS::OpenSearchService::Domain", {"ClusterConfig": Match.object_like({
        "ZoneAwarenessEnabled": True, "InstanceCount": 2, "DedicatedMasterEnabled": True, "DedicatedMasterCount": 3,
        "ZoneAwarenessConfig": {"AvailabilityZoneCount": 2}})})
    alarms = template.find_resources("AWS::CloudWatch::Alarm")
    assert all(a["Properties"]["AlarmActions"] == [{"Ref": Match.any_value()}] or a["Properties"]["AlarmActions"]
               for a in alarms.values())


def test_bring_your_own_domain_and_bucket():
    # GIVEN an existing domain and bucket / WHEN the pipeline uses them / THEN it creates neither nor the setup
    stack = _stack()
    domain = opensearch.Domain.from_domain_endpoint(stack, "Existing", "https://search-existing-abc.eu-west-1.es.amazonaws.com")
    bucket = s3.Bucket.from_bucket_name(stack, "Backups", "my-backups")
    pipeline = LogPipeline(stack, "Logs", domain=domain, backup_bucket=bucket)
    template = Template.from_stack(stack)
    template.resource_count_is("AWS::OpenSearchService::Domain", 0)
    template.resource_count_is("AWS::S3::Bucket", 0)
    template.resource_count_is("Custom::OpenSearchSetup", 0)
    stream = json.dumps(template.find_resources("AWS::KinesisFirehose::DeliveryStream"))
    assert "domain/search-existing" in stream and ":s3:::my-backups" in stream
    assert pipeline.domain is domain and pipeline.backup_bucket is bucket


def test_grant_put_records_scopes_to_the_stream():
    stack = _stack()
    pipeline = LogPipeline(stack, "Logs")
    from aws_cdk import aws_iam as iam
    role = iam.Role(stack, "Producer", assumed_by=iam.ServicePrincipal("ec2.amazonaws.com"))
    pipeline.grant_put_records(role)
    statements = _statements(Template.from_stack(stack), "Producer")
    assert statements == [{"Action": ["firehose:PutRecord", "firehose:PutRecordBatch"], "Effect": "Allow",
                           "Resource": {"Fn::GetAtt": [Match.any_value(), "Arn"]}}] or \
        (statements[0]["Action"] == ["firehose:PutRecord", "firehose:PutRecordBatch"]
         and "DeliveryStream" in json.dumps(statements[0]["Resource"]))


def test_subscribing_the_shippers_own_log_group_is_refused():
    stack = _stack()
    pipeline = LogPipeline(stack, "Logs")
    with pytest.raises(PropError, match=r"LogPipeline: log_group .* is the log group of the function .* forever"):
        pipeline.add_log_group(pipeline.shipper.log_group)


def test_a_third_subscription_filter_on_one_log_group_is_refused():
    stack = _stack()
    group = logs.LogGroup(stack, "Busy")
    first, second = LogPipeline(stack, "First"), LogPipeline(stack, "Second")
    first.add_log_group(group)
    with pytest.raises(PropError, match="already subscribed by a 'log-constructs-pipeline' filter"):
        second.add_log_group(group)


@pytest.mark.parametrize("props, message", [
    ({"index": "Logs!"}, "LogPipeline: index must be a lowercase OpenSearch index name"),
    ({"index_rotation": "daily"}, "LogPipeline: index_rotation must be one of 'none', 'hour', 'day', 'week', 'month', got 'daily'"),
    ({"retry_seconds": 7201}, "LogPipeline: retry_seconds must be between 0 and 7200 s, got 7201 s"),
    ({"buffer_interval_seconds": 901}, "LogPipeline: buffer_interval_seconds must be between 0 and 900 s, got 901 s"),
    ({"buffer_mib": 0}, "LogPipeline: buffer_mib must be between 1 and 100 MiB, got 0 MiB"),
    ({"backup_mode": "some"}, "LogPipeline: backup_mode must be one of 'all', 'failed', got 'some'"),
    ({"backup_infrequent_access_days": 10}, "LogPipeline: backup_infrequent_access_days must be between 30 and 36500 days"),
    ({"backup_glacier_days": 20}, "LogPipeline: backup_glacier_days must be later than backup_infrequent_access_days (30), got 20"),
    ({"backup_expiration_days": 60}, "LogPipeline: backup_expiration_days must be later than backup_glacier_days (90), got 60"),
    ({"zone_awareness_azs": 4}, "LogPipeline: zone_awareness_azs must be one of 2, 3, got 4"),
    ({"zone_awareness_azs": 2, "data_nodes": 3}, "LogPipeline: data_nodes must be a multiple of zone_awareness_azs (2)"),
    ({"volume_gib": 5}, "LogPipeline: volume_gib must be between 10 and 16384 GiB, got 5 GiB"),
    ({"master_nodes": 2}, "LogPipeline: master_nodes must be one of 0, 3, 5, got 2"),
    ({"shipper_timeout": cdk.Duration.seconds(20)}, "LogPipeline: shipper_timeout must be between 30 and 900 seconds "
                                                 "(the shipper starts a Firehose call only while 20 s of its time are "
                                                 "left, so a shorter timeout would defer every payload), got 20 seconds"),
    ({"shipper_timeout": cdk.Duration.seconds(29)}, "shipper_timeout must be between 30 and 900 seconds"),
    ({"shipper_timeout": cdk.Duration.minutes(16)}, "got 960 seconds"),
])
def test_invalid_props_name_the_prop(props, message):
    with pytest.raises(PropError, match=re.escape(message)):
        LogPipeline(_stack(), "Logs", **props)


def test_own_domain_with_sizing_is_refused():
    stack = _stack()
    domain = opensearch.Domain.from_domain_endpoint(stack, "Existing", "https://search-x-abc.eu-west-1.es.amazonaws.com")
    with pytest.raises(PropError, match="LogPipeline: domain is your own, so engine_version, sizing"):
        LogPipeline(stack, "Logs", domain=domain, volume_gib=100)


def test_tokens_are_not_validated():
    # An unresolved token (e.g. a CfnParameter) cannot be checked at synth time and must pass through.
    stack = _stack()
    retry = cdk.CfnParameter(stack, "Retry", type="Number").value_as_number
    LogPipeline(stack, "Logs", retry_seconds=retry)


def _list(value) -> list:
    return value if isinstance(value, list) else [value]


def test_vpc_placement_puts_the_domain_and_firehose_enis_in_private_subnets():
    # GIVEN a VPC / WHEN the pipeline is placed in it / THEN domain and Firehose share one HTTPS-only group
    from aws_cdk import aws_ec2 as ec2

    stack = _stack()
    vpc = ec2.Vpc(stack, "Vpc", max_azs=2)
    LogPipeline(stack, "Logs", vpc=vpc, zone_awareness_azs=2)
    template = Template.from_stack(stack)
    domain = next(iter(template.find_resources("AWS::OpenSearchService::Domain").values()))["Properties"]
    stream = next(iter(template.find_resources("AWS::KinesisFirehose::DeliveryStream").values()))["Properties"]
    vpc_config = stream["AmazonopensearchserviceDestinationConfiguration"]["VpcConfiguration"]
    assert len(domain["VPCOptions"]["SubnetIds"]) == 2
    assert vpc_config["SubnetIds"] == domain["VPCOptions"]["SubnetIds"]
    assert vpc_config["SecurityGroupIds"] == domain["VPCOptions"]["SecurityGroupIds"]
    assert all("PrivateSubnet" in json.dumps(s) for s in vpc_config["SubnetIds"])
    groups = template.find_resources("AWS::EC2::SecurityGroup")
    domain_group = next(v for k, v in groups.items() if k.startswith("LogsDomainSecurityGroup"))
    assert "SecurityGroupEgress" not in domain_group["Properties"]  # no open egress
    setup_group = next(v for k, v in groups.items() if k.startswith("LogsDomainSetupSecurityGroup"))
    assert setup_group["Properties"]["SecurityGroupEgress"] == [Match.object_like(
        {"CidrIp": "0.0.0.0/0", "IpProtocol": "tcp", "FromPort": 443, "ToPort": 443})] or \
        [(e["IpProtocol"], e["FromPort"]) for e in setup_group["Properties"]["SecurityGroupEgress"]] == [("tcp", 443)]
    rules = [*template.find_resources("AWS::EC2::SecurityGroupIngress").values(),
             *template.find_resources("AWS::EC2::SecurityGroupEgress").values()]
    assert {(r["Properties"]["IpProtocol"], r["Properties"]["FromPort"], r["Properties"]["ToPort"]) for r in rules} \
        == {("tcp", 443, 443)} and len(rules) == 3
    # the set-up function runs in the domain's subnets so it can reach the VPC endpoint
    setup = next(v for k, v in template.find_resources("AWS::Lambda::Function").items()
                 if k.startswith("LogsDomainSetupFunction"))["Properties"]
    assert setup["VpcConfig"]["SubnetIds"] == domain["VPCOptions"]["SubnetIds"]
    eni = [s for s in _statements(template, "LogsDeliveryRole") if "ec2:CreateNetworkInterface" in s["Action"]]
    assert eni and eni[0]["Resource"] == "*"


def test_vpc_domain_without_zone_awareness_takes_one_subnet():
    from aws_cdk import aws_ec2 as ec2

    stack = _stack()
    LogPipeline(stack, "Logs", vpc=ec2.Vpc(stack, "Vpc", max_azs=3))
    domain = next(iter(Template.from_stack(stack).find_resources("AWS::OpenSearchService::Domain").values()))
    assert len(domain["Properties"]["VPCOptions"]["SubnetIds"]) == 1


def test_more_zones_than_the_vpc_has_subnets_for_is_a_prop_error():
    # GIVEN an environment-agnostic stack, whose VPC spans 2 zones
    from aws_cdk import aws_ec2 as ec2

    stack = cdk.Stack(cdk.App(), "Agnostic")
    vpc = ec2.Vpc(stack, "Vpc", max_azs=3)
    # WHEN the domain asks for 3 zones THEN a PropError names the prop, the counts and the ways out
    with pytest.raises(PropError, match=r"^LogPipeline: zone_awareness_azs needs a subnet in each of its availability "
                                        r"zones, got 3 with 2 subnet\(s\) selected from vpc/vpc_subnets .*env=.*"
                                        r"zone_awareness_azs=2\)$"):
        LogPipeline(stack, "Logs", vpc=vpc, zone_awareness_azs=3)


def test_vpc_pipeline_passes_the_aws_solutions_pack(tmp_path):
    # GIVEN a VPC pipeline in an app with cdk-nag / WHEN synthesized / THEN no unacknowledged finding
    from aws_cdk import aws_ec2 as ec2
    from cdk_nag import AwsSolutionsChecks

    app = cdk.App(outdir=str(tmp_path))
    stack = cdk.Stack(app, "Vpc", env=cdk.Environment(account="111122223333", region="eu-west-1"))
    vpc = ec2.Vpc(stack, "Vpc", max_azs=2, flow_logs={"All": ec2.FlowLogOptions()})
    LogPipeline(stack, "Logs", vpc=vpc, zone_awareness_azs=2, master_nodes=3)
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    app.synth()
    report = json.loads((tmp_path / "validation-report.json").read_text())
    assert [v["ruleName"] for p in report["pluginReports"] for v in p.get("violations", [])] == []


def test_the_setup_function_holds_the_security_values_the_event_repeats(default):
    # GIVEN the default pipeline
    pipeline, template = default
    (function,) = [f for f in template.find_resources("AWS::Lambda::Function").values()
                   if "OPENSEARCH_SETUP_MASTER_ROLE_ARN" in f["Properties"].get("Environment", {}).get("Variables", {})]
    variables = function["Properties"]["Environment"]["Variables"]
    (resource,) = template.find_resources("Custom::OpenSearchSetup").values()
    security = resource["Properties"]["Security"]
    # THEN the function's own configuration holds every security value, equal to what the event carries
    assert variables["OPENSEARCH_SETUP_MASTER_ROLE_ARN"] == security["MasterRoleArn"] == function["Properties"]["Role"]
    assert [variables["OPENSEARCH_SETUP_WRITER_BACKEND_ROLES"]] == security["WriterBackendRoles"]
    assert variables["OPENSEARCH_SETUP_WRITER_ROLE_NAME"] == security["WriterRoleName"]
    assert variables["OPENSEARCH_SETUP_INDEX_PATTERNS"] == "logs*" and security["IndexPatterns"] == ["logs*"]
    assert variables["OPENSEARCH_SETUP_ADMIN_USER"] == security["AdminUser"] == "admin"
    assert variables["OPENSEARCH_SETUP_ADMIN_SECRET_ARN"] == security["AdminSecretArn"]
    assert variables["OPENSEARCH_SETUP_DOMAIN_ENDPOINT"] == resource["Properties"]["DomainEndpoint"]
    # AND the index parts the event carries, the only ones the function applies
    parts = {name: resource["Properties"][name] for name in ("IndexTemplate", "IsmPolicy", "Dashboards")}
    assert json.loads(variables["OPENSEARCH_SETUP_INDEX_SETUP"]) == parts


def test_no_policy_lets_anyone_pass_the_master_role(default):
    # GIVEN the default pipeline, whose set-up function's role is mapped into all_access and security_manager
    _, template = default
    # THEN no statement of any policy in the stack grants iam:PassRole (on the master role or otherwise)
    policies = [*template.find_resources("AWS::IAM::Policy").values(),
                *template.find_resources("AWS::IAM::ManagedPolicy").values(),
                *template.find_resources("AWS::IAM::Role").values()]
    assert policies
    assert "iam:PassRole" not in json.dumps(policies) and '"iam:*"' not in json.dumps(policies)
    assert '"Action": "*"' not in json.dumps(policies)


def test_the_domain_access_policy_allows_this_account_signed_and_basic_auth_only_on_two_paths(default):
    # GIVEN the default pipeline
    _, template = default
    (domain,) = template.find_resources("AWS::OpenSearchService::Domain").values()
    statements = {s["Sid"]: s for s in domain["Properties"]["AccessPolicies"]["Statement"]}
    # THEN this account's principals may send signed requests to any path of the domain
    account = statements["SignedRequestsFromThisAccount"]
    assert account["Effect"] == "Allow" and account["Action"] == "es:ESHttp*"
    assert _joined(account["Principal"]["AWS"]) == "arn:${AWS::Partition}:iam::111122223333:root"
    assert _joined(account["Resource"]) == "arn:${AWS::Partition}:es:eu-west-1:111122223333:domain/*"
    # AND any principal (basic auth of internal users, checked by FGAC) only Dashboards and the role mappings
    basic = statements["BasicAuthOfInternalUsers"]
    assert basic["Principal"] == {"AWS": "*"} and basic["Action"] == "es:ESHttp*"
    assert [_joined(r) for r in basic["Resource"]] == [
        "arn:${AWS::Partition}:es:eu-west-1:111122223333:domain/*/_dashboards*",
        "arn:${AWS::Partition}:es:eu-west-1:111122223333:domain/*/_plugins/_security/api/rolesmapping*"]
    assert set(statements) == {"SignedRequestsFromThisAccount", "BasicAuthOfInternalUsers"}
    # AND fine-grained access control with anonymous access off decides the rest
    assert domain["Properties"]["AdvancedSecurityOptions"]["Enabled"] is True
    assert domain["Properties"]["AdvancedSecurityOptions"].get("AnonymousAuthEnabled") in (None, False)


def test_the_domain_logs_policy_names_the_source_account_and_arn(default):
    # GIVEN the default pipeline
    _, template = default
    (policy,) = template.find_resources("AWS::Logs::ResourcePolicy").values()
    document = _joined(policy["Properties"]["PolicyDocument"])
    # THEN only OpenSearch domains of this account and region may write the domain's log groups
    statement = json.loads(document.replace("${AWS::AccountId}", "111122223333").replace(
        "${AWS::Partition}", "aws").replace("${AWS::Region}", "eu-west-1").replace('"${', '"x${'))["Statement"][0]
    assert statement["Condition"] == {
        "StringEquals": {"aws:SourceAccount": "111122223333"},
        "ArnLike": {"aws:SourceArn": "arn:aws:es:eu-west-1:111122223333:domain/*"}}
