"""Print what `make synth` produced: stacks, resources per stack, and the cdk-nag result."""
from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path


def main(out: Path) -> int:
    manifest = json.loads((out / "manifest.json").read_text())
    stacks = {name: a for name, a in manifest["artifacts"].items() if a["type"] == "aws:cloudformation:stack"}
    for name, artifact in sorted(stacks.items()):
        template = json.loads((out / artifact["properties"]["templateFile"]).read_text())
        kinds = Counter(r["Type"] for r in template.get("Resources", {}).values())
        top = ", ".join(f"{k.split('::', 1)[1]} {v}" for k, v in kinds.most_common(6))
        print(f"stack {name}: {sum(kinds.values())} resources ({top}, ...)")
    report_file = out / "validation-report.json"
    if not report_file.exists():
        print("cdk-nag: no validation report (no plugin ran)")
        return 1
    report = json.loads(report_file.read_text())
    failed = False
    for plugin in report.get("pluginReports", []):
        violations = len(plugin.get("violations", []))
        acknowledged = len(plugin.get("suppressedViolations", []))
        failed |= violations > 0
        print(f"cdk-nag {plugin['pluginName']}: {violations} unacknowledged finding(s), {acknowledged} acknowledged")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1] if len(sys.argv) > 1 else "cdk.out")))
