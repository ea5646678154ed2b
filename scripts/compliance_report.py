#!/usr/bin/env python3
"""Generate docs/compliance.md from the cloud assembly's cdk-nag validation report (`make compliance`).

For each pack the app is validated with (app.py) and each of the pack's rules: the resources of the
app it covered, whether they passed or a finding was acknowledged, and the acknowledgement's reason.

Sources:
- ``cdk.out/validation-report.json``: per pack, the unacknowledged findings (``violations``) and the
  ``Pack::Rule`` acknowledgements with their reasons (``suppressedViolations``);
- the construct tree (``cdk.out/tree.json``): the app's resources, their construct paths and classes;
- cdk-nag's own rule sources (the JavaScript in its jsii bundle): which rules a pack applies and to which
  resource types each rule looks. A rule with no finding passed on every resource of those types.

Usage: ``python scripts/compliance_report.py [cdk.out] [docs/compliance.md]``
"""
from __future__ import annotations

import json
import re
import sys
import tarfile
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Optional

ROOT = Path(__file__).resolve().parents[1]

# pluginName in the report -> the pack's source file in cdk-nag's bundle
PACK_SOURCES = {
    "AwsSolutions": "aws-solutions.js",
    "NIST.800.53.R5": "nist-800-53-r5.js",
    "HIPAA.Security": "hipaa-security.js",
    "PCI.DSS.321": "pci-dss-321.js",
    "Serverless": "serverless.js",
    "NIST.800.53.R4": "nist-800-53-r4.js",
}
_APPLY_RULE = re.compile(r"this\.applyRule\(\{(.*?)\n\s*\}\);", re.S)
_SUFFIX = re.compile(r"ruleSuffixOverride:\s*'([^']+)'")
_RULE = re.compile(r"rule:\s*([a-z0-9_]+)_1\.([A-Za-z0-9]+)")
_LEVEL = re.compile(r"level:\s*nag_rules_1\.NagMessageLevel\.([A-Z]+)")
_INSTANCEOF = re.compile(r"instanceof\s+(aws_[a-z0-9_]+)_1\.(Cfn[A-Za-z0-9]+)")
_CFN_TYPE = re.compile(r"'(AWS::[A-Za-z0-9]+::[A-Za-z0-9]+)'")


@dataclass
class Rule:
    id: str  # e.g. NIST.800.53.R5-LambdaDLQ
    level: str  # ERROR or WARN
    resource_kinds: set[str]  # aws-cdk-lib L1 classes ("aws_s3.CfnBucket") and CloudFormation types it checks


@dataclass
class Acknowledgement:
    finding: str  # the rule id, with [finding] for IAM5-style rules
    paths: list[str]
    reason: str
    acknowledged_at: str


@dataclass
class RuleResult:
    rule: Rule
    covered: list[str] = field(default_factory=list)
    acknowledged: list[Acknowledgement] = field(default_factory=list)
    violations: list[tuple[str, list[str]]] = field(default_factory=list)

    @property
    def status(self) -> str:
        """``pass`` / ``acknowledged`` / ``N pass, M acknowledged`` / ``FAIL``, counted in resources."""
        if self.violations:
            return "**FAIL**"
        acked = {p for a in self.acknowledged for p in a.paths}
        passed = [p for p in self.covered if p not in acked]
        if not acked:
            return "pass" if passed else "not applicable"
        return "acknowledged" if not passed else f"{len(passed)} pass, {len(acked)} acknowledged"


# --- cdk-nag's rule sources ----------------------------------------------------------------------------
class NagSources:
    """Reads the packs and rules from cdk-nag's jsii bundle (the version the app was validated with)."""

    def __init__(self, bundle: Optional[Path] = None) -> None:
        if bundle is None:
            import cdk_nag

            (bundle,) = (Path(cdk_nag.__file__).parent / "_jsii").glob("cdk-nag@*.jsii.tgz")
        self.bundle = bundle
        self.version = bundle.name.removeprefix("cdk-nag@").removesuffix(".jsii.tgz")
        with tarfile.open(bundle) as tar:
            self._files = {
                m.name.removeprefix("package/lib/"): tar.extractfile(m).read().decode()  # type: ignore[union-attr]
                for m in tar.getmembers()
                if m.isfile() and m.name.startswith("package/lib/") and m.name.endswith(".js")
            }

    def rules(self, pack: str) -> list[Rule]:
        source = self._files.get(f"packs/{PACK_SOURCES.get(pack, '')}")
        if source is None:
            return []
        rules: dict[str, Rule] = {}
        for block in _APPLY_RULE.findall(source):
            rule = _RULE.search(block)
            if rule is None:
                continue
            service, name = rule.groups()
            suffix = _SUFFIX.search(block)
            level = _LEVEL.search(block)
            rule_id = f"{pack}-{suffix.group(1) if suffix else name}"
            rules[rule_id] = Rule(rule_id, level.group(1) if level else "ERROR",
                                  self._resource_kinds(f"rules/{service}/{name}.js"))
        return list(rules.values())

    def _resource_kinds(self, path: str) -> set[str]:
        source = self._files.get(path, "")
        return set(_CFN_TYPE.findall(source)) | {f"{module}.{cls}" for module, cls in _INSTANCEOF.findall(source)}


# --- the cloud assembly ----------------------------------------------------------------------------------
def app_resources(out: Path) -> dict[str, set[str]]:
    """Construct path (without a trailing /Resource) -> its kinds: CloudFormation type and L1 class."""
    resources: dict[str, set[str]] = {}

    def walk(node: dict) -> None:
        kind = (node.get("attributes") or {}).get("aws:cdk:cloudformation:type")
        if kind:
            fqn = (node.get("constructInfo") or {}).get("fqn", "")
            resources[_short(node["path"])] = {kind, fqn.removeprefix("aws-cdk-lib.")}
        for child in (node.get("children") or {}).values():
            walk(child)

    walk(json.loads((out / "tree.json").read_text())["tree"])
    return resources


def _short(path: str) -> str:
    return path.removesuffix("/Resource").removesuffix("/Default")


def _base_rule(finding: str) -> str:
    return finding.split("[", 1)[0]


def analyse(report: dict, resources: dict[str, set[str]], sources: NagSources) -> dict[str, list[RuleResult]]:
    """pack -> one result per rule of the pack (plus any rule found in the report the sources missed)."""
    by_kind: dict[str, list[str]] = defaultdict(list)
    for path, kinds in resources.items():
        for kind in kinds:
            by_kind[kind].append(path)
    packs: dict[str, list[RuleResult]] = {}
    for plugin in report.get("pluginReports", []):
        pack = plugin["pluginName"]
        if pack not in PACK_SOURCES:
            continue  # e.g. aws-cdk-lib's own CloudFormation validation
        results = {rule.id: RuleResult(rule) for rule in sources.rules(pack)}

        def result(finding: str) -> RuleResult:
            rule_id = _base_rule(finding)
            if rule_id not in results:
                results[rule_id] = RuleResult(Rule(rule_id, "ERROR", set()))
            return results[rule_id]

        for entry in plugin.get("suppressedViolations", []):
            paths = [_short(c["constructPath"]) for c in entry.get("violatingConstructs", [])]
            result(entry["ruleName"]).acknowledged.append(Acknowledgement(
                finding=entry["ruleName"], paths=paths, reason=entry.get("reason", ""),
                acknowledged_at=entry.get("acknowledgedAt", "")))
        for entry in plugin.get("violations", []):
            paths = [_short(c["constructPath"]) for c in entry.get("violatingConstructs", [])]
            result(entry["ruleName"]).violations.append((entry["ruleName"], paths))
        for res in results.values():
            covered = {p for kind in res.rule.resource_kinds for p in by_kind.get(kind, [])}
            covered |= {p for a in res.acknowledged for p in a.paths} | {p for _, ps in res.violations for p in ps}
            res.covered = sorted(covered)
        packs[pack] = sorted(results.values(), key=lambda r: r.rule.id)
    return packs


# --- Markdown -------------------------------------------------------------------------------------------
def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _paths(paths: Iterable[str], stack_prefixes: tuple[str, ...], limit: int = 12) -> str:
    shown = []
    for path in paths:
        for prefix in stack_prefixes:
            path = path.removeprefix(prefix)
        shown.append(f"`{path}`")
    more = f" and {len(shown) - limit} more" if len(shown) > limit else ""
    return ", ".join(shown[:limit]) + more


def render(packs: dict[str, list[RuleResult]], *, nag_version: str, stacks: tuple[str, ...]) -> str:
    prefixes = tuple(f"{s}/" for s in stacks)
    lines = [
        "# Compliance",
        "",
        "Generated by `make compliance` (`scripts/compliance_report.py`) from the cdk-nag validation report of the",
        f"example app (`cdk.out/validation-report.json`, cdk-nag {nag_version}); do not edit by hand.",
        "Every finding is either fixed in the constructs or acknowledged on the narrowest construct with the",
        "reason below; `make synth` (and so `make test`) fails on any unacknowledged finding.",
        "",
        f"Stacks: {', '.join(f'`{s}`' for s in stacks)}. Resource paths below are relative to the stack.",
        "",
        "| pack | rules | applied to this app | passed | with acknowledged findings | unacknowledged findings |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for pack, results in packs.items():
        applied = [r for r in results if r.covered]
        acked = [r for r in applied if r.acknowledged]
        failed = sum(len(r.violations) for r in results)
        lines.append(f"| [{pack}](#{_anchor(pack)}) | {len(results)} | {len(applied)} | {len(applied) - len(acked)} "
                     f"| {len(acked)} | {failed} |")
    for pack, results in packs.items():
        applied = [r for r in results if r.covered]
        idle = [r.rule.id.removeprefix(f"{pack}-") for r in results if not r.covered]
        lines += ["", f"## {pack}", "", "| rule | result | resources covered | acknowledgement (finding: reason) |",
                  "| --- | --- | --- | --- |"]
        for r in applied:
            acks = "<br>".join(
                f"`{_cell(a.finding.removeprefix(r.rule.id))}` on {_paths(a.paths, prefixes, 4)}: {_cell(a.reason)}"
                if a.finding != r.rule.id else f"{_paths(a.paths, prefixes, 4)}: {_cell(a.reason)}"
                for a in r.acknowledged)
            fails = "<br>".join(f"**unacknowledged** `{_cell(f)}` on {_paths(ps, prefixes)}" for f, ps in r.violations)
            level = "" if r.rule.level == "ERROR" else f" ({r.rule.level.lower()})"
            lines.append(f"| {r.rule.id.removeprefix(pack + '-')}{level} | {r.status} | "
                         f"{len(r.covered)}: {_paths(r.covered, prefixes)} | {'<br>'.join(x for x in (fails, acks) if x)} |")
        if idle:
            lines += ["", f"Not applicable (no resource of the kinds they check): {', '.join(idle)}."]
    return "\n".join(lines) + "\n"


def _anchor(title: str) -> str:
    return re.sub(r"[^a-z0-9 -]", "", title.lower()).replace(" ", "-")


def main(out: Path, target: Path) -> int:
    report_file = out / "validation-report.json"
    if not report_file.exists():
        print(f"{report_file} is missing: run `make synth` first", file=sys.stderr)
        return 1
    report = json.loads(report_file.read_text())
    sources = NagSources()
    manifest = json.loads((out / "manifest.json").read_text())
    stacks = tuple(sorted(n for n, a in manifest["artifacts"].items() if a["type"] == "aws:cloudformation:stack"))
    packs = analyse(report, app_resources(out), sources)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(render(packs, nag_version=sources.version, stacks=stacks))
    failed = sum(len(r.violations) for results in packs.values() for r in results)
    print(f"{target}: {len(packs)} pack(s), {failed} unacknowledged finding(s)")
    return 1 if failed else 0


if __name__ == "__main__":
    args = sys.argv[1:]
    sys.exit(main(Path(args[0]) if args else ROOT / "cdk.out",
                  Path(args[1]) if len(args) > 1 else ROOT / "docs" / "compliance.md"))
