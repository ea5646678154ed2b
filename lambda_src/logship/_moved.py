"""The deprecated command lines that moved to the operators' distribution: run them there, or say how to get it."""
from __future__ import annotations

import importlib
import sys
from typing import Optional, Sequence

OPS_DISTRIBUTION = "serverless-logging-ops"
INSTALL_COMMAND = f"pip install {OPS_DISTRIBUTION}"
REMOVED_IN = "0.4.0"


def run_moved(old: str, subcommand: str, argv: Optional[Sequence[str]] = None) -> int:
    """Run ``logops <subcommand>`` for the deprecated ``python -m <old>``; exit status 2 without logops."""
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        dispatcher = importlib.import_module("logops.__main__")
    except ModuleNotFoundError as error:
        if error.name not in ("logops", "logops.__main__"):
            raise
        print(f"python -m {old} has moved to `logops {subcommand}`, in the operators' distribution "
              f"{OPS_DISTRIBUTION}, which is not installed: {INSTALL_COMMAND}", file=sys.stderr)
        return 2
    print(f"DeprecationWarning: python -m {old} is deprecated and is removed in {REMOVED_IN}; "
          f"use `logops {subcommand}` ({OPS_DISTRIBUTION})", file=sys.stderr, flush=True)
    return int(dispatcher.main([subcommand, *args]))
