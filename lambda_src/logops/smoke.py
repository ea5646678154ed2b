"""Prove a deployed pipeline end to end in the caller's account and region (run after ``cdk deploy``).

Hops, each printed with the seconds it took:

1. ``platform``: the pipeline (and alerts) by their attach-point names (SSM), the index behind the shipper.
2. ``log group``: a log group whose subscription filter sends to the shipper (``--log-group``, or the
   first such group under ``/applications/``).
3. ``line``: writes ``log-constructs smoke <uuid>`` to a new stream of that group.
4. ``index``: a SigV4-signed ``_search`` finds the document, polled until ``--timeout-seconds``.
5. ``marker`` (with ``--alerts``): writes ``[CRITICAL] log-constructs smoke <uuid> ...`` to the same
   stream (one real alert: it is posted to the alerts' default channel).
6. ``alert``: the alert's item in the audit table, polled until it is notified or the timeout.

Exit status 0 when every hop passed; 1 with the failed hop and its likely cause.
"""
from __future__ import annotations

import argparse
import sys
import time
import uuid
from dataclasses import dataclass
from typing import Any, Callable, Optional, TextIO

import boto3
from botocore.exceptions import ClientError

from . import platform as p
from .report import HopFailure, Hops
from .signed_search import SearchError, hits, search

HELP = "prove a deployed pipeline end to end: a line reaches the index, a marker line the alerts' table"
APPLICATIONS_PREFIX = "/applications/"
SMOKE_TEXT = "log-constructs smoke"
ALERT_MARKER = "CRITICAL"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--pipeline", required=True, metavar="NAME", help="the LogPipeline's name (its name prop)")
    parser.add_argument("--alerts", metavar="NAME", help="the LogAlerts' name; without it the alert hops are skipped")
    parser.add_argument("--log-group", metavar="GROUP", help="a log group subscribed to the pipeline (default: the "
                        f"first under {APPLICATIONS_PREFIX} whose subscription filter sends to the shipper)")
    parser.add_argument("--timeout-seconds", type=float, default=300.0, metavar="N",
                        help="how long to wait for the document, and again for the alert (default: 300; Firehose "
                        "buffers up to its buffer interval)")
    parser.add_argument("--poll-seconds", type=float, default=5.0, metavar="N",
                        help="seconds between two looks at the index or the table (default: 5)")
    parser.add_argument("--region", metavar="R", help="the platform's region (default: the session's)")


@dataclass
class Smoke:
    session: Any
    args: argparse.Namespace
    hops: Hops
    sleep: Callable[[float], None] = time.sleep
    token: str = ""
    stream: str = ""

    def __post_init__(self) -> None:
        self.token = self.token or str(uuid.uuid4())
        self.stream = f"log-constructs-smoke/{self.token}"

    def run(self) -> None:
        with self.hops.hop(p.PLATFORM) as found:
            caller = p.caller(self.session)
            pipeline = p.find_pipeline(self.session, caller, self.args.pipeline)
            alerts = p.find_alerts(self.session, caller, self.args.alerts) if self.args.alerts else None
            found.append(f"shipper {pipeline.shipper_name} ({pipeline.mode}) -> index {pipeline.index.pattern} "
                         f"on {pipeline.index.endpoint} ({pipeline.index.via})")
            if alerts:
                found.append(f"alerts {alerts.function_name} -> table {alerts.table}")
        with self.hops.hop("log group") as found:
            group = self.args.log_group or self.first_shipped_group(pipeline)
            filters = self.destinations(group)
            if not sends_to(filters, pipeline.shipper_arn):
                raise HopFailure("log group", f"{group} has no subscription filter to the shipper {pipeline.shipper_arn}",
                                 "the log group is not shipped: subscribe it (pipeline.add_log_group, "
                                 "ApplicationLogging(ship_to=...), or the governor's sweep) and deploy")
            found.append(f"{caller.resource_arn('logs', f'log-group:{group}')} ships to {pipeline.shipper_name}")
        with self.hops.hop("line") as found:
            self.write(group, f"{SMOKE_TEXT} {self.token}: pipeline hop", create=True)
            found.append(f"{SMOKE_TEXT} {self.token} -> {group}/{self.stream}")
        with self.hops.hop("index") as found:
            found.append(self.wait_for_document(pipeline, caller))
        if alerts is None:
            return
        with self.hops.hop("marker") as found:
            if not sends_to(filters, alerts.function_arn):
                raise HopFailure("marker", f"{group} has no subscription filter to the alerts function "
                                 f"{alerts.function_arn}", "the log group is not watched by the alerts: "
                                 "alerts.add_log_group / ApplicationLogging(alerts=...), then deploy")
            written = self.write(group, f"[{ALERT_MARKER}] {SMOKE_TEXT} {self.token}: alerts hop "
                                 "(a test alert from logops smoke; no action needed)")
            found.append(f"[{ALERT_MARKER}] {SMOKE_TEXT} {self.token} -> {group}/{self.stream}")
        with self.hops.hop("alert") as found:
            found.append(self.wait_for_alert(alerts, group, written))

    # --- the log group ------------------------------------------------------------------------------
    def first_shipped_group(self, pipeline: p.Pipeline) -> str:
        logs = self.session.client("logs")
        for page in logs.get_paginator("describe_log_groups").paginate(logGroupNamePrefix=APPLICATIONS_PREFIX):
            for group in page.get("logGroups", []):
                if sends_to(self.destinations(group["logGroupName"]), pipeline.shipper_arn):
                    return str(group["logGroupName"])
        raise HopFailure("log group", f"no log group under {APPLICATIONS_PREFIX} is subscribed to the shipper "
                         f"{pipeline.shipper_arn}", "no application log group is shipped yet: deploy an application "
                         "stack that ships one, or give --log-group")

    def destinations(self, group: str) -> list[str]:
        """The destination ARNs of ``group``'s subscription filters (``logs:DescribeSubscriptionFilters``)."""
        try:
            filters = self.session.client("logs").describe_subscription_filters(logGroupName=group)
        except ClientError as error:
            if p.error_code(error) == "ResourceNotFoundException":
                raise HopFailure("log group", f"log group {group} does not exist",
                                 "a typo in --log-group, or the application stack is not deployed here") from None
            raise HopFailure("log group", f"cannot read the subscription filters of {group}: {error}",
                             "the caller needs logs:DescribeSubscriptionFilters") from None
        return [f["destinationArn"] for f in filters.get("subscriptionFilters", [])]

    def write(self, group: str, message: str, *, create: bool = False) -> int:
        """Put ``message`` into the smoke's stream of ``group``; its timestamp (ms)."""
        hop = "line" if create else "marker"
        logs = self.session.client("logs")
        timestamp = int(time.time() * 1000)
        try:
            if create:
                logs.create_log_stream(logGroupName=group, logStreamName=self.stream)
            logs.put_log_events(logGroupName=group, logStreamName=self.stream,
                                logEvents=[{"timestamp": timestamp, "message": message}])
        except ClientError as error:
            raise HopFailure(hop, f"cannot write to {group}: {error}",
                             "the caller needs logs:CreateLogStream and logs:PutLogEvents on the log group") from None
        return timestamp

    # --- waiting ------------------------------------------------------------------------------------
    def poll(self, look: Callable[[], Optional[str]]) -> Optional[str]:
        deadline = time.monotonic() + self.args.timeout_seconds
        while True:
            found = look()
            if found is not None or time.monotonic() >= deadline:
                return found
            self.sleep(min(self.args.poll_seconds, max(deadline - time.monotonic(), 0.0)))

    def wait_for_document(self, pipeline: p.Pipeline, caller: p.Caller) -> str:
        index = pipeline.index
        query = {"size": 1, "query": {"match_phrase": {"message": self.token}}}
        credentials = self.session.get_credentials()

        def look() -> Optional[str]:
            try:
                answer = search(index.endpoint, index.pattern, query, credentials=credentials, region=caller.region,
                                service=index.service)
            except SearchError as error:
                if error.status == 403:
                    raise HopFailure("index", str(error), refused_cause(index, caller)) from None
                if error.status in (0, 429) or error.status >= 500:
                    return None  # not reachable yet, or busy: try again until the timeout
                raise HopFailure("index", str(error), "the index pattern or the query was refused; is "
                                 f"{index.pattern} the pipeline's index?") from None
            found = hits(answer)
            return f"document {found[0].get('_id')} in {found[0].get('_index')}" if found else None

        found = self.poll(look)
        if found is None:
            raise HopFailure("index", f"no document with {self.token} in {index.pattern} after "
                             f"{self.args.timeout_seconds:g} s", "the shipper did not index it: see its errors "
                             f"in the log group(s) {pipeline.log_groups} and its dead-letter queue; "
                             "Firehose buffers up to its buffer interval (give a longer --timeout-seconds)")
        return found

    def wait_for_alert(self, alerts: p.Alerts, group: str, timestamp: int) -> str:
        dynamodb = self.session.client("dynamodb")
        index = alert_index(dynamodb, alerts.table)
        app_name = [part for part in group.split("/") if part][-1]
        stored: dict[str, Any] = {}

        def look() -> Optional[str]:
            try:
                if index:  # the table's index by application and time: the one item written at this ms
                    items = dynamodb.query(
                        TableName=alerts.table, IndexName=index,
                        KeyConditionExpression="app_name = :app AND epoch_ms = :at",
                        FilterExpression="log_stream = :stream", ExpressionAttributeValues={
                            ":app": {"S": app_name}, ":at": {"N": str(timestamp)}, ":stream": {"S": self.stream}},
                    )["Items"]
                else:
                    items = dynamodb.scan(TableName=alerts.table, FilterExpression="log_stream = :stream",
                                          ExpressionAttributeValues={":stream": {"S": self.stream}})["Items"]
            except ClientError as error:
                raise HopFailure("alert", f"cannot read the audit table {alerts.table}: {error}",
                                 "the caller needs dynamodb:Query (and DescribeTable) on the table and its "
                                 "indexes, and kms:Decrypt on its key") from None
            if not items:
                return None
            stored.update(items[0])
            if items[0].get("notified", {}).get("BOOL"):
                return f"alert {items[0]['log_id']['S']} in {alerts.table}, notified"
            return None

        found = self.poll(look)
        if found is not None:
            return found
        if stored:
            raise HopFailure("alert", f"the alert {stored['log_id']['S']} is in {alerts.table} but was not notified "
                             f"after {self.args.timeout_seconds:g} s", "the webhook secret is empty or its URL is "
                             f"refused (set it: the stack output SetWebhookCommand); see {alerts.log_group}")
        raise HopFailure("alert", f"no alert from {group}/{self.stream} in {alerts.table} after "
                         f"{self.args.timeout_seconds:g} s", "the alerts function did not store it: the log group's "
                         f"filter does not match [{ALERT_MARKER}] (custom markers?), or the function fails: see "
                         f"{alerts.log_group}")


def sends_to(destinations: list[str], function_arn: str) -> bool:
    """Whether a filter's destination is the function (or one of its versions or aliases)."""
    return any(arn == function_arn or arn.startswith(f"{function_arn}:") for arn in destinations)


def refused_cause(index: p.Index, caller: p.Caller) -> str:
    if index.service == "aoss":
        return (f"the caller {caller.arn} is not in the collection's data access policy "
                "(aoss:ReadDocument on the index) or its IAM policy lacks aoss:APIAccessAll")
    return (f"the caller's role ({caller.arn}) is not mapped to a reader role in OpenSearch fine-grained access "
            "control (map it to a role that may search the index, e.g. readall), or the domain's access policy / "
            "the caller's IAM policy lacks es:ESHttpPost and es:ESHttpGet on the domain")


def alert_index(dynamodb: Any, table: str) -> Optional[str]:
    """The audit table's index keyed by ``app_name`` and ``epoch_ms``, if it has one (``DescribeTable``)."""
    try:
        description = dynamodb.describe_table(TableName=table)["Table"]
    except ClientError as error:
        raise HopFailure("alert", f"cannot describe the audit table {table}: {error}",
                         "the caller needs dynamodb:DescribeTable on it, or the table was deleted") from None
    for index in description.get("GlobalSecondaryIndexes", []):
        keys = {key["KeyType"]: key["AttributeName"] for key in index["KeySchema"]}
        if keys == {"HASH": "app_name", "RANGE": "epoch_ms"}:
            return str(index["IndexName"])
    return None


def run(args: argparse.Namespace, *, out: Optional[TextIO] = None, session: Any = None,
        sleep: Callable[[float], None] = time.sleep) -> int:
    out = out or sys.stdout
    hops = Hops(out)
    smoke = Smoke(session or boto3.Session(region_name=args.region), args, hops, sleep)
    print(f"logops smoke {smoke.token}: pipeline {args.pipeline}"
          + (f", alerts {args.alerts}" if args.alerts else " (no --alerts: alert hops skipped)"), file=out, flush=True)
    try:
        smoke.run()
    except HopFailure as failure:
        hops.failed("smoke", failure)
        return 1
    hops.passed("smoke")
    return 0
