"""The deploy rehearsal: deploy a cloud assembly into a fresh emulator, then run its functions' code.

For one assembly: start LocalStack (host mode, free ports), create every stack in dependency order,
deploy each again (must be a no-op), delete each application stack and create it again (retained
resources with fixed names must not block it), run every Python function on the host with a
realistic event and check its calls against its role, stop everything. The report says what the
emulator only pretends to create and every workaround, with its reason.

``python scripts/rehearsal/rehearse.py ASSEMBLY [ASSEMBLY...]`` prints the reports and exits 1 on any
failure. The tests in ``tests/rehearsal`` call :func:`rehearse` for the example app, its serverless
variant and the README's quick start.
"""
from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path[:0] = [str(HERE), str(ROOT)]

import custom_resources  # noqa: E402
import deployer as deploying  # noqa: E402
import emulator as emulating  # noqa: E402
import events  # noqa: E402
import functions as running  # noqa: E402

LOCALSTACK_VENV = ROOT / ".venv-localstack"
FUNCTIONS_VENV = ROOT / ".venv-functions"


@dataclass
class Report:
    label: str
    stacks: list[deploying.StackResult] = field(default_factory=list)
    redeploys: dict[str, tuple[bool, str]] = field(default_factory=dict)
    recreated: dict[str, str] = field(default_factory=dict)
    functions: list[running.FunctionRun] = field(default_factory=list)
    mocked_types: list[str] = field(default_factory=list)
    workarounds: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def problems(self) -> list[str]:
        found = [f"{r.spec.stack_name}: {r.status} {r.reason}".strip() + "".join(
            f"\n    {f.logical_id} ({f.type}): {f.reason}" for f in r.failures()) for r in self.stacks if not r.ok]
        found += [f"{name}: a second deploy with no change is not a no-op: {why}"
                  for name, (noop, why) in self.redeploys.items() if not noop]
        found += [f"{name}: deleted and deployed again: {status}" for name, status in self.recreated.items()
                  if status != "CREATE_COMPLETE"]
        found += [run.summary() for run in self.functions if not run.ok]
        return found

    def render(self) -> str:
        lines = [f"== deploy rehearsal: {self.label} ({self.seconds:.0f} s)"]
        total = created = 0
        for result in self.stacks:
            mocked = sum(1 for r in result.resources if r.type in self.mocked_types)
            total += len(result.resources)
            created += len(result.resources) - mocked
            lines.append(f"  {result.spec.stack_name} ({result.spec.account}/{result.spec.region}): {result.status} "
                         f"in {result.seconds:.1f} s, {len(result.resources)} resources, {mocked} only pretended")
        lines.append(f"  really created: {created} of {total} resources; the rest are types the emulator only "
                     f"pretends to create (reported CREATE_COMPLETE, nothing made, never run):")
        lines += [f"    - {t}" for t in self.mocked_types]
        for name, (noop, why) in self.redeploys.items():
            lines.append(f"  second deploy of {name}: {'no-op' if noop else 'CHANGES'} ({why})")
        for name, status in self.recreated.items():
            lines.append(f"  {name} deleted and deployed again: {status}")
        lines.append("  functions run on the host (Python 3.13, the pinned Powertools), calls checked against "
                     "their roles at the action level:")
        lines += [f"    {run.summary()}" for run in self.functions]
        lines.append("  emulator workarounds (none changes the product):")
        lines += [f"    - {name}: {why}" for name, why in emulating.EMULATOR_WORKAROUNDS]
        lines += [f"    - {key}={value} on the host: {why}" for key, (value, why) in running.HOST_ENVIRONMENT.items()]
        lines += [f"    - {w}" for w in sorted(set(self.workarounds))]
        problems = self.problems()
        lines.append("  RESULT: " + ("pass" if not problems else f"{len(problems)} problem(s):"))
        lines += [f"    ! {p}" for p in problems]
        return "\n".join(lines)


class WebhookReceiver:
    """A loopback stand-in for Slack's incoming webhooks: records each post, answers ``ok``."""

    def __init__(self) -> None:
        self.posts: list[dict] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.posts.append(json.loads(body or b"{}"))
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/services/rehearsal"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


# What an operator does after the first deployment, done by the rehearsal before a function runs
# (handler -> (step, host environment, reason)).
OPERATOR_STEPS = {
    events.ALERTS: ("the webhook secret gets its URLs, as the deploy guide says; Slack is out of reach, so the "
                    "URL is a loopback receiver and the host run sets ALLOW_LOOPBACK_HTTP=1 (a test-only switch "
                    "the construct never writes)"),
}


def python_313(venv: Path) -> Path:
    python = venv / "bin" / "python"
    if not python.exists():
        raise RuntimeError(f"no virtualenv at {venv}: `make rehearsal-setup` creates it; it needs Python 3.13 "
                           f"(pyenv's 3.13.x, or python3.13 on the PATH)")
    return python


def application_stacks(specs: list[deploying.StackSpec]) -> list[deploying.StackSpec]:
    """Stacks that depend on another stack of the assembly: an application on its platform."""
    return [spec for spec in specs if spec.dependencies]


def rehearse(label: str, assembly: Path, *, localstack_venv: Path = LOCALSTACK_VENV,
             functions_venv: Path = FUNCTIONS_VENV, workdir: Optional[Path] = None,
             then: tuple[Path, ...] = ()) -> Report:
    """``then``: assemblies of other apps deployed after ``assembly`` into the same account (for example an
    application built with the previous release, against this release's platform); their stacks get
    the same checks."""
    started = time.monotonic()
    report = Report(label)
    functions_python = python_313(functions_venv)
    specs = deploying.load_assembly(assembly) + [spec for other in then for spec in deploying.load_assembly(other)]
    report.mocked_types = deploying.mocked_types(python_313(localstack_venv), deploying.template_types(specs))
    emulator = emulating.start(localstack_venv, workdir=workdir)
    webhook = WebhookReceiver()
    try:
        deployer = deploying.Deployer(emulator.endpoint, report.mocked_types)
        report.stacks = [deployer.deploy(spec) for spec in specs]
        deployed = [r.spec for r in report.stacks if r.ok]
        for spec in deployed:
            report.redeploys[spec.stack_name] = deployer.redeploy_is_noop(spec)
        for spec in application_stacks(deployed):
            status, reason = deployer.delete(spec)
            if status != "DELETE_COMPLETE":
                report.recreated[spec.stack_name] = f"delete ended {status} {reason}"
                continue
            again = deployer.deploy(spec)
            report.recreated[spec.stack_name] = again.status + "".join(
                f"; {f.logical_id}: {f.reason}" for f in again.failures())
        for spec in deployed:
            for logical_id, name in running.deployed_functions(deployer, spec):
                configuration = deployer.client("lambda", spec.account, spec.region).get_function_configuration(
                    FunctionName=name)
                environment = (configuration.get("Environment") or {}).get("Variables", {})
                handler = configuration.get("Handler", "")
                extra = {}
                if handler == events.ALERTS:
                    deployer.client("secretsmanager", spec.account, spec.region).put_secret_value(
                        SecretId=environment["WEBHOOK_SECRET_ID"], SecretString=json.dumps({"default": webhook.url}))
                    extra["ALLOW_LOOPBACK_HTTP"] = "1"
                for event_label, event in events.events_for(handler, spec.account, spec.region, environment):
                    posted = len(webhook.posts)
                    run = running.run_function(deployer, spec.stack_name, logical_id, name, spec.account,
                                               spec.region, functions_python, event, extra_environment=extra,
                                               workdir=emulator.workdir)
                    if event is not None:
                        run.logical_id = f"{logical_id} ({event_label})"
                    if handler == events.ALERTS and run.ok:
                        run.error = alert_problem(webhook.posts[posted:])
                    report.functions.append(run)
            report.functions += run_setup_resources(deployer, spec, functions_python, emulator.workdir)
        report.workarounds = deploying.grouped(deployer.workarounds)
        report.workarounds += [f"{handler}: {why}" for handler, why in OPERATOR_STEPS.items()]
        report.workarounds.append(custom_resources.WORKAROUND)
    finally:
        webhook.stop()
        emulator.stop()
        report.seconds = time.monotonic() - started
    return report


def run_setup_resources(deployer, spec, functions_python: Path, workdir: Path) -> list[running.FunctionRun]:
    """Each OpenSearch set-up custom resource of the stack, as a Create event to its function's code."""
    from tests.support.opensearch_stub import OpenSearchStub

    template = deployer.prepare(spec)
    resources = custom_resources.setup_resources(template)
    if not resources:
        return []
    resolver = custom_resources.Resolver(deployer, spec, template)
    lambda_client = deployer.client("lambda", spec.account, spec.region)
    setups = {}
    for logical_id, name in running.deployed_functions(deployer, spec):
        configuration = lambda_client.get_function_configuration(FunctionName=name)
        variables = (configuration.get("Environment") or {}).get("Variables", {})
        if configuration.get("Handler") == events.SETUP:
            setups[variables.get("OPENSEARCH_SETUP_DOMAIN_ENDPOINT")] = (logical_id, name, configuration["Role"])
    runs = []
    for resource in resources:
        endpoint = resolver.resolve(resource.properties["DomainEndpoint"])
        logical_id, name, role = setups[endpoint]
        password = custom_resources.admin_password(deployer, spec, resolver.resolve(resource.properties))
        with OpenSearchStub(secret_keys={spec.account: "test"}, admin_password=password or "",
                            key_roles={spec.account: role}) as stand_in:
            host = stand_in.url.split("://", 1)[1]
            event = custom_resources.create_event(resource, resolver, host, stand_in.url)
            run = running.run_function(deployer, spec.stack_name, logical_id, name, spec.account, spec.region,
                                       functions_python, event, workdir=workdir, extra_environment={
                                           "OPENSEARCH_SETUP_DOMAIN_ENDPOINT": host,
                                           "OPENSEARCH_SETUP_ALLOW_ENDPOINT_OVERRIDE": "1"})
            run.logical_id = f"{logical_id} (custom resource {resource.logical_id}, Create)"
            if run.ok and not stand_in.changing_requests():
                run.error = "the set-up reported success but wrote nothing to the stand-in domain"
        runs.append(run)
    return runs


def alert_problem(posts: list[dict]) -> Optional[str]:
    """None when exactly one alert reached the webhook and the card number in it was masked."""
    if len(posts) != 1:
        return f"expected one post to the webhook for the marker line, got {len(posts)}"
    text = json.dumps(posts[0])
    if "4111111111111111" in text:
        return "the card number of the marker line reached the webhook unmasked"
    return None


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("assemblies", nargs="+", type=Path, help="cloud assembly folders (cdk.out)")
    arguments = parser.parse_args(argv)
    failed = False
    for assembly in arguments.assemblies:
        report = rehearse(str(assembly), assembly)
        print(report.render(), flush=True)
        failed = failed or bool(report.problems())
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
