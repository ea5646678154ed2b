"""Log groups in mixed states for the governor's integration tests and benchmark, and a fake Lambda context."""
from __future__ import annotations

import io
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

from .emulator import ACCOUNT, REGION

FUNCTION_NAME = "log-group-governor"
FUNCTION_ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{FUNCTION_NAME}"
TARGET_RETENTION = 30


class FakeContext:
    """A Lambda context whose remaining time the test controls (a callable, or a fixed budget)."""

    function_name = FUNCTION_NAME
    invoked_function_arn = FUNCTION_ARN
    function_version = "$LATEST"
    memory_limit_in_mb = 256
    aws_request_id = "00000000-0000-0000-0000-000000000000"
    log_group_name = "/log-constructs/governor"
    log_stream_name = "2026/11/22/[$LATEST]0"

    def __init__(self, remaining_ms: Optional[Callable[[], int]] = None, *, budget_ms: int = 900_000) -> None:
        deadline = time.monotonic() + budget_ms / 1000
        self._remaining = remaining_ms or (lambda: int((deadline - time.monotonic()) * 1000))

    def get_remaining_time_in_millis(self) -> int:
        return self._remaining()


def create_lambda_destination(aws: Any, name: str) -> str:
    """A function in the emulator (CloudWatch Logs checks that a Lambda destination exists)."""
    iam = aws.client("iam", direct=True)
    role = iam.create_role(RoleName=f"{name}-role", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("index.py", "def handler(event, context):\n    return None\n")
    return aws.client("lambda", direct=True).create_function(
        FunctionName=name, Runtime="python3.13", Role=role, Handler="index.handler",
        Code={"ZipFile": buffer.getvalue()})["FunctionArn"]


@dataclass
class Population:
    """What was seeded, and what a correct governor must do to it."""

    names: dict[str, str] = field(default_factory=dict)  # name -> state
    def of(self, state: str) -> list[str]:
        return sorted(n for n, s in self.names.items() if s == state)


# state -> (retention, filters as (filter name, destination key))
STATES = {
    "no_retention": (None, []),
    "longer": (3653, []),
    "shorter": (7, []),
    "compliant": (TARGET_RETENTION, []),
    "subscribed": (TARGET_RETENTION, [("log-constructs-governor", "ours")]),
    "one_foreign": (TARGET_RETENTION, [("team-a-archive", "foreign")]),
    "both_slots_taken": (None, [("team-a-archive", "foreign"), ("team-b-siem", "foreign")]),
    "excluded_by_user": (None, []),
    "library": (None, []),
}


def seed(aws: Any, counts: dict[str, int], *, ours: Optional[str] = None, foreign: Optional[str] = None,
         workers: int = 16) -> Population:
    """Create ``counts[state]`` log groups per state, directly in the emulator (not through the proxy)."""
    logs = aws.client("logs", direct=True)
    population = Population()
    for state, count in counts.items():
        for i in range(count):
            if state == "library":
                name = f"/log-constructs/LoggingPlatform-fn{i:05d}"
            elif state == "excluded_by_user":
                name = f"/aws/sandbox/scratch-{i:05d}"
            else:
                name = f"/aws/lambda/{state}-{i:05d}"
            population.names[name] = state

    def create(name: str) -> None:
        retention, filters = STATES[population.names[name]]
        logs.create_log_group(logGroupName=name)
        if retention:
            logs.put_retention_policy(logGroupName=name, retentionInDays=retention)
        for filter_name, key in filters:
            logs.put_subscription_filter(logGroupName=name, filterName=filter_name, filterPattern="",
                                         destinationArn=ours if key == "ours" else foreign)

    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(create, population.names))
    return population


def snapshot(aws: Any, *, with_filters: bool = True) -> dict[str, dict[str, Any]]:
    """Every log group's retention and subscription filters, read directly from the emulator."""
    logs = aws.client("logs", direct=True)
    groups: dict[str, dict[str, Any]] = {}
    for page in logs.get_paginator("describe_log_groups").paginate():
        for group in page["logGroups"]:
            groups[group["logGroupName"]] = {"retention": group.get("retentionInDays"), "filters": {}}

    def filters(name: str) -> None:
        found = logs.describe_subscription_filters(logGroupName=name)["subscriptionFilters"]
        groups[name]["filters"] = {f["filterName"]: f["destinationArn"] for f in found}

    if with_filters:
        with ThreadPoolExecutor(16) as pool:
            list(pool.map(filters, list(groups)))
    return groups


CENTRAL_ACCOUNT = "111111111111"


def in_account(client: Any, account: str) -> Any:
    """``client`` acting as ``account`` in the emulator (moto reads the account from this header)."""
    client.meta.events.register("before-sign.*.*", lambda request, **_: request.headers.__setitem__(
        "x-moto-account-id", account))
    return client


def create_central_destination(aws: Any, name: str = "log-constructs-central", *,
                               account: str = CENTRAL_ACCOUNT) -> str:
    """A CloudWatch Logs destination of the central ``account`` in the emulator's region, over a Kinesis stream.

    moto checks a ``logs`` destination ARN given to PutSubscriptionFilter by looking up a *log group*
    of the destination's name in the destination's account; that log group stands in for the check
    CloudWatch Logs makes against the destination (and its policy).
    """
    kinesis = in_account(aws.client("kinesis", direct=True), account)
    kinesis.create_stream(StreamName=f"{name}-ingest", StreamModeDetails={"StreamMode": "ON_DEMAND"})
    stream = kinesis.describe_stream_summary(StreamName=f"{name}-ingest")["StreamDescriptionSummary"]["StreamARN"]
    role = in_account(aws.client("iam", direct=True), account).create_role(
        RoleName=f"{name}-role", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    central_logs = in_account(aws.client("logs", direct=True), account)
    arn = central_logs.put_destination(destinationName=name, targetArn=stream, roleArn=role)["destination"]["arn"]
    central_logs.create_log_group(logGroupName=name)  # moto's stand-in for the destination check (above)
    return str(arn)
