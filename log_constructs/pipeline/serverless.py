"""LogPipeline's OpenSearch Serverless sink: a NextGen collection group, a time-series collection and its policies.

OpenSearch Serverless has no L2 constructs in aws-cdk-lib; these are the L1 resources with the
library's defaults: compute at zero when idle, the pipeline's customer-managed key, no network path
that is not SigV4-authenticated, and a data access policy that lets each principal do one job.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional, Sequence, Union

from aws_cdk import CustomResource, Fn, RemovalPolicy, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_opensearchserverless as aoss
from constructs import Construct

from .._lambda_src.opensearch_setup.contract import RESOURCE_TYPE, SERVERLESS, SetupConfig
from .._private.functions import library_provider
from .._private.validation import PropError, check
from .domain import DomainNetwork

NAME = "LogPipeline"
GENERATION = "NEXTGEN"
# ServerlessSink.generation: "nextgen" puts the collection in a collection group of generation NEXTGEN
# (scale to zero); "classic" creates the collection alone (no group: the account-level capacity limits apply).
NEXTGEN, CLASSIC = "nextgen", "classic"
GENERATIONS = (NEXTGEN, CLASSIC)
COLLECTION_TYPE = "TIMESERIES"
COLLECTION_NAME_PATTERN = r"[a-z][a-z0-9-]{2,27}"
POLICY_NAME_LENGTH = 32

# What each principal may do in the collection (data access policy permissions). Firehose's writer gets the
# minimum the Amazon Data Firehose developer guide lists for delivery into a collection ("Grant Firehose access to
# a public OpenSearch Serverless destination", https://docs.aws.amazon.com/firehose/latest/dev/controlling-access.html,
# read 2026-12-08): aoss:WriteDocument, aoss:UpdateIndex and aoss:CreateIndex, plus aoss:APIAccessAll in IAM.
WRITER_PERMISSIONS = ("aoss:CreateIndex", "aoss:UpdateIndex", "aoss:WriteDocument")
READER_INDEX_PERMISSIONS = ("aoss:DescribeIndex", "aoss:ReadDocument")
# Index templates are collection items: the set-up function may create, update and read them, nothing else.
SETUP_COLLECTION_PERMISSIONS = ("aoss:CreateCollectionItems", "aoss:UpdateCollectionItems",
                                "aoss:DescribeCollectionItems")

Reader = Union[iam.IRole, str]


@dataclass(frozen=True)
class ServerlessSink:
    """Deliver into an Amazon OpenSearch Serverless time-series collection instead of a domain.

    ``LogPipeline(stack, "Logs", sink=ServerlessSink())``. The collection belongs to a collection group
    of the NextGen generation, whose compute scales to zero after about 10 minutes without requests
    (the first request after that waits 10–30 s while workers start; Firehose retries meanwhile).

    :param generation: ``"nextgen"``: the collection in a collection group of generation NEXTGEN (compute
        scales to zero; the OCU limits below are the group's). ``"classic"``: the collection alone, without a
        group, sized by the account-level capacity limits (``aws opensearchserverless update-account-settings``);
        the OCU props below are then refused. Use it where AWS refuses a time-series collection in a NextGen
        group (see the README, "Serverless sink"). Default: ``"nextgen"``
    :param min_indexing_ocu: Indexing OCUs kept while idle. Default: 0 (no idle compute)
    :param max_indexing_ocu: Indexing OCUs at most (the cost ceiling; requests beyond it are throttled
        and Firehose retries them). Default: 4
    :param min_search_ocu: Search OCUs kept while idle. Default: 0
    :param max_search_ocu: Search OCUs at most. Default: 4
    :param collection_name: 3–28 characters, ``a-z``, ``0-9``, ``-``, starting with a letter; unique per
        account and region. Also names the group and the policies. Default: ``logs-`` and a hash of the
        construct's path
    :param readers: IAM roles (or principal ARNs, e.g. a SAML session) that may read the index and use
        OpenSearch Dashboards. A role gets ``aoss:APIAccessAll`` and ``aoss:DashboardsAccessAll`` on the
        collection in its own policy; an ARN only gets the data access policy entry. Default: - nobody
        reads (add readers later, or a data access policy of your own)
    """

    min_indexing_ocu: Optional[float] = None
    max_indexing_ocu: Optional[float] = None
    min_search_ocu: Optional[float] = None
    max_search_ocu: Optional[float] = None
    collection_name: Optional[str] = None
    readers: Optional[Sequence[Reader]] = None
    generation: Optional[str] = None

    @property
    def nextgen(self) -> bool:
        """Whether the collection goes into a NextGen collection group (validated)."""
        generation = NEXTGEN if self.generation is None else self.generation
        if generation not in GENERATIONS:
            raise PropError(f"{NAME}: sink.generation must be one of {', '.join(map(repr, GENERATIONS))}, "
                            f"got {generation!r}")
        return generation == NEXTGEN

    def capacity(self) -> dict[str, float]:
        """The collection group's capacity limits with defaults applied, validated ({} for a classic collection,
        which has no group: its OCU props are refused)."""
        if not self.nextgen:
            for prop in ("min_indexing_ocu", "max_indexing_ocu", "min_search_ocu", "max_search_ocu"):
                value = getattr(self, prop)
                check(NAME, f"sink.{prop}", value is None,
                      f"applies to generation='nextgen' only (it sets the collection group's limit; a classic "
                      f"collection has no group and uses the account-level capacity limits), got {value!r}")
            return {}
        limits = {
            "min_indexing_ocu": 0 if self.min_indexing_ocu is None else self.min_indexing_ocu,
            "max_indexing_ocu": 4 if self.max_indexing_ocu is None else self.max_indexing_ocu,
            "min_search_ocu": 0 if self.min_search_ocu is None else self.min_search_ocu,
            "max_search_ocu": 4 if self.max_search_ocu is None else self.max_search_ocu,
        }
        for kind in ("indexing", "search"):
            low, high = limits[f"min_{kind}_ocu"], limits[f"max_{kind}_ocu"]
            check(NAME, f"sink.min_{kind}_ocu", low >= 0 and float(low * 2).is_integer(),
                  f"must be 0 or more in steps of 0.5 OCU (0 lets compute scale to zero), got {low}")
            check(NAME, f"sink.max_{kind}_ocu", high >= 1 and float(high * 2).is_integer(),
                  f"must be at least 1 OCU, in steps of 0.5, got {high}")
            check(NAME, f"sink.min_{kind}_ocu", low <= high,
                  f"must not exceed sink.max_{kind}_ocu ({high}), got {low}")
        return limits


# Props of LogPipeline that configure what a serverless collection does not have, with why.
REFUSED_WITH_SERVERLESS: dict[str, str] = {
    "domain": "a serverless sink creates its own collection; bring your own domain with the domain sink",
    "engine_version": "the service runs and upgrades the engine of a collection",
    "data_node_instance_type": "a collection has no nodes: its compute is sink.min/max_indexing_ocu and "
                               "sink.min/max_search_ocu",
    "data_nodes": "a collection has no nodes: size it with the sink's OCU limits",
    "volume_gib": "a collection's storage is managed (billed per GB-month), there are no volumes",
    "master_nodes": "a collection has no dedicated master nodes",
    "master_node_instance_type": "a collection has no dedicated master nodes",
    "zone_awareness_azs": "the service spreads a collection over availability zones itself",
    "free_storage_alarm_mib": "a collection's storage is managed, there is no free-storage metric",
    "index_rotation": "time-series collections write into one index per name (Firehose's serverless "
                      "destination has no rotation); retention comes from index_delete_after_days",
    "index_shards": "the service manages shards of serverless indexes",
    "index_replicas": "the service manages replicas of serverless indexes",
    "index_field_limit": "the template of a serverless index sets mappings only",
    "index_warm_after_days": "serverless collections have no ISM tiers (UltraWarm); only "
                             "index_delete_after_days, as a lifecycle policy",
    "index_cold_after_days": "serverless collections have no ISM tiers (cold storage); only "
                             "index_delete_after_days, as a lifecycle policy",
    "dashboards_saved_objects": "the serverless Dashboards endpoint has no saved-objects import API the "
                                "set-up function could sign for; create the index pattern in Dashboards",
}


def refuse_unsupported(given: dict[str, object]) -> None:
    """Raise :class:`PropError` for the first prop set that a serverless collection cannot honour."""
    for prop, why in REFUSED_WITH_SERVERLESS.items():
        value = given.get(prop)
        if value is not None and value is not False:
            raise PropError(f"{NAME}: {prop} cannot be used with sink=ServerlessSink(...) ({why}); "
                            f"leave it unset, got {value!r}")


def collection_name(scope: Construct, sink: ServerlessSink) -> str:
    if sink.collection_name is not None:
        name = sink.collection_name
        check(NAME, "sink.collection_name", bool(re.fullmatch(COLLECTION_NAME_PATTERN, name)),
              f"must be 3-28 characters a-z, 0-9 and '-', starting with a letter, got {name!r}")
        return name
    return f"logs-{scope.node.addr[:20]}"


def policy_name(collection: str, suffix: str) -> str:
    """A policy or group name (at most 32 characters) derived from the collection's."""
    return f"{collection[:POLICY_NAME_LENGTH - len(suffix) - 1]}-{suffix}"


@dataclass(frozen=True)
class Collection:
    """What the serverless sink created."""

    group: Optional[aoss.CfnCollectionGroup]  # None for a classic collection
    collection: aoss.CfnCollection
    encryption_policy: aoss.CfnSecurityPolicy
    network_policy: aoss.CfnSecurityPolicy
    access_policy: aoss.CfnAccessPolicy
    lifecycle_policy: Optional[aoss.CfnLifecyclePolicy]
    vpc_endpoint: Optional[aoss.CfnVpcEndpoint]
    name: str
    limits: dict[str, float]

    @property
    def arn(self) -> str:
        return self.collection.attr_arn

    @property
    def endpoint(self) -> str:
        return self.collection.attr_collection_endpoint


def _json(scope: Construct, value: object) -> str:
    """A policy document as CloudFormation wants it: JSON without whitespace, tokens resolved at deploy."""
    return Stack.of(scope).to_json_string(value)


def new_collection(scope: Construct, *, sink: ServerlessSink, index: str, encryption_key: kms.IKey,
                   writer: iam.IRole, setup: Optional[iam.IRole], delete_after_days: Optional[int],
                   network: Optional[DomainNetwork], vpc: Optional[ec2.IVpc]) -> Collection:
    """The group, the collection and its encryption, network, data access and lifecycle policies."""
    limits = sink.capacity()
    name = collection_name(scope, sink)
    collection_resource = [f"collection/{name}"]
    group = None if not sink.nextgen else aoss.CfnCollectionGroup(
        scope, "CollectionGroup",
        name=name,
        generation=GENERATION,
        # Standby replicas cost no idle compute in NextGen (workers are stateless over shared storage).
        standby_replicas="ENABLED",
        capacity_limits=aoss.CfnCollectionGroup.CapacityLimitsProperty(
            min_indexing_capacity_in_ocu=limits["min_indexing_ocu"],
            max_indexing_capacity_in_ocu=limits["max_indexing_ocu"],
            min_search_capacity_in_ocu=limits["min_search_ocu"],
            max_search_capacity_in_ocu=limits["max_search_ocu"],
        ),
        description=f"Log pipeline {scope.node.path}: compute scales to zero when idle",
    )
    encryption = aoss.CfnSecurityPolicy(
        scope, "EncryptionPolicy", name=policy_name(name, "enc"), type="encryption",
        description="The log pipeline's customer-managed key encrypts the collection",
        policy=_json(scope, {"Rules": [{"ResourceType": "collection", "Resource": collection_resource}],
                             "AWSOwnedKey": False, "KmsARN": encryption_key.key_arn}),
    )
    vpc_endpoint: Optional[aoss.CfnVpcEndpoint] = None
    if vpc is not None and network is not None:
        vpc_endpoint = aoss.CfnVpcEndpoint(
            scope, "VpcEndpoint", name=policy_name(name, "vpce"), vpc_id=vpc.vpc_id,
            subnet_ids=[subnet.subnet_id for subnet in network.subnets.subnets or []],
            security_group_ids=[network.security_group.security_group_id],
        )
        access = {"AllowFromPublic": False, "SourceVPCEs": [vpc_endpoint.attr_id]}
        resources = [{"ResourceType": "collection", "Resource": collection_resource},
                     {"ResourceType": "dashboard", "Resource": collection_resource}]
    else:
        # No VPC: the collection endpoint is reachable from the internet, but no request gets past IAM and
        # the data access policy without a SigV4 signature of a principal listed there (there is no
        # anonymous access in OpenSearch Serverless). Dashboards stays closed unless someone may read.
        access = {"AllowFromPublic": True}
        resources = [{"ResourceType": "collection", "Resource": collection_resource}]
        if sink.readers:
            resources.append({"ResourceType": "dashboard", "Resource": collection_resource})
    network_policy = aoss.CfnSecurityPolicy(
        scope, "NetworkPolicy", name=policy_name(name, "net"), type="network",
        description=("Collection reachable through the pipeline's VPC endpoint only" if vpc_endpoint
                     else "Collection endpoint public, every request SigV4-signed and authorized"),
        policy=_json(scope, [{"Rules": resources, **access}]),
    )
    index_resource = [f"index/{name}/{index}*"]
    statements = [{
        "Description": "Firehose creates and updates the pipeline's indexes and writes documents, nothing else",
        "Rules": [{"ResourceType": "index", "Resource": index_resource, "Permission": list(WRITER_PERMISSIONS)}],
        "Principal": [writer.role_arn],
    }]
    if setup is not None:
        statements.append({
            "Description": "The set-up function puts the index template, nothing else",
            "Rules": [{"ResourceType": "collection", "Resource": collection_resource,
                       "Permission": list(SETUP_COLLECTION_PERMISSIONS)}],
            "Principal": [setup.role_arn],
        })
    readers = list(sink.readers or [])
    if readers:
        statements.append({
            "Description": "Readers search the pipeline's indexes",
            "Rules": [{"ResourceType": "index", "Resource": index_resource,
                       "Permission": list(READER_INDEX_PERMISSIONS)},
                      {"ResourceType": "collection", "Resource": collection_resource,
                       "Permission": ["aoss:DescribeCollectionItems"]}],
            "Principal": [r if isinstance(r, str) else r.role_arn for r in readers],
        })
    access_policy = aoss.CfnAccessPolicy(
        scope, "DataAccessPolicy", name=policy_name(name, "data"), type="data",
        description="Least privilege per principal on the log pipeline's collection",
        policy=_json(scope, statements),
    )
    lifecycle: Optional[aoss.CfnLifecyclePolicy] = None
    if delete_after_days is not None:
        lifecycle = aoss.CfnLifecyclePolicy(
            scope, "LifecyclePolicy", name=policy_name(name, "ret"), type="retention",
            description=f"Documents of {index}* are deleted after {delete_after_days} days",
            policy=_json(scope, {"Rules": [{"ResourceType": "index", "Resource": index_resource,
                                            "MinIndexRetention": f"{delete_after_days}d"}]}),
        )
    collection = aoss.CfnCollection(
        scope, "Collection", name=name, type=COLLECTION_TYPE, collection_group_name=group.name if group else None,
        description=f"Logs of the pipeline {scope.node.path}",
    )
    # A collection is created only once its encryption and network policies (and its group) exist.
    for dependency in (group, encryption, network_policy):
        if dependency is not None:
            collection.add_resource_dependency(dependency)
    collection.apply_removal_policy(RemovalPolicy.RETAIN)
    for role in (writer, setup):
        if role is not None:
            role.add_to_principal_policy(api_access(collection))
    for reader in readers:
        if not isinstance(reader, str):
            reader.add_to_principal_policy(iam.PolicyStatement(
                sid="ReadLogCollection", actions=["aoss:APIAccessAll", "aoss:DashboardsAccessAll"],
                resources=[collection.attr_arn]))
    return Collection(group, collection, encryption, network_policy, access_policy, lifecycle, vpc_endpoint,
                      name, limits)


def api_access(collection: aoss.CfnCollection) -> iam.PolicyStatement:
    """IAM's half of a data-plane call: any API of this collection; the data access policy narrows it."""
    return iam.PolicyStatement(sid="CallLogCollection", actions=["aoss:APIAccessAll"],
                               resources=[collection.attr_arn])



def collection_setup(scope: Construct, *, function: lambda_.Function, collection: Collection, index: str,
                     log_retention: logs.RetentionDays, encryption_key: kms.IKey) -> CustomResource:
    """Deploy-time index template on the collection, signed for ``aoss`` (the only set-up part it supports)."""
    # The collection endpoint attribute is a URL (https://<id>.<region>.aoss.amazonaws.com): the host only.
    host = Fn.select(2, Fn.split("/", collection.endpoint))
    template = {"Name": index, "IndexPatterns": [f"{index}*"]}
    config = SetupConfig(domain_endpoint=host, service=SERVERLESS,
                         index_setup=Stack.of(scope).to_json_string({"IndexTemplate": template}))
    for name, value in config.to_environment().items():
        function.add_environment(name, value)
    provider = library_provider(scope, "CollectionSetupProvider", on_event_handler=function,
                                log_retention=log_retention, environment_encryption=encryption_key)
    resource = CustomResource(
        scope, "CollectionSetup", service_token=provider.service_token, resource_type=RESOURCE_TYPE,
        properties={"DomainEndpoint": host, "Region": Stack.of(scope).region, "IndexTemplate": template},
    )
    # The data access policy must name the function before its first request.
    resource.node.add_dependency(collection.collection, collection.access_policy)
    return resource
