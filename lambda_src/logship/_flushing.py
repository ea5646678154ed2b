"""Flush logship handlers when a block or a function ends, e.g. at the end of each Lambda invocation.

Lambda may freeze the execution environment as soon as the handler returns, with records still in
the queue; they would be sent only at the next invocation, or never::

    from logship import FirehoseHandler, flushing

    ship = FirehoseHandler("app-logs")
    logging.getLogger().addHandler(ship)

    @flushing(ship)                 # or @flushing() for every live logship handler
    def handler(event, context):
        ...

    with flushing(ship):            # the same as a context manager
        ...

The flush runs when the function returns and when it raises (the exception then propagates);
each handler waits at most its ``flush_timeout_seconds``.
"""
from __future__ import annotations

import contextlib
from typing import Any

from . import _background


class flushing(contextlib.ContextDecorator):  # noqa: N801 - used as a decorator, named like one
    """Flush ``handlers`` (default: every logship handler alive at exit) on leaving the block."""

    def __init__(self, *handlers: Any) -> None:
        self.handlers = handlers

    def __enter__(self) -> "flushing":
        return self

    def __exit__(self, *exc: Any) -> None:
        targets = self.handlers or tuple(_background._LIVE_HANDLERS)
        _background.flush_all(targets)
