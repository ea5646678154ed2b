"""What every benchmark shares: the result row, the machine description, the emulator, the two views."""
from __future__ import annotations

import contextlib
import os
import platform
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Optional

ROOT = Path(__file__).resolve().parents[1]
for path in (str(ROOT), str(ROOT / "lambda_src")):
    if path not in sys.path:
        sys.path.insert(0, path)


@dataclass
class Row:
    """One measured result next to the baseline measured in the same run."""

    benchmark: str
    metric: str
    ours: float
    baseline: Optional[float]
    unit: str
    higher_is_better: bool = True
    note: str = ""

    @property
    def ratio(self) -> Optional[float]:
        if self.baseline in (None, 0) or self.ours == 0:
            return None
        return self.ours / self.baseline if self.higher_is_better else self.baseline / self.ours


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    return f"{platform.system()} {platform.machine()} ({cpu}), {os.cpu_count()} cores, Python {platform.python_version()}"


def emulator():
    """Start moto's server and the fault proxy (the same ones the tests use)."""
    from tests.support.emulator import start_emulator

    return start_emulator()


def quick() -> bool:
    """``python -m bench --quick``: smaller sizes (each benchmark states its sizes in its rows)."""
    return os.environ.get("BENCH_QUICK") == "1"


# Every benchmark reports each result twice, measured in the same run: against the emulator as it is,
# and with the latency model of bench/latency.py (a round trip per call). The picture and the
# cost model tell the views apart by these suffixes.
EMULATOR_VIEW = "(emulator)"
MODELLED_VIEW = "(modelled: RTT table)"
VIEWS = (EMULATOR_VIEW, MODELLED_VIEW)


def is_modelled(metric: str) -> bool:
    return "modelled" in metric.lower()


@contextlib.contextmanager
def view(name: str, emu: Any, hook: Any = None) -> Iterator[str]:
    """Turn the latency model on (``MODELLED_VIEW``) or off for the proxy and the webhook server."""
    from bench.latency import ROUND_TRIP_MS, round_trip_seconds

    on = name == MODELLED_VIEW
    emu.proxy.model_latency({s: ms / 1000.0 for s, ms in ROUND_TRIP_MS.items()} if on else None)
    if hook is not None:
        hook.delay_s = round_trip_seconds("slack") if on else 0.0
    try:
        yield name
    finally:
        emu.proxy.model_latency(None)
        if hook is not None:
            hook.delay_s = 0.0
