"""LogPipeline: Amazon Data Firehose → Amazon OpenSearch Service, with an S3 backup bucket.

CloudWatch Logs reach the stream through the shipper function (one Firehose record per log
event: Firehose cannot split a CloudWatch Logs record into documents); applications can put
records directly (``grant_put_records``, or ``logship.FirehoseHandler``).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence

from aws_cdk import CustomResource, Duration, RemovalPolicy, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kinesisfirehose as firehose
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_opensearchservice as opensearch
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sns as sns
from constructs import Construct

from ._private import nag
from ._private.buckets import secure_bucket
from ._private.functions import library_function, library_provider, send_failures_to
from ._private.keys import new_key
from ._private.log_groups import secure_log_group
from ._private.queues import dead_letter_queue
from ._private.roles import library_role
from ._private.subscriptions import PIPELINE_FILTER_NAME, subscribe_function
from ._private.validation import PropError, check, check_choice, check_range
from aws_cdk import Token  # index set-up (issue 7)

NAME = "LogPipeline"
INDEX_ROTATIONS = {"none": "NoRotation", "hour": "OneHour", "day": "OneDay", "week": "OneWeek", "month": "OneMonth"}
BACKUP_MODES = {"all": "AllDocuments", "failed": "FailedDocumentsOnly"}
WRITER_ROLE_NAME = "log_constructs_firehose_writer"
FIREHOSE_NAMESPACE = "AWS/Firehose"
OPENSEARCH_DESTINATION = "DeliveryToAmazonOpenSearchService"


class LogPipeline(Construct):
    """Firehose → OpenSearch with an S3 backup, a CloudWatch Logs shipper, alarms.

    :param domain: Bring your own OpenSearch domain. Default: - a new domain with the secure defaults below.
        A domain of your own must let the Firehose role write the index (fine-grained access control
        role mapping is then yours to do).
    :param index: Index name (Firehose appends the rotation suffix). Default: ``"logs"``
    :param index_rotation: ``"none"``, ``"hour"``, ``"day"``, ``"week"`` or ``"month"``. Default: ``"day"``
    :param retry_seconds: How long Firehose retries a failed delivery to OpenSearch, 0–7200. Default: 300
    :param buffer_interval_seconds: Firehose buffering interval, 0–900. Default: 60
    :param buffer_mib: Firehose buffering size, 1–100 MiB. Default: 5
    :param backup_mode: ``"all"`` (every document also to S3) or ``"failed"`` (only failed ones). Default: ``"all"``
    :param backup_bucket: Bring your own backup bucket. Default: - a new KMS-encrypted, versioned, TLS-only bucket
        with access logs and a lifecycle.
    :param backup_infrequent_access_days: Days before backups move to S3 Standard-IA (≥30). Default: 30
    :param backup_glacier_days: Days before backups move to Glacier Flexible Retrieval. Default: 90
    :param backup_expiration_days: Days before backups expire. Default: 365
    :param encryption_key: KMS key for the domain, stream, bucket, queue and secret. Default: - a new key with rotation.
    :param engine_version: OpenSearch engine. Default: OpenSearch 2.19
    :param data_node_instance_type: Default: ``"t3.small.search"`` (a cheap first deploy; see README for production)
    :param data_nodes: Default: 1 (2 with zone awareness of 2 AZs, 3 with 3 AZs)
    :param volume_gib: gp3 EBS volume per data node, 10–16384 GiB. Default: 10
    :param master_nodes: Dedicated master nodes, 0, 3 or 5. Default: 0 (none)
    :param master_node_instance_type: Default: ``"m7g.large.search"`` when ``master_nodes`` > 0
    :param zone_awareness_azs: Spread data nodes over 2 or 3 AZs. Default: - no zone awareness
    :param vpc: Place the domain (and the stream's ENIs) in this VPC. Default: - public endpoint with
        fine-grained access control and SigV4
    :param vpc_subnets: Subnets in ``vpc``. Default: - the VPC's private subnets, one per AZ used
    :param log_retention: Retention of the domain's, the stream's and the functions' log groups.
        Default: ``RetentionDays.ONE_MONTH``
    :param shipper_memory_mib: Memory of the shipper function. Default: 512
    :param shipper_timeout: Timeout of the shipper function. Default: 2 minutes
    :param alarm_topic: SNS topic the alarms notify. Default: - alarms without actions
    :param free_storage_alarm_mib: Alarm when a node's free storage falls below this. Default: 25% of ``volume_gib``
    :param data_freshness_alarm_seconds: Alarm when the oldest undelivered record is older. Default: 900

    Index set-up at deploy time (issue 7; only for a domain this construct creates, whose set-up
    function is the master user):

    :param index_template: Apply a composable index template to ``<index>*`` (``@timestamp`` date, the
        pipeline's fields as keyword, ``message`` text + keyword, other strings keyword). Default: True
    :param index_shards: Primary shards per index, 1–1024. Default: 1
    :param index_replicas: Replicas per index, 0–15, at most data nodes − 1. Default: 1, or 0 on a single node
    :param index_field_limit: ``index.mapping.total_fields.limit``, 100–100000. Default: 2000
    :param index_lifecycle: Attach an Index State Management policy to ``<index>*``. Default: True
    :param index_delete_after_days: Delete indices older than this, 1–36500 days. Default: 30
    :param index_warm_after_days: Move indices to UltraWarm after this many days (the domain needs UltraWarm).
        Default: - no warm tier
    :param index_cold_after_days: Move indices to cold storage after this many days (needs UltraWarm and cold
        storage; requires ``index_warm_after_days``). Default: - no cold tier
    :param dashboards_saved_objects: Import the OpenSearch Dashboards index pattern, the "Errors and criticals"
        search and the "Logs overview" dashboard. Default: True
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        domain: Optional[opensearch.IDomain] = None,
        index: Optional[str] = None,
        index_rotation: Optional[str] = None,
        retry_seconds: Optional[int] = None,
        buffer_interval_seconds: Optional[int] = None,
        buffer_mib: Optional[int] = None,
        backup_mode: Optional[str] = None,
        backup_bucket: Optional[s3.IBucket] = None,
        backup_infrequent_access_days: Optional[int] = None,
        backup_glacier_days: Optional[int] = None,
        backup_expiration_days: Optional[int] = None,
        encryption_key: Optional[kms.IKey] = None,
        engine_version: Optional[opensearch.EngineVersion] = None,
        data_node_instance_type: Optional[str] = None,
        data_nodes: Optional[int] = None,
        volume_gib: Optional[int] = None,
        master_nodes: Optional[int] = None,
        master_node_instance_type: Optional[str] = None,
        zone_awareness_azs: Optional[int] = None,
        vpc: Optional[ec2.IVpc] = None,
        vpc_subnets: Optional[ec2.SubnetSelection] = None,
        log_retention: Optional[logs.RetentionDays] = None,
        shipper_memory_mib: Optional[int] = None,
        shipper_timeout: Optional[Duration] = None,
        alarm_topic: Optional[sns.ITopic] = None,
        free_storage_alarm_mib: Optional[int] = None,
        data_freshness_alarm_seconds: Optional[int] = None,
        # --- index set-up (issue 7) ---
        index_template: Optional[bool] = None,
        index_shards: Optional[int] = None,
        index_replicas: Optional[int] = None,
        index_field_limit: Optional[int] = None,
        index_lifecycle: Optional[bool] = None,
        index_delete_after_days: Optional[int] = None,
        index_warm_after_days: Optional[int] = None,
        index_cold_after_days: Optional[int] = None,
        dashboards_saved_objects: Optional[bool] = None,
    ) -> None:
        super().__init__(scope, id)
        self.index = index if index is not None else "logs"
        rotation = index_rotation if index_rotation is not None else "day"
        retry = retry_seconds if retry_seconds is not None else 300
        interval = buffer_interval_seconds if buffer_interval_seconds is not None else 60
        size = buffer_mib if buffer_mib is not None else 5
        mode = backup_mode if backup_mode is not None else "all"
        ia_days = backup_infrequent_access_days if backup_infrequent_access_days is not None else 30
        glacier_days = backup_glacier_days if backup_glacier_days is not None else 90
        expiration_days = backup_expiration_days if backup_expiration_days is not None else 365
        azs = zone_awareness_azs
        nodes = data_nodes if data_nodes is not None else (azs or 1)
        volume = volume_gib if volume_gib is not None else 10
        masters = master_nodes if master_nodes is not None else 0
        self.log_retention = log_retention or logs.RetentionDays.ONE_MONTH

        _validate(
            index=self.index, rotation=rotation, retry=retry, interval=interval, size=size, mode=mode,
            ia_days=ia_days, glacier_days=glacier_days, expiration_days=expiration_days, azs=azs, nodes=nodes,
            volume=volume, masters=masters, domain=domain, vpc=vpc,
            domain_sizing_given=any(v is not None for v in (engine_version, data_node_instance_type, data_nodes,
                                                           volume_gib, master_nodes, zone_awareness_azs)),
        )
        # --- index set-up (issue 7): validated here, applied by the set-up custom resource ---------
        self.index_setup = IndexSetup.from_props(
            own_domain=domain is not None, data_nodes=nodes, template=index_template, shards=index_shards,
            replicas=index_replicas, field_limit=index_field_limit, lifecycle=index_lifecycle,
            delete_after_days=index_delete_after_days, warm_after_days=index_warm_after_days,
            cold_after_days=index_cold_after_days, dashboards=dashboards_saved_objects,
        )

        self.encryption_key: kms.IKey = encryption_key or new_key(
            self, "Key", description=f"Encrypts the {self.node.path} log pipeline (domain, stream, backups)"
        )

        # --- S3 backup ----------------------------------------------------------------------
        self.backup_bucket: s3.IBucket = backup_bucket or secure_bucket(
            self,
            "BackupBucket",
            encryption_key=self.encryption_key,
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="TierThenExpireBackups",
                    transitions=[
                        s3.Transition(storage_class=s3.StorageClass.INFREQUENT_ACCESS,
                                      transition_after=Duration.days(ia_days)),
                        s3.Transition(storage_class=s3.StorageClass.GLACIER,
                                      transition_after=Duration.days(glacier_days)),
                    ],
                    expiration=Duration.days(expiration_days),
                    noncurrent_version_expiration=Duration.days(30),
                    abort_incomplete_multipart_upload_after=Duration.days(7),
                )
            ],
        )

        # --- OpenSearch domain --------------------------------------------------------------
        self.setup_function: Optional[lambda_.Function] = None
        self.admin_secret: Optional[secretsmanager.Secret] = None
        self.security_group: Optional[ec2.SecurityGroup] = None
        self._subnets: Optional[ec2.SubnetSelection] = None
        if domain is None:
            setup_network = self._network(vpc, vpc_subnets, azs) if vpc is not None else {}
            # The deploy-time setup function's role is the domain's master user: it signs its requests
            # to the security API with SigV4, so no master password exists anywhere.
            self.setup_function = library_function(
                self,
                "DomainSetupFunction",
                handler="opensearch_setup.handler.handler",
                description="Sets up the OpenSearch domain: Firehose writer role mapping, Dashboards admin user, "
                            "index template, index lifecycle and Dashboards objects",
                service="opensearch-setup",
                timeout=Duration.minutes(5),
                log_retention=self.log_retention,
                **setup_network,
            )
            self.admin_secret = secretsmanager.Secret(
                self,
                "AdminUserSecret",
                description="Password of the OpenSearch Dashboards 'admin' user (internal user database)",
                encryption_key=self.encryption_key,
                generate_secret_string=secretsmanager.SecretStringGenerator(
                    password_length=32, exclude_characters="\"'\\/@:`", require_each_included_type=True
                ),
            )
            rotation_reason = ("OpenSearch internal-user passwords have no managed rotation; rotate the admin password "
                               "through the security plugin's account API and store it in this secret, as "
                               "docs/runbook.md shows.")
            nag.acknowledge(self.admin_secret, "SMG4", rotation_reason)
            nag.acknowledge_all(self.admin_secret, {nag.NIST_800_53_R5: "SecretsManagerRotationEnabled",
                                                    nag.HIPAA_SECURITY: "SecretsManagerRotationEnabled"},
                                reason=rotation_reason)
            self.domain: opensearch.IDomain = self._new_domain(
                engine_version=engine_version or opensearch.EngineVersion.OPENSEARCH_2_19,
                instance_type=data_node_instance_type or "t3.small.search",
                nodes=nodes, volume=volume, masters=masters,
                master_type=master_node_instance_type or "m7g.large.search",
                azs=azs, vpc=vpc, vpc_subnets=vpc_subnets,
            )
        else:
            self.domain = domain

        # --- Firehose delivery stream -------------------------------------------------------
        self.delivery_role = library_role(
            self, "DeliveryRole", assumed_by=iam.ServicePrincipal("firehose.amazonaws.com"),
            description="Firehose writes to the OpenSearch index and the backup bucket",
        )
        self.delivery_log_group = secure_log_group(self, "DeliveryLogs", retention=self.log_retention)
        delivery_log_stream = self.delivery_log_group.add_stream("DestinationErrors")
        backup_log_stream = self.delivery_log_group.add_stream("BackupErrors")
        self._grant_delivery_role(vpc is not None)
        cfn_stream = firehose.CfnDeliveryStream(
            self,
            "DeliveryStream",
            delivery_stream_type="DirectPut",
            delivery_stream_encryption_configuration_input=firehose.CfnDeliveryStream.DeliveryStreamEncryptionConfigurationInputProperty(
                key_type="CUSTOMER_MANAGED_CMK", key_arn=self.encryption_key.key_arn
            ),
            amazonopensearchservice_destination_configuration=firehose.CfnDeliveryStream.AmazonopensearchserviceDestinationConfigurationProperty(
                domain_arn=self.domain.domain_arn,
                index_name=self.index,
                index_rotation_period=INDEX_ROTATIONS[rotation],
                role_arn=self.delivery_role.role_arn,
                retry_options=firehose.CfnDeliveryStream.AmazonopensearchserviceRetryOptionsProperty(
                    duration_in_seconds=retry
                ),
                buffering_hints=firehose.CfnDeliveryStream.AmazonopensearchserviceBufferingHintsProperty(
                    interval_in_seconds=interval, size_in_m_bs=size
                ),
                s3_backup_mode=BACKUP_MODES[mode],
                s3_configuration=firehose.CfnDeliveryStream.S3DestinationConfigurationProperty(
                    bucket_arn=self.backup_bucket.bucket_arn,
                    role_arn=self.delivery_role.role_arn,
                    prefix="backup/!{timestamp:yyyy/MM/dd}/",
                    error_output_prefix="failed/!{firehose:error-output-type}/!{timestamp:yyyy/MM/dd}/",
                    compression_format="GZIP",
                    buffering_hints=firehose.CfnDeliveryStream.BufferingHintsProperty(
                        interval_in_seconds=300, size_in_m_bs=5
                    ),
                    encryption_configuration=firehose.CfnDeliveryStream.EncryptionConfigurationProperty(
                        kms_encryption_config=firehose.CfnDeliveryStream.KMSEncryptionConfigProperty(
                            awskms_key_arn=self.encryption_key.key_arn
                        )
                    ),
                    cloud_watch_logging_options=firehose.CfnDeliveryStream.CloudWatchLoggingOptionsProperty(
                        enabled=True,
                        log_group_name=self.delivery_log_group.log_group_name,
                        log_stream_name=backup_log_stream.log_stream_name,
                    ),
                ),
                cloud_watch_logging_options=firehose.CfnDeliveryStream.CloudWatchLoggingOptionsProperty(
                    enabled=True,
                    log_group_name=self.delivery_log_group.log_group_name,
                    log_stream_name=delivery_log_stream.log_stream_name,
                ),
                vpc_configuration=self._firehose_vpc_configuration(vpc, vpc_subnets),
            ),
        )
        # Firehose validates its permissions when the stream is created: wait for the role's policy.
        cfn_stream.node.add_dependency(self.delivery_role.managed_policy)
        self.delivery_stream = cfn_stream
        self.delivery_stream_name: str = cfn_stream.ref
        self.delivery_stream_arn: str = cfn_stream.attr_arn

        # --- Fine-grained access control: map the Firehose role to a writer role -------------
        self.setup: Optional[CustomResource] = None
        if self.setup_function is not None:
            self.setup = self._domain_setup(self.setup_function)

        # --- Shipper: CloudWatch Logs → one Firehose record per log event --------------------
        self.dead_letter_queue = dead_letter_queue(self, "ShipperDeadLetterQueue", encryption_key=self.encryption_key)
        self.shipper: lambda_.Function = library_function(
            self,
            "Shipper",
            handler="log_shipper.handler.handler",
            description="Ships CloudWatch Logs events to Firehose, one record per event",
            service="log-shipper",
            timeout=shipper_timeout or Duration.minutes(2),
            memory_size=shipper_memory_mib or 512,
            log_retention=self.log_retention,
            environment={
                "DELIVERY_STREAM_NAME": self.delivery_stream_name,
                "DEAD_LETTER_QUEUE_URL": self.dead_letter_queue.queue_url,
            },
        )
        send_failures_to(self.shipper, self.dead_letter_queue, retry_attempts=2, max_event_age=Duration.hours(6))
        self.grant_put_records(self.shipper)
        self.dead_letter_queue.grant_send_messages(self.shipper)
        nag.acknowledge(self.shipper.role, "IAM5", "Sending to the KMS-encrypted dead-letter queue needs the data-key "
                        "actions (kms:GenerateDataKey*, kms:ReEncrypt*) on that one key; the resource is the key ARN.",
                        findings=["Action::kms:GenerateDataKey*", "Action::kms:ReEncrypt*"])

        self.alarms: list[cloudwatch.Alarm] = []
        self._alarms(
            alarm_topic,
            free_storage_mib=free_storage_alarm_mib if free_storage_alarm_mib is not None else max(volume * 1024 // 4, 1),
            freshness_seconds=data_freshness_alarm_seconds if data_freshness_alarm_seconds is not None else 900,
        )

    # --- public API ---------------------------------------------------------------------------
    def add_log_group(self, log_group: logs.ILogGroup, filter_pattern: str = "") -> logs.SubscriptionFilter:
        """Subscribe ``log_group`` to the shipper (permission scoped to that log group).

        Refused when ``log_group`` is the shipper's own log group: it would ship itself forever.
        """
        pattern = logs.FilterPattern.literal(filter_pattern) if filter_pattern else logs.FilterPattern.all_events()
        index = len([c for c in self.node.children if c.node.id.startswith("Subscription")])
        return subscribe_function(
            self,
            f"Subscription{index}",
            construct_name=NAME,
            log_group=log_group,
            function=self.shipper,
            filter_name=PIPELINE_FILTER_NAME,
            filter_pattern=pattern,
        )

    def grant_put_records(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` put records into the delivery stream."""
        return self.grant(grantee, "firehose:PutRecord", "firehose:PutRecordBatch")

    def grant(self, grantee: iam.IGrantable, *actions: str) -> iam.Grant:
        """Grant ``actions`` on the delivery stream."""
        return iam.Grant.add_to_principal(grantee=grantee, actions=list(actions),
                                          resource_arns=[self.delivery_stream_arn])

    def metric(self, metric_name: str, **props: object) -> cloudwatch.Metric:
        """A Firehose metric of this delivery stream (namespace ``AWS/Firehose``)."""
        return cloudwatch.Metric(
            namespace=FIREHOSE_NAMESPACE,
            metric_name=metric_name,
            dimensions_map={"DeliveryStreamName": self.delivery_stream_name},
            **props,  # type: ignore[arg-type]
        )

    def metric_delivery_success(self, **props: object) -> cloudwatch.Metric:
        return self.metric(f"{OPENSEARCH_DESTINATION}.Success", statistic="Average", **props)

    def metric_data_freshness(self, **props: object) -> cloudwatch.Metric:
        return self.metric(f"{OPENSEARCH_DESTINATION}.DataFreshness", statistic="Maximum", **props)

    def metric_incoming_records(self, **props: object) -> cloudwatch.Metric:
        return self.metric("IncomingRecords", statistic="Sum", **props)

    def metric_incoming_bytes(self, **props: object) -> cloudwatch.Metric:
        return self.metric("IncomingBytes", statistic="Sum", **props)

    def metric_delivered_records(self, **props: object) -> cloudwatch.Metric:
        return self.metric(f"{OPENSEARCH_DESTINATION}.Records", statistic="Sum", **props)

    def metric_delivered_bytes(self, **props: object) -> cloudwatch.Metric:
        return self.metric(f"{OPENSEARCH_DESTINATION}.Bytes", statistic="Sum", **props)

    def metric_cluster_status_red(self, **props: object) -> cloudwatch.Metric:
        return self.domain.metric_cluster_status_red(**props)  # type: ignore[arg-type]

    def metric_cluster_status_yellow(self, **props: object) -> cloudwatch.Metric:
        return self.domain.metric_cluster_status_yellow(**props)  # type: ignore[arg-type]

    def metric_free_storage_space(self, **props: object) -> cloudwatch.Metric:
        return self.domain.metric_free_storage_space(**props)  # type: ignore[arg-type]

    def metric_jvm_memory_pressure(self, **props: object) -> cloudwatch.Metric:
        return self.domain.metric_jvm_memory_pressure(**props)  # type: ignore[arg-type]

    def metric_indexing_rate(self, **props: object) -> cloudwatch.Metric:
        # aws-cdk-lib's Domain has no metric_indexing_rate: the AWS/ES metric by name.
        return self.domain.metric("IndexingRate", **{"statistic": "Average", **props})  # type: ignore[arg-type]

    def metric_indexing_latency(self, **props: object) -> cloudwatch.Metric:
        return self.domain.metric_indexing_latency(**props)  # type: ignore[arg-type]

    def metric_shipper_errors(self, **props: object) -> cloudwatch.Metric:
        return self.shipper.metric_errors(**props)  # type: ignore[arg-type]

    def metric_dead_letter_messages(self, **props: object) -> cloudwatch.Metric:
        return self.dead_letter_queue.metric_approximate_number_of_messages_visible(**props)  # type: ignore[arg-type]

    # --- internals ----------------------------------------------------------------------------
    def _new_domain(self, *, engine_version: opensearch.EngineVersion, instance_type: str, nodes: int,
                    volume: int, masters: int, master_type: str, azs: Optional[int],
                    vpc: Optional[ec2.IVpc], vpc_subnets: Optional[ec2.SubnetSelection]) -> opensearch.Domain:
        log_group = lambda name: secure_log_group(self, name, retention=self.log_retention)  # noqa: E731
        slow_search, slow_index, app_logs, audit_logs = (
            log_group("SlowSearchLogs"), log_group("SlowIndexLogs"), log_group("ApplicationLogs"), log_group("AuditLogs")
        )
        assert self.setup_function is not None and self.setup_function.role is not None
        domain = opensearch.Domain(
            self,
            "Domain",
            version=engine_version,
            capacity=opensearch.CapacityConfig(
                data_node_instance_type=instance_type,
                data_nodes=nodes,
                master_nodes=masters or None,
                master_node_instance_type=master_type if masters else None,
                multi_az_with_standby_enabled=False,
            ),
            ebs=opensearch.EbsOptions(volume_size=volume, volume_type=ec2.EbsDeviceVolumeType.GP3),
            zone_awareness=opensearch.ZoneAwarenessConfig(enabled=True, availability_zone_count=azs)
            if azs else opensearch.ZoneAwarenessConfig(enabled=False),
            encryption_at_rest=opensearch.EncryptionAtRestOptions(enabled=True, kms_key=self.encryption_key),
            node_to_node_encryption=True,
            enforce_https=True,
            tls_security_policy=opensearch.TLSSecurityPolicy.TLS_1_2_PFS,
            fine_grained_access_control=opensearch.AdvancedSecurityOptions(
                master_user_arn=self.setup_function.role.role_arn),
            logging=opensearch.LoggingOptions(
                slow_search_log_enabled=True, slow_search_log_group=slow_search,
                slow_index_log_enabled=True, slow_index_log_group=slow_index,
                app_log_enabled=True, app_log_group=app_logs,
                audit_log_enabled=True, audit_log_group=audit_logs,
            ),
            # We publish the log resource policy ourselves (below) instead of CDK's custom resource.
            suppress_logs_resource_policy=True,
            vpc=vpc,
            vpc_subnets=[self._subnets] if self._subnets else None,
            security_groups=[self.security_group] if self.security_group else None,
            enable_auto_software_update=True,
            off_peak_window_enabled=True,
            removal_policy=RemovalPolicy.RETAIN,
        )
        cfn_domain = domain.node.default_child
        # Internal users (the Dashboards 'admin' from Secrets Manager) next to the IAM master user.
        cfn_domain.add_property_override("AdvancedSecurityOptions.InternalUserDatabaseEnabled", True)  # type: ignore[union-attr]
        stack = Stack.of(self)
        logs.CfnResourcePolicy(
            self,
            "DomainLogsPolicy",
            policy_name=f"opensearch-{stack.stack_name}-{self.node.addr[:12]}"[:255],
            policy_document=stack.to_json_string({
                "Version": "2012-10-17",
                "Statement": [{
                    "Effect": "Allow",
                    "Principal": {"Service": "es.amazonaws.com"},
                    "Action": ["logs:PutLogEvents", "logs:CreateLogStream"],
                    "Resource": [g.log_group_arn for g in (slow_search, slow_index, app_logs, audit_logs)],
                    "Condition": {"StringEquals": {"aws:SourceAccount": stack.account}},
                }],
            }),
        )
        domain.node.add_dependency(self.node.find_child("DomainLogsPolicy"))
        if not azs:
            nag.acknowledge(domain, "OS7", "A single-AZ domain is the documented cheap first deploy; "
                            "set zone_awareness_azs=2 or 3 for production (README: production sizing).")
        if not masters:
            nag.acknowledge(domain, "OS4", "Dedicated master nodes are off for the cheap first deploy; "
                            "set master_nodes=3 for production (README: production sizing).")
        if vpc is None:
            public_reason = ("Public endpoint by default so Firehose and Dashboards users reach it without a VPC; "
                             "fine-grained access control authorizes every request, TLS 1.2 only. "
                             "Pass vpc= to place the domain in a VPC.")
            nag.acknowledge(domain, "OS1", public_reason)
            nag.acknowledge_all(domain, {pack: "OpenSearchInVPCOnly" for pack in (
                nag.NIST_800_53_R5, nag.HIPAA_SECURITY, nag.PCI_DSS_321)}, reason=public_reason)
        open_policy_reason = (
            "Fine-grained access control is the gate: anonymous access is off, every request must be SigV4-signed "
            "by a mapped IAM role or authenticate as an internal user (Dashboards login), over TLS 1.2. An IP or "
            "IAM-only access policy would lock out the internal users."
        )
        nag.acknowledge(domain, "OS3", open_policy_reason)
        nag.acknowledge(domain, "OS5", open_policy_reason)
        return domain

    def _network(self, vpc: ec2.IVpc, vpc_subnets: Optional[ec2.SubnetSelection], azs: Optional[int]) -> dict:
        """Security groups and subnets of a VPC domain; returns the set-up function's network settings."""
        # One group for the domain and Firehose's ENIs: HTTPS between its members only.
        self.security_group = ec2.SecurityGroup(
            self, "DomainSecurityGroup", vpc=vpc, allow_all_outbound=False,
            description="OpenSearch domain and Firehose ENIs: HTTPS between members only",
        )
        self.security_group.add_ingress_rule(self.security_group, ec2.Port.tcp(443), "HTTPS from members")
        self.security_group.add_egress_rule(self.security_group, ec2.Port.tcp(443), "HTTPS to members")
        # The set-up function also calls Secrets Manager (HTTPS, through the VPC's NAT or endpoints).
        setup_group = ec2.SecurityGroup(
            self, "DomainSetupSecurityGroup", vpc=vpc, allow_all_outbound=False,
            description="OpenSearch set-up function: HTTPS to the domain and to AWS APIs",
        )
        setup_group.add_egress_rule(ec2.Peer.any_ipv4(), ec2.Port.tcp(443), "HTTPS to the domain and AWS APIs")
        self.security_group.add_ingress_rule(setup_group, ec2.Port.tcp(443), "HTTPS from the set-up function")
        # Without zone awareness a VPC domain takes exactly one subnet; Firehose uses the same ones.
        chosen = vpc.select_subnets(**_selection_args(vpc_subnets)).subnets[: azs or 1]
        self._subnets = ec2.SubnetSelection(subnets=chosen)
        return {"vpc": vpc, "vpc_subnets": self._subnets, "security_groups": [setup_group]}

    def _grant_delivery_role(self, in_vpc: bool) -> None:
        role, domain = self.delivery_role, self.domain
        role.add_to_principal_policy(iam.PolicyStatement(
            sid="DescribeDomain",
            actions=["es:DescribeDomain", "es:DescribeDomains", "es:DescribeDomainConfig"],
            resources=[domain.domain_arn],
        ))
        index_arn = f"{domain.domain_arn}/{self.index}*"
        role.add_to_principal_policy(iam.PolicyStatement(
            sid="WriteIndex",
            actions=["es:ESHttpPost", "es:ESHttpPut"],
            resources=[f"{domain.domain_arn}/_bulk", index_arn, f"{index_arn}/*"],
        ))
        role.add_to_principal_policy(iam.PolicyStatement(
            sid="ReadClusterState",
            actions=["es:ESHttpGet"],
            resources=[f"{domain.domain_arn}/{path}" for path in (
                "_all/_settings", "_cluster/stats", f"{self.index}*/_mapping/*", "_nodes", "_nodes/stats",
                "_nodes/*/stats", "_stats", f"{self.index}*/_stats", "_all/_mapping")],
        ))
        role.add_to_principal_policy(iam.PolicyStatement(
            sid="WriteBackups",
            actions=["s3:AbortMultipartUpload", "s3:GetBucketLocation", "s3:GetObject", "s3:ListBucket",
                     "s3:ListBucketMultipartUploads", "s3:PutObject"],
            resources=[self.backup_bucket.bucket_arn, self.backup_bucket.arn_for_objects("*")],
        ))
        self.encryption_key.grant(role, "kms:GenerateDataKey", "kms:Decrypt")
        self.delivery_log_group.grant_write(role)
        wildcard_arns = [self.backup_bucket.arn_for_objects("*")] + [
            f"{domain.domain_arn}/{path}" for path in (
                f"{self.index}*", f"{self.index}*/*", f"{self.index}*/_mapping/*", "_nodes/*/stats",
                f"{self.index}*/_stats")]
        findings = [nag.resource_finding(self, arn) for arn in wildcard_arns]
        if in_vpc:
            role.add_to_principal_policy(iam.PolicyStatement(
                sid="DeliverIntoVpc",
                actions=["ec2:DescribeVpcs", "ec2:DescribeVpcAttribute", "ec2:DescribeSubnets",
                         "ec2:DescribeSecurityGroups", "ec2:DescribeNetworkInterfaces",
                         "ec2:CreateNetworkInterface", "ec2:CreateNetworkInterfacePermission",
                         "ec2:DeleteNetworkInterface"],
                resources=["*"],
            ))
            findings.append("Resource::*")
        nag.acknowledge(
            role,
            "IAM5",
            "Firehose writes to rotating indices (<index>-<date>) and to date-prefixed backup objects, so the "
            "index and object ARNs end in a wildcard; EC2 ENI actions for VPC delivery have no resource scope.",
            findings=findings,
        )

    def _firehose_vpc_configuration(self, vpc: Optional[ec2.IVpc], vpc_subnets: Optional[ec2.SubnetSelection]):
        if vpc is None:
            return None
        group = self.security_group or ec2.SecurityGroup(
            self, "DeliverySecurityGroup", vpc=vpc, description="Firehose ENIs delivering to the domain")
        subnets = self._subnets or ec2.SubnetSelection(subnets=vpc.select_subnets(**_selection_args(vpc_subnets)).subnets)
        return firehose.CfnDeliveryStream.VpcConfigurationProperty(
            role_arn=self.delivery_role.role_arn,
            security_group_ids=[group.security_group_id],
            subnet_ids=[subnet.subnet_id for subnet in subnets.subnets or []],
        )

    def _domain_setup(self, function: lambda_.Function) -> CustomResource:
        """Deploy-time set-up of the domain over its REST API, signed as the master user (the function's role)."""
        assert self.admin_secret is not None and function.role is not None
        function.add_to_role_policy(iam.PolicyStatement(
            sid="SignedDomainRequests",
            actions=["es:ESHttpGet", "es:ESHttpHead", "es:ESHttpPut", "es:ESHttpPost", "es:ESHttpPatch"],
            resources=[self.domain.domain_arn, f"{self.domain.domain_arn}/*"],
        ))
        nag.acknowledge(function.role, "IAM5", "The master user administers the domain over its REST API: security "
                        "plugin, index templates, ISM and Dashboards paths below the domain ARN.",
                        findings=[nag.resource_finding(self, f"{self.domain.domain_arn}/*")])
        self.admin_secret.grant_read(function)
        provider = library_provider(self, "DomainSetupProvider", on_event_handler=function,
                                    log_retention=self.log_retention)
        return CustomResource(
            self,
            "DomainSetup",
            service_token=provider.service_token,
            resource_type="Custom::OpenSearchSetup",
            properties={
                "DomainEndpoint": self.domain.domain_endpoint,
                "Region": Stack.of(self).region,
                "Security": {
                    "WriterRoleName": WRITER_ROLE_NAME,
                    "WriterBackendRoles": [self.delivery_role.role_arn],
                    "IndexPatterns": [f"{self.index}*"],
                    "AdminUser": "admin",
                    "AdminSecretArn": self.admin_secret.secret_arn,
                    "MasterRoleArn": function.role.role_arn,
                },
                **self.index_setup.properties(self.index),
            },
        )

    def _alarms(self, topic: Optional[sns.ITopic], *, free_storage_mib: int, freshness_seconds: int) -> None:
        five_minutes = Duration.minutes(5)
        specs = [
            ("DeliverySuccessAlarm", self.metric_delivery_success(period=five_minutes), 1,
             cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD, "Firehose delivery to OpenSearch is failing"),
            ("DataFreshnessAlarm", self.metric_data_freshness(period=five_minutes), freshness_seconds,
             cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD, "Records wait too long in Firehose"),
            ("ClusterRedAlarm", self.metric_cluster_status_red(period=Duration.minutes(1)), 1,
             cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD, "OpenSearch cluster status is red"),
            ("ClusterYellowAlarm", self.metric_cluster_status_yellow(period=Duration.minutes(1)), 1,
             cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD, "OpenSearch cluster status is yellow"),
            ("FreeStorageAlarm", self.metric_free_storage_space(period=five_minutes, statistic="Minimum"),
             free_storage_mib, cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD, "OpenSearch free storage is low"),
            ("JvmMemoryPressureAlarm", self.metric_jvm_memory_pressure(period=five_minutes), 80,
             cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD, "OpenSearch JVM memory pressure is high"),
            ("ShipperErrorsAlarm", self.metric_shipper_errors(period=five_minutes), 1,
             cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD, "The log shipper function fails"),
            ("DeadLetterAlarm", self.metric_dead_letter_messages(period=Duration.minutes(1), statistic="Maximum"), 1,
             cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
             "Log batches are waiting in the shipper's dead-letter queue"),
        ]
        for id, metric, threshold, comparison, description in specs:
            alarm = metric.create_alarm(
                self, id, threshold=threshold, evaluation_periods=1, comparison_operator=comparison,
                alarm_description=description, treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            )
            if topic is not None:
                alarm.add_alarm_action(cw_actions.SnsAction(topic))
            self.alarms.append(alarm)


def _selection_args(selection: Optional[ec2.SubnetSelection]) -> dict:
    """A SubnetSelection as keyword arguments for ``IVpc.select_subnets`` (private subnets by default)."""
    if selection is None:
        return {"subnet_type": ec2.SubnetType.PRIVATE_WITH_EGRESS}
    return dict(selection._values)  # jsii structs keep their fields here


def _validate(*, index: str, rotation: str, retry: int, interval: int, size: int, mode: str, ia_days: int,
              glacier_days: int, expiration_days: int, azs: Optional[int], nodes: int, volume: int, masters: int,
              domain: Optional[opensearch.IDomain], vpc: Optional[ec2.IVpc], domain_sizing_given: bool) -> None:
    import re

    check(NAME, "index", bool(re.fullmatch(r"[a-z0-9][a-z0-9_\-]{0,79}", index)) and index.count("*") == 0,
          f"must be a lowercase OpenSearch index name (a-z, 0-9, '-', '_', at most 80 characters), got {index!r}")
    check_choice(NAME, "index_rotation", rotation, INDEX_ROTATIONS)
    check_range(NAME, "retry_seconds", retry, 0, 7200, " s")
    check_range(NAME, "buffer_interval_seconds", interval, 0, 900, " s")
    check_range(NAME, "buffer_mib", size, 1, 100, " MiB")
    check_choice(NAME, "backup_mode", mode, BACKUP_MODES)
    check_range(NAME, "backup_infrequent_access_days", ia_days, 30, 36500, " days")
    check(NAME, "backup_glacier_days", glacier_days > ia_days,
          f"must be later than backup_infrequent_access_days ({ia_days}), got {glacier_days}")
    check(NAME, "backup_expiration_days", expiration_days > glacier_days,
          f"must be later than backup_glacier_days ({glacier_days}), got {expiration_days}")
    if azs is not None:
        check_choice(NAME, "zone_awareness_azs", azs, (2, 3))  # type: ignore[arg-type]
        check(NAME, "data_nodes", nodes % azs == 0,
              f"must be a multiple of zone_awareness_azs ({azs}) to balance the AZs, got {nodes}")
    check_range(NAME, "data_nodes", nodes, 1, 80)
    check_range(NAME, "volume_gib", volume, 10, 16384, " GiB")
    check_choice(NAME, "master_nodes", masters, (0, 3, 5))  # type: ignore[arg-type]
    if domain is not None and (domain_sizing_given or vpc is not None):
        raise PropError(f"{NAME}: domain is your own, so engine_version, sizing, zone_awareness_azs and vpc "
                        "cannot be set; configure them on your domain")


# --- index set-up (issue 7) -----------------------------------------------------------------------
@dataclass(frozen=True)
class IndexSetup:
    """What the set-up custom resource applies to the index: template, ISM policy, Dashboards objects.

    ``None`` for a part that is off. Properties follow ``lambda_src/opensearch_setup``'s contract.
    """

    template: Optional[dict] = None
    lifecycle: Optional[dict] = None
    dashboards: bool = False

    @staticmethod
    def from_props(*, own_domain: bool, data_nodes: int, template: Optional[bool], shards: Optional[int],
                   replicas: Optional[int], field_limit: Optional[int], lifecycle: Optional[bool],
                   delete_after_days: Optional[int], warm_after_days: Optional[int],
                   cold_after_days: Optional[int], dashboards: Optional[bool]) -> "IndexSetup":
        given = {"index_template": template, "index_shards": shards, "index_replicas": replicas,
                 "index_field_limit": field_limit, "index_lifecycle": lifecycle,
                 "index_delete_after_days": delete_after_days, "index_warm_after_days": warm_after_days,
                 "index_cold_after_days": cold_after_days, "dashboards_saved_objects": dashboards}
        if own_domain:
            chosen = sorted(name for name, value in given.items() if value not in (None, False))
            check(NAME, chosen[0] if chosen else "domain", not chosen,
                  f"applies only to a domain this construct creates (its set-up function is the master user); "
                  f"with your own domain, leave {', '.join(chosen)} unset")
            return IndexSetup()
        shards = 1 if shards is None else shards
        replicas = min(1, data_nodes - 1) if replicas is None else replicas
        field_limit = 2000 if field_limit is None else field_limit
        delete_after_days = 30 if delete_after_days is None else delete_after_days
        check_range(NAME, "index_shards", shards, 1, 1024)
        check_range(NAME, "index_replicas", replicas, 0, 15)
        if not Token.is_unresolved(replicas) and not Token.is_unresolved(data_nodes):
            check(NAME, "index_replicas", replicas <= data_nodes - 1,
                  f"must be at most data_nodes - 1 ({data_nodes - 1}): a replica never shares a node with its "
                  f"primary, so {replicas} would stay unassigned and keep the cluster yellow")
        check_range(NAME, "index_field_limit", field_limit, 100, 100_000)
        check_range(NAME, "index_delete_after_days", delete_after_days, 1, 36500, " days")
        if warm_after_days is not None:
            check_range(NAME, "index_warm_after_days", warm_after_days, 1, 36500, " days")
        check(NAME, "index_cold_after_days", cold_after_days is None or warm_after_days is not None,
              "needs index_warm_after_days: cold storage takes indices from UltraWarm")
        ages = [d for d in (warm_after_days, cold_after_days, delete_after_days) if d is not None]
        check(NAME, "index_delete_after_days", ages == sorted(set(ages)),
              f"must come after the warm and cold transitions (warm < cold < delete), got "
              f"warm={warm_after_days}, cold={cold_after_days}, delete={delete_after_days}")
        template_props = None if template is False else {
            "Shards": shards, "Replicas": replicas, "FieldLimit": field_limit}
        lifecycle_props = None if lifecycle is False else {
            "DeleteAfterDays": delete_after_days,
            **({"WarmAfterDays": warm_after_days} if warm_after_days is not None else {}),
            **({"ColdAfterDays": cold_after_days} if cold_after_days is not None else {}),
        }
        return IndexSetup(template_props, lifecycle_props, dashboards is not False)

    def properties(self, index: str) -> dict:
        """The custom resource's ``IndexTemplate``, ``IsmPolicy`` and ``Dashboards`` properties."""
        pattern = f"{index}*"
        props: dict = {}
        if self.template is not None:
            props["IndexTemplate"] = {"Name": index, "IndexPatterns": [pattern], **self.template}
        if self.lifecycle is not None:
            props["IsmPolicy"] = {"PolicyId": f"{index}-lifecycle", "IndexPatterns": [pattern], **self.lifecycle}
        if self.dashboards:
            props["Dashboards"] = {"IndexPattern": pattern, "TimeField": "@timestamp"}
        return props
