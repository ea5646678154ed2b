"""LogPipeline's OpenSearch domain: secure settings, its log groups, network, admin secret and set-up."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from aws_cdk import CustomResource, RemovalPolicy, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_opensearchservice as opensearch
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from .._lambda_src.opensearch_setup.contract import DEFAULT_ADMIN_USER, SetupConfig
from .._private import nag
from .._private.functions import library_provider
from .._private.keys import grant_key
from .._private.log_groups import secure_log_group
from .._private.validation import PropError
from .index_setup import IndexSetup

WRITER_ROLE_NAME = "log_constructs_firehose_writer"


@dataclass(frozen=True)
class DomainSizing:
    engine_version: opensearch.EngineVersion
    instance_type: str
    nodes: int
    volume: int
    masters: int
    master_type: str
    azs: Optional[int]


@dataclass(frozen=True)
class DomainNetwork:
    """Security groups and subnets of a VPC domain (shared with Firehose's ENIs)."""

    security_group: ec2.SecurityGroup
    setup_security_group: ec2.SecurityGroup
    subnets: ec2.SubnetSelection


def selection_args(selection: Optional[ec2.SubnetSelection]) -> dict:
    """A SubnetSelection as keyword arguments for ``IVpc.select_subnets`` (private subnets by default)."""
    if selection is None:
        return {"subnet_type": ec2.SubnetType.PRIVATE_WITH_EGRESS}
    return dict(selection._values)  # jsii structs keep their fields here


def domain_network(scope: Construct, vpc: ec2.IVpc, vpc_subnets: Optional[ec2.SubnetSelection],
                   azs: Optional[int], *, target: str = "domain") -> DomainNetwork:
    """One group for the domain (or the collection's VPC endpoint) and Firehose's ENIs (HTTPS between
    members), one for the set-up function. ``target``: ``"domain"`` or ``"collection"``."""
    group = ec2.SecurityGroup(
        scope, "DomainSecurityGroup", vpc=vpc, allow_all_outbound=False,
        description=("OpenSearch domain and Firehose ENIs: HTTPS between members only" if target == "domain" else
                     "OpenSearch Serverless VPC endpoint and Firehose ENIs: HTTPS between members only"),
    )
    group.add_ingress_rule(group, ec2.Port.tcp(443), "HTTPS from members")
    group.add_egress_rule(group, ec2.Port.tcp(443), "HTTPS to members")
    # The set-up function also calls Secrets Manager (HTTPS, through the VPC's NAT or endpoints).
    setup_group = ec2.SecurityGroup(
        scope, "DomainSetupSecurityGroup", vpc=vpc, allow_all_outbound=False,
        description=f"OpenSearch set-up function: HTTPS to the {target} and to AWS APIs",
    )
    setup_group.add_egress_rule(ec2.Peer.any_ipv4(), ec2.Port.tcp(443), "HTTPS to the domain and AWS APIs")
    group.add_ingress_rule(setup_group, ec2.Port.tcp(443), "HTTPS from the set-up function")
    # Without zone awareness a VPC domain takes exactly one subnet; Firehose uses the same ones.
    selected = vpc.select_subnets(**selection_args(vpc_subnets)).subnets
    # OpenSearch needs one subnet per zone it spans; checked here, not by jsii's error at synth.
    if len(selected) < (azs or 1):
        fewer = f"zone_awareness_azs={len(selected)}" if len(selected) > 1 else "no zone_awareness_azs"
        raise PropError(
            f"LogPipeline: zone_awareness_azs needs a subnet in each of its availability zones, got {azs} with "
            f"{len(selected)} subnet(s) selected from vpc/vpc_subnets (an environment-agnostic stack's VPC spans "
            f"2 zones: give the stack env= with account and region, select more subnets, or use {fewer})")
    chosen = selected[: azs or 1]
    return DomainNetwork(group, setup_group, ec2.SubnetSelection(subnets=chosen))


def admin_secret(scope: Construct, encryption_key: kms.IKey) -> secretsmanager.Secret:
    """The password of the domain's internal master user ``admin`` (Dashboards sign-in, role-mapping bootstrap)."""
    secret = secretsmanager.Secret(
        scope,
        "AdminUserSecret",
        description="Password of the OpenSearch domain's internal master user 'admin' (Dashboards sign-in)",
        removal_policy=RemovalPolicy.RETAIN,  # the retained domain's admin keeps this password
        encryption_key=encryption_key,
        # It is the master password: 8 to 128 characters (API reference, MasterUserOptions.MasterUserPassword,
        # https://docs.aws.amazon.com/opensearch-service/latest/APIReference/API_MasterUserOptions.html), and the
        # service also wants at least one upper-case letter, one lower-case letter, one digit and one special
        # character. 32 characters with each type included (require_each_included_type) meet both; quotes,
        # backslash, '/', '@', ':' and '`' stay out of JSON, shell quoting and HTTP basic authentication.
        generate_secret_string=secretsmanager.SecretStringGenerator(
            password_length=32, exclude_characters="\"'\\/@:`", require_each_included_type=True
        ),
    )
    rotation_reason = ("OpenSearch internal-user passwords have no managed rotation; rotate the admin password "
                       "through the security plugin's account API and store it in this secret, as "
                       "docs/runbook.md shows.")
    nag.acknowledge_no_rotation(secret, rotation_reason)
    return secret


def new_domain(scope: Construct, *, sizing: DomainSizing, encryption_key: kms.IKey,
               secret: secretsmanager.ISecret, log_retention: logs.RetentionDays, vpc: Optional[ec2.IVpc],
               network: Optional[DomainNetwork]) -> opensearch.Domain:
    """A domain with encryption at rest and in transit, TLS 1.2, fine-grained access control, every log on.

    The master user is the internal user ``admin`` whose password is ``secret``: CDK emits
    ``InternalUserDatabaseEnabled: true`` and ``MasterUserOptions`` with ``MasterUserName`` and a
    ``{{resolve:secretsmanager:...}}`` dynamic reference as ``MasterUserPassword`` (no password in the
    template). An IAM master user (``MasterUserARN``) is only valid with the internal user database
    off, which would leave Dashboards without a sign-in unless Cognito, SAML or IAM Identity Center
    is set up; the set-up function maps its IAM role next to ``admin`` instead (docs/design.md).
    """
    slow_search, slow_index, app_logs, audit_logs = (
        secure_log_group(scope, name, retention=log_retention)
        for name in ("SlowSearchLogs", "SlowIndexLogs", "ApplicationLogs", "AuditLogs")
    )
    azs, masters = sizing.azs, sizing.masters
    domain = opensearch.Domain(
        scope,
        "Domain",
        version=sizing.engine_version,
        capacity=opensearch.CapacityConfig(
            data_node_instance_type=sizing.instance_type,
            data_nodes=sizing.nodes,
            master_nodes=masters or None,
            master_node_instance_type=sizing.master_type if masters else None,
            multi_az_with_standby_enabled=False,
        ),
        ebs=opensearch.EbsOptions(volume_size=sizing.volume, volume_type=ec2.EbsDeviceVolumeType.GP3),
        zone_awareness=opensearch.ZoneAwarenessConfig(enabled=True, availability_zone_count=azs)
        if azs else opensearch.ZoneAwarenessConfig(enabled=False),
        encryption_at_rest=opensearch.EncryptionAtRestOptions(enabled=True, kms_key=encryption_key),
        node_to_node_encryption=True,
        enforce_https=True,
        tls_security_policy=opensearch.TLSSecurityPolicy.TLS_1_2_PFS,
        fine_grained_access_control=opensearch.AdvancedSecurityOptions(
            master_user_name=DEFAULT_ADMIN_USER, master_user_password=secret.secret_value),
        logging=opensearch.LoggingOptions(
            slow_search_log_enabled=True, slow_search_log_group=slow_search,
            slow_index_log_enabled=True, slow_index_log_group=slow_index,
            app_log_enabled=True, app_log_group=app_logs,
            audit_log_enabled=True, audit_log_group=audit_logs,
        ),
        # We publish the log resource policy ourselves (below) instead of CDK's custom resource.
        suppress_logs_resource_policy=True,
        vpc=vpc,
        vpc_subnets=[network.subnets] if network else None,
        security_groups=[network.security_group] if network else None,
        enable_auto_software_update=True,
        off_peak_window_enabled=True,
        removal_policy=RemovalPolicy.RETAIN,
    )
    cfn_domain = domain.node.default_child
    assert isinstance(cfn_domain, opensearch.CfnDomain)
    stack = Stack.of(scope)
    cfn_domain.add_property_override("AccessPolicies", access_policy(stack))
    policy = logs.CfnResourcePolicy(
        scope,
        "DomainLogsPolicy",
        policy_name=f"opensearch-{stack.stack_name}-{scope.node.addr[:12]}"[:255],
        policy_document=stack.to_json_string({
            "Version": "2012-10-17",
            "Statement": [{
                "Effect": "Allow",
                "Principal": {"Service": "es.amazonaws.com"},
                "Action": ["logs:PutLogEvents", "logs:CreateLogStream"],
                "Resource": [g.log_group_arn for g in (slow_search, slow_index, app_logs, audit_logs)],
                # The domain's name is generated, and the domain needs this policy before it exists:
                # its exact ARN cannot be named here, so the source is any domain of this account and region.
                "Condition": {"StringEquals": {"aws:SourceAccount": stack.account},
                              "ArnLike": {"aws:SourceArn": domain_arn_pattern(stack)}},
            }],
        }),
    )
    domain.node.add_dependency(policy)
    _acknowledge(domain, single_az=not azs, no_masters=not masters, public=vpc is None)
    return domain


def domain_arn_pattern(stack: Stack) -> str:
    """The ARNs of this account's domains in this region (and their subresources)."""
    return f"arn:{stack.partition}:es:{stack.region}:{stack.account}:domain/*"


# What an unsigned (HTTP basic authentication) request may reach: Dashboards, for people signing in as an
# internal user, and the security plugin's role mappings, where the set-up function signs in as the master
# user 'admin' to map its own IAM role on a new domain. Fine-grained access control authenticates every such
# request (anonymous authentication stays off).
BASIC_AUTH_PATHS = ("_dashboards*", "_plugins/_security/api/rolesmapping*")


def access_policy(stack: Stack) -> dict:
    """The domain access policy: signed requests from this account anywhere, basic auth on two paths; FGAC decides.

    * ``es:ESHttp*`` for the account (``arn:<partition>:iam::<account>:root``) on every path: a request
      signed by an IAM principal of this account whose own IAM policies allow it passes on to
      fine-grained access control, which authorizes only mapped roles (the set-up function's role,
      Firehose's writer role, what people map later). Other accounts' signed requests are refused.
    * ``es:ESHttp*`` for any principal on :data:`BASIC_AUTH_PATHS` only: HTTP basic authentication is
      not SigV4, so IAM sees it as anonymous. On Dashboards (``_dashboards*``) people sign in as
      ``admin`` or another internal user; on the role mappings (``_plugins/_security/api/rolesmapping*``)
      the set-up function signs in as ``admin`` to map its IAM role into ``all_access`` and
      ``security_manager`` of a new domain. Fine-grained access control (anonymous authentication off)
      requires a valid internal-user login there and authorizes it by the user's roles. Anonymous
      requests elsewhere (``_search``, ``_bulk``, other ``_plugins`` paths) are refused by this policy.

    ``Resource`` is a pattern because the domain's generated name cannot appear in its own
    properties; being the domain's own policy, it applies to this domain only.
    """
    domains = domain_arn_pattern(stack)
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "SignedRequestsFromThisAccount",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:{stack.partition}:iam::{stack.account}:root"},
                "Action": "es:ESHttp*",
                "Resource": domains,
            },
            {
                "Sid": "BasicAuthOfInternalUsers",
                "Effect": "Allow",
                "Principal": {"AWS": "*"},
                "Action": "es:ESHttp*",
                "Resource": [f"{domains}/{path}" for path in BASIC_AUTH_PATHS],
            },
        ],
    }


def _acknowledge(domain: opensearch.Domain, *, single_az: bool, no_masters: bool, public: bool) -> None:
    if single_az:
        nag.acknowledge(domain, "OS7", "A single-AZ domain is the documented cheap first deploy; "
                        "set zone_awareness_azs=2 or 3 for production (README: production sizing).")
    if no_masters:
        nag.acknowledge(domain, "OS4", "Dedicated master nodes are off for the cheap first deploy; "
                        "set master_nodes=3 for production (README: production sizing).")
    if public:
        public_reason = ("Public endpoint by default so Firehose and Dashboards users reach it without a VPC; "
                         "fine-grained access control authorizes every request, TLS 1.2 only. "
                         "Pass vpc= to place the domain in a VPC.")
        nag.acknowledge(domain, "OS1", public_reason)
        nag.acknowledge_all(domain, {pack: "OpenSearchInVPCOnly" for pack in (
            nag.NIST_800_53_R5, nag.HIPAA_SECURITY, nag.PCI_DSS_321)}, reason=public_reason)
    # What the access policy (access_policy above) and fine-grained access control do.
    nag.acknowledge(domain, "OS3", (
        "No IP allowlist: the access policy allows SigV4-signed requests of this account's IAM principals on "
        "every path, and unsigned requests (HTTP basic authentication of internal users) only on the Dashboards "
        "path (_dashboards*) and the security plugin's role mappings (_plugins/_security/api/rolesmapping*), "
        "where fine-grained access control (anonymous authentication off) requires a valid internal-user login; "
        "Firehose and the set-up function call from AWS addresses, and Dashboards users from anywhere. "
        "Pass vpc= to restrict by network."))
    nag.acknowledge(domain, "OS5", (
        "Anonymous principals are allowed by the access policy only on the Dashboards path (_dashboards*), for "
        "people signing in as internal users, and on the role mappings (_plugins/_security/api/rolesmapping*), "
        "where the set-up function signs in as the master user admin to map its IAM role on a new domain: "
        "fine-grained access control has anonymous authentication off and refuses every request there without "
        "a valid login. Every other path requires a request SigV4-signed by an IAM principal of this account, "
        "then a fine-grained mapping."))


def domain_setup(scope: Construct, *, function: lambda_.Function, domain: opensearch.IDomain,
                 secret: secretsmanager.ISecret, writer_role: iam.IRole, index: str, index_setup: IndexSetup,
                 log_retention: logs.RetentionDays, encryption_key: kms.IKey,
                 writer_role_name: str = WRITER_ROLE_NAME) -> CustomResource:
    """Deploy-time set-up of the domain over its REST API: the function maps its IAM role into ``all_access`` and
    ``security_manager`` (signed in as ``admin`` on a new domain), then signs every request with that role.

    ``writer_role_name`` says what the writer may do (``documents.writer_role``): Firehose's writer, or in
    bulk mode the shipper's create-only writer (``BULK_WRITER_ROLE_NAME``)."""
    assert function.role is not None
    function.add_to_role_policy(iam.PolicyStatement(
        sid="SignedDomainRequests",
        actions=["es:ESHttpGet", "es:ESHttpHead", "es:ESHttpPut", "es:ESHttpPost", "es:ESHttpPatch"],
        resources=[domain.domain_arn, f"{domain.domain_arn}/*"],
    ))
    nag.acknowledge(function.role, "IAM5", "The set-up function administers the domain over its REST API: "
                    "security plugin, index templates, ISM and Dashboards paths below the domain ARN.",
                    findings=[nag.resource_finding(scope, f"{domain.domain_arn}/*")])
    index_parts = index_setup.properties(index)
    security = SetupConfig(
        domain_endpoint=domain.domain_endpoint, master_role_arn=function.role.role_arn,
        writer_role_name=writer_role_name, writer_backend_roles=(writer_role.role_arn,),
        index_patterns=(f"{index}*",), admin_user=DEFAULT_ADMIN_USER, admin_secret_arn=secret.secret_arn,
        index_setup=Stack.of(scope).to_json_string(index_parts) if index_parts else "",
    )
    # Every value lives in the function's deploy-time configuration; the event only repeats them
    # (so that a change still updates the resource), and the function refuses an event that differs.
    for name, value in security.to_environment().items():
        function.add_environment(name, value)
    # In the function's policy only: secret.grant_read would name the role in the key policy.
    function.add_to_role_policy(iam.PolicyStatement(
        sid="ReadAdminSecret", actions=["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
        resources=[secret.secret_arn]))
    grant_key(encryption_key, function, "kms:Decrypt", via_service="secretsmanager")
    provider = library_provider(scope, "DomainSetupProvider", on_event_handler=function, log_retention=log_retention,
                                environment_encryption=encryption_key)
    return CustomResource(
        scope,
        "DomainSetup",
        service_token=provider.service_token,
        resource_type="Custom::OpenSearchSetup",
        properties={
            "DomainEndpoint": domain.domain_endpoint,
            "Region": Stack.of(scope).region,
            "Security": {
                "WriterRoleName": security.writer_role_name,
                "WriterBackendRoles": list(security.writer_backend_roles),
                "IndexPatterns": list(security.index_patterns),
                "AdminUser": security.admin_user,
                "AdminSecretArn": security.admin_secret_arn,
                "MasterRoleArn": security.master_role_arn,
            },
            **index_parts,
        },
    )
