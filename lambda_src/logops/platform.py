"""Finding a deployed platform from its attach-point names, in the caller's own account and region.

A platform construct publishes *names* as SSM parameters under ``/log-constructs/<kind>/<name>/``.
A value is used as a name only (checked against the characters a resource name may hold); every ARN
is rebuilt here from the caller's partition, region and account, so a parameter can at most name
another resource of the caller's own account. The index is found behind the shipper: its
environment in bulk mode (``DOMAIN_ENDPOINT``, ``INDEX_NAME``), else its Firehose stream's
destination (a domain, described for its endpoint, or a serverless collection's endpoint).

The names below are those the constructs and functions write (``log_constructs._private.attach``,
``log_shipper.contract``, ``log_alerts.contract``); this package imports neither.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Mapping, Optional
from urllib.parse import urlsplit

from botocore.exceptions import ClientError

from .report import HopFailure

PARAMETER_PREFIX = "/log-constructs"
LIBRARY_LOG_GROUP_PREFIX = "/log-constructs/"
PIPELINE_KIND = "pipeline"
ALERTS_KIND = "alerts"
SHIPPER_FUNCTION_NAME = "shipper-function-name"
ALERTS_FUNCTION_NAME = "function-name"
PIPELINE_FILTER_NAME = "log-constructs-pipeline"
ALERTS_FILTER_NAME = "log-constructs-alerts"
# The shipper's environment (log_shipper.contract) and the alerts function's (log_alerts.contract).
ENV_DELIVERY_STREAM_NAME = "DELIVERY_STREAM_NAME"
ENV_DELIVERY_MODE = "DELIVERY_MODE"
ENV_DOMAIN_ENDPOINT = "DOMAIN_ENDPOINT"
ENV_INDEX_NAME = "INDEX_NAME"
ENV_TABLE_NAME = "TABLE_NAME"
MODE_BULK = "bulk"
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
# Function, stream, table and domain names: letters, digits, '-', '_', '.' (no ':' or '/': never an ARN).
_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,255}$")
PLATFORM = "platform"


@dataclass(frozen=True)
class Caller:
    """Whose credentials run the command, and where: every ARN is built from these."""

    partition: str
    region: str
    account: str
    arn: str

    def resource_arn(self, service: str, resource: str) -> str:
        return f"arn:{self.partition}:{service}:{self.region}:{self.account}:{resource}"

    def function_arn(self, name: str) -> str:
        return self.resource_arn("lambda", f"function:{name}")


@dataclass(frozen=True)
class Index:
    """Where the pipeline's documents are searched: ``endpoint`` (``https://host``), ``pattern``
    (the index name and its rotated names), ``service`` (``es`` or ``aoss``), ``via`` (how it was found)."""

    endpoint: str
    pattern: str
    service: str
    via: str


@dataclass(frozen=True)
class Pipeline:
    name: str
    shipper_name: str
    shipper_arn: str
    mode: str
    index: Index

    @property
    def log_groups(self) -> str:
        """Where the shipper and Firehose log their errors (named from the pipeline's name alone)."""
        base = f"{LIBRARY_LOG_GROUP_PREFIX}{PIPELINE_KIND}/{self.name}"
        return f"{base}/shipper" if self.mode == MODE_BULK else f"{base}/shipper and {base}/delivery"


@dataclass(frozen=True)
class Alerts:
    name: str
    function_name: str
    function_arn: str
    table: str

    @property
    def log_group(self) -> str:
        return f"{LIBRARY_LOG_GROUP_PREFIX}{ALERTS_KIND}/{self.name}/function"


def parameter_name(kind: str, name: str, attribute: str) -> str:
    return f"{PARAMETER_PREFIX}/{kind}/{name}/{attribute}"


def error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def caller(session: Any) -> Caller:
    """The caller's identity (``sts:GetCallerIdentity`` needs no permission) and region."""
    region = session.region_name
    if not region:
        raise HopFailure(PLATFORM, "no region: give --region or set AWS_REGION / a profile's region",
                         "the command runs where the platform is deployed; attach points are per account and region")
    try:
        identity = session.client("sts").get_caller_identity()
    except Exception as error:  # no credentials, expired token, no network
        raise HopFailure(PLATFORM, f"cannot identify the caller: {error}",
                         "no valid AWS credentials in this shell (aws sts get-caller-identity fails too)") from None
    return Caller(partition=identity["Arn"].split(":")[1], region=region, account=identity["Account"],
                  arn=identity["Arn"])


def read_name(session: Any, caller: Caller, kind: str, name: str, attribute: str, *, flag: str) -> str:
    """The name an attach point holds (``ssm:GetParameter``); a value that is not a bare name is refused."""
    parameter = parameter_name(kind, name, attribute)
    try:
        value = session.client("ssm").get_parameter(Name=parameter)["Parameter"]["Value"]
    except ClientError as error:
        if error_code(error) == "ParameterNotFound":
            raise HopFailure(PLATFORM, f"SSM parameter {parameter} not found in {caller.account}/{caller.region}",
                             f"wrong {flag} name or --region, or the platform stack is not deployed in this account "
                             "and region (aws ssm get-parameters-by-path --path /log-constructs/ --recursive "
                             "lists what is)") from None
        raise HopFailure(PLATFORM, f"cannot read SSM parameter {parameter}: {error}",
                         "the caller needs ssm:GetParameter on parameter/log-constructs/*") from None
    if not _NAME.match(value):
        raise HopFailure(PLATFORM, f"SSM parameter {parameter} holds {value[:80]!r}, not a name",
                         "the parameter was changed outside the platform's deployment; redeploy the platform stack")
    return value


def function_environment(session: Any, name: str, *, role: str, cause: str) -> dict[str, str]:
    """A function's environment (``lambda:GetFunctionConfiguration``), of the caller's account."""
    try:
        configuration = session.client("lambda").get_function_configuration(FunctionName=name)
    except ClientError as error:
        if error_code(error) == "ResourceNotFoundException":
            raise HopFailure(PLATFORM, f"the {role} function {name} does not exist", cause) from None
        raise HopFailure(PLATFORM, f"cannot read the {role} function {name}: {error}",
                         "the caller needs lambda:GetFunctionConfiguration on it") from None
    return dict((configuration.get("Environment") or {}).get("Variables") or {})


def endpoint_url(value: str) -> str:
    """``https://host`` from a host or an URL; ``http://`` only to this machine (a test stand-in)."""
    url = value if "://" in value else f"https://{value}"
    parts = urlsplit(url)
    if parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS):
        return f"{parts.scheme}://{parts.netloc}"
    raise HopFailure(PLATFORM, f"index endpoint {value!r} is not https://",
                     "the shipper's DOMAIN_ENDPOINT was changed outside the platform's deployment")


def find_pipeline(session: Any, caller: Caller, name: str) -> Pipeline:
    shipper = read_name(session, caller, PIPELINE_KIND, name, SHIPPER_FUNCTION_NAME, flag="--pipeline")
    environment = function_environment(session, shipper, role="shipper", cause=(
        "the SSM parameter names a function that is gone: the platform stack failed or was deleted; redeploy it"))
    mode = environment.get(ENV_DELIVERY_MODE) or "firehose"
    if mode == MODE_BULK:
        endpoint, index = environment.get(ENV_DOMAIN_ENDPOINT, ""), environment.get(ENV_INDEX_NAME, "")
        if not endpoint or not index:
            raise HopFailure(PLATFORM, f"the shipper {shipper} is in bulk mode without {ENV_DOMAIN_ENDPOINT} or "
                             f"{ENV_INDEX_NAME}", "its environment was changed outside the deployment; redeploy")
        found = Index(endpoint_url(endpoint), f"{index}*", "es", "the shipper's _bulk target")
    else:
        found = index_of_stream(session, environment.get(ENV_DELIVERY_STREAM_NAME, ""))
    return Pipeline(name, shipper, caller.function_arn(shipper), mode, found)


def index_of_stream(session: Any, stream: str) -> Index:
    """The index behind a Firehose stream: a domain's (its endpoint from ``DescribeDomain``) or a collection's."""
    if not _NAME.match(stream):
        raise HopFailure(PLATFORM, f"the shipper names no delivery stream ({stream!r})",
                         "its environment was changed outside the deployment; redeploy the platform stack")
    try:
        description = session.client("firehose").describe_delivery_stream(
            DeliveryStreamName=stream)["DeliveryStreamDescription"]
    except ClientError as error:
        raise HopFailure(PLATFORM, f"cannot describe the delivery stream {stream}: {error}",
                         "the caller needs firehose:DescribeDeliveryStream on it, or the stream was deleted") from None
    destination: Mapping[str, Any] = (description.get("Destinations") or [{}])[0]
    domain = destination.get("AmazonopensearchserviceDestinationDescription")
    if domain is not None:
        index = f"{domain.get('IndexName', '')}*"
        if domain.get("DomainARN"):
            domain_name = domain["DomainARN"].rsplit("domain/", 1)[-1]
            return Index(domain_endpoint(session, domain_name), index, "es", f"stream {stream} -> domain {domain_name}")
        return Index(endpoint_url(domain["ClusterEndpoint"]), index, "es", f"stream {stream}")
    collection = destination.get("AmazonOpenSearchServerlessDestinationDescription")
    if collection is not None:
        return Index(endpoint_url(collection["CollectionEndpoint"]), f"{collection.get('IndexName', '')}*", "aoss",
                     f"stream {stream} -> collection")
    raise HopFailure(PLATFORM, f"the delivery stream {stream} delivers to neither a domain nor a collection",
                     "the pipeline is not a LogPipeline of this library, or its stream was replaced")


def domain_endpoint(session: Any, domain_name: str) -> str:
    """``https://`` + the domain's endpoint (a VPC domain's ``vpc`` endpoint) from ``es:DescribeDomain``."""
    try:
        status = session.client("opensearch").describe_domain(DomainName=domain_name)["DomainStatus"]
    except ClientError as error:
        raise HopFailure(PLATFORM, f"cannot describe the domain {domain_name}: {error}",
                         "the caller needs es:DescribeDomain on it") from None
    host: Optional[str] = status.get("Endpoint") or (status.get("Endpoints") or {}).get("vpc")
    if not host:
        raise HopFailure(PLATFORM, f"the domain {domain_name} has no endpoint yet",
                         "the domain is still being created or updated; wait until its status is Active")
    return endpoint_url(host)


def find_alerts(session: Any, caller: Caller, name: str) -> Alerts:
    function = read_name(session, caller, ALERTS_KIND, name, ALERTS_FUNCTION_NAME, flag="--alerts")
    environment = function_environment(session, function, role="alerts", cause=(
        "the SSM parameter names a function that is gone: the alerts' stack failed or was deleted; redeploy it"))
    table = environment.get(ENV_TABLE_NAME, "")
    if not _NAME.match(table):
        raise HopFailure(PLATFORM, f"the alerts function {function} names no audit table ({table!r})",
                         "its environment was changed outside the deployment; redeploy the alerts' stack")
    return Alerts(name, function, caller.function_arn(function), table)
