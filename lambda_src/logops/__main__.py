"""``python -m logops <subcommand> [options]``: one entry point, one module per subcommand.

A subcommand module has ``HELP`` (one line), ``add_arguments(parser)`` and ``run(args) -> int`` (the
exit status).
"""
from __future__ import annotations

import argparse
import importlib
import sys
from typing import Optional, Sequence

# subcommand -> module (relative to this package)
SUBCOMMANDS = {"smoke": ".smoke", "replay": ".replay", "redrive": ".redrive"}


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="python -m logops",
                                  description="Operators' tools for the log_constructs logging platform.")
    commands = top.add_subparsers(dest="command", metavar="SUBCOMMAND", required=True)
    for name, module_name in SUBCOMMANDS.items():
        module = importlib.import_module(module_name, __package__)
        sub = commands.add_parser(name, help=module.HELP, description=module.__doc__,
                                  formatter_class=argparse.RawDescriptionHelpFormatter)
        module.add_arguments(sub)
        sub.set_defaults(run=module.run)
    return top


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parser().parse_args(argv)
    return int(args.run(args))


if __name__ == "__main__":
    sys.exit(main())
