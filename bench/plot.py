"""bench/results.png: ours against the baseline for every result with one, log scale, both views.

Built from every ``bench/results/*.json`` (whichever benchmarks wrote them); ``python -m bench.plot``
redraws it without re-running anything.
"""
from __future__ import annotations

import json
import textwrap
from pathlib import Path

from bench.common import is_modelled

BENCH_DIR = Path(__file__).resolve().parent


def _rows(results: Path) -> dict[str, list[dict]]:
    by_benchmark: dict[str, list[dict]] = {}
    for path in sorted(results.glob("*.json")):
        for row in json.loads(path.read_text())["rows"]:
            if row.get("baseline") and row.get("ours"):
                by_benchmark.setdefault(row["benchmark"], []).append(row)
    return by_benchmark


def draw(results: Path = BENCH_DIR / "results", out: Path = BENCH_DIR / "results.png") -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    groups = _rows(results)
    heights = [max(len(rows), 1) * 0.55 + 0.9 for rows in groups.values()]
    fig, axes = plt.subplots(len(groups), 1, figsize=(12, sum(heights)), squeeze=False,
                             gridspec_kw={"height_ratios": heights})
    colors = {False: ("#1f77b4", "#aec7e8"), True: ("#d62728", "#ff9896")}  # (ours, baseline) per view
    for ax, (benchmark, rows) in zip(axes[:, 0], groups.items()):
        labels = []
        for i, row in enumerate(rows):
            ours, base = colors[is_modelled(row["metric"])]
            y = len(rows) - 1 - i
            ax.barh(y + 0.2, row["ours"], height=0.38, color=ours)
            ax.barh(y - 0.2, row["baseline"], height=0.38, color=base)
            better = "higher" if row.get("higher_is_better", True) else "lower"
            ratio = row["ours"] / row["baseline"] if better == "higher" else row["baseline"] / row["ours"]
            verdict = f"{ratio:,.1f}× better" if ratio >= 1 else f"{1 / ratio:,.1f}× worse"
            ax.text(max(row["ours"], row["baseline"]) * 1.15, y, verdict, va="center", fontsize=8)
            labels.append((y, "\n".join(textwrap.wrap(f"{row['metric']} [{row['unit']}, {better} is better]", 60))))
        ax.set_xscale("log")
        ax.set_yticks([y for y, _ in labels], [text for _, text in labels], fontsize=8)
        ax.set_title(benchmark, fontsize=10, loc="left", fontweight="bold")
        lo = min(min(r["ours"], r["baseline"]) for r in rows)
        hi = max(max(r["ours"], r["baseline"]) for r in rows)
        ax.set_xlim(lo / 3, hi * 30)
        ax.grid(axis="x", which="major", alpha=0.3)
    handles = [plt.Rectangle((0, 0), 1, 1, color=c) for c in (*colors[False], *colors[True])]
    fig.legend(handles, ["ours (emulator)", "baseline (emulator)", "ours (modelled: RTT table)",
                         "baseline (modelled: RTT table)"], loc="upper center", ncol=4, fontsize=9)
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.5 / sum(heights)))
    fig.savefig(out, dpi=90)
    plt.close(fig)
    return out


if __name__ == "__main__":
    print(draw())
