"""Run the benchmarks and write bench/README.md.

`make bench` runs every `bench/bench_*.py`; `python -m bench NAME...` re-runs only those whose name
contains NAME; `--quick` runs smaller sizes (stated in each row and in the run list). Each benchmark's rows are kept in `bench/results/<name>.json` with the machine and
time they were measured on, and the README table is rebuilt from all of them.
"""
from __future__ import annotations

import dataclasses
import importlib
import json
import os
import sys
import time

from bench.common import ROOT, Row, machine, quick

BENCH_DIR = ROOT / "bench"
RESULTS_DIR = BENCH_DIR / "results"


def _fmt(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.3g}"


def run(name: str) -> None:
    started = time.perf_counter()
    rows = importlib.import_module(f"bench.{name}").run()
    elapsed = time.perf_counter() - started
    RESULTS_DIR.mkdir(exist_ok=True)
    (RESULTS_DIR / f"{name}.json").write_text(json.dumps({
        "benchmark": name, "machine": machine(), "measured": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "seconds": round(elapsed, 1), "quick": quick(), "rows": [dataclasses.asdict(r) for r in rows],
    }, indent=2) + "\n")
    print(f"{name}: {len(rows)} result(s) in {elapsed:.1f} s", flush=True)


def write_readme() -> str:
    lines = [
        "# Benchmarks",
        "",
        "Written by `make bench` (`python -m bench NAME` re-runs one). Each result stands next to its baseline",
        "measured in the same run against the same emulator; the ratio is how many times better ours is.",
        "Raw results, with the machine and time of each run, are in `results/`; the picture is",
        "[`results.png`](results.png) (ours against the baseline, log scale, both views).",
        "",
        "Each result is measured twice in the same run: against the emulator as it is (`(emulator)`), and with",
        "the latency model of [`latency.py`](latency.py) (`(modelled: RTT table)`: every AWS call waits its",
        "service's round trip in the proxy, every webhook POST 150 ms), which is closer to AWS, where a call",
        "costs a round trip and almost no CPU. Rows without a suffix do not depend on the view.",
        "",
        "| benchmark | metric | ours | baseline | ratio | unit | note |",
        "| --- | --- | ---: | ---: | ---: | --- | --- |",
    ]
    runs = []
    for path in sorted(RESULTS_DIR.glob("*.json")):
        result = json.loads(path.read_text())
        runs.append(result)
        for fields in result["rows"]:
            r = Row(**fields)
            # Two decimals below 10×, where a target such as 0.8× is judged; one above.
            ratio = "—" if r.ratio is None else f"{r.ratio:,.2f}×" if r.ratio < 10 else f"{r.ratio:,.1f}×"
            lines.append(f"| {r.benchmark} | {r.metric} | {_fmt(r.ours)} | {_fmt(r.baseline)} | {ratio} | {r.unit} | {r.note} |")
    lines += ["", "## Runs", ""]
    lines += [f"- `{r['benchmark']}`: {r['measured']}, {r['seconds']} s"
              f"{' (--quick sizes)' if r.get('quick') else ''}, on {r['machine']}" for r in runs]
    if (RESULTS_DIR / "bench_shipper.json").exists():
        from bench.cost import measured, sinks_table, table

        lines += ["", "## Cost per GB (`python -m bench.cost`)", "", table(measured(RESULTS_DIR)), "",
                  "### The two sinks side by side", "", sinks_table(measured(RESULTS_DIR))]
    text = "\n".join(lines) + "\n"
    (BENCH_DIR / "README.md").write_text(text)
    return text


def main(selected: list[str]) -> int:
    if "--quick" in selected:
        selected = [s for s in selected if s != "--quick"]
        os.environ["BENCH_QUICK"] = "1"
    names = sorted(p.stem for p in BENCH_DIR.glob("bench_*.py"))
    if selected:
        names = [n for n in names if any(s in n for s in selected)]
    for name in names:
        run(name)
    print(write_readme())
    from bench.plot import draw

    print(f"picture: {draw()}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
