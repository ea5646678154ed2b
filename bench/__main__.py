"""Run every benchmark and write bench/README.md (`make bench`; `python -m bench NAME` for one)."""
from __future__ import annotations

import importlib
import sys
import time
from pathlib import Path

from bench.common import ROOT, Row, machine

BENCH_DIR = ROOT / "bench"


def _fmt(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.3g}"


def main(selected: list[str]) -> int:
    names = sorted(p.stem for p in BENCH_DIR.glob("bench_*.py"))
    if selected:
        names = [n for n in names if any(s in n for s in selected)]
    rows: list[Row] = []
    for name in names:
        started = time.perf_counter()
        module = importlib.import_module(f"bench.{name}")
        result = module.run()
        rows.extend(result)
        print(f"{name}: {len(result)} result(s) in {time.perf_counter() - started:.1f} s", flush=True)
    lines = [
        "# Benchmarks",
        "",
        f"Measured by `make bench` on {machine()}, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}.",
        "Each result is next to its baseline measured in the same run; the ratio is how many times better ours is.",
        "",
        "| benchmark | metric | ours | baseline | ratio | unit | note |",
        "| --- | --- | ---: | ---: | ---: | --- | --- |",
    ]
    for r in rows:
        ratio = f"{r.ratio:,.1f}×" if r.ratio is not None else "—"
        lines.append(f"| {r.benchmark} | {r.metric} | {_fmt(r.ours)} | {_fmt(r.baseline)} | {ratio} | {r.unit} | {r.note} |")
    if not selected:
        (BENCH_DIR / "README.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
