"""LogPipeline: Amazon Data Firehose → Amazon OpenSearch Service (a domain or a serverless collection), with an S3 backup.

CloudWatch Logs reach the stream through the shipper function (one Firehose record per log
event: Firehose cannot split a CloudWatch Logs record into documents); applications can put
records directly (``grant_put_records``, or ``logship.FirehoseHandler``). Other accounts and
regions reach the shipper through CloudWatch Logs destinations and Kinesis ingestion streams
(:mod:`.ingestion`).
"""
from __future__ import annotations

import re
from typing import Mapping, Optional, Sequence

from aws_cdk import CustomResource, Duration, RemovalPolicy, Stack, Token
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
from constructs import Construct

from .._lambda_src.log_shipper import contract as shipper_contract
from .._lambda_src.opensearch_setup.contract import BULK_WRITER_ROLE_NAME
from .._lambda_src.log_shipper.contract import (DEADLINE_MARGIN_MS, MAX_TIMEOUT_SECONDS, MIN_TIMEOUT_SECONDS,
                                                ShipperConfig)
from .._private.buckets import secure_bucket
from .._private.failures import send_failures_to
from .._private.functions import library_function
from .._private.keys import new_key
from .._private.log_groups import secure_log_group
from .._private.metrics import create_alarms
from .._private.queues import dead_letter_queue
from .._private.removal import apply_removal_policy
from .._private.roles import library_role
from .._private import attach
from .._private.subscriptions import allow_log_delivery
from .._private.validation import PropError, check, check_choice, check_range
from . import delivery
from .attachment import (ATTACH_POINTS, DELIVERY_STREAM_ARN, DELIVERY_STREAM_NAME, KIND, LEGACY_ATTACH_POINTS,
                         LOG_GROUP_PARTS, SHIPPER_FUNCTION_ARN, SHIPPER_FUNCTION_NAME, ImportedLogPipeline,
                         PipelineAttachment)
from .ingestion import (Ingestion, IngestionSettings, add_ingestion, ingestion_settings,
                        reserved_concurrency)
from .domain import DomainNetwork, DomainSizing, admin_secret, domain_network, domain_setup, new_domain
from .index_setup import IndexSetup
from .metrics import SHIPPER_SERVICE, LogPipelineMetrics
from .redaction import PipelineRedactionMetrics, redaction_settings
from .serverless import Collection, ServerlessSink, collection_setup, new_collection, refuse_unsupported

NAME = "LogPipeline"


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
    reads every stream (event source mapping: batch item failures, bisect on error, 3 retries, the
    dead-letter queue on failure) and takes each document's ``region`` from the stream it came on.

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
        self.index = index if index is not None else "logs"
        self.delivery_mode: str = delivery_mode if delivery_mode is not None else shipper_contract.MODE_FIREHOSE
        bulk = _validate_delivery_mode(self.delivery_mode, bulk_max_mib=bulk_max_mib, retry_seconds=retry_seconds,
                                       backup_mode=backup_mode)
        self.sink: Optional[ServerlessSink] = sink
        if sink is not None:
            check(NAME, "sink", isinstance(sink, ServerlessSink),
                  f"must be a ServerlessSink, or unset for a provisioned domain, got {type(sink).__name__}")
            check(NAME, "delivery_mode", not bulk,
                  "must be 'firehose' with sink=ServerlessSink(...): Firehose's serverless destination indexes "
                  "(a time-series collection assigns document ids itself), got 'bulk'")
            refuse_unsupported({
                "domain": domain, "engine_version": engine_version, "data_node_instance_type": data_node_instance_type,
                "data_nodes": data_nodes, "volume_gib": volume_gib, "master_nodes": master_nodes,
                "master_node_instance_type": master_node_instance_type, "zone_awareness_azs": zone_awareness_azs,
                "free_storage_alarm_mib": free_storage_alarm_mib, "index_rotation": index_rotation,
                "index_shards": index_shards, "index_replicas": index_replicas,
                "index_field_limit": index_field_limit, "index_warm_after_days": index_warm_after_days,
                "index_cold_after_days": index_cold_after_days, "dashboards_saved_objects": dashboards_saved_objects,
            })
            dashboards_saved_objects = False
        settings = delivery.DeliverySettings(
            index=self.index,
            rotation=index_rotation if index_rotation is not None else ("none" if sink else "day"),
            retry_seconds=retry_seconds if retry_seconds is not None else 300,
            interval_seconds=buffer_interval_seconds if buffer_interval_seconds is not None else 60,
            size_mib=buffer_mib if buffer_mib is not None else 5,
            backup_mode=backup_mode if backup_mode is not None else "all",
        )
        ia_days = backup_infrequent_access_days if backup_infrequent_access_days is not None else 30
        glacier_days = backup_glacier_days if backup_glacier_days is not None else 90
        expiration_days = backup_expiration_days if backup_expiration_days is not None else 365
        azs = zone_awareness_azs
        sizing = DomainSizing(
            engine_version=engine_version or opensearch.EngineVersion.OPENSEARCH_2_19,
            instance_type=data_node_instance_type or "t3.small.search",
            nodes=data_nodes if data_nodes is not None else (azs or 1),
            volume=volume_gib if volume_gib is not None else 10,
            masters=master_nodes if master_nodes is not None else 0,
            master_type=master_node_instance_type or "m7g.large.search",
            azs=azs,
        )
        self.log_retention = log_retention or logs.RetentionDays.ONE_MONTH

        _validate(
            settings, sizing, ia_days=ia_days, glacier_days=glacier_days, expiration_days=expiration_days,
            domain=domain, vpc=vpc,
            domain_sizing_given=any(v is not None for v in (engine_version, data_node_instance_type, data_nodes,
                                                           volume_gib, master_nodes, zone_awareness_azs)),
        )
        ingestion = ingestion_settings(
            self, source_accounts=source_accounts, organization_id=organization_id, source_regions=source_regions,
            destination_name=destination_name, retention=ingestion_retention,
            max_record_age=ingestion_max_record_age, parallelization_factor=ingestion_parallelization_factor)
        # Validated here, applied by the set-up custom resource.
        self.index_setup = IndexSetup.from_props(
            own_domain=domain is not None, data_nodes=sizing.nodes, template=index_template, shards=index_shards,
            replicas=index_replicas, field_limit=index_field_limit, lifecycle=index_lifecycle,
            delete_after_days=index_delete_after_days, warm_after_days=index_warm_after_days,
            cold_after_days=index_cold_after_days, dashboards=dashboards_saved_objects,
        )

        self.encryption_key: kms.IKey = encryption_key or new_key(
            self, "Key", description=f"Encrypts the {self.node.path} log pipeline (domain, stream, backups)"
        )
        self.backup_bucket: s3.IBucket = backup_bucket or self._new_backup_bucket(ia_days, glacier_days,
                                                                                   expiration_days)

        self.setup_function: Optional[lambda_.Function] = None
        self.setup: Optional[CustomResource] = None
        self.admin_secret: Optional[secretsmanager.Secret] = None
        self.security_group: Optional[ec2.SecurityGroup] = None
        network: Optional[DomainNetwork] = None
        self.domain: Optional[opensearch.IDomain] = domain
        self.collection: Optional[Collection] = None
        if sink is not None:
            network = domain_network(self, vpc, vpc_subnets, azs, target="collection") if vpc is not None else None
            self.security_group = network.security_group if network else None
            if self.index_setup.template is not None:
                self.setup_function = self._setup_function(
                    "CollectionSetupFunction", "Puts the index template on the OpenSearch Serverless collection",
                    vpc, network)
        elif domain is None:
            network = domain_network(self, vpc, vpc_subnets, azs) if vpc is not None else None
            self.security_group = network.security_group if network else None
            # The domain's master user is the internal user 'admin' (password in Secrets Manager); the
            # deploy-time set-up function maps its own IAM role with it, then signs everything with SigV4.
            self.setup_function = self._setup_function(
                "DomainSetupFunction", "Sets up the OpenSearch domain: Firehose writer role mapping, Dashboards admin "
                "user, index template, index lifecycle and Dashboards objects", vpc, network)
            assert self.setup_function.role is not None
            self.admin_secret = admin_secret(self, self.encryption_key)
            self.domain = new_domain(
                self, sizing=sizing, encryption_key=self.encryption_key,
                secret=self.admin_secret, log_retention=self.log_retention,
                vpc=vpc, network=network,
            )
        self.delivery_role = library_role(
            self, "DeliveryRole",
            # Firehose passes the stream's account as the external ID when it assumes a delivery role.
            assumed_by=iam.ServicePrincipal(
                "firehose.amazonaws.com", conditions={"StringEquals": {"sts:ExternalId": Stack.of(self).account}}),
            description="Firehose writes to the OpenSearch index and the backup bucket",
        )
        self.delivery_log_group = secure_log_group(self, "DeliveryLogs", retention=self.log_retention)
        vpc_config = delivery.vpc_configuration(self.delivery_role, network)
        if sink is not None:
            self.collection = new_collection(
                self, sink=sink, index=self.index, encryption_key=self.encryption_key, writer=self.delivery_role,
                setup=self.setup_function.role if self.setup_function else None,
                delete_after_days=(self.index_setup.lifecycle or {}).get("DeleteAfterDays"), network=network, vpc=vpc)
            if self.setup_function is not None:
                self.setup = collection_setup(self, function=self.setup_function, collection=self.collection,
                                              index=self.index, log_retention=self.log_retention,
                                              encryption_key=self.encryption_key)
            delivery.grant_backup_and_logs(
                self, self.delivery_role, backup_bucket=self.backup_bucket, encryption_key=self.encryption_key,
                log_group=self.delivery_log_group, in_vpc=vpc is not None, findings=[],
                reason="Firehose writes date-prefixed backup objects, so the object ARN ends in a wildcard;")
            self.delivery_stream: firehose.CfnDeliveryStream = delivery.serverless_delivery_stream(
                self, settings=settings, role=self.delivery_role, collection_endpoint=self.collection.endpoint,
                backup_bucket=self.backup_bucket, encryption_key=self.encryption_key,
                log_group=self.delivery_log_group, vpc_config=vpc_config)
            # Firehose checks its access when the stream is created: the collection must be active first.
            self.delivery_stream.node.add_dependency(self.collection.collection, self.collection.access_policy)
        else:
            assert self.domain is not None
            delivery.grant_delivery_role(self, self.delivery_role, domain=None if bulk else self.domain,
                                         index=self.index, backup_bucket=self.backup_bucket,
                                         encryption_key=self.encryption_key, log_group=self.delivery_log_group,
                                         in_vpc=vpc is not None)
            self.delivery_stream = delivery.archive_stream(
                self, settings=settings, role=self.delivery_role, backup_bucket=self.backup_bucket,
                encryption_key=self.encryption_key, log_group=self.delivery_log_group,
            ) if bulk else delivery.delivery_stream(
                self, settings=settings, role=self.delivery_role, domain=self.domain,
                backup_bucket=self.backup_bucket, encryption_key=self.encryption_key,
                log_group=self.delivery_log_group, vpc_config=vpc_config,
            )
        # Firehose validates its permissions when the stream is created: wait for the role's policy.
        self.delivery_stream.node.add_dependency(self.delivery_role.managed_policy)
        self.delivery_stream_name: str = self.delivery_stream.ref
        self.delivery_stream_arn: str = self.delivery_stream.attr_arn

        # Shipper: CloudWatch Logs → one Firehose record per log event, or (bulk mode) _bulk requests to the
        # domain and aggregated records to the archive.
        shipper_timeout = shipper_timeout or Duration.minutes(2)
        _check_shipper_timeout(shipper_timeout)
        self.shipper_security_group: Optional[ec2.SecurityGroup] = None
        check(NAME, "shipper_egress", shipper_egress is None or (bulk and network is not None),
              f"applies to delivery_mode='bulk' with a vpc only (the shipper is in no VPC otherwise), got {shipper_egress!r}")
        if bulk and network is not None:
            assert vpc is not None
            self.shipper_security_group = ec2.SecurityGroup(
                self, "ShipperSecurityGroup", vpc=vpc, allow_all_outbound=False,
                description="Log shipper: HTTPS to the OpenSearch domain and to the AWS APIs it calls")
            self.shipper_security_group.add_egress_rule(network.security_group, ec2.Port.tcp(443),
                                                        "HTTPS to the OpenSearch domain")
            for peer in shipper_egress if shipper_egress is not None else [ec2.Peer.ipv4(vpc.vpc_cidr_block)]:
                self.shipper_security_group.add_egress_rule(peer, ec2.Port.tcp(443),
                                                            "HTTPS to Firehose and SQS (interface endpoints, or NAT)")
            network.security_group.add_ingress_rule(self.shipper_security_group, ec2.Port.tcp(443),
                                                    "HTTPS from the log shipper")
        self.dead_letter_queue = dead_letter_queue(self, "ShipperDeadLetterQueue", encryption_key=self.encryption_key)
        self.redaction = redaction_settings(self, redact=redact, patterns=redaction_patterns,
                                            secret_keys=redaction_secret_keys, rule_sets=redaction_rule_sets)
        self.shipper: lambda_.Function = library_function(
            self,
            "Shipper",
            handler="log_shipper.handler.handler",
            description=("Indexes CloudWatch Logs events with _bulk (id = event id) and archives them through Firehose"
                         if bulk else "Ships CloudWatch Logs events to Firehose, one record per event"),
            service=SHIPPER_SERVICE,
            timeout=shipper_timeout,
            memory_size=shipper_memory_mib or 512,
            log_retention=self.log_retention,
            environment_encryption=self.encryption_key,
            environment=ShipperConfig(
                delivery_stream_name=self.delivery_stream_name, dead_letter_queue_url=self.dead_letter_queue.queue_url,
                stream_regions=ingestion.stream_names if ingestion else {}, mode=self.delivery_mode,
                domain_endpoint=self.domain.domain_endpoint if bulk else "", index=self.index,
                rotation=settings.rotation,
                bulk_max_bytes=(bulk_max_mib or 5) * 1024 * 1024, **self.redaction.config_fields()).to_environment(),
            **({"vpc": vpc, "vpc_subnets": network.subnets, "security_groups": [self.shipper_security_group]}
               if self.shipper_security_group is not None and network is not None else {}),
            # Invocations beyond the concurrency are throttled and retried (records wait, none is lost).
            reserved_concurrent_executions=reserved_concurrency(shipper_reserved_concurrency, ingestion),
        )
        send_failures_to(self.shipper, self.dead_letter_queue, retry_attempts=2, max_event_age=Duration.hours(6))
        self._grant_stream(self.shipper, "firehose:PutRecord", "firehose:PutRecordBatch")
        if bulk:
            self.shipper.add_to_role_policy(iam.PolicyStatement(
                sid="BulkIndex", actions=["es:ESHttpPost"], resources=[f"{self.domain.domain_arn}/_bulk"]))

        # Fine-grained access control: map the writer (Firehose's role, or the shipper's in bulk mode) to a
        # writer role, set up the index.
        if self.setup_function is not None and self.admin_secret is not None and self.domain is not None:
            writer = self.shipper.role if bulk and self.shipper.role is not None else self.delivery_role
            self.setup = domain_setup(self, function=self.setup_function, domain=self.domain,
                                      secret=self.admin_secret, writer_role=writer, index=self.index,
                                      index_setup=self.index_setup, log_retention=self.log_retention,
                                      encryption_key=self.encryption_key,
                                      **({"writer_role_name": BULK_WRITER_ROLE_NAME} if bulk else {}))
        self.ingestion: Optional[Ingestion] = None
        self.ingestion_settings: Optional[IngestionSettings] = ingestion
        if ingestion is not None:
            self.ingestion = add_ingestion(self, settings=ingestion, key=self.encryption_key, shipper=self.shipper,
                                           failure_queue=self.dead_letter_queue)

        free_storage_mib = (free_storage_alarm_mib if free_storage_alarm_mib is not None
                            else max(sizing.volume * 1024 // 4, 1))
        freshness_seconds = data_freshness_alarm_seconds if data_freshness_alarm_seconds is not None else 900
        self.alarms: list[cloudwatch.Alarm] = create_alarms(self, self._alarm_specs(
            free_storage_mib=free_storage_mib, freshness_seconds=freshness_seconds), alarm_actions)
        self.subscriptions: list[logs.SubscriptionFilter] = []
        # CloudWatch Logs of this account and region may invoke the shipper: one permission, created here,
        # so subscribing a log group of any stack never changes this one.
        allow_log_delivery(self.shipper)
        self.shipper_function_arn: str = self.shipper.function_arn
        published = {SHIPPER_FUNCTION_NAME: self.shipper.function_name, DELIVERY_STREAM_NAME: self.delivery_stream_name,
                     SHIPPER_FUNCTION_ARN: self.shipper_function_arn, DELIVERY_STREAM_ARN: self.delivery_stream_arn}
        self.attach_parameters = attach.publish(self, KIND, self.name, {
            point: published[point] for point in (*ATTACH_POINTS[self.delivery_mode],
                                                  *LEGACY_ATTACH_POINTS[self.delivery_mode])})
        attach.name_log_groups(self, KIND, self.name, LOG_GROUP_PARTS)

    @staticmethod
    def from_name(scope: Construct, id: str, *, name: str) -> ImportedLogPipeline:
        """The pipeline published as ``name`` in this account and region (by any CDK app), for
        ``ship_to=``, ``add_log_group`` and ``grant_put_records``; resolved when ``scope``'s stack deploys."""
        return ImportedLogPipeline(scope, id, name=attach.check_name(NAME, name))

    # What PipelineAttachment asks of the pipeline itself (views answer these from SSM).
    def _shipper_function(self) -> Optional[lambda_.IFunction]:
        return self.shipper

    def _subscription_id(self, log_group: logs.ILogGroup) -> str:
        return f"Subscription{len(self.subscriptions)}"

    def _bulk_mode(self) -> Optional[bool]:
        return self.delivery_mode == shipper_contract.MODE_BULK

    # --- internals --------------------------------------------------------------------------------
    def _setup_function(self, id: str, description: str, vpc: Optional[ec2.IVpc],
                        network: Optional[DomainNetwork]) -> lambda_.Function:
        """The deploy-time set-up function (in the VPC, beside the domain or the collection's endpoint)."""
        return library_function(
            self, id, handler="opensearch_setup.handler.handler", description=description,
            service="opensearch-setup", timeout=Duration.minutes(5), log_retention=self.log_retention,
            environment_encryption=self.encryption_key,
            **({"vpc": vpc, "vpc_subnets": network.subnets,
                "security_groups": [network.setup_security_group]} if network else {}),
        )

    def _new_backup_bucket(self, ia_days: int, glacier_days: int, expiration_days: int) -> s3.Bucket:
        return secure_bucket(
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


def _check_shipper_timeout(timeout: Duration) -> None:
    """The shipper starts a chunk only while ``DEADLINE_MARGIN_MS`` is left: a shorter timeout defers everything."""
    seconds = timeout.to_seconds()
    if Token.is_unresolved(seconds):
        return
    check(NAME, "shipper_timeout", MIN_TIMEOUT_SECONDS <= seconds <= MAX_TIMEOUT_SECONDS,
          f"must be between {MIN_TIMEOUT_SECONDS} and {MAX_TIMEOUT_SECONDS} seconds (the shipper starts a Firehose "
          f"call only while {DEADLINE_MARGIN_MS // 1000} s of its time are left, so a shorter timeout would defer "
          f"every payload), got {seconds:g} seconds")


def _validate(settings: delivery.DeliverySettings, sizing: DomainSizing, *, ia_days: int, glacier_days: int,
              expiration_days: int, domain: Optional[opensearch.IDomain], vpc: Optional[ec2.IVpc],
              domain_sizing_given: bool) -> None:
    index = settings.index
    check(NAME, "index", bool(re.fullmatch(r"[a-z0-9][a-z0-9_\-]{0,79}", index)) and index.count("*") == 0,
          f"must be a lowercase OpenSearch index name (a-z, 0-9, '-', '_', at most 80 characters), got {index!r}")
    check_choice(NAME, "index_rotation", settings.rotation, delivery.INDEX_ROTATIONS)
    check_range(NAME, "retry_seconds", settings.retry_seconds, 0, 7200, " s")
    check_range(NAME, "buffer_interval_seconds", settings.interval_seconds, 0, 900, " s")
    check_range(NAME, "buffer_mib", settings.size_mib, 1, 100, " MiB")
    check_choice(NAME, "backup_mode", settings.backup_mode, delivery.BACKUP_MODES)
    check_range(NAME, "backup_infrequent_access_days", ia_days, 30, 36500, " days")
    check(NAME, "backup_glacier_days", glacier_days > ia_days,
          f"must be later than backup_infrequent_access_days ({ia_days}), got {glacier_days}")
    check(NAME, "backup_expiration_days", expiration_days > glacier_days,
          f"must be later than backup_glacier_days ({glacier_days}), got {expiration_days}")
    azs, nodes = sizing.azs, sizing.nodes
    if azs is not None:
        check_choice(NAME, "zone_awareness_azs", azs, (2, 3))
        check(NAME, "data_nodes", nodes % azs == 0,
              f"must be a multiple of zone_awareness_azs ({azs}) to balance the AZs, got {nodes}")
    check_range(NAME, "data_nodes", nodes, 1, 80)
    check_range(NAME, "volume_gib", sizing.volume, 10, 16384, " GiB")
    check_choice(NAME, "master_nodes", sizing.masters, (0, 3, 5))
    if domain is not None and (domain_sizing_given or vpc is not None):
        raise PropError(f"{NAME}: domain is your own, so engine_version, sizing, zone_awareness_azs and vpc "
                        "cannot be set; configure them on your domain")


def _validate_delivery_mode(mode: str, *, bulk_max_mib: Optional[int], retry_seconds: Optional[int],
                            backup_mode: Optional[str]) -> bool:
    """Whether the pipeline is in bulk mode; props of the other mode are refused by name."""
    check_choice(NAME, "delivery_mode", mode, shipper_contract.DELIVERY_MODES)
    bulk = mode == shipper_contract.MODE_BULK
    low, high = (n // (1024 * 1024) for n in shipper_contract.BULK_MAX_BYTES_RANGE)
    if bulk:
        check_range(NAME, "bulk_max_mib", bulk_max_mib, max(low, 1), high, " MiB")
        for prop, value, why in (("retry_seconds", retry_seconds, "Firehose does not index in bulk mode: the "
                                  "shipper retries within its invocation, then Lambda retries the batch"),
                                 ("backup_mode", backup_mode, "bulk mode archives every document")):
            check(NAME, prop, value is None, f"applies to delivery_mode='firehose' only ({why}), got {value!r}")
    else:
        check(NAME, "bulk_max_mib", bulk_max_mib is None,
              f"applies to delivery_mode='bulk' only, got {bulk_max_mib!r} with delivery_mode={mode!r}")
    return bulk
