"""AuditTrail: CloudTrail into a locked bucket, Athena over it, alarms on what matters."""

from __future__ import annotations

import re
from typing import Mapping, Optional, Sequence

from aws_cdk import Annotations, Duration, Names, Stack, Token
from aws_cdk import aws_athena as athena
from aws_cdk import aws_cloudtrail as cloudtrail
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_glue as glue
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk.region_info import RegionInfo
from constructs import Construct

from .._private import nag
from .._private.buckets import secure_bucket
from .._private.keys import new_key
from .._private.log_groups import secure_log_group
from .._private.metrics import graph, warn_without_alarm_actions
from .._private.roles import LibraryRole, library_role
from .._private.topics import alarm_topic
from .._private.validation import PropError
from ..protocols import DashboardRow
from .props import validate
from . import filters as audit_filters, policies as audit_policies
from .athena import TABLE_NAME, build_query_layer

_NAME = "AuditTrail"
_GIB = 1024**3


class AuditTrail(Construct):
    """A multi-region CloudTrail trail whose log files are locked, queryable and watched.

    Log files go to a bucket with S3 Object Lock (or the user's bucket), encrypted with a
    customer-managed key that CloudTrail may use for this trail only; the trail is also
    delivered to an encrypted log group carrying the CIS AWS Foundations metric filters, whose
    alarms notify an encrypted SNS topic. A Glue table with partition projection and an Athena
    workgroup with saved queries make the trail queryable without crawlers.

    :param bucket: Bucket for the log files. Default: - a new bucket with S3 Object Lock, versioning,
        SSE-KMS, block public access, TLS only, access logs, lifecycle to Glacier, retained.
    :param object_lock_mode: Default retention mode of the new bucket. COMPLIANCE: no principal, the
        account's root user included, can delete or overwrite a log file version, or shorten its
        retention, until the lock period ends. GOVERNANCE (with few ``object_lock_days``) suits a
        trial deployment. Default: COMPLIANCE.
    :param object_lock_days: Default retention of the new bucket, in days (1-36500). Default: 365.
    :param encryption_key: Key of the log files (SSE-KMS by CloudTrail, and the new bucket's default). The
        construct adds CloudTrail's statements (this trail's ``aws:SourceArn`` only) and the deny of disabling
        or deleting it to the key policy when it can (a key of the same app), else warns at synth
        (``log-constructs:audit-key-policy``). Default: - a new key with yearly rotation, retained.
    :param glacier_after_days: Days after which log files move to S3 Glacier Flexible Retrieval
        (1-36500). Default: 90.
    :param trail_name: Name of the trail (3-128 letters, digits, ``.``, ``_``, ``-``).
        Default: - a name unique to this construct.
    :param is_organization_trail: Log every account of the organization (deploy in the management
        account or a delegated administrator account). Default: False.
    :param organization_id: The organization ID (``o-...``); required for an organization trail,
        whose log files are written under ``AWSLogs/<org-id>/``. Default: - none.
    :param data_event_buckets: Buckets whose object-level (data) events the trail records.
        Default: - no S3 data events.
    :param data_event_functions: Functions whose invocations (data events) the trail records.
        Default: - no Lambda data events.
    :param log_retention: Retention of the trail's CloudWatch log group. Default: ONE_YEAR.
    :param database_name: Glue database of the table (lower case, digits, ``_``).
        Default: - a name unique to this construct.
    :param query_accounts: Account IDs the table projects. Default: - this stack's account.
    :param query_regions: Regions the table projects. Default: - every region of the stack's
        partition known to this aws-cdk-lib version.
    :param query_history_days: Days back the table's date projection reaches (1-36500). Default: 365.
    :param query_window_days: Days the saved queries look back (1-3650). Default: 7.
    :param query_scan_limit_gib: Per-query scanned-data limit of the workgroup, in GiB (1-10240).
        Default: 10.
    :param query_results_expire_days: Days query results are kept (1-3650). Default: 30.
    :param alarm_actions: Actions of the CIS alarms, e.g. ``cw_actions.SnsAction(topic)`` (an encrypted
        topic must let CloudWatch publish and use its key). Default: - an ``SnsAction`` to a new
        KMS-encrypted topic (``alarm_topic``) that only this account's alarms may publish to.
    :param auditor_principal: Who may assume the auditor role (read the logs, decrypt them,
        query in the workgroup). Default: - no auditor role.
    :param break_glass_role: The one role exempt from the bucket policy's deny of deleting log
        files, changing the bucket policy and weakening the lock (retention, lifecycle, Object Lock
        configuration), and from the key policy's deny of disabling or deleting the key.
        Default: - nobody is exempt.
    :param attach_point_writers: The roles allowed to write the SSM parameters under ``/log-constructs/``
        (the platform's deployment roles, one or two); the ``AttachPointWrites`` alarm fires when anyone
        else writes or deletes one. Default: - the CloudFormation execution role of the CDK bootstrap
        (``cdk-hnb659fds-cfn-exec-role-<account>-<region>``; none with another synthesizer: every write alarms)
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        bucket: Optional[s3.IBucket] = None,
        object_lock_mode: Optional[s3.ObjectLockMode] = None,
        object_lock_days: Optional[int] = None,
        encryption_key: Optional[kms.IKey] = None,
        glacier_after_days: Optional[int] = None,
        trail_name: Optional[str] = None,
        is_organization_trail: Optional[bool] = None,
        organization_id: Optional[str] = None,
        data_event_buckets: Optional[Sequence[s3.IBucket]] = None,
        data_event_functions: Optional[Sequence[lambda_.IFunction]] = None,
        log_retention: Optional[logs.RetentionDays] = None,
        database_name: Optional[str] = None,
        query_accounts: Optional[Sequence[str]] = None,
        query_regions: Optional[Sequence[str]] = None,
        query_history_days: Optional[int] = None,
        query_window_days: Optional[int] = None,
        query_scan_limit_gib: Optional[int] = None,
        query_results_expire_days: Optional[int] = None,
        alarm_actions: Optional[Sequence[cloudwatch.IAlarmAction]] = None,
        auditor_principal: Optional[iam.IPrincipal] = None,
        break_glass_role: Optional[iam.IRole] = None,
        attach_point_writers: Optional[Sequence[iam.IRole]] = None,
    ) -> None:
        super().__init__(scope, id)
        stack = Stack.of(self)
        validate(bucket=bucket, object_lock_mode=object_lock_mode, object_lock_days=object_lock_days,
                 glacier_after_days=glacier_after_days, trail_name=trail_name, is_organization_trail=is_organization_trail,
                 organization_id=organization_id, data_event_buckets=data_event_buckets or (),
                 database_name=database_name, query_accounts=query_accounts, query_regions=query_regions,
                 query_history_days=query_history_days, query_window_days=query_window_days,
                 query_scan_limit_gib=query_scan_limit_gib, query_results_expire_days=query_results_expire_days,
                 encryption_key=encryption_key, attach_point_writers=attach_point_writers)
        self.trail_name = trail_name or Names.unique_resource_name(self, max_length=128, separator="-")
        self.database_name = database_name or _default_database_name(self)
        self.table_name = TABLE_NAME
        exempt = [break_glass_role.role_arn] if break_glass_role else []

        self.encryption_key: kms.IKey = encryption_key or new_key(
            self, "Key", description=f"Encrypts the log files of CloudTrail trail {self.trail_name}"
        )
        for statement in [*audit_policies.trail_key_statements(self, trail_name=self.trail_name),
                          audit_policies.key_protection_statement(exempt)]:
            self._add_key_statement(statement)

        self.bucket: s3.IBucket = bucket or self._locked_bucket(
            mode=object_lock_mode or s3.ObjectLockMode.COMPLIANCE,
            days=object_lock_days or 365,
            glacier_after_days=glacier_after_days or 90,
        )
        write_prefixes = [f"AWSLogs/{stack.account}/"] + ([f"AWSLogs/{organization_id}/"] if is_organization_trail else [])
        for statement in audit_policies.bucket_statements(
            bucket_arn=self.bucket.bucket_arn,
            trail_arn=audit_policies.trail_arn(self, self.trail_name),
            write_prefixes=write_prefixes,
            exempt_role_arns=exempt,
        ):
            if not self.bucket.add_to_resource_policy(statement).statement_added:
                Annotations.of(self).add_warning_v2(
                    "log-constructs:audit-bucket-policy",
                    f"AuditTrail: the bucket policy of {self.bucket.bucket_name} cannot be changed from here; "
                    f"add statement {statement.sid} yourself, or CloudTrail cannot deliver",
                )

        self.log_group: logs.LogGroup = secure_log_group(
            self, "LogGroup", retention=log_retention or logs.RetentionDays.ONE_YEAR
        )
        self.trail = cloudtrail.Trail(
            self,
            "Trail",
            trail_name=self.trail_name,
            # A reference, so the L2 adds no statements of its own (without aws:SourceArn) to the policy.
            bucket=s3.Bucket.from_bucket_attributes(
                self, "TrailBucket", bucket_arn=self.bucket.bucket_arn, bucket_name=self.bucket.bucket_name
            ),
            encryption_key=self.encryption_key,
            is_multi_region_trail=True,
            include_global_service_events=True,
            enable_file_validation=True,
            management_events=cloudtrail.ReadWriteType.ALL,
            is_organization_trail=bool(is_organization_trail),
            send_to_cloud_watch_logs=True,
            cloud_watch_log_group=self.log_group,
        )
        if self.bucket.policy is not None:
            self.trail.node.add_dependency(self.bucket.policy)
        # aws-cdk-lib's Trail creates the role CloudTrail uses to deliver to the log group and takes no role
        # of ours, so its (one-statement) policy stays inline.
        nag.acknowledge_all(
            self.trail.node.find_child("LogsRole"),
            {pack: "IAMNoInlinePolicy" for pack in (nag.NIST_800_53_R5, nag.HIPAA_SECURITY, nag.PCI_DSS_321)},
            reason="aws-cdk-lib's Trail creates this role for CloudTrail's delivery to the log group and accepts no "
            "role of ours; its policy allows only logs:CreateLogStream and logs:PutLogEvents on the trail's log group.",
        )
        if data_event_buckets:
            self.trail.add_s3_event_selector(
                [cloudtrail.S3EventSelector(bucket=b) for b in data_event_buckets], include_management_events=False
            )
        if data_event_functions:
            self.trail.add_lambda_event_selector(list(data_event_functions), include_management_events=False)

        queries = build_query_layer(
            self,
            trail_bucket=self.bucket,
            database_name=self.database_name,
            workgroup_name=Names.unique_resource_name(self, max_length=128, separator="-"),
            accounts=list(query_accounts or [stack.account]),
            regions=list(query_regions or _partition_regions(stack)),
            history_days=query_history_days or 365,
            organization_id=organization_id if is_organization_trail else None,
            results_expire_days=query_results_expire_days or 30,
            scan_limit_bytes=(query_scan_limit_gib or 10) * _GIB,
            query_window_days=query_window_days or 7,
        )
        self.database: glue.CfnDatabase = queries.database
        self.table: glue.CfnTable = queries.table
        self.workgroup: athena.CfnWorkGroup = queries.workgroup
        self.named_queries: Mapping[str, athena.CfnNamedQuery] = queries.named_queries
        self.results_bucket: s3.Bucket = queries.results_bucket
        self._results_key = queries.results_key

        self.alarm_topic: Optional[sns.ITopic] = None
        if alarm_actions is None:
            self.alarm_topic = alarm_topic(self, "AlarmTopic", display_name="Audit trail alarms (CIS monitoring)",
                                           key_description="Encrypts the audit trail's alarm topic")
        self._alarm_actions = list(alarm_actions) if alarm_actions is not None else [cw_actions.SnsAction(self.alarm_topic)]
        self.metric_filters: dict[str, logs.MetricFilter] = {}
        self.alarms: list[cloudwatch.Alarm] = [self._watch(audit_filter) for audit_filter in (
            *audit_filters.FILTERS, audit_filters.audit_key_policy_filter(self.encryption_key.key_arn),
            audit_filters.attach_point_writes_filter(audit_filters.writer_arns(stack, attach_point_writers)))]
        if not self._alarm_actions:
            warn_without_alarm_actions(self, len(self.alarms))

        self.auditor_role: Optional[iam.Role] = None
        if auditor_principal is not None:
            self.auditor_role = self._auditor_role(auditor_principal)

    # -- building blocks -------------------------------------------------------------------------

    def _locked_bucket(self, *, mode: s3.ObjectLockMode, days: int, glacier_after_days: int) -> s3.Bucket:
        retention = (
            s3.ObjectLockRetention.compliance(Duration.days(days))
            if mode == s3.ObjectLockMode.COMPLIANCE
            else s3.ObjectLockRetention.governance(Duration.days(days))
        )
        return secure_bucket(
            self,
            "Bucket",
            encryption_key=self.encryption_key,
            access_logs_prefix=f"audit-trail/{Names.unique_id(self)}/trail/",
            object_lock_enabled=True,
            object_lock_default_retention=retention,
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="ArchiveToGlacier",
                    transitions=[
                        s3.Transition(storage_class=s3.StorageClass.GLACIER, transition_after=Duration.days(glacier_after_days))
                    ],
                    noncurrent_version_transitions=[
                        s3.NoncurrentVersionTransition(
                            storage_class=s3.StorageClass.GLACIER, transition_after=Duration.days(glacier_after_days)
                        )
                    ],
                    abort_incomplete_multipart_upload_after=Duration.days(7),
                )
            ],
        )

    def _add_key_statement(self, statement: iam.PolicyStatement) -> None:
        if not self.encryption_key.add_to_resource_policy(statement).statement_added:
            Annotations.of(self).add_warning_v2(
                "log-constructs:audit-key-policy",
                f"AuditTrail: the key policy of {self.encryption_key.node.path} cannot be changed from here; "
                f"add statement {statement.sid} yourself, or CloudTrail cannot encrypt the log files",
            )

    def _watch(self, audit_filter: audit_filters.AuditFilter) -> cloudwatch.Alarm:
        metric_filter = logs.MetricFilter(
            self,
            f"{audit_filter.key}Filter",
            log_group=self.log_group,
            filter_pattern=logs.FilterPattern.literal(audit_filter.pattern),
            metric_namespace=audit_filters.METRIC_NAMESPACE,
            metric_name=audit_filter.key,
            metric_value="1",
        )
        alarm = cloudwatch.Alarm(
            self,
            f"{audit_filter.key}Alarm",
            alarm_description=f"{audit_filter.description} (Security Hub {audit_filter.control}, CIS monitoring)",
            metric=metric_filter.metric(statistic="Sum", period=Duration.minutes(5)),
            threshold=1,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        for action in self._alarm_actions:
            alarm.add_alarm_action(action)
        self.metric_filters[audit_filter.key] = metric_filter
        return alarm

    def _auditor_role(self, principal: iam.IPrincipal) -> LibraryRole:
        role = library_role(
            self,
            "AuditorRole",
            assumed_by=principal,
            description=f"Reads and queries the audit trail {self.trail_name}",
            max_session_duration=Duration.hours(4),
        )
        self._add_key_statement(
            audit_policies.auditor_key_statement(self, trail_name=self.trail_name, role_arn=role.role_arn)
        )
        self.grant_query(role)
        nag.acknowledge(
            role,
            "IAM5",
            "Object-level S3 actions need object ARNs: reading the trail's log files (AWSLogs/...) and writing "
            "Athena results (results/...) in the construct's own buckets; no other resource is wildcarded.",
            findings=[
                nag.resource_finding(self, f"{self.bucket.bucket_arn}/AWSLogs/*"),
                nag.resource_finding(self, f"{self.results_bucket.bucket_arn}/results/*"),
            ],
        )
        return role

    # -- grants and metrics ----------------------------------------------------------------------

    def grant_query(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` read and decrypt the log files and run queries in the workgroup."""
        stack = Stack.of(self)
        table = f"{self.database_name}/{TABLE_NAME}"
        grants = [
            (["s3:GetObject"], [f"{self.bucket.bucket_arn}/AWSLogs/*"], None),
            (["s3:ListBucket", "s3:GetBucketLocation"], [self.bucket.bucket_arn, self.results_bucket.bucket_arn], None),
            (["kms:Decrypt"], [self.encryption_key.key_arn], audit_policies.decrypt_conditions(self, self.trail_name)),
            (
                ["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"],
                [f"{self.results_bucket.bucket_arn}/results/*"],
                None,
            ),
            (["kms:GenerateDataKey", "kms:Decrypt"], [self._results_key.key_arn], None),
            (
                ["glue:GetDatabase", "glue:GetTable", "glue:GetPartition", "glue:GetPartitions"],
                [
                    stack.format_arn(service="glue", resource="catalog"),
                    stack.format_arn(service="glue", resource="database", resource_name=self.database_name),
                    stack.format_arn(service="glue", resource="table", resource_name=table),
                ],
                None,
            ),
            (
                [
                    "athena:StartQueryExecution", "athena:StopQueryExecution", "athena:GetQueryExecution",
                    "athena:GetQueryResults", "athena:GetQueryResultsStream", "athena:ListQueryExecutions",
                    "athena:BatchGetQueryExecution", "athena:GetWorkGroup", "athena:GetNamedQuery",
                    "athena:ListNamedQueries", "athena:BatchGetNamedQuery",
                ],  # fmt: skip
                [stack.format_arn(service="athena", resource="workgroup", resource_name=self.workgroup.ref)],
                None,
            ),
        ]
        combined: Optional[iam.Grant] = None
        for actions, resources, conditions in grants:
            grant = iam.Grant.add_to_principal(
                grantee=grantee, actions=actions, resource_arns=resources, conditions=conditions
            )
            combined = grant if combined is None else combined.combine(grant)
        return combined

    def metric(self, key: str, *, period: Optional[Duration] = None, statistic: Optional[str] = None,
               label: Optional[str] = None) -> cloudwatch.Metric:
        """The count of trail events matching the CIS filter ``key`` (e.g. ``"RootUsage"``). Default: Sum over 5 minutes."""
        if key not in self.metric_filters:
            raise PropError(f"{_NAME}: metric key must be one of {', '.join(sorted(self.metric_filters))}, got {key!r}")
        return self.metric_filters[key].metric(statistic=statistic or "Sum", period=period or Duration.minutes(5),
                                               label=label)

    @property
    def dashboard_title(self) -> str:
        """``Audit trail (<path>)``."""
        return f"Audit trail ({self.node.path})"

    def dashboard_widgets(self, *, period: Duration) -> list[DashboardRow]:
        """Trail events per CIS filter."""
        metrics = [self.metric(key, period=period, label=key) for key in sorted(self.metric_filters)]
        return [DashboardRow("Events per audit filter", [graph("Events per audit filter", metrics, width=24)])]


def _default_database_name(scope: Construct) -> str:
    name = re.sub(r"[^a-z0-9_]", "_", Names.unique_resource_name(scope, max_length=64, separator="_").lower())
    return name if re.match(r"^[a-z_]", name) else f"audit_{name}"[:64]


def _partition_regions(stack: Stack) -> list[str]:
    partition = "aws"
    if not Token.is_unresolved(stack.region):
        partition = RegionInfo.get(stack.region).partition or "aws"
    return sorted(r.name for r in RegionInfo.regions if r.partition == partition)
