"""What every benchmark shares: the result row, the machine description, and the emulator."""
from __future__ import annotations

import os
import platform
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

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
