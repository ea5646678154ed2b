"""Run the deployed functions' code on the host against the emulator, and check each call against the role.

The emulator creates functions but never runs them (no Docker). For every Python function of a
deployed stack this reads back what was deployed (code, handler, resolved environment, role),
imports the handler in the functions' virtualenv (the Lambda runtime's Python 3.13 and the pinned
Powertools), calls it with a realistic event where one is given, and lists the AWS calls it made.
Each call's IAM action must be allowed by the role's policies as deployed (action level: the
emulator evaluates no resources, conditions or resource policies).
"""
from __future__ import annotations

import fnmatch
import io
import json
import os
import subprocess
import tempfile
import urllib.request
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Optional

HERE = Path(__file__).resolve().parent
OUTCOME_PREFIX = "REHEARSAL-OUTCOME "

# Set for the host run only, each with its reason (printed with the report).
HOST_ENVIRONMENT = {
    "POWERTOOLS_TRACE_DISABLED": ("true", "no X-Ray daemon on the host: Tracer would send segments nowhere"),
    "POWERTOOLS_METRICS_DISABLED": ("false", "metrics stay on: EMF lines go to standard output as in Lambda"),
}


@dataclass
class FunctionRun:
    stack: str
    logical_id: str
    name: str
    handler: str
    imported: bool = False
    invoked: bool = False
    result: Any = None
    error: Optional[str] = None
    calls: list[str] = field(default_factory=list)
    denied: list[str] = field(default_factory=list)
    skipped: str = ""

    @property
    def ok(self) -> bool:
        return bool(self.skipped) or (self.imported and not self.error and not self.denied)

    def summary(self) -> str:
        if self.skipped:
            return f"{self.stack}/{self.logical_id}: skipped ({self.skipped})"
        state = "invoked" if self.invoked else "imported" if self.imported else "FAILED"
        calls = ", ".join(sorted(set(self.calls))) or "no AWS call"
        line = f"{self.stack}/{self.logical_id} [{self.handler}]: {state}; calls: {calls}"
        if self.denied:
            line += f"; NOT ALLOWED by its role: {', '.join(sorted(set(self.denied)))}"
        if self.error:
            line += f"\n{self.error}"
        return line


def role_actions(iam, role_arn: str) -> tuple[list[str], list[str]]:
    """(allowed, denied) action patterns of a role's inline and attached policies, as deployed."""
    role_name = role_arn.rsplit("/", 1)[-1]
    documents = [iam.get_role_policy(RoleName=role_name, PolicyName=name)["PolicyDocument"]
                 for name in iam.list_role_policies(RoleName=role_name)["PolicyNames"]]
    for attached in iam.list_attached_role_policies(RoleName=role_name)["AttachedPolicies"]:
        policy = iam.get_policy(PolicyArn=attached["PolicyArn"])["Policy"]
        version = iam.get_policy_version(PolicyArn=attached["PolicyArn"], VersionId=policy["DefaultVersionId"])
        documents.append(version["PolicyVersion"]["Document"])
    allowed: list[str] = []
    denied: list[str] = []
    for document in documents:
        if isinstance(document, str):
            document = json.loads(document)
        statements = document.get("Statement", [])
        for statement in statements if isinstance(statements, list) else [statements]:
            actions = statement.get("Action", [])
            actions = [actions] if isinstance(actions, str) else actions
            (allowed if statement.get("Effect") == "Allow" else denied).extend(a.lower() for a in actions)
    return allowed, denied


def not_allowed(calls: Iterable[str], allowed: list[str], denied: list[str]) -> list[str]:
    def matches(action: str, patterns: list[str]) -> bool:
        return any(fnmatch.fnmatchcase(action.lower(), pattern) for pattern in patterns)

    return sorted({c for c in calls if matches(c, denied) or not matches(c, allowed)})


def run_function(deployer, stack: str, logical_id: str, name: str, account: str, region: str,
                 functions_python: Path, event: Optional[dict], extra_environment: Optional[dict] = None,
                 workdir: Optional[Path] = None) -> FunctionRun:
    lambda_client = deployer.client("lambda", account, region)
    answer = lambda_client.get_function(FunctionName=name)
    configuration = answer["Configuration"]
    run = FunctionRun(stack, logical_id, name, configuration.get("Handler", ""))
    if not configuration.get("Runtime", "").startswith("python"):
        run.skipped = f"runtime {configuration.get('Runtime')}: the CDK's own provider framework, not ours"
        return run
    workdir = Path(tempfile.mkdtemp(prefix=f"{logical_id}-", dir=workdir))
    with urllib.request.urlopen(answer["Code"]["Location"], timeout=60) as response:
        zipfile.ZipFile(io.BytesIO(response.read())).extractall(workdir / "code")
    event_file = "-"
    if event is not None:
        (workdir / "event.json").write_text(json.dumps(event))
        event_file = str(workdir / "event.json")
    environment = {key: value for key, value in os.environ.items()
                   if not key.startswith(("AWS_", "POWERTOOLS_", "PYTHON"))}
    environment.update((configuration.get("Environment") or {}).get("Variables", {}))
    environment.update({key: value for key, (value, _) in HOST_ENVIRONMENT.items()})
    environment.update({
        "AWS_ENDPOINT_URL": deployer.endpoint, "AWS_ACCESS_KEY_ID": account, "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_REGION": region, "AWS_DEFAULT_REGION": region, "AWS_LAMBDA_FUNCTION_NAME": name,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(configuration.get("MemorySize", 128)),
        "REHEARSAL_FUNCTION_ARN": configuration["FunctionArn"],
        **(extra_environment or {}),
    })
    process = subprocess.run([str(functions_python), str(HERE / "function_host.py"), str(workdir / "code"),
                              run.handler, event_file], env=environment, capture_output=True, text=True,
                             timeout=300, cwd=workdir)
    line = next((l for l in process.stdout.splitlines() if l.startswith(OUTCOME_PREFIX)), None)
    if line is None:
        run.error = f"the host runner printed no outcome (exit {process.returncode}):\n{process.stderr[-3000:]}"
        return run
    outcome = json.loads(line[len(OUTCOME_PREFIX):])
    run.imported, run.invoked = outcome["imported"], outcome["invoked"]
    run.result, run.error, run.calls = outcome["result"], outcome["error"], outcome["calls"]
    allowed, denied = role_actions(deployer.client("iam", account, region), configuration["Role"])
    run.denied = not_allowed(run.calls, allowed, denied)
    return run


def deployed_functions(deployer, spec) -> list[tuple[str, str]]:
    """(logical id, physical name) of every Lambda function of a deployed stack."""
    cloudformation = deployer.client("cloudformation", spec.account, spec.region)
    resources = cloudformation.describe_stack_resources(StackName=spec.stack_name)["StackResources"]
    return [(r["LogicalResourceId"], r["PhysicalResourceId"]) for r in resources
            if r["ResourceType"] == "AWS::Lambda::Function"]


EventFactory = Callable[[str, str, dict], Optional[dict]]
