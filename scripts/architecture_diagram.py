#!/usr/bin/env python3
"""Draw docs/architecture.png from the synthesized example app (run `make synth` first).

Reads the CloudFormation templates in ``cdk.out`` (resources, their construct paths and the
references between them) and writes a Graphviz graph: one box per top-level construct of the
stack, the resources that carry data inside it, and arrows where data flows (a subscription
filter from a log group to a function, a function to the stream or queue it writes to, the
stream to the domain and the backup bucket, alarms to their topic, ...). Needs Graphviz's ``dot``
(``apt-get install graphviz``); not part of ``make test``.

Usage: ``python scripts/architecture_diagram.py [cdk.out] [docs/architecture.png]`` (``.dot`` or
``.svg`` targets work too).
"""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any, Iterator

ROOT = Path(__file__).resolve().parents[1]

# The resources that carry or keep data, with how they are drawn (label suffix, shape, fill colour).
NODE_KINDS: dict[str, tuple[str, str, str]] = {
    "AWS::Lambda::Function": ("Lambda function", "box", "#ffe0b2"),
    "AWS::KinesisFirehose::DeliveryStream": ("Firehose stream", "cds", "#d1c4e9"),
    "AWS::OpenSearchService::Domain": ("OpenSearch domain", "cylinder", "#bbdefb"),
    "AWS::S3::Bucket": ("S3 bucket", "folder", "#c8e6c9"),
    "AWS::SQS::Queue": ("SQS queue", "box3d", "#f8bbd0"),
    "AWS::SNS::Topic": ("SNS topic", "hexagon", "#f8bbd0"),
    "AWS::DynamoDB::Table": ("DynamoDB table", "cylinder", "#bbdefb"),
    "AWS::CloudTrail::Trail": ("CloudTrail trail", "note", "#fff9c4"),
    "AWS::Events::Rule": ("EventBridge rule", "diamond", "#fff9c4"),
    "AWS::SecretsManager::Secret": ("secret", "octagon", "#eeeeee"),
    "AWS::Glue::Table": ("Glue table", "tab", "#c8e6c9"),
    "AWS::Athena::WorkGroup": ("Athena workgroup", "tab", "#c8e6c9"),
    "AWS::CloudWatch::Dashboard": ("CloudWatch dashboard", "tab", "#eeeeee"),
    "AWS::Logs::AccountPolicy": ("account subscription policy", "note", "#fff9c4"),
}
ALARM = "AWS::CloudWatch::Alarm"
LOG_GROUP = "AWS::Logs::LogGroup"
SUBSCRIPTION = "AWS::Logs::SubscriptionFilter"


def _refs(value: Any) -> Iterator[str]:
    """Logical ids referenced by a template value (Ref, Fn::GetAtt, ${Id} in Fn::Sub)."""
    if isinstance(value, dict):
        if "Ref" in value and isinstance(value["Ref"], str):
            yield value["Ref"]
        if "Fn::GetAtt" in value:
            target = value["Fn::GetAtt"]
            yield target[0] if isinstance(target, list) else str(target).split(".")[0]
        if "Fn::Sub" in value:
            text = value["Fn::Sub"][0] if isinstance(value["Fn::Sub"], list) else value["Fn::Sub"]
            yield from (m.split(".")[0] for m in re.findall(r"\$\{([^}!]+)\}", str(text)))
        for item in value.values():
            yield from _refs(item)
    elif isinstance(value, list):
        for item in value:
            yield from _refs(item)


class Graph:
    def __init__(self, stack: str, template: dict) -> None:
        self.stack = stack
        self.resources: dict[str, dict] = template.get("Resources", {})
        self.nodes: dict[str, tuple[str, str]] = {}  # node id -> (group, label)
        self.edges: dict[tuple[str, str], set[str]] = defaultdict(set)

    def path(self, logical_id: str) -> list[str]:
        path = self.resources[logical_id].get("Metadata", {}).get("aws:cdk:path", f"{self.stack}/{logical_id}")
        parts = path.split("/")[1:]
        while len(parts) > 1 and parts[-1] in ("Resource", "Default"):
            parts = parts[:-1]
        return parts

    def group(self, logical_id: str) -> str:
        parts = self.path(logical_id)
        return parts[0] if len(parts) > 1 else f"{self.stack} (shared)"

    def add_node(self, logical_id: str) -> str:
        kind = self.resources[logical_id]["Type"]
        if kind == ALARM:  # one node for all alarms of a construct
            group = self.group(logical_id)
            node = f"alarms_{group}"
            count = sum(1 for r in self.resources if self.resources[r]["Type"] == ALARM and self.group(r) == group)
            self.nodes[node] = (group, f"{count} CloudWatch alarm{'s' * (count != 1)}")
            return node
        title = "/".join(self.path(logical_id)[1:]) or self.path(logical_id)[0]
        suffix = NODE_KINDS.get(kind, ("log group" if kind == LOG_GROUP else kind.split("::")[-1], "", ""))[0]
        self.nodes[logical_id] = (self.group(logical_id), f"{title}\\n({suffix})")
        return logical_id

    def edge(self, source: str, target: str, label: str) -> None:
        self.edges[(source, target)].add(label)

    def drawn(self, logical_id: str) -> bool:
        kind = self.resources.get(logical_id, {}).get("Type")
        if logical_id in self.resources and any(p.startswith("framework-") or p.startswith("AWSCDK")
                                                for p in self.path(logical_id)):
            return False  # aws-cdk-lib's custom resource providers: the custom resource is drawn instead
        return kind in NODE_KINDS or kind == ALARM or (kind == LOG_GROUP and logical_id in self.subscribed)

    def build(self) -> "Graph":
        self.subscribed = {ref for r in self.resources.values() if r["Type"] == SUBSCRIPTION
                           for ref in _refs(r["Properties"].get("LogGroupName"))}
        self.subscribed |= {ref for r in self.resources.values() if r["Type"] == "AWS::CloudTrail::Trail"
                            for ref in _refs(r["Properties"].get("CloudWatchLogsLogGroupArn"))}
        for logical_id, resource in self.resources.items():
            kind, props = resource["Type"], resource.get("Properties", {})
            if kind == SUBSCRIPTION:
                for source in _refs(props.get("LogGroupName")):
                    for target in _refs(props.get("DestinationArn")):
                        if self.drawn(source) and self.drawn(target):
                            self.edge(self.add_node(source), self.add_node(target), "subscription")
            elif kind == "AWS::Lambda::EventInvokeConfig":
                for function in _refs(props.get("FunctionName")):
                    for target in _refs(props.get("DestinationConfig")):
                        if self.drawn(function) and self.drawn(target):
                            self.edge(self.add_node(function), self.add_node(target), "on failure")
            elif kind.startswith("AWS::CloudFormation::CustomResource") or kind.startswith("Custom::"):
                for target in _refs(props.get("ServiceToken")):
                    self._custom_resource(logical_id, target)
            elif self.drawn(logical_id):
                self.add_node(logical_id)
                for target in set(_refs(props)):
                    if target == logical_id or not self.drawn(target):
                        continue
                    target_kind = self.resources[target]["Type"]
                    if (kind == ALARM and target_kind != "AWS::SNS::Topic") or kind == "AWS::CloudWatch::Dashboard":
                        continue  # what alarms and dashboards watch would clutter the picture
                    self.edge(self.add_node(logical_id), self.add_node(target), _label(kind, target_kind))
        return self

    def _custom_resource(self, logical_id: str, provider_function: str) -> None:
        """A custom resource points at the framework function; draw an edge to the handler it invokes."""
        handlers = [ref for ref in _refs(self.resources.get(provider_function, {}).get("Properties", {}))
                    if self.resources.get(ref, {}).get("Type") == "AWS::Lambda::Function"]
        node = f"cr_{logical_id}"
        self.nodes[node] = (self.group(logical_id), f"{'/'.join(self.path(logical_id)[1:])}\\n(deploy-time custom resource)")
        for handler in handlers or [provider_function]:
            if self.drawn(handler):
                self.edge(node, self.add_node(handler), "on deploy")
        for target in set(_refs({k: v for k, v in self.resources[logical_id].get("Properties", {}).items()
                                 if k != "ServiceToken"})):
            if self.resources.get(target, {}).get("Type") == "AWS::Lambda::Version":  # e.g. a trigger's handler
                for function in _refs(self.resources[target].get("Properties", {}).get("FunctionName")):
                    if self.drawn(function):
                        self.edge(node, self.add_node(function), "on deploy")
            elif self.drawn(target) and self.resources[target]["Type"] != "AWS::Lambda::Function":
                self.edge(node, self.add_node(target), "configures")

    def dot(self) -> str:
        lines = [
            "digraph architecture {",
            '  graph [rankdir=LR, fontname="Helvetica", fontsize=12, labelloc=t, nodesep=0.35, ranksep=0.6,'
            f' label="{self.stack}: the example app of log_constructs (generated from cdk.out)"];',
            '  node [fontname="Helvetica", fontsize=10, style="filled,rounded", shape=box];',
            '  edge [fontname="Helvetica", fontsize=8, color="#555555"];',
        ]
        groups: dict[str, list[str]] = defaultdict(list)
        for node, (group, _) in self.nodes.items():
            groups[group].append(node)
        for index, (group, members) in enumerate(sorted(groups.items())):
            lines.append(f'  subgraph cluster_{index} {{ label="{group}"; style="rounded,dashed"; color="#90a4ae";')
            for node in sorted(members):
                label = self.nodes[node][1]
                kind = self.resources.get(node, {}).get("Type", ALARM if node.startswith("alarms_") else "")
                _, shape, fill = NODE_KINDS.get(kind, ("", "note" if kind == ALARM else "box", "#fff9c4" if kind == ALARM else "#f5f5f5"))
                if kind == LOG_GROUP:
                    shape, fill = "note", "#e0f2f1"
                lines.append(f'    "{node}" [label="{label}", shape={shape or "box"}, fillcolor="{fill}"];')
            lines.append("  }")
        for (source, target), labels in sorted(self.edges.items()):
            label = " / ".join(sorted(x for x in labels if x))
            lines.append(f'  "{source}" -> "{target}"' + (f' [label="{label}"];' if label else ";"))
        lines.append("}")
        return "\n".join(lines) + "\n"


def _label(source: str, target: str) -> str:
    return {
        ("AWS::KinesisFirehose::DeliveryStream", "AWS::OpenSearchService::Domain"): "index documents",
        ("AWS::KinesisFirehose::DeliveryStream", "AWS::S3::Bucket"): "backup",
        ("AWS::S3::Bucket", "AWS::S3::Bucket"): "access logs",
        ("AWS::Lambda::Function", "AWS::KinesisFirehose::DeliveryStream"): "PutRecordBatch",
        ("AWS::Lambda::Function", "AWS::SQS::Queue"): "dead letters",
        ("AWS::Lambda::Function", "AWS::SecretsManager::Secret"): "reads",
        ("AWS::Lambda::Function", "AWS::DynamoDB::Table"): "writes",
        ("AWS::Lambda::Function", "AWS::SNS::Topic"): "publishes",
        ("AWS::Lambda::Function", LOG_GROUP): "logs",
        ("AWS::Lambda::Function", "AWS::OpenSearchService::Domain"): "signed REST",
        (ALARM, "AWS::SNS::Topic"): "notify",
        ("AWS::CloudTrail::Trail", "AWS::S3::Bucket"): "log files",
        ("AWS::CloudTrail::Trail", LOG_GROUP): "events",
        ("AWS::Events::Rule", "AWS::Lambda::Function"): "invokes",
        ("AWS::Events::Rule", "AWS::SQS::Queue"): "dead letters",
    }.get((source, target), "")


def main(out: Path, target: Path) -> int:
    manifest = json.loads((out / "manifest.json").read_text())
    stacks = {n: a for n, a in manifest["artifacts"].items() if a["type"] == "aws:cloudformation:stack"}
    templates = {name: json.loads((out / a["properties"]["templateFile"]).read_text()) for name, a in stacks.items()}
    if not any("aws:cdk:path" in r.get("Metadata", {}) for t in templates.values() for r in t.get("Resources", {}).values()):
        print("the templates carry no construct paths (aws:cdk:path): synthesize with `make synth`", file=sys.stderr)
        return 1
    # Graphviz draws the first graph of its input: the largest stack first (the platform's).
    dots = [Graph(name, template).build().dot() for name, template in
            sorted(templates.items(), key=lambda item: (-len(item[1].get("Resources", {})), item[0]))]
    target.parent.mkdir(parents=True, exist_ok=True)
    source = "".join(dots)
    if target.suffix == ".dot":
        target.write_text(source)
    else:
        dot = shutil.which("dot")
        if dot is None:
            print("Graphviz's `dot` is missing (apt-get install graphviz)", file=sys.stderr)
            return 1
        subprocess.run([dot, f"-T{target.suffix.lstrip('.')}", "-Gdpi=110", "-o", str(target)], input=source,
                       text=True, check=True)
    print(f"{target}: {len(stacks)} stack(s)")
    return 0


if __name__ == "__main__":
    args = sys.argv[1:]
    sys.exit(main(Path(args[0]) if args else ROOT / "cdk.out",
                  Path(args[1]) if len(args) > 1 else ROOT / "docs" / "architecture.png"))
