"""LogPipeline's cross-account ingestion and RegionalLogDestination: streams, destination policies,
role trust, event source mappings, the shipper's configuration, and bad input."""
from __future__ import annotations

import json

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template

from log_constructs import DEFAULT_DESTINATION_NAME, LogPipeline, PropError, RegionalLogDestination, destination_arn

CENTRAL = "111111111111"
MEMBERS = ["222222222222", "333333333333"]
ORG = "o-a1b2c3d4e5"


def _stack(region: str = "eu-west-1", account: str = CENTRAL) -> cdk.Stack:
    return cdk.Stack(cdk.App(), "Central", env=cdk.Environment(account=account, region=region))


def _resources(template: Template, kind: str) -> dict:
    return {k: v["Properties"] for k, v in template.to_json()["Resources"].items() if v["Type"] == kind}


@pytest.fixture(scope="module")
def accounts() -> Template:
    stack = _stack()
    LogPipeline(stack, "Logs", source_accounts=MEMBERS, source_regions=["eu-west-1", "us-east-1"])
    return Template.from_stack(stack)


@pytest.fixture(scope="module")
def organization() -> Template:
    stack = _stack()
    LogPipeline(stack, "Logs", organization_id=ORG, ingestion_parallelization_factor=3,
                ingestion_max_record_age=cdk.Duration.hours(1), ingestion_retention=cdk.Duration.hours(48))
    return Template.from_stack(stack)


def _policy(template: Template) -> dict:
    (destination,) = _resources(template, "AWS::Logs::Destination").values()
    return json.loads(destination["DestinationPolicy"])


def _never_bare_star(policy: dict) -> None:
    for statement in policy["Statement"]:
        if statement["Principal"] == "*" or statement["Principal"] == {"AWS": "*"}:
            assert statement["Condition"]["StringEquals"]["aws:PrincipalOrgID"]


def test_one_encrypted_on_demand_stream_per_source_region_named_from_names(accounts):
    streams = _resources(accounts, "AWS::Kinesis::Stream")
    assert sorted(s["Name"] for s in streams.values()) == [f"{DEFAULT_DESTINATION_NAME}-eu-west-1",
                                                           f"{DEFAULT_DESTINATION_NAME}-us-east-1"]
    for stream in streams.values():
        assert stream["StreamModeDetails"] == {"StreamMode": "ON_DEMAND"}
        assert stream["StreamEncryption"]["EncryptionType"] == "KMS" and stream["RetentionPeriodHours"] == 24


def test_the_destination_policy_allows_exactly_the_listed_accounts(accounts):
    # GIVEN listed accounts / THEN the pipeline region's destination lets only them subscribe
    policy = _policy(accounts)
    (statement,) = policy["Statement"]
    assert statement["Principal"] == {"AWS": MEMBERS}
    assert statement["Action"] == ["logs:PutSubscriptionFilter", "logs:PutAccountPolicy"]
    assert statement["Resource"] == destination_arn(account=CENTRAL, region="eu-west-1")
    _never_bare_star(policy)


def test_the_destination_policy_of_an_organization_has_the_org_condition(organization):
    policy = _policy(organization)
    (statement,) = policy["Statement"]
    assert statement["Principal"] == "*"
    assert statement["Condition"] == {"StringEquals": {"aws:PrincipalOrgID": ORG}}
    _never_bare_star(policy)


def test_the_roles_trust_cloudwatch_logs_only_for_their_region_and_senders(accounts, organization):
    roles = {r["RoleName"]: r for r in _resources(accounts, "AWS::IAM::Role").values() if "RoleName" in r}
    us = roles[f"{DEFAULT_DESTINATION_NAME}-us-east-1"]["AssumeRolePolicyDocument"]["Statement"]
    assert us == [{"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": {"Service": "logs.amazonaws.com"},
                   "Condition": {"StringLike": {"aws:SourceArn": [f"arn:aws:logs:us-east-1:{a}:*"
                                                                  for a in (*MEMBERS, CENTRAL)]}}}]
    org_roles = [r for r in _resources(organization, "AWS::IAM::Role").values() if "RoleName" in r]
    (role,) = org_roles
    conditions = [s["Condition"] for s in role["AssumeRolePolicyDocument"]["Statement"]]
    assert {"StringEquals": {"aws:SourceOrgID": ORG},
            "StringLike": {"aws:SourceArn": "arn:aws:logs:eu-west-1:*:*"}} in conditions


def test_a_role_may_only_put_into_its_own_stream(accounts):
    policies = [p["PolicyDocument"]["Statement"] for p in _resources(accounts, "AWS::IAM::ManagedPolicy").values()
                if any(s.get("Sid") == "PutIntoItsStream" for s in p["PolicyDocument"]["Statement"])]
    assert len(policies) == 2
    for statements in policies:
        put = next(s for s in statements if s.get("Sid") == "PutIntoItsStream")
        assert put["Action"] == ["kinesis:PutRecord", "kinesis:PutRecords"] and "Fn::GetAtt" in put["Resource"]
        key = next(s for s in statements if s.get("Sid") == "EncryptForKinesis")
        assert key["Action"] == "kms:GenerateDataKey"
        assert key["Condition"] == {"StringEquals": {"kms:ViaService": "kinesis.eu-west-1.amazonaws.com"}}


def test_the_event_source_mappings_report_item_failures_bisect_and_keep_failures(organization, accounts):
    (mapping,) = _resources(organization, "AWS::Lambda::EventSourceMapping").values()
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    # a batch is retried until its records reach the maximum record age, whatever the number of attempts
    assert mapping["BisectBatchOnFunctionError"] is True and mapping.get("MaximumRetryAttempts", -1) == -1
    assert mapping["MaximumRecordAgeInSeconds"] == 3600 and mapping["ParallelizationFactor"] == 3
    assert mapping["StartingPosition"] == "TRIM_HORIZON"
    assert "DeadLetterQueue" in mapping["DestinationConfig"]["OnFailure"]["Destination"]["Fn::GetAtt"][0]
    assert _resources(organization, "AWS::Kinesis::Stream").popitem()[1]["RetentionPeriodHours"] == 48
    assert len(_resources(accounts, "AWS::Lambda::EventSourceMapping")) == 2


def test_the_shipper_knows_each_streams_region_and_reserves_no_concurrency_unless_asked(accounts):
    shipper = next(f for f in _resources(accounts, "AWS::Lambda::Function").values()
                   if f["Handler"] == "log_shipper.handler.handler")
    regions = json.loads(shipper["Environment"]["Variables"]["INGESTION_STREAM_REGIONS"])
    assert regions == {f"{DEFAULT_DESTINATION_NAME}-eu-west-1": "eu-west-1",
                       f"{DEFAULT_DESTINATION_NAME}-us-east-1": "us-east-1"}
    # a new account's quota can be 10: the shipper takes from the unreserved pool unless told otherwise
    assert "ReservedConcurrentExecutions" not in shipper


def _shipper_of(**props) -> dict:
    stack = cdk.Stack(cdk.App(), "Reserved", env=cdk.Environment(account="111111111111", region="eu-west-1"))
    LogPipeline(stack, "Logs", source_accounts=["222222222222"], source_regions=["eu-west-1", "us-east-1"], **props)
    return next(f for f in _resources(Template.from_stack(stack), "AWS::Lambda::Function").values()
                if f["Handler"] == "log_shipper.handler.handler")


def test_a_reservation_is_opt_in_and_must_cover_the_streams_initial_shards():
    # WHEN a reservation is asked for / THEN the shipper has it
    assert _shipper_of(shipper_reserved_concurrency=42)["ReservedConcurrentExecutions"] == 42
    # WHEN it is below what the mappings start with (2 regions x 4 initial shards x factor 2 = 16) / THEN refused
    with pytest.raises(PropError, match=r"LogPipeline: shipper_reserved_concurrency must be at least 16 with "
                                        r"cross-account ingestion: .* 42 also covers split streams and direct "
                                        r"subscriptions; got 15"):
        _shipper_of(shipper_reserved_concurrency=15)
    with pytest.raises(PropError, match="shipper_reserved_concurrency must be a positive integer .*got 0"):
        _shipper_of(shipper_reserved_concurrency=0)


def _alarm(template: Template, name: str) -> dict:
    (alarm,) = [a for key, a in _resources(template, "AWS::CloudWatch::Alarm").items() if name in key]
    return alarm


def test_ingestion_alarms_fire_on_iterator_age_throttles_and_retries_well_before_loss(organization, accounts):
    # GIVEN a pipeline with a 1 h maximum record age, and one with the default 6 h
    # THEN the iterator-age alarm fires at 1/24 of it (2.5 min), at most 5 min: long before records are given up
    age = _alarm(organization, "IngestionIteratorAgeAlarm")
    assert (age["MetricName"], age["Namespace"], age["Statistic"]) == ("IteratorAge", "AWS/Lambda", "Maximum")
    assert age["Threshold"] == 150_000 and age["ComparisonOperator"] == "GreaterThanThreshold"
    assert _alarm(accounts, "IngestionIteratorAgeAlarm")["Threshold"] == 300_000
    # AND throttles of the shipper and records it reports for retry raise alarms at the first one
    throttles = _alarm(organization, "ShipperThrottlesAlarm")
    assert (throttles["MetricName"], throttles["Threshold"]) == ("Throttles", 1)
    retries = _alarm(organization, "IngestionRetriesAlarm")
    assert (retries["MetricName"], retries["Namespace"], retries["Threshold"]) == (
        "KinesisRecordsRetried", "LogConstructs", 1)
    assert retries["Dimensions"] == [{"Name": "service", "Value": "log-shipper"}]


def test_the_regional_destination_is_built_from_names_with_its_arn_as_output():
    # GIVEN a stack of the central account in another source region
    stack = _stack("us-east-1")
    RegionalLogDestination(stack, "Destination", central_account=CENTRAL, central_region="eu-west-1",
                           organization_id=ORG)
    template = Template.from_stack(stack)
    (destination,) = _resources(template, "AWS::Logs::Destination").values()
    # THEN it targets that region's stream in the central region, with that region's role
    assert destination["TargetArn"] == f"arn:aws:kinesis:eu-west-1:{CENTRAL}:stream/{DEFAULT_DESTINATION_NAME}-us-east-1"
    assert destination["RoleArn"] == f"arn:aws:iam::{CENTRAL}:role/{DEFAULT_DESTINATION_NAME}-us-east-1"
    policy = json.loads(destination["DestinationPolicy"])
    assert policy["Statement"][0]["Resource"] == destination_arn(account=CENTRAL, region="us-east-1")
    _never_bare_star(policy)
    assert any("DestinationArn" in k for k in template.to_json()["Outputs"])


@pytest.mark.parametrize("props, message", [
    (dict(source_accounts=["12345"]), "source_accounts must be 12-digit AWS account ids, got '12345'"),
    (dict(source_accounts="222222222222"), "source_accounts must be a non-empty list"),
    (dict(organization_id="org-1"), "organization_id must be an AWS Organizations id"),
    (dict(organization_id=ORG, source_regions=["cn-north-1"]),
     "source_regions holds 'cn-north-1', a source region the pipeline cannot serve"),
    (dict(organization_id=ORG, source_regions=["us-gov-west-1"]), "a source region the pipeline cannot serve"),
    (dict(organization_id=ORG, source_regions=["Europe"]), "source_regions must be AWS region names"),
    (dict(source_regions=["us-east-1"]), "need(s)? source_accounts or organization_id"),
    (dict(organization_id=ORG, ingestion_parallelization_factor=11), "ingestion_parallelization_factor must be"),
    (dict(organization_id=ORG, ingestion_retention=cdk.Duration.hours(12)), "ingestion_retention must be between"),
    (dict(organization_id=ORG, ingestion_max_record_age=cdk.Duration.seconds(30)),
     "ingestion_max_record_age must be between"),
    (dict(organization_id=ORG, ingestion_max_record_age=cdk.Duration.days(2)), "must be shorter than ingestion_retention"),
    (dict(organization_id=ORG, destination_name="a:b"), "destination_name must be"),
    (dict(organization_id=ORG, destination_name="x" * 60), "destination_name must be"),
])
def test_bad_ingestion_props_are_named(props, message):
    with pytest.raises(PropError, match=message):
        LogPipeline(_stack(), "Logs", **props)


def test_cross_account_ingestion_needs_a_concrete_region():
    stack = cdk.Stack(cdk.App(), "Agnostic")
    with pytest.raises(PropError, match="cross-account ingestion needs the stack's region"):
        LogPipeline(stack, "Logs", organization_id=ORG)


@pytest.mark.parametrize("region, props, message", [
    ("eu-west-1", dict(organization_id=ORG), "is central_region, whose destination LogPipeline creates"),
    ("cn-north-1", dict(organization_id=ORG), "a source region the pipeline cannot serve"),
    ("us-east-1", dict(), "give source_accounts or organization_id"),
    ("us-east-1", dict(source_accounts=["1"]), "source_accounts must be 12-digit"),
])
def test_bad_regional_destination_props_are_named(region, props, message):
    with pytest.raises(PropError, match=message):
        RegionalLogDestination(_stack(region), "D", central_account=CENTRAL, central_region="eu-west-1", **props)
