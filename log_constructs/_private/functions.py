"""The one way this library builds a Lambda function, and the custom resource providers around them.

Python 3.13 on arm64, code from the shared ``lambda_src`` asset (no bundling, no Docker), the
Powertools layer, X-Ray tracing, JSON logs into a log group the construct owns. A set-up function
runs behind a custom resource provider with the library's role and log group
(:func:`library_provider`); the findings aws-cdk-lib's framework and trigger functions cannot pass
are acknowledged here, once.
"""
from __future__ import annotations

from typing import Mapping, Optional, Sequence

from aws_cdk import CfnDynamicReference, CfnDynamicReferenceService, Duration, Names, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import custom_resources as cr
from constructs import Construct

from . import nag
from .assets import function_code
from .failures import DLQ_RULES, grant_key_use, invoked_synchronously
from .keys import grant_key
from .log_groups import LIBRARY_LOG_GROUP_PREFIX, secure_log_group
from .roles import library_role

RUNTIME = lambda_.Runtime.PYTHON_3_13
ARCHITECTURE = lambda_.Architecture.ARM_64

# Powertools for AWS Lambda (Python): the release the functions run, pinned here and only here.
# requirements-dev.txt installs the same release for the tests (a test keeps the two equal).
POWERTOOLS_VERSION = "3.37.0"
# The Python runtimes Powertools v3 publishes a layer for (one layer per runtime and architecture).
POWERTOOLS_LAYER_RUNTIMES = ("python3.9", "python3.10", "python3.11", "python3.12", "python3.13")
METRICS_NAMESPACE = "LogConstructs"

# No function of the library reserves concurrency unless its construct is asked to. Lambda keeps the
# account's unreserved concurrency at a minimum (100 in an account at the default quota of 1,000: "You can
# reserve up to the Unreserved account concurrency value that is shown, minus 100", AWS Lambda developer
# guide, https://docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html, read 2026-12-08), and
# new accounts start with a concurrency quota as low as 10: any reservation there fails the deployment
# ("Specified ReservedConcurrentExecutions for function decreases account's UnreservedConcurrentExecution
# below its minimum value"). A construct's reserved-concurrency prop opts in.
UNRESERVED_CONCURRENCY_REASON = (
    "No reserved concurrency by default: Lambda keeps the account's unreserved concurrency at its minimum "
    "(100 at the default quota) and new accounts can have a quota of 10, so a reservation can fail the first "
    "deployment. The construct's reserved-concurrency prop opts in (see docs/deploy.md)."
)
CONCURRENCY_RULES = {nag.NIST_800_53_R5: "LambdaConcurrency", nag.HIPAA_SECURITY: "LambdaConcurrency"}

# What Lambda needs in a function's execution role to attach the function to a VPC (it creates and deletes
# the function's network interfaces with the role's permissions), AWS Lambda developer guide, "Giving Lambda
# functions access to resources in an Amazon VPC" (execution role permissions),
# https://docs.aws.amazon.com/lambda/latest/dg/configuration-vpc.html, read 2026-12-08:
# - ec2:DescribeNetworkInterfaces "only works if it's allowed on all resources" ("Resource": "*");
# - ec2:DeleteNetworkInterface: "Either specify a unique resource ID, or include all resource IDs" (Lambda
#   picks the interface, so: every network interface of this account and region);
# - ec2:CreateNetworkInterface authorizes the new interface, the subnet and the security groups
#   (Amazon EC2 service authorization reference): scoped to the function's own subnets and groups;
# - ec2:AssignPrivateIpAddresses / ec2:UnassignPrivateIpAddresses act on an existing interface.
# The lambda:VpcIds / lambda:SubnetIds / lambda:SecurityGroupIds condition keys apply to whoever calls
# CreateFunction / UpdateFunctionConfiguration, not to the execution role, so they cannot narrow these.
# AWSLambdaVPCAccessExecutionRole (the managed policy aws-cdk-lib attaches only to a role it creates itself)
# grants the same actions, and ec2:DescribeSubnets, on "*"; this library passes its own role, so none is attached.
ENI_DESCRIBE_ACTIONS = ("ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets")
ENI_CREATE_ACTIONS = ("ec2:CreateNetworkInterface",)
ENI_MANAGE_ACTIONS = ("ec2:DeleteNetworkInterface", "ec2:AssignPrivateIpAddresses", "ec2:UnassignPrivateIpAddresses")
ENI_ACTIONS = ENI_DESCRIBE_ACTIONS + ENI_CREATE_ACTIONS + ENI_MANAGE_ACTIONS
XRAY_REASON = ("X-Ray PutTraceSegments/PutTelemetryRecords support no resource-level permissions; every other "
               "statement of this role is scoped to a resource (asserted by the construct tests).")
ENI_DESCRIBE_REASON = ("ec2:DescribeNetworkInterfaces and ec2:DescribeSubnets support no resource-level "
                       "permissions (Lambda developer guide, configuration-vpc: DescribeNetworkInterfaces only "
                       "works on \"*\"); Lambda reads the function's network interfaces with them.")
ENI_MANAGE_REASON = ("Lambda chooses which network interface of the function to create, delete or re-address: "
                     "the Lambda developer guide (configuration-vpc) asks for all interface ids of the account "
                     "and region; creation is scoped to the function's own subnets and security groups.")

LATEST_RUNTIME_REASON = (
    "Pinned to Python 3.13, the runtime the pinned Powertools layer and this library's tests cover; "
    "moving to a newer runtime is a deliberate change of RUNTIME in log_constructs/_private/functions.py."
)
OUTSIDE_VPC_REASON = (
    "The function only calls AWS service APIs over TLS with SigV4, scoped by its IAM role; it serves no "
    "network endpoint and reaches nothing inside a VPC. Placing it in a VPC would need NAT or an interface "
    "endpoint per service it calls (the foundation's library_function accepts vpc= for constructs that need it)."
)
OUTSIDE_VPC_RULES = {nag.NIST_800_53_R5: "LambdaInsideVPC", nag.HIPAA_SECURITY: "LambdaInsideVPC",
                     nag.PCI_DSS_321: "LambdaInsideVPC"}


def powertools_layer_parameter(*, runtime: lambda_.Runtime = RUNTIME,
                                architecture: lambda_.Architecture = ARCHITECTURE) -> str:
    """The public SSM parameter whose value is the layer ARN of ``POWERTOOLS_VERSION`` in the stack's region.

    Powertools publishes ``/aws/service/powertools/python/{arm64|x86_64}/{python3.x}/{version}`` in
    every region it serves: resolving the layer by its release keeps deployed equal to tested, where a
    layer version number (27 is 3.23.0) drifts from the release the tests install.
    """
    arch = "arm64" if architecture.name == "arm64" else "x86_64"
    return f"/aws/service/powertools/python/{arch}/{runtime.name}/{POWERTOOLS_VERSION}"


def powertools_layer_arn(*, runtime: lambda_.Runtime = RUNTIME,
                         architecture: lambda_.Architecture = ARCHITECTURE) -> str:
    """The layer ARN of the pinned Powertools release, resolved by CloudFormation when it deploys."""
    return CfnDynamicReference(CfnDynamicReferenceService.SSM,
                               powertools_layer_parameter(runtime=runtime, architecture=architecture)).to_string()


def powertools_layer_supports(runtime: lambda_.Runtime) -> bool:
    """Whether the pinned Powertools layer is published for ``runtime``."""
    return runtime.name in POWERTOOLS_LAYER_RUNTIMES


def library_function(
    scope: Construct,
    id: str,
    *,
    handler: str,
    description: str,
    service: str,
    environment: Optional[Mapping[str, str]] = None,
    timeout: Duration = Duration.seconds(60),
    memory_size: int = 256,
    log_retention: logs.RetentionDays = logs.RetentionDays.ONE_MONTH,
    reserved_concurrent_executions: Optional[int] = None,
    vpc: Optional[ec2.IVpc] = None,
    vpc_subnets: Optional[ec2.SubnetSelection] = None,
    security_groups: Optional[Sequence[ec2.ISecurityGroup]] = None,
    code: Optional[lambda_.Code] = None,
    environment_encryption: Optional[kms.IKey] = None,
) -> lambda_.Function:
    """A function of this library; its log group is ``/log-constructs/<unique id>``.

    ``handler`` is the dotted path inside ``lambda_src`` (e.g. ``log_shipper.handler.handler``); the
    function's asset holds that package and the shared code it imports (``assets.SHARED_CODE``), unless
    ``code`` says otherwise. ``environment_encryption`` is the customer-managed key of the function's
    construct, which encrypts the environment variables at rest (the role may decrypt with it).
    ``reserved_concurrent_executions``: none unless given (``UNRESERVED_CONCURRENCY_REASON``). With ``vpc``
    the function runs in that VPC's subnets (it then needs NAT or endpoints for the APIs it calls), and its
    role gets the network-interface permissions Lambda needs to attach it (``grant_network_interfaces``).
    Its permissions live in one customer-managed policy (``roles.LibraryRole``). Say how failed
    invocations are kept with ``failures.send_failures_to`` or ``failures.invoked_synchronously``.
    """
    log_group = secure_log_group(
        scope,
        f"{id}LogGroup",
        retention=log_retention,
        log_group_name=f"{LIBRARY_LOG_GROUP_PREFIX}{Names.unique_id(scope)}-{id}",
    )
    # Our own role instead of AWSLambdaBasicExecutionRole: it may write only to its own log group.
    role = library_role(scope, f"{id}Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
                        description=f"Execution role of {description[:80]}")
    log_group.grant_write(role)  # X-Ray permissions are added by aws-cdk-lib for active tracing
    nag.acknowledge(role, "IAM5", XRAY_REASON if vpc is None else f"{XRAY_REASON} {ENI_DESCRIBE_REASON}",
                    findings=["Resource::*"])
    fn = lambda_.Function(
        scope,
        id,
        role=role,
        description=description,
        runtime=RUNTIME,
        architecture=ARCHITECTURE,
        handler=handler,
        code=code or function_code(handler),
        timeout=timeout,
        memory_size=memory_size,
        tracing=lambda_.Tracing.ACTIVE,
        logging_format=lambda_.LoggingFormat.JSON,
        application_log_level_v2=lambda_.ApplicationLogLevel.INFO,
        system_log_level_v2=lambda_.SystemLogLevel.WARN,
        log_group=log_group,
        reserved_concurrent_executions=reserved_concurrent_executions,
        vpc=vpc,
        vpc_subnets=vpc_subnets,
        security_groups=list(security_groups) if security_groups else None,
        layers=[
            lambda_.LayerVersion.from_layer_version_arn(scope, f"{id}Powertools", powertools_layer_arn())
        ],
        environment_encryption=environment_encryption,
        environment={
            "POWERTOOLS_SERVICE_NAME": service,
            "POWERTOOLS_METRICS_NAMESPACE": METRICS_NAMESPACE,
            "POWERTOOLS_LOG_LEVEL": "INFO",
            **(environment or {}),
        },
    )
    if vpc is not None:
        grant_network_interfaces(role, fn)
    if reserved_concurrent_executions is None:
        nag.acknowledge_all(fn, CONCURRENCY_RULES, reason=UNRESERVED_CONCURRENCY_REASON)
    if environment_encryption is not None:
        grant_key_use(fn, environment_encryption, ("kms:Decrypt",))
    nag.acknowledge(fn, "L1", LATEST_RUNTIME_REASON)
    nag.acknowledge(fn, "LambdaLatestVersion", LATEST_RUNTIME_REASON, pack=nag.SERVERLESS)
    if vpc is None:
        nag.acknowledge_all(fn, OUTSIDE_VPC_RULES, reason=OUTSIDE_VPC_REASON)
    return fn


def grant_network_interfaces(role: iam.IRole, fn: lambda_.Function) -> None:
    """Give ``role`` what Lambda needs to attach ``fn`` to its VPC (``ENI_ACTIONS``), scoped as AWS allows:
    creation to the subnets and security groups of ``fn``'s own ``VpcConfig``."""
    stack = Stack.of(fn)
    cfn = fn.node.default_child
    assert isinstance(cfn, lambda_.CfnFunction) and isinstance(cfn.vpc_config, lambda_.CfnFunction.VpcConfigProperty)
    config = cfn.vpc_config

    def arn(resource: str, name: str) -> str:
        return stack.format_arn(service="ec2", resource=resource, resource_name=name)

    interfaces = arn("network-interface", "*")
    for statement in (
        iam.PolicyStatement(sid="DescribeNetworkInterfaces", actions=list(ENI_DESCRIBE_ACTIONS), resources=["*"]),
        iam.PolicyStatement(sid="CreateNetworkInterface", actions=list(ENI_CREATE_ACTIONS),
                            resources=[interfaces, *(arn("subnet", s) for s in config.subnet_ids or []),
                                       *(arn("security-group", g) for g in config.security_group_ids or [])]),
        iam.PolicyStatement(sid="ManageNetworkInterfaces", actions=list(ENI_MANAGE_ACTIONS), resources=[interfaces]),
    ):
        role.add_to_principal_policy(statement)
    nag.acknowledge(role, "IAM5", ENI_MANAGE_REASON, findings=[nag.resource_finding(fn, interfaces)])


def library_provider(
    scope: Construct,
    id: str,
    *,
    on_event_handler: lambda_.Function,
    log_retention: logs.RetentionDays,
    environment_encryption: Optional[kms.IKey] = None,
) -> cr.Provider:
    """A custom resource provider for ``on_event_handler``, with the library's role and log group.

    The framework function belongs to aws-cdk-lib; its settings that cannot be changed are
    acknowledged here once, for every construct of the library. ``environment_encryption`` encrypts
    the framework function's environment (the handler's ARN) with the construct's key.
    """
    role = library_role(scope, f"{id}Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
                        description=f"Custom resource framework of {scope.node.path}"[:1000])
    log_group = secure_log_group(scope, f"{id}Logs", retention=log_retention)
    log_group.grant_write(role)
    provider = cr.Provider(scope, id, on_event_handler=on_event_handler, framework_on_event_role=role,
                          log_group=log_group, provider_function_env_encryption=environment_encryption)
    if environment_encryption is not None:
        grant_key(environment_encryption, role, "kms:Decrypt")
    invoked_synchronously(on_event_handler, by="the custom resource framework during deployments")
    nag.acknowledge(role, "IAM5", "The custom resource framework invokes the handler function and its "
                    "versions (<function ARN>:*).",
                    findings=[nag.resource_finding(scope, f"{on_event_handler.function_arn}:*")])
    nag.acknowledge(provider, "L1", "The custom resource framework function's Node.js runtime is chosen by aws-cdk-lib.")
    framework = ("aws-cdk-lib's custom resource framework function, invoked by CloudFormation only while a stack "
                 "deploys; aws-cdk-lib exposes no setting for this")
    nag.acknowledge(provider, "LambdaDefaultMemorySize", f"{framework} (128 MB suffices to relay one event).",
                    pack=nag.SERVERLESS)
    nag.acknowledge(provider, "LambdaTracing", f"{framework}; the handler it calls is traced.", pack=nag.SERVERLESS)
    nag.acknowledge_all(provider, CONCURRENCY_RULES, reason=f"{framework}; it runs once per custom resource change.")
    nag.acknowledge_all(provider, DLQ_RULES,
                        reason="CloudFormation waits for the framework's answer: a failed invocation fails the "
                        "deployment and shows in the stack events; a DLQ would hold events nobody can replay.")
    nag.acknowledge_all(provider, OUTSIDE_VPC_RULES, reason=OUTSIDE_VPC_REASON)
    return provider


# The stack-wide provider aws-cdk-lib creates for triggers.Trigger (a CfnResource, not a lambda.Function,
# so cdk-nag's Lambda rules do not look at it; checkov does).
TRIGGER_PROVIDER_ID = "AWSCDK.TriggerCustomResourceProviderCustomResourceProvider"


def acknowledge_trigger_provider(scope: Construct) -> None:
    """Skip, with their reasons, checkov's Lambda checks that aws-cdk-lib's trigger provider cannot pass.

    Call after creating a ``triggers.Trigger`` in ``scope``'s stack.
    """
    provider = Stack.of(scope).node.try_find_child(TRIGGER_PROVIDER_ID)
    if provider is None:
        raise ValueError(f"{scope.node.path}: no triggers.Trigger provider in its stack yet")
    framework = ("aws-cdk-lib's trigger provider function, invoked by CloudFormation only while a stack deploys; "
                 "aws-cdk-lib exposes no setting for this")
    kind = "AWS::Lambda::Function"
    nag.skip_checkov(provider, "CKV_AWS_115", f"{framework}; it runs once per trigger execution.", resource_type=kind)
    nag.skip_checkov(provider, "CKV_AWS_116", "CloudFormation waits for the provider's answer: a failed invocation "
                     "fails the deployment and shows in the stack events; a DLQ would hold events nobody can replay.",
                     resource_type=kind)
    nag.skip_checkov(provider, "CKV_AWS_117", OUTSIDE_VPC_REASON, resource_type=kind)
