"""Deploy a synthesized cloud assembly into the emulator with boto3, as ``cdk deploy`` would.

For each stack of ``manifest.json``, in dependency order and in the stack's own account and region:
publish its file assets to the bootstrap bucket, upload the template, create the stack and wait.
Every resource's status and reason is kept for the report.

The templates are deployed as synthesized, except for the emulator's gaps listed in
:data:`TEMPLATE_WORKAROUNDS`: each rewrite is recorded with the resource it touched and printed.
The product never changes for the emulator's sake.
"""
from __future__ import annotations

import io
import json
import re
import subprocess
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Optional

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

DEFAULT_ACCOUNT = "000000000000"
DEFAULT_REGION = "us-east-1"
BOOTSTRAP_QUALIFIER = "hnb659fds"
BOOTSTRAP_VERSION = "30"
TEMPLATE_BODY_LIMIT = 51_200
CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"]
POWERTOOLS_REFERENCE = re.compile(r"\{\{resolve:ssm:(/aws/service/powertools/[^}]+)\}\}")

TEMPLATE_WORKAROUNDS = {
    "powertools-layer": "AWS publishes the Powertools layer ARN under /aws/service/ (reserved: an emulator, like an "
                        "account, refuses to create it) and shares the layer from AWS's account (a Pro feature "
                        "here): the deployer publishes a same-account layer and writes its ARN in place of the "
                        "dynamic reference",
    "firehose-name": "LocalStack's Firehose resource provider fails with KeyError 'DeliveryStreamName' when the "
                     "name is left to CloudFormation: the deployer names the stream as CloudFormation would",
    "mocked-getatt": "LocalStack answers Fn::GetAtt of a resource type it only pretends to create with 'unknown': "
                     "the deployer writes a well-formed value of the same shape",
}


@dataclass(frozen=True)
class StackSpec:
    artifact: str
    stack_name: str
    account: str
    region: str
    template: Path
    assets: Optional[Path]
    dependencies: tuple[str, ...]


@dataclass
class ResourceResult:
    logical_id: str
    type: str
    status: str
    reason: str = ""


@dataclass
class StackResult:
    spec: StackSpec
    status: str
    seconds: float
    reason: str = ""
    resources: list[ResourceResult] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status == "CREATE_COMPLETE"

    def failures(self) -> list[ResourceResult]:
        return [r for r in self.resources if r.status.endswith("FAILED")]


@dataclass(frozen=True)
class Workaround:
    kind: str
    stack: str
    target: str


def grouped(workarounds: Iterable[Workaround]) -> list[str]:
    """One line per kind of template workaround: its reason, then every stack and resource it touched."""
    targets: dict[str, list[str]] = {}
    for workaround in workarounds:
        target = f"{workaround.stack}: {workaround.target}"
        if target not in targets.setdefault(workaround.kind, []):
            targets[workaround.kind].append(target)
    return [f"{kind}: {TEMPLATE_WORKAROUNDS[kind]} [{'; '.join(found)}]" for kind, found in targets.items()]


def load_assembly(assembly: Path) -> list[StackSpec]:
    """The stacks of a cloud assembly, dependencies first."""
    manifest = json.loads((assembly / "manifest.json").read_text())
    artifacts = manifest["artifacts"]
    specs: dict[str, StackSpec] = {}
    for name, artifact in artifacts.items():
        if artifact.get("type") != "aws:cloudformation:stack":
            continue
        account, region = _environment(artifact.get("environment", ""))
        properties = artifact.get("properties", {})
        assets = next((assembly / artifacts[d]["properties"]["file"] for d in artifact.get("dependencies", [])
                       if artifacts.get(d, {}).get("type") == "cdk:asset-manifest"), None)
        specs[name] = StackSpec(
            artifact=name, stack_name=properties.get("stackName", name), account=account, region=region,
            template=assembly / properties["templateFile"], assets=assets,
            dependencies=tuple(d for d in artifact.get("dependencies", [])
                               if artifacts.get(d, {}).get("type") == "aws:cloudformation:stack"))
    ordered: list[StackSpec] = []
    placed: set[str] = set()

    def place(name: str) -> None:
        if name in placed:
            return
        for dependency in specs[name].dependencies:
            place(dependency)
        placed.add(name)
        ordered.append(specs[name])

    for name in specs:
        place(name)
    return ordered


def _environment(environment: str) -> tuple[str, str]:
    match = re.fullmatch(r"aws://([^/]+)/(.+)", environment)
    account, region = (match.group(1), match.group(2)) if match else ("unknown-account", "unknown-region")
    return (DEFAULT_ACCOUNT if account.startswith("unknown") else account,
            DEFAULT_REGION if region.startswith("unknown") else region)


class Deployer:
    """Deploys stacks into one emulator; ``mocked_types`` are the resource types it only pretends to create."""

    def __init__(self, endpoint: str, mocked_types: Iterable[str]):
        self.endpoint = endpoint
        self.mocked_types = {t.lower() for t in mocked_types}
        self.workarounds: list[Workaround] = []
        self._layers: dict[tuple[str, str], str] = {}
        self._bootstrapped: set[tuple[str, str]] = set()
        self._prepared: dict[tuple[str, str, str], dict[str, Any]] = {}

    def client(self, service: str, account: str, region: str):
        # LocalStack takes the account from a 12-digit access key id.
        return boto3.client(service, endpoint_url=self.endpoint, region_name=region, aws_access_key_id=account,
                            aws_secret_access_key="test",
                            config=Config(retries={"mode": "standard", "max_attempts": 3}, read_timeout=120))

    # --- bootstrap and assets -------------------------------------------------------------------

    def bootstrap_bucket(self, account: str, region: str) -> str:
        bucket = f"cdk-{BOOTSTRAP_QUALIFIER}-assets-{account}-{region}"
        if (account, region) in self._bootstrapped:
            return bucket
        s3 = self.client("s3", account, region)
        try:
            if region == "us-east-1":
                s3.create_bucket(Bucket=bucket)
            else:
                s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": region})
        except ClientError as error:
            if error.response["Error"]["Code"] not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                raise
        self.client("ssm", account, region).put_parameter(
            Name=f"/cdk-bootstrap/{BOOTSTRAP_QUALIFIER}/version", Value=BOOTSTRAP_VERSION, Type="String",
            Overwrite=True)
        self._bootstrapped.add((account, region))
        return bucket

    def publish_assets(self, spec: StackSpec) -> None:
        if spec.assets is None:
            return
        manifest = json.loads(spec.assets.read_text())
        for asset in manifest.get("files", {}).values():
            source = spec.assets.parent / asset["source"]["path"]
            body = _zip(source) if source.is_dir() else source.read_bytes()
            for destination in asset["destinations"].values():
                account, region = spec.account, destination.get("region") or spec.region
                self.bootstrap_bucket(account, region)
                bucket = _substitute(destination["bucketName"], account, region)
                self.client("s3", account, region).put_object(Bucket=bucket, Key=destination["objectKey"], Body=body)

    def powertools_layer(self, account: str, region: str, parameter: str) -> str:
        key = (account, region)
        if key not in self._layers:
            buffer = io.BytesIO()
            with zipfile.ZipFile(buffer, "w") as archive:
                archive.writestr("python/README.txt", f"rehearsal stand-in for {parameter}\n")
            answer = self.client("lambda", account, region).publish_layer_version(
                LayerName="AWSLambdaPowertoolsPythonV3-python313-arm64", Content={"ZipFile": buffer.getvalue()},
                CompatibleRuntimes=["python3.13"], CompatibleArchitectures=["arm64"])
            self._layers[key] = answer["LayerVersionArn"]
        return self._layers[key]

    # --- the template as the emulator can take it -----------------------------------------------

    def prepare(self, spec: StackSpec) -> dict[str, Any]:
        """The template as deployed: rewritten once per stack (deploys, redeploys and runs share it, and each
        workaround is recorded once)."""
        key = (spec.stack_name, spec.account, spec.region)
        if key not in self._prepared:
            self._prepared[key] = self._rewrite(spec)
        return self._prepared[key]

    def _rewrite(self, spec: StackSpec) -> dict[str, Any]:
        text = spec.template.read_text()
        for parameter in sorted(set(POWERTOOLS_REFERENCE.findall(text))):
            arn = self.powertools_layer(spec.account, spec.region, parameter)
            text = text.replace("{{resolve:ssm:%s}}" % parameter, arn)
            self.workarounds.append(Workaround("powertools-layer", spec.stack_name, parameter))
        template = json.loads(text)
        resources = template.get("Resources", {})
        for logical_id, resource in resources.items():
            if resource.get("Type") == "AWS::KinesisFirehose::DeliveryStream":
                properties = resource.setdefault("Properties", {})
                if "DeliveryStreamName" not in properties:
                    properties["DeliveryStreamName"] = f"{spec.stack_name}-{logical_id}"[:64]
                    self.workarounds.append(Workaround("firehose-name", spec.stack_name, logical_id))
        mocked = {logical_id for logical_id, resource in resources.items()
                  if resource.get("Type", "").lower() in self.mocked_types}
        template = self._literal_getatts(template, mocked, spec)
        return template

    def _literal_getatts(self, node: Any, mocked: set[str], spec: StackSpec) -> Any:
        if isinstance(node, dict):
            if set(node) == {"Fn::GetAtt"}:
                target, attribute = _getatt(node["Fn::GetAtt"])
                if target in mocked:
                    self.workarounds.append(Workaround("mocked-getatt", spec.stack_name, f"{target}.{attribute}"))
                    return _plausible(target, attribute, spec)
            return {key: self._literal_getatts(value, mocked, spec) for key, value in node.items()}
        if isinstance(node, list):
            return [self._literal_getatts(value, mocked, spec) for value in node]
        return node

    # --- stacks ---------------------------------------------------------------------------------

    def _template_argument(self, spec: StackSpec, template: dict[str, Any]) -> dict[str, str]:
        body = json.dumps(template)
        if len(body.encode()) <= TEMPLATE_BODY_LIMIT:
            return {"TemplateBody": body}
        bucket = self.bootstrap_bucket(spec.account, spec.region)
        key = f"templates/{spec.stack_name}-{abs(hash(body))}.json"
        self.client("s3", spec.account, spec.region).put_object(Bucket=bucket, Key=key, Body=body.encode())
        return {"TemplateURL": f"{self.endpoint}/{bucket}/{key}"}

    def deploy(self, spec: StackSpec, *, timeout_s: float = 600.0) -> StackResult:
        started = time.monotonic()
        self.bootstrap_bucket(spec.account, spec.region)
        self.publish_assets(spec)
        template = self.prepare(spec)
        cloudformation = self.client("cloudformation", spec.account, spec.region)
        try:
            cloudformation.create_stack(StackName=spec.stack_name, Capabilities=CAPABILITIES, OnFailure="DO_NOTHING",
                                        **self._template_argument(spec, template))
        except ClientError as error:
            return StackResult(spec, "REFUSED", time.monotonic() - started, reason=str(error))
        status, reason = self._wait(cloudformation, spec.stack_name, timeout_s)
        return StackResult(spec, status, time.monotonic() - started, reason=reason,
                           resources=self._resources(cloudformation, spec.stack_name, template))

    def redeploy_is_noop(self, spec: StackSpec) -> tuple[bool, str]:
        """Deploy the same template again as a change set: (True, reason) when it holds no change."""
        template = self.prepare(spec)
        cloudformation = self.client("cloudformation", spec.account, spec.region)
        name = f"rehearsal-{int(time.time() * 1000)}"
        cloudformation.create_change_set(StackName=spec.stack_name, ChangeSetName=name, ChangeSetType="UPDATE",
                                         Capabilities=CAPABILITIES, **self._template_argument(spec, template))
        for _ in range(600):
            answer = cloudformation.describe_change_set(StackName=spec.stack_name, ChangeSetName=name)
            if answer["Status"] not in ("CREATE_PENDING", "CREATE_IN_PROGRESS"):
                break
            time.sleep(0.2)
        changes = answer.get("Changes") or []
        reason = answer.get("StatusReason") or ""
        if answer["Status"] == "FAILED" and not changes and ("didn't contain changes" in reason
                                                             or "No updates" in reason):
            return True, reason
        if answer["Status"] == "CREATE_COMPLETE" and not changes:
            return True, "the change set holds no change"
        listed = ", ".join(f"{c['ResourceChange'].get('Action')} {c['ResourceChange'].get('LogicalResourceId')}"
                           for c in changes[:10])
        return False, f"{answer['Status']} {reason} {listed}".strip()

    def delete(self, spec: StackSpec, *, timeout_s: float = 300.0) -> tuple[str, str]:
        cloudformation = self.client("cloudformation", spec.account, spec.region)
        cloudformation.delete_stack(StackName=spec.stack_name)
        return self._wait(cloudformation, spec.stack_name, timeout_s, deleting=True)

    def _wait(self, cloudformation, stack_name: str, timeout_s: float, *, deleting: bool = False) -> tuple[str, str]:
        end = time.monotonic() + timeout_s
        while time.monotonic() < end:
            try:
                stack = cloudformation.describe_stacks(StackName=stack_name)["Stacks"][0]
            except ClientError as error:
                if deleting and "does not exist" in str(error):
                    return "DELETE_COMPLETE", ""
                raise
            if not stack["StackStatus"].endswith("IN_PROGRESS"):
                return stack["StackStatus"], stack.get("StackStatusReason", "")
            time.sleep(0.3)
        return "TIMED_OUT", f"still in progress after {timeout_s:.0f} s"

    def _resources(self, cloudformation, stack_name: str, template: dict[str, Any]) -> list[ResourceResult]:
        reasons: dict[str, str] = {}
        for event in cloudformation.describe_stack_events(StackName=stack_name)["StackEvents"]:
            if event.get("ResourceStatus", "").endswith("FAILED") and event.get("ResourceStatusReason"):
                reasons.setdefault(event["LogicalResourceId"], event["ResourceStatusReason"])
        found = {r["LogicalResourceId"]: r for r in
                 cloudformation.describe_stack_resources(StackName=stack_name)["StackResources"]}
        results = []
        for logical_id, resource in template.get("Resources", {}).items():
            status = found.get(logical_id, {}).get("ResourceStatus", "NOT_CREATED")
            results.append(ResourceResult(logical_id, resource.get("Type", ""), status,
                                          reasons.get(logical_id, found.get(logical_id, {}).get(
                                              "ResourceStatusReason", ""))))
        return results


def mocked_types(localstack_python: Path, types: Iterable[str]) -> list[str]:
    """The types among ``types`` that LocalStack has no resource provider for (reported created, never made)."""
    listing = subprocess.run(
        [str(localstack_python), "-c",
         "import importlib.metadata as m; print('\\n'.join(e.name for e in "
         "m.entry_points(group='localstack.cloudformation.resource_providers')))"],
        check=True, capture_output=True, text=True).stdout.split()
    provided = {name.lower() for name in listing}
    return sorted({t for t in types if t.lower() not in provided})


def template_types(specs: Iterable[StackSpec]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for spec in specs:
        for resource in json.loads(spec.template.read_text()).get("Resources", {}).values():
            counts[resource["Type"]] = counts.get(resource["Type"], 0) + 1
    return counts


def _getatt(value: Any) -> tuple[str, str]:
    if isinstance(value, str):
        target, _, attribute = value.partition(".")
        return target, attribute
    return value[0], value[1]


def _plausible(logical_id: str, attribute: str, spec: StackSpec) -> str:
    slug = re.sub(r"[^a-z0-9]", "", logical_id.lower())[:24] or "resource"
    if attribute.endswith("Arn") or attribute == "Arn":
        return f"arn:aws:rehearsal:{spec.region}:{spec.account}:mocked/{slug}"
    if "Endpoint" in attribute:
        return f"https://{slug}.{spec.region}.rehearsal.invalid"
    return slug


def _substitute(value: str, account: str, region: str) -> str:
    return (value.replace("${AWS::AccountId}", account).replace("${AWS::Region}", region)
            .replace("${AWS::Partition}", "aws"))


def _zip(folder: Path) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(folder).as_posix())
    return buffer.getvalue()
