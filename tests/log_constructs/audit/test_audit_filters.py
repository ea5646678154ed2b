"""The CIS metric filter patterns against real-shaped CloudTrail events."""

import json
from pathlib import Path

import pytest

from log_constructs.audit.filters import FILTERS
from tests.support.cwl_filter import compile_pattern

EVENTS = Path(__file__).resolve().parents[2] / "events" / "cloudtrail"
SAMPLES = {path.stem: json.loads(path.read_text()) for path in sorted(EVENTS.glob("*.json"))}
BY_KEY = {f.key: f for f in FILTERS}

# The samples each filter must count; every other sample it must leave alone.
EXPECTED = {
    "RootUsage": {"root_console_login_no_mfa"},
    "UnauthorizedApiCalls": {"ec2_run_instances_unauthorized", "s3_get_object_access_denied"},
    "ConsoleSignInWithoutMfa": {"iam_user_console_login_no_mfa"},
    # CIS/Security Hub quirk: DeletePolicy is matched whatever the service (here Auto Scaling).
    "IamPolicyChanges": {"iam_attach_role_policy", "autoscaling_delete_policy"},
    "CloudTrailChanges": {"cloudtrail_stop_logging"},
    "ConsoleAuthFailures": {"console_login_failed"},
    "KmsKeyDisableOrDeletion": {"kms_schedule_key_deletion"},
    "S3BucketPolicyChanges": {"s3_put_bucket_policy"},
    "ConfigChanges": {"config_stop_recorder"},
    "SecurityGroupChanges": {"ec2_authorize_sg_ingress"},
    "NaclChanges": {"ec2_create_network_acl_entry"},
    "NetworkGatewayChanges": {"ec2_attach_internet_gateway"},
    "RouteTableChanges": {"ec2_create_route"},
    "VpcChanges": {"ec2_create_vpc"},
}

# Patterns as AWS Security Hub publishes them for controls CloudWatch.1-14 (the control fails
# unless the log group carries the exact pattern), copied from the Security Hub User Guide.
PUBLISHED = {
    "CloudWatch.1": '{$.userIdentity.type="Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType !="AwsServiceEvent"}',
    "CloudWatch.2": '{($.errorCode="*UnauthorizedOperation") || ($.errorCode="AccessDenied*")}',
    "CloudWatch.3": '{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") && ($.userIdentity.type = "IAMUser") && ($.responseElements.ConsoleLogin = "Success") }',
    "CloudWatch.4": "{($.eventName=DeleteGroupPolicy) || ($.eventName=DeleteRolePolicy) || ($.eventName=DeleteUserPolicy) || ($.eventName=PutGroupPolicy) || ($.eventName=PutRolePolicy) || ($.eventName=PutUserPolicy) || ($.eventName=CreatePolicy) || ($.eventName=DeletePolicy) || ($.eventName=CreatePolicyVersion) || ($.eventName=DeletePolicyVersion) || ($.eventName=AttachRolePolicy) || ($.eventName=DetachRolePolicy) || ($.eventName=AttachUserPolicy) || ($.eventName=DetachUserPolicy) || ($.eventName=AttachGroupPolicy) || ($.eventName=DetachGroupPolicy)}",
    "CloudWatch.5": "{($.eventName=CreateTrail) || ($.eventName=UpdateTrail) || ($.eventName=DeleteTrail) || ($.eventName=StartLogging) || ($.eventName=StopLogging)}",
    "CloudWatch.6": '{($.eventName=ConsoleLogin) && ($.errorMessage="Failed authentication")}',
    "CloudWatch.7": "{($.eventSource=kms.amazonaws.com) && (($.eventName=DisableKey) || ($.eventName=ScheduleKeyDeletion))}",
    "CloudWatch.8": "{($.eventSource=s3.amazonaws.com) && (($.eventName=PutBucketAcl) || ($.eventName=PutBucketPolicy) || ($.eventName=PutBucketCors) || ($.eventName=PutBucketLifecycle) || ($.eventName=PutBucketReplication) || ($.eventName=DeleteBucketPolicy) || ($.eventName=DeleteBucketCors) || ($.eventName=DeleteBucketLifecycle) || ($.eventName=DeleteBucketReplication))}",
    "CloudWatch.9": "{($.eventSource=config.amazonaws.com) && (($.eventName=StopConfigurationRecorder) || ($.eventName=DeleteDeliveryChannel) || ($.eventName=PutDeliveryChannel) || ($.eventName=PutConfigurationRecorder))}",
    "CloudWatch.10": "{($.eventName=AuthorizeSecurityGroupIngress) || ($.eventName=AuthorizeSecurityGroupEgress) || ($.eventName=RevokeSecurityGroupIngress) || ($.eventName=RevokeSecurityGroupEgress) || ($.eventName=CreateSecurityGroup) || ($.eventName=DeleteSecurityGroup)}",
    "CloudWatch.11": "{($.eventName=CreateNetworkAcl) || ($.eventName=CreateNetworkAclEntry) || ($.eventName=DeleteNetworkAcl) || ($.eventName=DeleteNetworkAclEntry) || ($.eventName=ReplaceNetworkAclEntry) || ($.eventName=ReplaceNetworkAclAssociation)}",
    "CloudWatch.12": "{($.eventName=CreateCustomerGateway) || ($.eventName=DeleteCustomerGateway) || ($.eventName=AttachInternetGateway) || ($.eventName=CreateInternetGateway) || ($.eventName=DeleteInternetGateway) || ($.eventName=DetachInternetGateway)}",
    "CloudWatch.13": "{($.eventName=CreateRoute) || ($.eventName=CreateRouteTable) || ($.eventName=ReplaceRoute) || ($.eventName=ReplaceRouteTableAssociation) || ($.eventName=DeleteRouteTable) || ($.eventName=DeleteRoute) || ($.eventName=DisassociateRouteTable)}",
    "CloudWatch.14": "{($.eventName=CreateVpc) || ($.eventName=DeleteVpc) || ($.eventName=ModifyVpcAttribute) || ($.eventName=AcceptVpcPeeringConnection) || ($.eventName=CreateVpcPeeringConnection) || ($.eventName=DeleteVpcPeeringConnection) || ($.eventName=RejectVpcPeeringConnection) || ($.eventName=AttachClassicLinkVpc) || ($.eventName=DetachClassicLinkVpc) || ($.eventName=DisableVpcClassicLink) || ($.eventName=EnableVpcClassicLink)}",
}  # fmt: skip


def test_there_is_one_filter_per_cis_monitoring_control():
    # GIVEN the filters
    # THEN they implement Security Hub controls CloudWatch.1 to CloudWatch.14, once each
    assert sorted(f.control for f in FILTERS) == sorted(PUBLISHED)
    assert len(BY_KEY) == len(FILTERS) == len(EXPECTED)
    assert set(BY_KEY) == set(EXPECTED)


@pytest.mark.parametrize("audit_filter", FILTERS, ids=lambda f: f.key)
def test_patterns_are_the_ones_security_hub_checks_for(audit_filter):
    # GIVEN a filter
    # THEN its pattern is exactly the published one (Security Hub fails the control otherwise)
    assert audit_filter.pattern == PUBLISHED[audit_filter.control]


@pytest.mark.parametrize("audit_filter", FILTERS, ids=lambda f: f.key)
def test_each_pattern_matches_its_events_and_no_ordinary_ones(audit_filter):
    # GIVEN a filter's compiled pattern and all sample events
    predicate = compile_pattern(audit_filter.pattern)
    # WHEN the pattern is applied to every sample
    matched = {name for name, event in SAMPLES.items() if predicate(event)}
    # THEN it counts exactly the events it is for
    assert matched == EXPECTED[audit_filter.key]


def test_every_filter_has_something_to_match_and_ordinary_events_match_none():
    # GIVEN the ordinary events among the samples (reads, service events, MFA sign-ins)
    ordinary = {
        "ec2_describe_instances",
        "s3_get_object_ok",
        "kms_decrypt_by_service",
        "kms_rotate_key_service_event",
        "iam_user_console_login_mfa",
        "federated_console_login",
        "root_invoked_by_service",
        "snowball_edge_put_object",
    }
    assert ordinary <= set(SAMPLES)
    # WHEN every filter is applied to them
    hits = {
        (f.key, name) for f in FILTERS for name in ordinary if compile_pattern(f.pattern)(SAMPLES[name])
    }
    # THEN none is counted
    assert hits == set()


def test_root_usage_ignores_service_events_and_calls_made_on_roots_behalf():
    # GIVEN the root sign-in and variants of it
    root = SAMPLES["root_console_login_no_mfa"]
    pattern = compile_pattern(BY_KEY["RootUsage"].pattern)
    service_event = {**root, "eventType": "AwsServiceEvent"}
    on_behalf = {**root, "userIdentity": {**root["userIdentity"], "invokedBy": "signin.amazonaws.com"}}
    # THEN only the root's own call counts
    assert pattern(root)
    assert not pattern(service_event)
    assert not pattern(on_behalf)


def test_sign_in_without_mfa_needs_a_successful_iam_user_sign_in_that_reports_mfa():
    # GIVEN the IAM user's sign-in without MFA and variants of it
    login = SAMPLES["iam_user_console_login_no_mfa"]
    pattern = compile_pattern(BY_KEY["ConsoleSignInWithoutMfa"].pattern)
    failed = {**login, "responseElements": {"ConsoleLogin": "Failure"}}
    no_mfa_field = {**login, "additionalEventData": {"MobileVersion": "No"}}
    # THEN a failed sign-in is not counted, nor one whose record lacks the MFAUsed field
    assert pattern(login)
    assert not pattern(failed)
    assert not pattern(no_mfa_field)


def test_the_audit_key_policy_filter_counts_put_key_policy_on_that_key_only():
    # GIVEN the audit key's filter, and PutKeyPolicy events on it and on another key
    from log_constructs.audit.filters import audit_key_policy_filter

    key = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    matches = compile_pattern(audit_key_policy_filter(key).pattern)
    put = {**SAMPLES["kms_schedule_key_deletion"], "eventName": "PutKeyPolicy",
           "requestParameters": {"keyId": key, "policyName": "default", "policy": "{}"}}
    other = {**put, "resources": [{**put["resources"][0], "ARN": key.replace("1234abcd", "99999999")}]}
    # THEN it counts the change of this key's policy, not another key's, nor the other KMS calls
    assert matches(put)
    assert not matches(other)
    assert not any(matches(sample) for sample in SAMPLES.values())


DEPLOYER = "arn:aws:iam::111122223333:role/cdk-hnb659fds-cfn-exec-role-111122223333-eu-west-1"


def _ssm_call(name: str, *, by: str, event: str = "PutParameter") -> dict:
    """A CloudTrail record of an SSM call on parameter ``name`` by role ``by``."""
    request = {"names": [name]} if event == "DeleteParameters" else {"name": name, "overwrite": True, "type": "String"}
    return {"eventVersion": "1.09", "eventSource": "ssm.amazonaws.com", "eventName": event,
            "awsRegion": "eu-west-1", "requestParameters": request,
            "userIdentity": {"type": "AssumedRole", "arn": f"{by}/session", "accountId": "111122223333",
                             "sessionContext": {"sessionIssuer": {"type": "Role", "arn": by,
                                                                  "accountId": "111122223333"}}}}


def test_writes_to_attach_points_by_anyone_but_the_deployment_role_are_counted():
    # GIVEN the attach-point filter for the platform's deployment role
    from log_constructs.audit.filters import attach_point_writes_filter

    matches = compile_pattern(attach_point_writes_filter([DEPLOYER]).pattern)
    intruder = "arn:aws:iam::111122223333:role/ssm-admin"
    # THEN a write, a deletion or a bulk deletion of an attach point by another role counts
    assert matches(_ssm_call("/log-constructs/pipeline/default/shipper-function-name", by=intruder))
    assert matches(_ssm_call("/log-constructs/alerts/default/function-name", by=intruder, event="DeleteParameter"))
    assert matches(_ssm_call("/log-constructs/pipeline/default/delivery-stream-name", by=intruder,
                             event="DeleteParameters"))
    # AND the deployment role's writes, other parameters and reads do not
    assert not matches(_ssm_call("/log-constructs/pipeline/default/shipper-function-name", by=DEPLOYER))
    assert not matches(_ssm_call("/app/config", by=intruder))
    assert not matches(_ssm_call("/log-constructs/pipeline/default/shipper-function-name", by=intruder,
                                 event="GetParameter"))
    assert not any(matches(sample) for sample in SAMPLES.values())
