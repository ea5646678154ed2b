"""LogPipeline: CloudWatch Logs and applications' records → Amazon OpenSearch Service (a domain or a serverless
collection), with an S3 backup.

In Firehose mode the shipper function puts one Firehose record per log event (Firehose cannot split a
CloudWatch Logs record into documents) and Firehose indexes them; in bulk mode the shipper indexes with
``_bulk`` itself and Firehose archives aggregated records to S3. Applications can put records directly
in Firehose mode (``grant_put_records``, or ``logship.FirehoseHandler``). Other accounts and regions reach
the shipper through CloudWatch Logs destinations and Kinesis ingestion streams.

The constructor is a short list of steps, each in a module of its own: the props (:mod:`.props`), the
sink (:mod:`.sink`), delivery (:mod:`.delivery`), the shipper (:mod:`.shipper`), ingestion
(:mod:`.ingestion`), the alarms (:mod:`.alarms`) and the attach points (:mod:`.attachment`).
"""
from __future__ import annotations

from typing import Mapping, Optional, Sequence

from aws_cdk import CustomResource, Duration, RemovalPolicy
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kinesisfirehose as firehose
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_opensearchservice as opensearch
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from .._lambda_src.log_shipper.contract import MODE_BULK
from .._private import attach
from .._private.keys import new_key
from .._private.removal import apply_removal_policy
from .alarms import add_alarms
from .attachment import KIND, ImportedLogPipeline, PipelineAttachment, add_attach_points
from .delivery import add_delivery, new_backup_bucket
from .index_setup import IndexSetup
from .ingestion import Ingestion, IngestionSettings, add_ingestion
from .logship_layer import new_logship_layer
from .metrics import LogPipelineMetrics
from .props import NAME, pipeline_props
from .redaction import PipelineRedactionMetrics, redaction_settings
from .serverless import Collection, ServerlessSink
from .shipper import add_shipper
from .sink import PipelineSink


class LogPipeline(PipelineAttachment, PipelineRedactionMetrics, LogPipelineMetrics, Construct):
    """Firehose → OpenSearch with an S3 backup, a CloudWatch Logs shipper, alarms.

    :param name: Publishes the pipeline's attach points (the shipper function's name, and in Firehose
        mode the delivery stream's name) as SSM String parameters ``/log-constructs/pipeline/<name>/...``,
        so that stacks of other CDK apps in this account and region attach with
        ``LogPipeline.from_name(scope, id, name=...)``; it also names the pipeline's log groups
        (``/log-constructs/pipeline/<name>/<part>``).
        1-64 letters, digits, ``_``, ``.``, ``-``; unique per app, and per account and region (a second
        deployment with the same name fails on the existing parameters). Default: - ``<stack name>/<path>``
        (still published: other stacks of this app attach through it)
    :param sink: Where documents go: ``ServerlessSink(...)`` for an OpenSearch Serverless time-series collection
        (NextGen: compute scales to zero when idle; see :class:`ServerlessSink` for its props). Props that
        size or configure a domain are then refused with a ``PropError``. Default: - a provisioned domain
        (the props below)
    :param domain: Bring your own OpenSearch domain. Default: - a new domain with the secure defaults below.
        A domain of your own must let the Firehose role write the index (fine-grained access control
        role mapping is then yours to do).
    :param index: Index name (Firehose appends the rotation suffix). Default: ``"logs"``
    :param index_rotation: ``"none"``, ``"hour"``, ``"day"``, ``"week"`` or ``"month"``. Default: ``"day"``
    :param delivery_mode: ``"firehose"``: Firehose indexes one record per event into OpenSearch and backs
        them up to S3. ``"bulk"``: the shipper indexes with ``_bulk`` itself (``_id`` = the CloudWatch Logs
        event id with ``create``, so no retry or replay makes a second document; signed for ``es``, from
        inside the VPC when the domain is in one), and Firehose archives aggregated gzip records to S3 only
        (billed for their bytes, not 5 KB per event). See the README's cost section. Default: ``"firehose"``
    :param bulk_max_mib: Bulk mode: the largest ``_bulk`` request, 1–100 MiB (at most the domain's
        ``http.max_content_length``). Default: 5
    :param retry_seconds: How long Firehose retries a failed delivery to OpenSearch, 0–7200 (Firehose mode).
        Default: 300
    :param buffer_interval_seconds: Firehose buffering interval, 0–900. Default: 60
    :param buffer_mib: Firehose buffering size, 1–100 MiB. Default: 5
    :param backup_mode: ``"all"`` (every document also to S3) or ``"failed"`` (only failed ones); Firehose mode
        (bulk mode archives every document). Default: ``"all"``
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
    :param removal_policy: what happens to the domain, the backup bucket, the key, the dead-letter queue, the secret and the log groups when they leave the stack Default: ``RemovalPolicy.RETAIN``
    :param shipper_memory_mib: Memory of the shipper function. Default: 512
    :param shipper_timeout: Timeout of the shipper function, 30 seconds to 15 minutes (it starts a Firehose call
        only while 20 s are left). Default: 2 minutes
    :param shipper_egress: Bulk mode in a VPC: where the shipper may open HTTPS connections besides the
        domain's security group, for the Firehose and SQS APIs it calls: the security groups of those
        interface endpoints (``ec2.Peer.security_group_id(...)``), or ``[ec2.Peer.any_ipv4()]`` behind a NAT
        gateway (every HTTPS host: an explicit choice). Default: - the VPC's CIDR block only (interface
        endpoints with private DNS; no internet)
    :param shipper_reserved_concurrency: Concurrent executions reserved for the shipper (a cap, taken from the
        account's unreserved pool, which Lambda keeps at its minimum: see docs/deploy.md). With cross-account
        ingestion at least source regions × 4 × ``ingestion_parallelization_factor``. Default: - none reserved
        (the shipper scales in the account's unreserved pool; a new account's quota can be as low as 10)
    :param alarm_actions: Actions of every alarm (e.g. ``cw_actions.SnsAction(topic)``). Default: - alarms without actions (a synth warning, ``log-constructs:no-alarm-actions``, says so)
    :param free_storage_alarm_mib: Alarm when a node's free storage falls below this. Default: 25% of ``volume_gib``
    :param data_freshness_alarm_seconds: Alarm when the oldest undelivered record is older. Default: 900

    Index set-up at deploy time (only for a domain this construct creates, whose set-up function is
    the master user):

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

    Cross-account ingestion (on when ``source_accounts`` or ``organization_id`` is given; the stack
    must then have a concrete region). Each source region R gets an on-demand Kinesis stream
    ``<destination_name>-R`` in the pipeline's region (encrypted with the pipeline's key), an IAM role
    of the same name that CloudWatch Logs of R assumes (trusting ``logs.amazonaws.com`` only for
    ``arn:<partition>:logs:R:<listed account or this one>:*``, or ``aws:SourceOrgID``; it may only put
    into that stream), and a CloudWatch Logs destination ``destination_name`` in R: created here for
    the pipeline's own region, by :class:`RegionalLogDestination` in a stack of R otherwise. The shipper
    reads every stream (event source mapping: batch item failures, bisect on error, a batch retried until its
    records reach ``ingestion_max_record_age``, then their shard and sequence numbers to the dead-letter queue)
    and takes each document's ``region`` from the stream it came on.

    :param source_accounts: Accounts (12-digit ids) whose log groups may subscribe to the destinations.
        Default: - none
    :param organization_id: Any account of this AWS Organization may subscribe (``aws:PrincipalOrgID`` on
        the destination, ``aws:SourceOrgID`` on the roles). Default: - none
    :param source_regions: Regions member log groups live in, all in the pipeline's partition. Default: - the
        pipeline's region
    :param destination_name: Name of every region's destination, prefix of its stream and role names
        (``<destination_name>-<region>``, at most 64 characters). Default: ``DEFAULT_DESTINATION_NAME``
    :param ingestion_retention: How long a stream keeps records, 24 h to 8760 h. Default: 24 hours
    :param ingestion_max_record_age: Records older than this are given up on (their shard and sequence
        numbers go to the dead-letter queue), 60 s to 7 days and shorter than ``ingestion_retention``, so
        they can still be re-read. Default: 6 hours
    :param ingestion_parallelization_factor: Batches per shard processed at once, 1–10. Default: 2
        (twice a shard's throughput; order is kept per partition key)
    :param redact: The shipper masks secrets and personal data in every document before it leaves the function
        (records, ``_bulk`` documents, archive); ``False`` ships lines as written (a synth warning names the
        construct). Default: True
    :param redaction_patterns: Extra rules, name → Python regex (the whole match is masked). Default: - none
    :param redaction_secret_keys: Extra key names whose values are masked (``ssn``, ``pin``; any case). Default: - none
    :param redaction_rule_sets: Log group name prefix → rule set: ``"audit"`` keeps access key ids, principal ARNs
        and source IPs while masking secrets; ``"default"`` masks all. Default: - ``"audit"`` for CloudTrail's
        streams, ``"default"`` for every other group

    The shipper reserves no concurrency unless ``shipper_reserved_concurrency`` is given; with ingestion
    a reservation must cover source regions × 4 (the shards an on-demand stream starts with) × the
    parallelization factor, and twice that plus 10 also covers split streams and direct subscriptions.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        name: Optional[str] = None,
        sink: Optional[ServerlessSink] = None,
        domain: Optional[opensearch.IDomain] = None,
        delivery_mode: Optional[str] = None,
        bulk_max_mib: Optional[int] = None,
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
        removal_policy: Optional[RemovalPolicy] = None,
        shipper_memory_mib: Optional[int] = None,
        shipper_timeout: Optional[Duration] = None,
        shipper_egress: Optional[Sequence[ec2.IPeer]] = None,
        shipper_reserved_concurrency: Optional[int] = None,
        alarm_actions: Optional[Sequence[cloudwatch.IAlarmAction]] = None,
        free_storage_alarm_mib: Optional[int] = None,
        data_freshness_alarm_seconds: Optional[int] = None,
        index_template: Optional[bool] = None,
        index_shards: Optional[int] = None,
        index_replicas: Optional[int] = None,
        index_field_limit: Optional[int] = None,
        index_lifecycle: Optional[bool] = None,
        index_delete_after_days: Optional[int] = None,
        index_warm_after_days: Optional[int] = None,
        index_cold_after_days: Optional[int] = None,
        dashboards_saved_objects: Optional[bool] = None,
        source_accounts: Optional[Sequence[str]] = None,
        organization_id: Optional[str] = None,
        source_regions: Optional[Sequence[str]] = None,
        destination_name: Optional[str] = None,
        ingestion_retention: Optional[Duration] = None,
        ingestion_max_record_age: Optional[Duration] = None,
        ingestion_parallelization_factor: Optional[int] = None,
        redact: Optional[bool] = None,
        redaction_patterns: Optional[Mapping[str, str]] = None,
        redaction_secret_keys: Optional[Sequence[str]] = None,
        redaction_rule_sets: Optional[Mapping[str, str]] = None,
    ) -> None:
        super().__init__(scope, id)
        apply_removal_policy(self, removal_policy)
        self.name: str = attach.check_name(NAME, name) if name is not None else attach.default_name(self)
        attach.register(self, NAME, KIND, self.name)
        # Every prop is checked before anything is built.
        props = pipeline_props(
            self, sink=sink, domain=domain, delivery_mode=delivery_mode, bulk_max_mib=bulk_max_mib, index=index,
            index_rotation=index_rotation, retry_seconds=retry_seconds, buffer_interval_seconds=buffer_interval_seconds,
            buffer_mib=buffer_mib, backup_mode=backup_mode, backup_infrequent_access_days=backup_infrequent_access_days,
            backup_glacier_days=backup_glacier_days, backup_expiration_days=backup_expiration_days,
            engine_version=engine_version, data_node_instance_type=data_node_instance_type, data_nodes=data_nodes,
            volume_gib=volume_gib, master_nodes=master_nodes, master_node_instance_type=master_node_instance_type,
            zone_awareness_azs=zone_awareness_azs, vpc=vpc, vpc_subnets=vpc_subnets, log_retention=log_retention,
            shipper_memory_mib=shipper_memory_mib, shipper_timeout=shipper_timeout, shipper_egress=shipper_egress,
            shipper_reserved_concurrency=shipper_reserved_concurrency, free_storage_alarm_mib=free_storage_alarm_mib,
            data_freshness_alarm_seconds=data_freshness_alarm_seconds, index_template=index_template,
            index_shards=index_shards, index_replicas=index_replicas, index_field_limit=index_field_limit,
            index_lifecycle=index_lifecycle, index_delete_after_days=index_delete_after_days,
            index_warm_after_days=index_warm_after_days, index_cold_after_days=index_cold_after_days,
            dashboards_saved_objects=dashboards_saved_objects, source_accounts=source_accounts,
            organization_id=organization_id, source_regions=source_regions, destination_name=destination_name,
            ingestion_retention=ingestion_retention, ingestion_max_record_age=ingestion_max_record_age,
            ingestion_parallelization_factor=ingestion_parallelization_factor)
        self.index: str = props.index
        self.delivery_mode: str = props.delivery_mode
        self.sink: Optional[ServerlessSink] = sink
        self.log_retention: logs.RetentionDays = props.log_retention
        self.index_setup: IndexSetup = props.index_setup
        self.ingestion_settings: Optional[IngestionSettings] = props.ingestion

        # What every step uses: the key, and the backup bucket (the archive in bulk mode).
        self.encryption_key: kms.IKey = encryption_key or new_key(
            self, "Key", description=f"Encrypts the {self.node.path} log pipeline (domain, stream, backups)"
        )
        self.backup_bucket: s3.IBucket = backup_bucket or new_backup_bucket(self, props.backup, self.encryption_key)

        # Sink: the domain (new, or your own) or the serverless collection.
        target = PipelineSink(self, props, self.encryption_key)
        self.domain: Optional[opensearch.IDomain] = target.domain
        self.setup_function: Optional[lambda_.Function] = target.setup_function
        self.admin_secret: Optional[secretsmanager.Secret] = target.admin_secret
        self.security_group: Optional[ec2.SecurityGroup] = target.security_group

        # Delivery: Firehose into the sink (a collection is created here, for Firehose's role), or the S3 archive.
        delivery = add_delivery(self, props, target, backup_bucket=self.backup_bucket,
                                encryption_key=self.encryption_key)
        self.collection: Optional[Collection] = target.collection
        self.delivery_role: iam.Role = delivery.role
        self.delivery_log_group: logs.LogGroup = delivery.log_group
        self.delivery_stream: firehose.CfnDeliveryStream = delivery.stream
        self.delivery_stream_name: str = self.delivery_stream.ref
        self.delivery_stream_arn: str = self.delivery_stream.attr_arn

        # Shipper: CloudWatch Logs → one Firehose record per log event, or (bulk mode) _bulk requests to the
        # domain and aggregated records to the archive.
        self.redaction = redaction_settings(self, redact=redact, patterns=redaction_patterns,
                                            secret_keys=redaction_secret_keys, rule_sets=redaction_rule_sets)
        shipper = add_shipper(self, props, target, stream=self.delivery_stream, encryption_key=self.encryption_key,
                              redaction=self.redaction)
        self.shipper: lambda_.Function = shipper.function
        self.dead_letter_queue: sqs.Queue = shipper.dead_letter_queue
        self.shipper_security_group: Optional[ec2.SecurityGroup] = shipper.security_group

        # Sink set-up, of a domain this pipeline created: fine-grained access control maps the writer (Firehose's
        # role, or the shipper's in bulk mode) to a writer role, and the index is set up.
        writer = self.shipper.role if props.bulk and self.shipper.role is not None else self.delivery_role
        self.setup: Optional[CustomResource] = target.set_up_domain(writer)

        # Ingestion: other accounts and regions, through Kinesis streams the shipper reads.
        self.ingestion: Optional[Ingestion] = None
        if props.ingestion is not None:
            self.ingestion = add_ingestion(self, settings=props.ingestion, key=self.encryption_key,
                                           shipper=self.shipper, failure_queue=self.dead_letter_queue)

        # Alarms, from the metric_* methods.
        self.alarms: list[cloudwatch.Alarm] = add_alarms(self, props, alarm_actions)

        # Attach points: the shipper's permission for CloudWatch Logs, the published names, the log group names.
        self.subscriptions: list[logs.SubscriptionFilter] = []
        self.shipper_function_arn: str = self.shipper.function_arn
        # The logship layer for applications' functions (pipeline.logship_layer(scope)), published by name and version.
        self.logship_layer_version: lambda_.LayerVersion = new_logship_layer(self)
        self.attach_parameters = add_attach_points(self, name=self.name, delivery_mode=self.delivery_mode,
                                                   shipper=self.shipper, stream=self.delivery_stream,
                                                   logship_layer=self.logship_layer_version)

    @staticmethod
    def from_name(scope: Construct, id: str, *, name: str) -> ImportedLogPipeline:
        """The pipeline published as ``name`` in this account and region (by any CDK app), for
        ``ship_to=``, ``add_log_group`` and ``grant_put_records``; resolved when ``scope``'s stack deploys."""
        return ImportedLogPipeline(scope, id, name=attach.check_from_name(NAME, scope, name))

    # What PipelineAttachment asks of the pipeline itself (views answer these from SSM).
    def _shipper_function(self) -> Optional[lambda_.IFunction]:
        return self.shipper

    def _subscription_id(self, log_group: logs.ILogGroup) -> str:
        return f"Subscription{len(self.subscriptions)}"

    def _bulk_mode(self) -> Optional[bool]:
        return self.delivery_mode == MODE_BULK
