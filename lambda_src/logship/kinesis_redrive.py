"""Deprecated: ``python -m logship.kinesis_redrive`` runs ``logops redrive`` (distribution ``serverless-logging-ops``).

Kept for one minor version; without logops installed it prints the install command and exits 2.
"""
from __future__ import annotations

import sys
from typing import Optional, Sequence

from ._moved import run_moved


def main(argv: Optional[Sequence[str]] = None) -> int:
    return run_moved("logship.kinesis_redrive", "redrive", argv)


if __name__ == "__main__":
    sys.exit(main())
