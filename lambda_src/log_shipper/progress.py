"""What a failed invocation already did, kept per payload for Lambda's retry in the same execution environment.

The shipper takes a payload's :class:`Progress` before delivering it and keeps it again when the
invocation fails, so the retry sends only the rest (see :mod:`log_shipper.delivery`).
"""
from __future__ import annotations

import hashlib
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Mapping

# A Kinesis batch is up to 10,000 records; what its failed invocation did must outlive it.
REMEMBERED_PAYLOADS = 1024


@dataclass
class Progress:
    """What a failed invocation already did, for Lambda's retry of the same payload."""

    delivered: set[str] = field(default_factory=set)  # Firehose records, or documents done on the domain
    archived: set[str] = field(default_factory=set)  # bulk mode: documents in the archive
    dead_lettered: bool = False
    complete: bool = False  # every event done (a record of a Kinesis batch that Lambda retries)

    @property
    def retried(self) -> bool:
        return bool(self.delivered or self.archived or self.dead_lettered or self.complete)


class ProgressCache:
    """The progress of the last ``size`` payloads whose invocation failed (oldest forgotten first)."""

    def __init__(self, size: int = REMEMBERED_PAYLOADS) -> None:
        self.size = size
        self._entries: "OrderedDict[str, Progress]" = OrderedDict()

    @staticmethod
    def key(event: Mapping[str, Any]) -> str:
        return hashlib.sha256(event["awslogs"]["data"].encode("utf-8", "surrogatepass")).hexdigest()

    def take(self, key: str) -> Progress:
        return self._entries.pop(key, None) or Progress()

    def keep(self, key: str, progress: Progress) -> None:
        self._entries[key] = progress
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)

    def clear(self) -> None:
        self._entries.clear()
