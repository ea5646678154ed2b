"""The lines a subcommand prints: one per hop, with its time, and one failure that says what to check.

::

      ok  platform   0.12s  shipper log-shipper (bulk) -> index app-logs* on https://search-...
    FAIL  index     60.00s  no document with 6f1c... in app-logs* after 60 s
    smoke FAILED at hop 'index': no document ...
      likely cause: ...
"""
from __future__ import annotations

import time
from contextlib import contextmanager
from typing import Callable, Iterator, TextIO

HOP_WIDTH = 10


class HopFailure(Exception):
    """A hop that did not pass: ``hop`` names it, the message says what happened, ``cause`` what to check."""

    def __init__(self, hop: str, message: str, cause: str) -> None:
        super().__init__(message)
        self.hop = hop
        self.message = message
        self.cause = cause


class Hops:
    """Prints each hop as it ends: ``ok``/``FAIL``, its name, the seconds it took, what it found."""

    def __init__(self, out: TextIO, clock: Callable[[], float] = time.monotonic) -> None:
        self.out = out
        self.clock = clock
        self.started = clock()

    def line(self, status: str, hop: str, seconds: float, detail: str) -> None:
        print(f"{status:>6}  {hop:<{HOP_WIDTH}} {seconds:6.2f}s  {detail}", file=self.out, flush=True)

    @contextmanager
    def hop(self, name: str) -> Iterator[list[str]]:
        """``with hops.hop("index") as found: ... found.append("what it found")``; a :class:`HopFailure`
        raised inside is printed as the hop's ``FAIL`` line and raised on."""
        start = self.clock()
        found: list[str] = []
        try:
            yield found
        except HopFailure as failure:
            self.line("FAIL", name, self.clock() - start, failure.message)
            raise
        self.line("ok", name, self.clock() - start, "; ".join(found))

    def passed(self, what: str) -> None:
        print(f"{what} passed in {self.clock() - self.started:.2f}s", file=self.out, flush=True)

    def failed(self, what: str, failure: HopFailure) -> None:
        print(f"{what} FAILED at hop '{failure.hop}' after {self.clock() - self.started:.2f}s: {failure.message}",
              file=self.out, flush=True)
        print(f"  likely cause: {failure.cause}", file=self.out, flush=True)
