"""LogPipeline's sink step: where documents go, and its deploy-time set-up.

The sink is a provisioned OpenSearch domain (a new one with its network, admin secret and set-up
function, or the user's own) or an OpenSearch Serverless time-series collection. Its parts are built
when the pipeline can name what they need: the domain first; the collection once Firehose's role
exists (its data access policy names that writer); the domain's set-up once the writer is known
(Firehose's role, or the shipper's in bulk mode).
"""
from __future__ import annotations

from typing import Optional

from aws_cdk import CustomResource, Duration
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_opensearchservice as opensearch
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from .._lambda_src.opensearch_setup.contract import BULK_WRITER_ROLE_NAME
from .._private.functions import library_function
from .domain import DomainNetwork, admin_secret, domain_network, domain_setup, new_domain
from .props import PipelineProps
from .serverless import Collection, collection_setup, new_collection


class PipelineSink:
    """The domain or the collection of a pipeline, built under ``scope`` (no construct of its own).

    Creating it builds what needs nothing of the pipeline: for a new domain its network, set-up
    function, admin secret and the domain; for a collection its network and set-up function.
    """

    def __init__(self, scope: Construct, props: PipelineProps, encryption_key: kms.IKey) -> None:
        self._scope, self._props, self._key = scope, props, encryption_key
        self.network: Optional[DomainNetwork] = None
        self.domain: Optional[opensearch.IDomain] = props.domain
        self.collection: Optional[Collection] = None
        self.setup_function: Optional[lambda_.Function] = None
        self.admin_secret: Optional[secretsmanager.Secret] = None
        self.setup: Optional[CustomResource] = None
        vpc, sizing = props.vpc, props.sizing
        if props.sink is not None:
            self.network = (domain_network(scope, vpc, props.vpc_subnets, sizing.azs, target="collection")
                            if vpc is not None else None)
            if props.index_setup.template is not None:
                self.setup_function = self._setup_function(
                    "CollectionSetupFunction", "Puts the index template on the OpenSearch Serverless collection")
        elif props.domain is None:
            self.network = domain_network(scope, vpc, props.vpc_subnets, sizing.azs) if vpc is not None else None
            # The domain's master user is the internal user 'admin' (password in Secrets Manager); the
            # deploy-time set-up function maps its own IAM role with it, then signs everything with SigV4.
            self.setup_function = self._setup_function(
                "DomainSetupFunction", "Sets up the OpenSearch domain: Firehose writer role mapping, Dashboards admin "
                "user, index template, index lifecycle and Dashboards objects")
            assert self.setup_function.role is not None
            self.admin_secret = admin_secret(scope, encryption_key)
            self.domain = new_domain(
                scope, sizing=sizing, encryption_key=encryption_key,
                secret=self.admin_secret, log_retention=props.log_retention,
                vpc=vpc, network=self.network,
            )

    @property
    def security_group(self) -> Optional[ec2.SecurityGroup]:
        """The security group of the domain (or the collection's VPC endpoint) and Firehose's ENIs, in a VPC."""
        return self.network.security_group if self.network else None

    def add_collection(self, writer: iam.IRole) -> Collection:
        """Serverless: the collection, whose data access policy lets ``writer`` (Firehose's role) index, and
        its index template set-up."""
        props = self._props
        assert props.sink is not None
        self.collection = new_collection(
            self._scope, sink=props.sink, index=props.index, encryption_key=self._key, writer=writer,
            setup=self.setup_function.role if self.setup_function else None,
            delete_after_days=(props.index_setup.lifecycle or {}).get("DeleteAfterDays"), network=self.network,
            vpc=props.vpc)
        if self.setup_function is not None:
            self.setup = collection_setup(self._scope, function=self.setup_function, collection=self.collection,
                                          index=props.index, log_retention=props.log_retention,
                                          encryption_key=self._key)
        return self.collection

    def set_up_domain(self, writer: iam.IRole) -> Optional[CustomResource]:
        """A domain this pipeline created: fine-grained access control maps ``writer`` (Firehose's role, or the
        shipper's in bulk mode) to a writer role, and the index is set up.

        Returns the sink's set-up custom resource: the domain's, the collection's (made by
        :meth:`add_collection`), or ``None`` (the user's own domain, or a collection without a template)."""
        if self.setup_function is None or self.admin_secret is None or self.domain is None:
            return self.setup
        props = self._props
        self.setup = domain_setup(self._scope, function=self.setup_function, domain=self.domain,
                                  secret=self.admin_secret, writer_role=writer, index=props.index,
                                  index_setup=props.index_setup, log_retention=props.log_retention,
                                  encryption_key=self._key,
                                  **({"writer_role_name": BULK_WRITER_ROLE_NAME} if props.bulk else {}))
        return self.setup

    def _setup_function(self, id: str, description: str) -> lambda_.Function:
        """The deploy-time set-up function (in the VPC, beside the domain or the collection's endpoint)."""
        network = self.network
        return library_function(
            self._scope, id, handler="opensearch_setup.handler.handler", description=description,
            service="opensearch-setup", timeout=Duration.minutes(5), log_retention=self._props.log_retention,
            environment_encryption=self._key,
            **({"vpc": self._props.vpc, "vpc_subnets": network.subnets,
                "security_groups": [network.setup_security_group]} if network else {}),
        )
