"""AuditTrail: every control in the synthesized template, prop validation, and the nag gate."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch_actions as cw_actions
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Annotations, Match, Template
from cdk_nag import AwsSolutionsChecks

from log_constructs import AuditTrail
from log_constructs.audit import filters as audit_filters
from log_constructs.audit import queries as audit_queries
from log_constructs.audit import schema as cloudtrail_schema
from log_constructs import PropError
from tests.support.iam import POLICY_TYPES

ROOT = Path(__file__).resolve().parents[3]
CONTEXT = json.loads((ROOT / "cdk.json").read_text())["context"]
ACCOUNT, REGION = "111122223333", "eu-west-1"
ENV = cdk.Environment(account=ACCOUNT, region=REGION)


def make(**props: Any) -> tuple[cdk.Stack, AuditTrail, Template]:
    app = cdk.App(context=CONTEXT)
    stack = cdk.Stack(app, "Audit", env=ENV)
    audit = AuditTrail(stack, "Trail", **{k: v(stack) if callable(v) else v for k, v in props.items()})
    return stack, audit, Template.from_stack(stack)


def resolve(stack: cdk.Stack, value: Any) -> Any:
    return stack.resolve(value)


def only(template: Template, kind: str, props: dict | None = None) -> dict:
    found = template.find_resources(kind, {"Properties": props} if props else None)
    assert len(found) == 1, f"expected one {kind}, found {len(found)}"
    return next(iter(found.values()))


def policy_statements(resource: dict, key: str = "PolicyDocument") -> list[dict]:
    return resource["Properties"][key]["Statement"]


def by_sid(statements: list[dict], sid: str) -> dict:
    matches = [s for s in statements if s.get("Sid") == sid]
    assert len(matches) == 1, f"no single statement {sid}"
    return matches[0]


def trail_bucket(template: Template) -> tuple[str, dict]:
    found = template.find_resources("AWS::S3::Bucket", {"Properties": {"ObjectLockEnabled": True}})
    assert len(found) == 1
    return next(iter(found.items()))


def bucket_policy_of(template: Template, logical_id: str) -> dict:
    return only(template, "AWS::S3::BucketPolicy", {"Bucket": {"Ref": logical_id}})


def trail_bucket_statements(template: Template) -> list[dict]:
    bucket_id, _ = trail_bucket(template)
    return policy_statements(bucket_policy_of(template, bucket_id))


def key_of(template: Template, description_start: str) -> dict:
    keys = [
        k for k in template.find_resources("AWS::KMS::Key").values()
        if k["Properties"].get("Description", "").startswith(description_start)
    ]  # fmt: skip
    assert len(keys) == 1
    return keys[0]


@pytest.fixture(scope="module")
def default() -> tuple[cdk.Stack, AuditTrail, Template]:
    return make()


@pytest.fixture(scope="module")
def full() -> tuple[cdk.Stack, AuditTrail, Template]:
    return make(
        auditor_principal=lambda stack: iam.AccountRootPrincipal(),
        break_glass_role=lambda stack: iam.Role(stack, "BreakGlass", assumed_by=iam.AccountRootPrincipal()),
    )


# -- trail ---------------------------------------------------------------------------------------


def test_trail_is_multi_region_with_global_events_validation_and_all_management_events(default):
    # GIVEN an audit trail with default settings
    stack, audit, template = default
    # THEN the trail records read and write management events in every region, validates its
    # log files, encrypts them with the construct's key and delivers them to the log group too
    trail = only(template, "AWS::CloudTrail::Trail")["Properties"]
    assert trail["IsMultiRegionTrail"] is True
    assert trail["IncludeGlobalServiceEvents"] is True
    assert trail["EnableLogFileValidation"] is True
    assert trail["IsLogging"] is True
    assert trail["IsOrganizationTrail"] is False
    assert trail["EventSelectors"] == [{"IncludeManagementEvents": True, "ReadWriteType": "All"}]
    assert trail["KMSKeyId"] == resolve(stack, audit.encryption_key.key_arn)
    assert trail["S3BucketName"] == resolve(stack, audit.bucket.bucket_name)
    assert trail["CloudWatchLogsLogGroupArn"] == resolve(stack, audit.log_group.log_group_arn)
    assert trail["TrailName"] == audit.trail_name


def test_trail_waits_for_the_bucket_policy_that_lets_it_write(default):
    # GIVEN the default audit trail
    stack, audit, template = default
    # THEN CloudFormation creates the bucket policy before the trail (CloudTrail checks it)
    policy_id = stack.resolve(stack.get_logical_id(audit.bucket.policy.node.default_child))
    assert policy_id in only(template, "AWS::CloudTrail::Trail")["DependsOn"]


def test_optional_s3_and_lambda_data_events_are_recorded_without_repeating_management_events():
    # GIVEN an audit trail asked to record data events of a bucket and a function
    def data_bucket(stack):
        return [s3.Bucket(stack, "Data")]

    def function(stack):
        return [lambda_.Function(stack, "Fn", runtime=lambda_.Runtime.PYTHON_3_13, handler="index.handler",
                                 code=lambda_.Code.from_inline("def handler(e, c): pass"))]  # fmt: skip

    stack, audit, template = make(data_event_buckets=data_bucket, data_event_functions=function)
    # THEN the trail has one selector for management events and data selectors that exclude them
    selectors = only(template, "AWS::CloudTrail::Trail")["Properties"]["EventSelectors"]
    kinds = {s["DataResources"][0]["Type"] for s in selectors if "DataResources" in s}
    assert kinds == {"AWS::S3::Object", "AWS::Lambda::Function"}
    assert [s["IncludeManagementEvents"] for s in selectors].count(True) == 1


def test_organization_trail_writes_and_is_queried_under_the_organization_prefix():
    # GIVEN an organization trail
    stack, audit, template = make(is_organization_trail=True, organization_id="o-a1b2c3d4e5")
    # THEN the trail is an organization trail
    assert only(template, "AWS::CloudTrail::Trail")["Properties"]["IsOrganizationTrail"] is True
    # AND CloudTrail may write under the organization's prefix as well as the account's
    bucket_id, _ = trail_bucket(template)
    write = by_sid(policy_statements(bucket_policy_of(template, bucket_id)), "CloudTrailWriteForThisTrail")
    suffixes = [part["Fn::Join"][1][-1] for part in write["Resource"]]
    assert suffixes == [f"/AWSLogs/{ACCOUNT}/*", "/AWSLogs/o-a1b2c3d4e5/*"]
    # AND the table projects the organization layout
    params = only(template, "AWS::Glue::Table")["Properties"]["TableInput"]["Parameters"]
    assert params["storage.location.template"]["Fn::Join"][1][-1] == (
        "/AWSLogs/o-a1b2c3d4e5/${account}/CloudTrail/${region}/${date}"
    )


def test_an_environment_agnostic_stack_projects_its_deploy_time_account():
    # GIVEN an audit trail in a stack without account or region
    app = cdk.App(context=CONTEXT)
    stack = cdk.Stack(app, "Agnostic")
    AuditTrail(stack, "Trail")
    # WHEN it is synthesized
    params = only(Template.from_stack(stack), "AWS::Glue::Table")["Properties"]["TableInput"]["Parameters"]
    # THEN the account projection is the deploy-time account and the regions the commercial ones
    assert params["projection.account.values"] == {"Ref": "AWS::AccountId"}
    assert "us-east-1" in params["projection.region.values"].split(",")


# -- locked bucket -------------------------------------------------------------------------------


def test_bucket_has_object_lock_compliance_365_days_by_default(default):
    # GIVEN the default audit trail
    _, _, template = default
    # THEN the bucket has Object Lock with a default retention of 365 days in compliance mode
    _, bucket = trail_bucket(template)
    assert bucket["Properties"]["ObjectLockConfiguration"] == {
        "ObjectLockEnabled": "Enabled",
        "Rule": {"DefaultRetention": {"Days": 365, "Mode": "COMPLIANCE"}},
    }


def test_bucket_governance_mode_with_short_lock_is_available_for_trials():
    # GIVEN an audit trail for a trial deployment
    _, _, template = make(object_lock_mode=s3.ObjectLockMode.GOVERNANCE, object_lock_days=1)
    # THEN the default retention is governance mode, one day
    _, bucket = trail_bucket(template)
    assert bucket["Properties"]["ObjectLockConfiguration"]["Rule"]["DefaultRetention"] == {
        "Days": 1,
        "Mode": "GOVERNANCE",
    }


def test_bucket_object_lock_mode_and_days_are_configurable():
    # GIVEN an audit trail asked for compliance mode for seven years
    _, _, template = make(object_lock_mode=s3.ObjectLockMode.COMPLIANCE, object_lock_days=2555)
    # THEN the default retention is compliance mode, 2555 days
    _, bucket = trail_bucket(template)
    assert bucket["Properties"]["ObjectLockConfiguration"]["Rule"]["DefaultRetention"] == {
        "Days": 2555,
        "Mode": "COMPLIANCE",
    }


def test_bucket_is_versioned_private_encrypted_logged_archived_and_retained(default):
    # GIVEN the default audit trail
    stack, audit, template = default
    _, bucket = trail_bucket(template)
    props = bucket["Properties"]
    # THEN it is versioned, blocks public access, uses SSE-KMS with the trail's key,
    # sends server access logs to the separate log bucket, moves to Glacier after 90 days
    assert props["VersioningConfiguration"] == {"Status": "Enabled"}
    assert props["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True, "BlockPublicPolicy": True, "IgnorePublicAcls": True, "RestrictPublicBuckets": True,
    }  # fmt: skip
    sse = props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]
    assert sse == {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": resolve(stack, audit.encryption_key.key_arn)}
    target = props["LoggingConfiguration"]["DestinationBucketName"]
    assert target != {"Ref": stack.resolve(stack.get_logical_id(audit.bucket.node.default_child))}
    rule = props["LifecycleConfiguration"]["Rules"][0]
    assert rule["Transitions"] == [{"StorageClass": "GLACIER", "TransitionInDays": 90}]
    assert rule["NoncurrentVersionTransitions"] == [{"StorageClass": "GLACIER", "TransitionInDays": 90}]
    # AND it survives the stack's deletion
    assert bucket["DeletionPolicy"] == "Retain" and bucket["UpdateReplacePolicy"] == "Retain"


def test_glacier_transition_days_are_configurable():
    # GIVEN an audit trail archiving after 30 days
    _, _, template = make(glacier_after_days=30)
    # THEN the lifecycle rule moves log files to Glacier after 30 days
    _, bucket = trail_bucket(template)
    assert bucket["Properties"]["LifecycleConfiguration"]["Rules"][0]["Transitions"][0]["TransitionInDays"] == 30


def _trail_arn(audit: AuditTrail) -> dict:
    return {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, f":cloudtrail:{REGION}:{ACCOUNT}:trail/{audit.trail_name}"]]}


def test_bucket_policy_lets_cloudtrail_in_only_for_this_trail(default):
    # GIVEN the default audit trail's bucket policy
    stack, audit, template = default
    statements = trail_bucket_statements(template)
    # THEN CloudTrail may check the ACL and write log files only with this trail's aws:SourceArn
    acl = by_sid(statements, "CloudTrailAclCheckForThisTrail")
    write = by_sid(statements, "CloudTrailWriteForThisTrail")
    assert acl["Action"] == "s3:GetBucketAcl"
    assert acl["Condition"] == {"StringEquals": {"aws:SourceArn": _trail_arn(audit)}}
    assert write["Action"] == "s3:PutObject"
    assert write["Condition"] == {
        "StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control", "aws:SourceArn": _trail_arn(audit)}
    }
    assert write["Resource"]["Fn::Join"][1][-1] == f"/AWSLogs/{ACCOUNT}/*"
    # AND no statement lets CloudTrail in without that condition
    for statement in statements:
        if statement.get("Principal") == {"Service": "cloudtrail.amazonaws.com"}:
            assert statement["Condition"]["StringEquals"]["aws:SourceArn"] == _trail_arn(audit)


def test_bucket_policy_denies_deletes_and_policy_changes_to_everyone_without_break_glass(default):
    # GIVEN the default audit trail (no break-glass role)
    _, _, template = default
    statements = trail_bucket_statements(template)
    deletes = by_sid(statements, "DenyDeletingAuditLogs")
    policy = by_sid(statements, "DenyChangingTheBucketPolicy")
    # THEN deleting objects or versions and changing the policy are denied to every principal
    assert (deletes["Effect"], deletes["Principal"]) == ("Deny", {"AWS": "*"})
    assert sorted(deletes["Action"]) == ["s3:DeleteObject", "s3:DeleteObjectVersion"]
    assert deletes["Resource"]["Fn::Join"][1][-1] == "/*"
    assert (policy["Effect"], policy["Principal"]) == ("Deny", {"AWS": "*"})
    assert sorted(policy["Action"]) == ["s3:DeleteBucketPolicy", "s3:PutBucketPolicy"]
    # AND nobody is exempt
    assert "Condition" not in deletes and "Condition" not in policy


def test_bucket_policy_exempts_only_the_break_glass_role(full):
    # GIVEN an audit trail with a break-glass role
    stack, _, template = full
    statements = trail_bucket_statements(template)
    break_glass = stack.node.find_child("BreakGlass")
    exempt = {"ArnNotEquals": {"aws:PrincipalArn": [resolve(stack, break_glass.role_arn)]}}
    # THEN both denies apply to every principal except that role
    assert by_sid(statements, "DenyDeletingAuditLogs")["Condition"] == exempt
    assert by_sid(statements, "DenyChangingTheBucketPolicy")["Condition"] == exempt


LOCK_CHANGES = ["s3:BypassGovernanceRetention", "s3:PutBucketObjectLockConfiguration",
                "s3:PutLifecycleConfiguration", "s3:PutObjectRetention"]


def test_bucket_policy_denies_weakening_the_lock_to_everyone_without_break_glass(default):
    # GIVEN the default audit trail (no break-glass role)
    stack, audit, template = default
    lock = by_sid(trail_bucket_statements(template), "DenyWeakeningTheLock")
    bucket_arn = resolve(stack, audit.bucket.bucket_arn)
    # THEN bypassing governance retention, changing an object's retention, adding a lifecycle rule (whose
    # deletes ignore the policy) and changing the Object Lock configuration are denied to every principal
    assert (lock["Effect"], lock["Principal"]) == ("Deny", {"AWS": "*"})
    assert sorted(lock["Action"]) == LOCK_CHANGES
    # AND on the bucket as well as on every object
    assert lock["Resource"][0] == bucket_arn
    assert lock["Resource"][1]["Fn::Join"][1][-1] == "/*"
    # AND nobody is exempt
    assert "Condition" not in lock


def test_bucket_policy_lock_deny_exempts_only_the_break_glass_role(full):
    # GIVEN an audit trail with a break-glass role
    stack, _, template = full
    break_glass = stack.node.find_child("BreakGlass")
    # THEN the lock deny applies to every principal except that role
    assert by_sid(trail_bucket_statements(template), "DenyWeakeningTheLock")["Condition"] == {
        "ArnNotEquals": {"aws:PrincipalArn": [resolve(stack, break_glass.role_arn)]}
    }


def test_key_policy_denies_disabling_or_deleting_the_key_to_everyone_without_break_glass(default):
    # GIVEN the default audit trail (no break-glass role)
    _, _, template = default
    statements = policy_statements(key_of(template, "Encrypts the log files of CloudTrail trail"), "KeyPolicy")
    deny = by_sid(statements, "DenyDisablingOrDeletingTheKey")
    # THEN disabling the key and scheduling its deletion are denied to every principal, root included
    assert (deny["Effect"], deny["Principal"], deny["Resource"]) == ("Deny", {"AWS": "*"}, "*")
    assert sorted(deny["Action"]) == ["kms:DisableKey", "kms:ScheduleKeyDeletion"]
    assert "Condition" not in deny
    # AND the key policy does not deny changing itself (KMS refuses a policy that locks its admins out)
    assert not any(s["Effect"] == "Deny" and "kms:PutKeyPolicy" in s["Action"] for s in statements)


def test_key_policy_deny_exempts_only_the_break_glass_role(full):
    # GIVEN an audit trail with a break-glass role
    stack, _, template = full
    statements = policy_statements(key_of(template, "Encrypts the log files of CloudTrail trail"), "KeyPolicy")
    break_glass = stack.node.find_child("BreakGlass")
    # THEN only that role may disable the key or schedule its deletion
    assert by_sid(statements, "DenyDisablingOrDeletingTheKey")["Condition"] == {
        "ArnNotEquals": {"aws:PrincipalArn": [resolve(stack, break_glass.role_arn)]}
    }


def test_bucket_policy_requires_tls(default):
    # GIVEN the default audit trail's bucket policy
    _, _, template = default
    statements = trail_bucket_statements(template)
    # THEN requests without TLS are denied
    assert any(
        s["Effect"] == "Deny" and s.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}} for s in statements
    )


def test_users_own_bucket_gets_the_cloudtrail_statements_and_no_new_locked_bucket():
    # GIVEN an audit trail writing to the user's bucket
    stack, audit, template = make(bucket=lambda stack: s3.Bucket(stack, "Mine", enforce_ssl=True))
    # THEN no locked bucket is created, and the user's bucket policy lets this trail write
    assert template.find_resources("AWS::S3::Bucket", {"Properties": {"ObjectLockEnabled": True}}) == {}
    mine = stack.resolve(stack.get_logical_id(stack.node.find_child("Mine").node.default_child))
    statements = policy_statements(bucket_policy_of(template, mine))
    assert by_sid(statements, "CloudTrailWriteForThisTrail")["Condition"]["StringEquals"]["aws:SourceArn"] == _trail_arn(audit)
    assert by_sid(statements, "DenyDeletingAuditLogs")["Effect"] == "Deny"


def test_an_imported_bucket_whose_policy_cannot_change_gets_a_warning():
    # GIVEN an audit trail writing to a bucket imported by name
    stack, _, _ = make(bucket=lambda stack: s3.Bucket.from_bucket_name(stack, "Imported", "central-audit-logs"))
    # THEN synthesis warns that the CloudTrail statements must be added by hand
    warnings = Annotations.from_stack(stack).find_warning("*", Match.string_like_regexp("add statement CloudTrailWriteForThisTrail"))
    assert len(warnings) == 1


# -- key -----------------------------------------------------------------------------------------


def test_key_rotates_and_lets_cloudtrail_encrypt_only_for_this_trail(default):
    # GIVEN the default audit trail's key
    _, audit, template = default
    key = key_of(template, "Encrypts the log files of CloudTrail trail")
    statements = policy_statements(key, "KeyPolicy")
    # THEN it rotates and is retained
    assert key["Properties"]["EnableKeyRotation"] is True
    assert key["DeletionPolicy"] == "Retain"
    # AND CloudTrail may generate data keys only for this trail, with a CloudTrail encryption context
    encrypt = by_sid(statements, "CloudTrailEncryptForThisTrail")
    assert encrypt["Principal"] == {"Service": "cloudtrail.amazonaws.com"}
    assert encrypt["Action"] == "kms:GenerateDataKey*"
    assert encrypt["Condition"]["StringEquals"] == {"aws:SourceArn": _trail_arn(audit)}
    assert encrypt["Condition"]["StringLike"] == {
        "kms:EncryptionContext:aws:cloudtrail:arn": {
            "Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, f":cloudtrail:*:{ACCOUNT}:trail/*"]]
        }
    }
    describe = by_sid(statements, "CloudTrailDescribeKeyForThisTrail")
    assert describe["Condition"] == {"StringEquals": {"aws:SourceArn": _trail_arn(audit)}}
    # AND CloudTrail has no other way in
    cloudtrail_sids = {s.get("Sid") for s in statements if s.get("Principal") == {"Service": "cloudtrail.amazonaws.com"}}
    assert cloudtrail_sids == {"CloudTrailEncryptForThisTrail", "CloudTrailDescribeKeyForThisTrail"}


def test_users_own_key_encrypts_the_trail_and_gets_the_cloudtrail_statements():
    # GIVEN an audit trail given the user's key
    stack, audit, template = make(encryption_key=lambda stack: kms.Key(stack, "Mine", enable_key_rotation=True))
    mine = stack.resolve(stack.get_logical_id(stack.node.find_child("Mine").node.default_child))
    # THEN no key of its own is created for the log files, and the trail and bucket use the user's key
    assert audit.encryption_key is stack.node.find_child("Mine")
    assert [k for k in template.find_resources("AWS::KMS::Key").values()
            if k["Properties"].get("Description", "").startswith("Encrypts the log files")] == []
    assert only(template, "AWS::CloudTrail::Trail")["Properties"]["KMSKeyId"] == {"Fn::GetAtt": [mine, "Arn"]}
    # AND the user's key policy lets only this trail encrypt, and denies disabling or deleting it
    statements = policy_statements(template.find_resources("AWS::KMS::Key")[mine], "KeyPolicy")
    assert by_sid(statements, "CloudTrailEncryptForThisTrail")["Condition"]["StringEquals"] == {"aws:SourceArn": _trail_arn(audit)}
    assert by_sid(statements, "DenyDisablingOrDeletingTheKey")["Effect"] == "Deny"


def test_an_imported_key_whose_policy_cannot_change_gets_a_warning():
    # GIVEN an audit trail given a key imported by ARN
    stack, _, _ = make(encryption_key=lambda stack: kms.Key.from_key_arn(
        stack, "Imported", f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"))
    # THEN synthesis warns that the CloudTrail statements must be added by hand
    warnings = Annotations.from_stack(stack).find_warning(
        "*", Match.string_like_regexp("add statement CloudTrailEncryptForThisTrail"))
    assert len(warnings) == 1


def test_key_policy_lets_the_named_auditor_role_decrypt_this_trails_files_only(full):
    # GIVEN an audit trail with an auditor role
    stack, audit, template = full
    statements = policy_statements(key_of(template, "Encrypts the log files of CloudTrail trail"), "KeyPolicy")
    # THEN the key policy names the auditor role and limits it to decrypting this trail's files
    decrypt = by_sid(statements, "AuditorDecryptsThisTrailsLogFiles")
    assert decrypt["Principal"] == {"AWS": resolve(stack, audit.auditor_role.role_arn)}
    assert decrypt["Action"] == "kms:Decrypt"
    assert decrypt["Condition"] == {
        "StringEquals": {"kms:CallerAccount": ACCOUNT},
        "StringLike": {
            "kms:EncryptionContext:aws:cloudtrail:arn": {
                "Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, f":cloudtrail:*:{ACCOUNT}:trail/{audit.trail_name}"]]
            }
        },
    }


def test_without_auditor_there_is_no_auditor_role_or_key_statement(default):
    # GIVEN the default audit trail
    _, audit, template = default
    # THEN there is no auditor role
    assert audit.auditor_role is None
    statements = policy_statements(key_of(template, "Encrypts the log files of CloudTrail trail"), "KeyPolicy")
    assert "AuditorDecryptsThisTrailsLogFiles" not in {s.get("Sid") for s in statements}


# -- log group -----------------------------------------------------------------------------------


def test_log_group_is_encrypted_and_kept_a_year_by_default(default):
    # GIVEN the default audit trail
    stack, audit, template = default
    # THEN its log group is KMS-encrypted and keeps events 365 days
    group = template.to_json()["Resources"][stack.resolve(stack.get_logical_id(audit.log_group.node.default_child))]
    assert group["Properties"]["RetentionInDays"] == 365
    assert "KmsKeyId" in group["Properties"]
    assert group["DeletionPolicy"] == "Retain"


def test_log_group_retention_is_configurable():
    # GIVEN an audit trail whose log group keeps two years
    stack, audit, template = make(log_retention=logs.RetentionDays.TWO_YEARS)
    # THEN the retention is 731 days
    template.has_resource_properties("AWS::Logs::LogGroup", {"RetentionInDays": 731})


# -- Athena --------------------------------------------------------------------------------------


def test_table_has_the_full_cloudtrail_schema_and_serde(default):
    # GIVEN the default audit trail's Glue table
    stack, audit, template = default
    table = only(template, "AWS::Glue::Table")["Properties"]
    storage = table["TableInput"]["StorageDescriptor"]
    # THEN it has the CloudTrail columns, SerDe and formats, over the trail's AWSLogs/ folder
    assert storage["Columns"] == [{"Name": c["name"], "Type": c["type"]} for c in cloudtrail_schema.glue_columns()]
    assert storage["SerdeInfo"] == {"SerializationLibrary": "com.amazon.emr.hive.serde.CloudTrailSerde"}
    assert storage["InputFormat"] == "com.amazon.emr.cloudtrail.CloudTrailInputFormat"
    assert storage["OutputFormat"] == "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat"
    assert storage["Location"] == {"Fn::Join": ["", ["s3://", resolve(stack, audit.bucket.bucket_name), "/AWSLogs/"]]}
    assert table["DatabaseName"] == audit.database_name
    assert table["TableInput"]["TableType"] == "EXTERNAL_TABLE"


def test_table_projects_account_region_and_date_partitions(default):
    # GIVEN the default audit trail's Glue table
    stack, audit, template = default
    table_input = only(template, "AWS::Glue::Table")["Properties"]["TableInput"]
    params = table_input["Parameters"]
    # THEN partitions are projected (no crawler, no MSCK REPAIR) on account, region and date
    assert table_input["PartitionKeys"] == [
        {"Name": "account", "Type": "string"}, {"Name": "region", "Type": "string"}, {"Name": "date", "Type": "string"},
    ]  # fmt: skip
    assert params["projection.enabled"] == "true"
    assert (params["projection.account.type"], params["projection.account.values"]) == ("enum", ACCOUNT)
    assert params["projection.region.type"] == "enum"
    assert {"eu-west-1", "us-east-1", "ap-southeast-2"} <= set(params["projection.region.values"].split(","))
    assert not any(r.startswith(("cn-", "us-gov-")) for r in params["projection.region.values"].split(","))
    assert params["projection.date.type"] == "date"
    assert params["projection.date.format"] == "yyyy/MM/dd"
    assert params["projection.date.range"] == "NOW-365DAYS,NOW"
    assert params["storage.location.template"] == {
        "Fn::Join": ["", ["s3://", resolve(stack, audit.bucket.bucket_name), "/AWSLogs/${account}/CloudTrail/${region}/${date}"]]
    }
    assert params["read_restored_glacier_objects"] == "true"


def test_projected_accounts_regions_and_history_are_configurable():
    # GIVEN an audit trail projecting two member accounts and two regions over 30 days
    _, _, template = make(
        query_accounts=["111122223333", "444455556666"], query_regions=["eu-west-1", "eu-central-1"], query_history_days=30
    )
    params = only(template, "AWS::Glue::Table")["Properties"]["TableInput"]["Parameters"]
    # THEN the projection lists exactly those
    assert params["projection.account.values"] == "111122223333,444455556666"
    assert params["projection.region.values"] == "eu-west-1,eu-central-1"
    assert params["projection.date.range"] == "NOW-30DAYS,NOW"


def test_workgroup_enforces_encrypted_results_and_a_scan_limit(default):
    # GIVEN the default audit trail's workgroup
    stack, audit, template = default
    config = only(template, "AWS::Athena::WorkGroup")["Properties"]["WorkGroupConfiguration"]
    # THEN its settings are enforced, results are KMS-encrypted in the results bucket,
    # and a query may scan at most 10 GiB
    assert config["EnforceWorkGroupConfiguration"] is True
    assert config["BytesScannedCutoffPerQuery"] == 10 * 1024**3
    assert config["EngineVersion"] == {"SelectedEngineVersion": "Athena engine version 3"}
    results = config["ResultConfiguration"]
    assert results["EncryptionConfiguration"]["EncryptionOption"] == "SSE_KMS"
    assert results["OutputLocation"] == {
        "Fn::Join": ["", ["s3://", resolve(stack, audit.results_bucket.bucket_name), "/results/"]]
    }


def test_results_bucket_is_encrypted_and_expires_results(default):
    # GIVEN the default audit trail's results bucket
    stack, audit, template = default
    results = template.to_json()["Resources"][stack.resolve(stack.get_logical_id(audit.results_bucket.node.default_child))]
    props = results["Properties"]
    # THEN results are KMS-encrypted with the workgroup's key and expire after 30 days
    sse = props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]
    workgroup = only(template, "AWS::Athena::WorkGroup")["Properties"]["WorkGroupConfiguration"]
    assert sse["SSEAlgorithm"] == "aws:kms"
    assert sse["KMSMasterKeyID"] == workgroup["ResultConfiguration"]["EncryptionConfiguration"]["KmsKey"]
    assert props["LifecycleConfiguration"]["Rules"][0]["ExpirationInDays"] == 30


def test_scan_limit_and_results_expiry_are_configurable():
    # GIVEN an audit trail with a 2 GiB scan limit and results kept 7 days
    _, _, template = make(query_scan_limit_gib=2, query_results_expire_days=7)
    # THEN the workgroup and the results bucket say so
    template.has_resource_properties(
        "AWS::Athena::WorkGroup", {"WorkGroupConfiguration": Match.object_like({"BytesScannedCutoffPerQuery": 2 * 1024**3})}
    )
    template.has_resource_properties(
        "AWS::S3::Bucket",
        {"LifecycleConfiguration": {"Rules": [Match.object_like({"Id": "ExpireQueryResults", "ExpirationInDays": 7})]}},
    )


def test_named_queries_are_saved_in_the_workgroup_over_the_table(default):
    # GIVEN the default audit trail
    stack, audit, template = default
    queries = template.find_resources("AWS::Athena::NamedQuery")
    workgroup_ref = {"Ref": stack.resolve(stack.get_logical_id(audit.workgroup))}
    # THEN every saved query is there, in the workgroup and database, over the last 7 days
    expected = {
        q.name: q.render(database=audit.database_name, table=audit.table_name, days=7) for q in audit_queries.QUERIES
    }
    saved = {q["Properties"]["Name"]: q["Properties"] for q in queries.values()}
    assert {name: props["QueryString"] for name, props in saved.items()} == expected
    assert all(props["WorkGroup"] == workgroup_ref for props in saved.values())
    assert all(props["Database"] == audit.database_name for props in saved.values())


def test_named_query_window_is_configurable():
    # GIVEN an audit trail whose saved queries look back 30 days
    _, _, template = make(query_window_days=30)
    # THEN every saved query reads the last 30 days' partitions
    for query in template.find_resources("AWS::Athena::NamedQuery").values():
        assert "interval '30' day" in query["Properties"]["QueryString"]


# -- alarms --------------------------------------------------------------------------------------


def test_a_rewritten_policy_of_the_audit_key_raises_an_alarm(default):
    # GIVEN the default audit trail, whose log files its own key encrypts
    stack, audit, template = default
    (metric_filter,) = [f for f in template.find_resources("AWS::Logs::MetricFilter").values()
                        if f["Properties"]["MetricTransformations"][0]["MetricName"] == "AuditKeyPolicyChanges"]
    # THEN PutKeyPolicy on exactly that key is counted (the step before a deletion that would lock the logs away)
    pattern = stack.resolve(audit_filters.audit_key_policy_filter(audit.encryption_key.key_arn).pattern)
    assert metric_filter["Properties"]["FilterPattern"] == pattern
    key_arn = {"Fn::GetAtt": [stack.get_logical_id(audit.encryption_key.node.default_child), "Arn"]}
    assert key_arn in json.loads(json.dumps(pattern))["Fn::Join"][1]
    # AND an alarm on it notifies the topic, like the CIS alarms
    (alarm,) = [a for a in template.find_resources("AWS::CloudWatch::Alarm").values()
                if a["Properties"]["MetricName"] == "AuditKeyPolicyChanges"]
    assert alarm["Properties"]["Threshold"] == 1 and alarm["Properties"]["AlarmActions"]


def test_every_cis_filter_is_on_the_trails_log_group_with_an_alarm_to_the_topic(default):
    # GIVEN the default audit trail
    stack, audit, template = default
    filters = template.find_resources("AWS::Logs::MetricFilter")
    alarms = template.find_resources("AWS::CloudWatch::Alarm")
    group_ref = {"Ref": stack.resolve(stack.get_logical_id(audit.log_group.node.default_child))}
    topic_ref = {"Ref": stack.resolve(stack.get_logical_id(audit.alarm_topic.node.default_child))}
    # THEN each CIS pattern filters the trail's log group into its own metric
    patterns = {
        f["Properties"]["MetricTransformations"][0]["MetricName"]: f["Properties"]["FilterPattern"] for f in filters.values()
    }
    key_policy = patterns.pop("AuditKeyPolicyChanges")
    attach_points = patterns.pop("AttachPointWrites")
    assert patterns == {f.key: f.pattern for f in audit_filters.FILTERS}
    patterns["AuditKeyPolicyChanges"] = key_policy
    patterns["AttachPointWrites"] = attach_points
    assert all(f["Properties"]["LogGroupName"] == group_ref for f in filters.values())
    # AND each metric has an alarm on one or more events in five minutes, notifying the topic
    assert {a["Properties"]["MetricName"] for a in alarms.values()} == set(patterns)
    for alarm in alarms.values():
        props = alarm["Properties"]
        assert props["Namespace"] == audit_filters.METRIC_NAMESPACE
        assert (props["Threshold"], props["ComparisonOperator"]) == (1, "GreaterThanOrEqualToThreshold")
        assert (props["Statistic"], props["Period"], props["EvaluationPeriods"]) == ("Sum", 300, 1)
        assert props["TreatMissingData"] == "notBreaching"
        assert props["AlarmActions"] == [topic_ref]


def test_alarm_topic_is_encrypted_and_only_this_accounts_alarms_may_publish(default):
    # GIVEN the default audit trail's topic
    stack, audit, template = default
    topic = only(template, "AWS::SNS::Topic")["Properties"]
    key = key_of(template, "Encrypts the audit trail's alarm topic")
    # THEN it is encrypted with its own key that CloudWatch may use only for this account's alarms
    assert topic["KmsMasterKeyId"] == resolve(stack, audit.node.find_child("AlarmTopicKey").key_arn)
    alarm_arns = {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, f":cloudwatch:{REGION}:{ACCOUNT}:alarm:*"]]}
    source = {"StringEquals": {"aws:SourceAccount": ACCOUNT}, "ArnLike": {"aws:SourceArn": alarm_arns}}
    key_statement = by_sid(policy_statements(key, "KeyPolicy"), "CloudWatchAlarmsPublishEncrypted")
    assert key_statement["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert key_statement["Condition"] == source
    # AND the topic policy lets CloudWatch publish under the same conditions, over TLS only
    statements = policy_statements(only(template, "AWS::SNS::TopicPolicy"))
    assert by_sid(statements, "CloudWatchAlarmsPublish")["Condition"] == source
    assert by_sid(statements, "AllowPublishThroughSSLOnly")["Effect"] == "Deny"


def test_users_topic_is_used_instead_of_a_new_one():
    # GIVEN an audit trail given the user's topic
    def topic(stack):
        return sns.Topic.from_topic_arn(stack, "Ops", f"arn:aws:sns:{REGION}:{ACCOUNT}:ops-alarms")

    _, audit, template = make(alarm_actions=lambda stack: [cw_actions.SnsAction(topic(stack))])
    # THEN no topic is created and the alarms notify the user's topic
    assert template.find_resources("AWS::SNS::Topic") == {}
    for alarm in template.find_resources("AWS::CloudWatch::Alarm").values():
        assert alarm["Properties"]["AlarmActions"] == [f"arn:aws:sns:{REGION}:{ACCOUNT}:ops-alarms"]


def test_metric_gives_a_filters_metric_and_rejects_unknown_keys(default):
    # GIVEN the default audit trail
    stack, audit, _ = default
    # WHEN a filter's metric is asked for
    metric = audit.metric("RootUsage")
    # THEN it is the filter's metric, summed
    assert (metric.namespace, metric.metric_name, metric.statistic) == (audit_filters.METRIC_NAMESPACE, "RootUsage", "Sum")
    with pytest.raises(PropError, match=r"AuditTrail: metric key must be one of .*RootUsage.*, got 'Nope'"):
        audit.metric("Nope")


# -- auditor -------------------------------------------------------------------------------------


def _role_statements(template: Template, stack: cdk.Stack, role: iam.IRole) -> list[dict]:
    role_ref = {"Ref": stack.resolve(stack.get_logical_id(role.node.default_child))}
    policies = [p for kind in POLICY_TYPES for p in template.find_resources(kind).values()
                if role_ref in p["Properties"].get("Roles", [])]
    return [s for p in policies for s in p["Properties"]["PolicyDocument"]["Statement"]]


def _actions(statement: dict) -> set[str]:
    actions = statement["Action"]
    return {actions} if isinstance(actions, str) else set(actions)


def test_auditor_role_reads_decrypts_and_queries_with_scoped_resources_only(full):
    # GIVEN an audit trail with an auditor role
    stack, audit, template = full
    statements = _role_statements(template, stack, audit.auditor_role)
    granted = set().union(*(_actions(s) for s in statements))
    # THEN it may read log files, decrypt them, run queries and write results
    assert {"s3:GetObject", "s3:ListBucket", "kms:Decrypt", "athena:StartQueryExecution",
            "athena:GetQueryResults", "glue:GetTable", "s3:PutObject"} <= granted  # fmt: skip
    # AND it may not write to, delete from or reconfigure the trail's bucket, nor touch the trail
    assert not {a for a in granted if a.startswith(("s3:Delete", "s3:PutBucket", "cloudtrail:", "kms:Encrypt"))}
    # AND no statement has a bare "*" resource
    resources = [r for s in statements for r in (s["Resource"] if isinstance(s["Resource"], list) else [s["Resource"]])]
    assert "*" not in resources
    # AND decrypting the trail's key carries the trail's encryption context
    decrypt = [s for s in statements if "kms:Decrypt" in _actions(s) and "Condition" in s]
    assert decrypt and decrypt[0]["Condition"]["StringLike"]["kms:EncryptionContext:aws:cloudtrail:arn"]["Fn::Join"][1][-1].endswith(
        f":trail/{audit.trail_name}"
    )


def test_auditor_role_is_assumable_by_the_given_principal(full):
    # GIVEN an audit trail whose auditor principal is the account
    stack, audit, template = full
    role = template.to_json()["Resources"][stack.resolve(stack.get_logical_id(audit.auditor_role.node.default_child))]
    # THEN the role trusts that principal
    trust = role["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]
    assert trust["Principal"]["AWS"]["Fn::Join"][1][-1] == f":iam::{ACCOUNT}:root"


def test_grant_query_gives_another_role_the_same_access():
    # GIVEN an audit trail and a role of the user
    app = cdk.App(context=CONTEXT)
    stack = cdk.Stack(app, "Audit", env=ENV)
    audit = AuditTrail(stack, "Trail")
    analyst = iam.Role(stack, "Analyst", assumed_by=iam.AccountRootPrincipal())
    # WHEN query access is granted to it
    grant = audit.grant_query(analyst)
    # THEN its policy allows reading, decrypting and querying
    granted = set().union(*(_actions(s) for s in _role_statements(Template.from_stack(stack), stack, analyst)))
    assert {"s3:GetObject", "kms:Decrypt", "athena:StartQueryExecution", "glue:GetTable"} <= granted
    assert grant.success


# -- attributes ----------------------------------------------------------------------------------


def test_every_created_resource_is_exposed(full):
    # GIVEN an audit trail with every option
    _, audit, _ = full
    # THEN the attributes are there
    for name in ("trail", "bucket", "encryption_key", "log_group", "database", "table", "workgroup", "alarm_topic",
                 "auditor_role", "results_bucket"):  # fmt: skip
        assert getattr(audit, name) is not None, name
    assert len(audit.alarms) == len(audit.metric_filters)
    assert set(audit.metric_filters) == {f.key for f in audit_filters.FILTERS} | {"AuditKeyPolicyChanges", "AttachPointWrites"}
    assert set(audit.named_queries) == {q.key for q in audit_queries.QUERIES}


# -- validation ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "props, message",
    [
        ({"object_lock_days": 0}, "AuditTrail: object_lock_days must be between 1 and 36500 days, got 0 days"),
        ({"object_lock_days": 1.5}, "AuditTrail: object_lock_days must be a whole number, got 1.5"),
        ({"glacier_after_days": 40000}, "AuditTrail: glacier_after_days must be between 1 and 36500 days, got 40000 days"),
        ({"query_history_days": 0}, "AuditTrail: query_history_days must be between 1 and 36500 days, got 0 days"),
        ({"query_window_days": 4000}, "AuditTrail: query_window_days must be between 1 and 3650 days, got 4000 days"),
        ({"query_scan_limit_gib": 0}, "AuditTrail: query_scan_limit_gib must be between 1 and 10240 GiB, got 0 GiB"),
        ({"query_results_expire_days": 0}, "AuditTrail: query_results_expire_days must be between 1 and 3650 days, got 0 days"),
        ({"object_lock_mode": "GOVERNANCE"}, "AuditTrail: object_lock_mode must be s3.ObjectLockMode.GOVERNANCE or COMPLIANCE, got 'GOVERNANCE'"),
        ({"trail_name": "-bad name"}, "AuditTrail: trail_name must be 3-128 letters, digits, '.', '_' or '-', starting and ending with a letter or digit, got '-bad name'"),
        ({"is_organization_trail": True}, "AuditTrail: organization_id is required when is_organization_trail is True (log files go under AWSLogs/<org-id>/)"),
        ({"organization_id": "o-a1b2c3d4e5"}, "AuditTrail: organization_id is only used with is_organization_trail=True"),
        ({"is_organization_trail": True, "organization_id": "org-1"}, "AuditTrail: organization_id must be an organization ID such as 'o-a1b2c3d4e5', got 'org-1'"),
        ({"database_name": "Audit-DB"}, "AuditTrail: database_name must be lower-case letters, digits and '_', not starting with a digit, got 'Audit-DB'"),
        ({"query_accounts": ["12345"]}, "AuditTrail: query_accounts: '12345' is not a 12-digit account ID"),
        ({"query_regions": ["Ireland"]}, "AuditTrail: query_regions: 'Ireland' is not a region name such as 'eu-west-1'"),
    ],
)  # fmt: skip
def test_invalid_props_are_rejected_with_the_prop_named(props, message):
    # WHEN an audit trail is built with an invalid prop
    # THEN it fails before anything is synthesized, naming the prop and the bad value
    with pytest.raises(PropError) as error:
        make(**props)
    assert str(error.value) == message


def test_bucket_props_are_rejected_with_the_users_bucket():
    # WHEN Object Lock settings are given together with the user's bucket
    with pytest.raises(PropError) as error:
        make(bucket=lambda stack: s3.Bucket(stack, "Mine"), object_lock_days=30)
    # THEN the prop is named and the reason given
    assert str(error.value) == (
        "AuditTrail: object_lock_days applies only to the bucket the construct creates; "
        "configure your own bucket yourself (or leave out bucket)"
    )


def test_the_trails_own_bucket_cannot_be_a_data_event_bucket():
    # WHEN the user's trail bucket is also listed for data events
    def props(stack):
        return s3.Bucket(stack, "Mine")

    app = cdk.App(context=CONTEXT)
    stack = cdk.Stack(app, "Audit", env=ENV)
    mine = props(stack)
    with pytest.raises(PropError, match=r"data_event_buckets must not contain the trail's own bucket"):
        AuditTrail(stack, "Trail", bucket=mine, data_event_buckets=[mine])


# -- nag gate ------------------------------------------------------------------------------------


def test_nag_gate_is_clean_with_every_option(tmp_path):
    # GIVEN an app with an audit trail using every option, checked by cdk-nag's AWS Solutions pack
    app = cdk.App(context=CONTEXT, outdir=str(tmp_path))
    stack = cdk.Stack(app, "Audit", env=ENV)
    AuditTrail(
        stack,
        "Trail",
        auditor_principal=iam.AccountRootPrincipal(),
        break_glass_role=iam.Role(stack, "BreakGlass", assumed_by=iam.AccountRootPrincipal()),
        data_event_buckets=[s3.Bucket(stack, "Data", enforce_ssl=True, server_access_logs_prefix="x/")],
        object_lock_mode=s3.ObjectLockMode.COMPLIANCE,
    )
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    # WHEN it is synthesized (a finding would raise)
    app.synth()
    # THEN there are no findings, and each acknowledged one carries its reason
    report = json.loads((tmp_path / "validation-report.json").read_text())
    (plugin,) = report["pluginReports"]
    assert plugin.get("violations", []) == []
    acknowledged = plugin.get("suppressedViolations", [])
    assert {a["ruleName"].split("[")[0] for a in acknowledged} <= {"AwsSolutions-IAM5", "AwsSolutions-S1"}
    assert all(len(a.get("reason", a.get("suppressionReason", "x" * 20))) >= 20 for a in acknowledged)


def test_example_scp_denies_at_least_what_the_bucket_and_key_policies_deny():
    # GIVEN the example SCP in docs/
    from log_constructs.audit import policies as audit_policies

    scp = json.loads((ROOT / "docs" / "audit-scp.json").read_text())
    statements = {s["Sid"]: s for s in scp["Statement"]}
    # THEN every statement is a deny that exempts only the break-glass role
    for statement in statements.values():
        assert statement["Effect"] == "Deny"
        assert list(statement["Condition"]) == ["ArnNotLike"]
        assert list(statement["Condition"]["ArnNotLike"]) == ["aws:PrincipalArn"]
    # AND it denies every action the construct's bucket and key policies deny, and more
    bucket_actions = set(statements["ProtectAuditTrailBucket"]["Action"])
    assert set(audit_policies.LOCK_CHANGE_ACTIONS + audit_policies.DELETE_ACTIONS
               + audit_policies.POLICY_CHANGE_ACTIONS) <= bucket_actions
    key_actions = set(statements["ProtectAuditTrailKey"]["Action"])
    assert set(audit_policies.KEY_DESTRUCTION_ACTIONS) | {"kms:PutKeyPolicy"} <= key_actions
    assert {"cloudtrail:StopLogging", "cloudtrail:DeleteTrail"} <= set(statements["ProtectAuditTrail"]["Action"])
    # AND it fits an SCP's 5,120 characters
    assert len((ROOT / "docs" / "audit-scp.json").read_text()) <= 5120


def test_an_alias_as_the_audit_key_is_refused_naming_why():
    # GIVEN a key given by its alias (CloudTrail records PutKeyPolicy under key/<id>, never the alias)
    import aws_cdk as cdk
    from aws_cdk import aws_kms as kms
    from log_constructs import AuditTrail, PropError

    stack = cdk.Stack(cdk.App(), "Audit", env=cdk.Environment(account="111122223333", region="eu-west-1"))
    alias = kms.Alias.from_alias_name(stack, "AuditAlias", "alias/audit")
    # WHEN it is the trail's key THEN it is refused with the reason and the way that works
    with pytest.raises(PropError, match=r"^AuditTrail: encryption_key must be a key, not an alias \(Audit/AuditAlias\): "
                       r"CloudTrail records PutKeyPolicy under the key's ARN"):
        AuditTrail(stack, "Trail", encryption_key=alias)


def test_the_attach_point_alarm_spares_the_cdk_deployment_role():
    import aws_cdk as cdk
    from aws_cdk.assertions import Template
    from log_constructs import AuditTrail

    stack = cdk.Stack(cdk.App(), "Audit", env=cdk.Environment(account="111122223333", region="eu-west-1"))
    trail = AuditTrail(stack, "Trail")
    filters = Template.from_stack(stack).find_resources("AWS::Logs::MetricFilter")
    (pattern,) = [json.dumps(f["Properties"]["FilterPattern"]) for f in filters.values()
                  if "AttachPointWrites" in json.dumps(f)]
    assert "/log-constructs/*" in pattern and "cdk-hnb659fds-cfn-exec-role-111122223333-eu-west-1" in pattern
    assert "AttachPointWrites" in trail.metric_filters
