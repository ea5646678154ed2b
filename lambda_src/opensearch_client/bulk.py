"""Writing JSON documents to OpenSearch with ``_bulk``: bounded requests, ids, retries, one outcome per document.

Pure apart from the transport it is given: anything with ``send(method, path, body, headers)``
returning ``.status`` and ``.body`` (:class:`opensearch_client.signed_http.SignedClient`, signing for ``es``
on a domain or ``aoss`` on an OpenSearch Serverless collection). The log shipper and
``logops replay`` use it; so can any other sink that takes ``_bulk``.

The id policy is the :class:`BulkTarget`'s:

* ``ids=True`` (a domain): each document is written with ``create`` and ``_id`` = its key (the
  CloudWatch Logs event id). A retry or a replay of the same document answers 409
  (``version_conflict_engine_exception``), which counts as delivered (a *duplicate skipped*): the
  same event never makes a second document.
* ``ids=False`` (a collection that assigns ids itself, e.g. a serverless time-series collection):
  ``index`` without ``_id``; delivery stays at least once, every document needs ``@timestamp``.

The index is ``index`` plus the rotation suffix of the document's own ``@timestamp`` (Firehose's
suffix formats; Firehose uses the arrival time): the same event lands in the same index on every
retry and replay, which is what makes the id unique where it must be.

Outcomes, per document:

* delivered: 200/201; duplicate: 409 on ``create``;
* retried, with backoff (``Backoff``, full jitter), while attempts and time are left: a whole request
  answered 429 or 5xx, a connection error or timeout (a connection that hangs), items answered 429
  or 5xx, an answer whose items cannot be matched to the documents;
* refused: any other item status (400 ``mapper_parsing_exception``, ``illegal_argument_exception``,
  ...), with ``type: reason``: the content is the problem, retrying cannot help;
* failed: still retryable when the attempts or the time ran out, or the whole request refused
  (401, 403, 404, ...: a permission or configuration problem, retried by the caller later);
* late: never sent because ``short()`` said time was up before the first attempt, or sent in a
  request that had no answer (a timeout, a dropped connection) when time was up: its outcome is
  unknown and there is no time to learn it (sending it again is safe with ``create`` and ids).

Time: with ``budget_s`` (how long the requests of this write may go on, e.g. the invocation's time
left minus what the caller keeps back; read once, at the first request), every request is bounded as a
whole, not only per socket operation: the transport gets ``deadline`` = the end of the budget (checked
between reads) and ``timeout`` = a third of what is left of it (connect, send, answer: each at most
that, and at most the transport's own timeout). A request that would start with nothing left is not sent.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import date
from http.client import HTTPException
from json.encoder import encode_basestring
from typing import Any, Callable, Iterable, Iterator, Optional, Sequence

from logship.retry import Backoff

# A few MiB per request: large enough that a 1,000-event payload is one call, small enough for
# every instance type's http.max_content_length (100 MiB) and a quick retry.
DEFAULT_MAX_REQUEST_BYTES = 5 * 1024 * 1024
BULK_PATH = "/_bulk"
CONTENT_TYPE = "application/x-ndjson"
RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})
BULK_MAX_ATTEMPTS = 6
BULK_BACKOFF = Backoff(max_attempts=BULK_MAX_ATTEMPTS, base_s=0.2, max_s=5.0)
ROTATIONS = ("none", "hour", "day", "week", "month")
MAX_REASON_CHARS = 500


def _never_short() -> bool:
    return False


def _no_clock() -> Optional[float]:
    return None


@dataclass(frozen=True)
class BulkTarget:
    """Where documents go and how they are identified (see the module docstring).

    :param index: the index name, or its prefix when rotated.
    :param rotation: one of :data:`ROTATIONS`: the suffix from the document's ``@timestamp``.
    :param ids: write ``_id`` = the document's key with ``create`` (True), or let the service assign ids.
    """

    index: str
    rotation: str = "none"
    ids: bool = True

    def __post_init__(self) -> None:
        if self.rotation not in ROTATIONS:
            raise ValueError(f"rotation must be one of {', '.join(ROTATIONS)}, got {self.rotation!r}")
        if not self.index or self.index != self.index.lower() or any(c in self.index for c in ' "*\\<|,>/?#:'):
            raise ValueError(f"index {self.index!r} is not a valid OpenSearch index name (lower case, "
                             "no spaces and none of \" * \\ < | , > / ? # :)")

    @property
    def operation(self) -> str:
        return "create" if self.ids else "index"

    def index_for(self, timestamp: str) -> str:
        """``<index>`` plus Firehose's suffix for ``timestamp`` (``2026-11-22T01:43:58.123Z``)."""
        if self.rotation == "none":
            return self.index
        if self.rotation == "hour":
            return f"{self.index}-{timestamp[:10]}-{timestamp[11:13]}"
        if self.rotation == "day":
            return f"{self.index}-{timestamp[:10]}"
        if self.rotation == "month":
            return f"{self.index}-{timestamp[:7]}"
        year, week, _ = date.fromisoformat(timestamp[:10]).isocalendar()
        return f"{self.index}-{year}-w{week:02d}"

    def action_line(self, key: str, timestamp: str) -> bytes:
        index = encode_basestring(self.index_for(timestamp))
        if self.ids:
            return f'{{"{self.operation}":{{"_index":{index},"_id":{encode_basestring(key)}}}}}\n'.encode()
        return f'{{"{self.operation}":{{"_index":{index}}}}}\n'.encode()


@dataclass(frozen=True)
class Document:
    """One document: ``key`` (its ``_id`` with ids; the caller's handle either way), the JSON
    ``source`` as one line ending in a newline, and its ``@timestamp`` text (for the index)."""

    key: str
    source: bytes
    timestamp: str


@dataclass
class BulkResult:
    """What happened to each document of one :meth:`BulkWriter.write` (keys in input order)."""

    delivered: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)  # (key, "type: reason")
    failed: list[str] = field(default_factory=list)
    late: list[str] = field(default_factory=list)
    requests: int = 0
    retried: int = 0  # documents sent again
    errors: list[str] = field(default_factory=list)

    @property
    def done(self) -> list[str]:
        """Keys that need nothing more: delivered, duplicates and refused ones."""
        return self.delivered + self.duplicates + [key for key, _ in self.refused]


def _reason(error: Any, status: int) -> str:
    if isinstance(error, dict):
        text = f"{error.get('type', 'error')}: {error.get('reason', '')}".strip()
        cause = error.get("caused_by")
        if isinstance(cause, dict) and cause.get("reason"):
            text += f" (caused by {cause.get('type', 'error')}: {cause['reason']})"
    else:
        text = str(error) if error else f"HTTP {status}"
    return text[:MAX_REASON_CHARS]


def _excerpt(body: bytes) -> str:
    return body[:200].decode("utf-8", "replace").strip()


class BulkWriter:
    """Sends documents to ``target`` through ``client`` in requests of at most ``max_request_bytes``.

    A document larger than the bound on its own goes in a request of its own.
    """

    def __init__(self, client: Any, target: BulkTarget, *, max_request_bytes: int = DEFAULT_MAX_REQUEST_BYTES,
                 backoff: Backoff = BULK_BACKOFF, sleep: Callable[[float], None] = time.sleep,
                 path: str = BULK_PATH) -> None:
        if max_request_bytes < 1:
            raise ValueError(f"max_request_bytes must be positive, got {max_request_bytes:,}")
        self.client = client
        self.target = target
        self.max_request_bytes = max_request_bytes
        self.backoff = backoff
        self._sleep = sleep
        self.path = path

    def _lines(self, document: Document) -> tuple[bytes, bytes]:
        source = document.source if document.source.endswith(b"\n") else document.source + b"\n"
        return self.target.action_line(document.key, document.timestamp), source

    def _body(self, documents: Sequence[Document]) -> bytes:
        return b"".join(line for document in documents for line in self._lines(document))

    def requests_for(self, documents: Sequence[Document]) -> Iterator[tuple[list[Document], bytes]]:
        """The documents grouped, in order, into request bodies within the byte bound."""
        group: list[Document] = []
        parts: list[bytes] = []
        size = 0
        for document in documents:
            action, source = self._lines(document)
            grows = len(action) + len(source)
            if group and size + grows > self.max_request_bytes:
                yield group, b"".join(parts)
                group, parts, size = [], [], 0
            group.append(document)
            parts += (action, source)
            size += grows
        if group:
            yield group, b"".join(parts)

    def write(self, documents: Iterable[Document], *, short: Callable[[], bool] = _never_short,
              budget_s: Callable[[], Optional[float]] = _no_clock) -> BulkResult:
        """Deliver ``documents``; ``short()`` is asked before every request (True: no time for one), and
        ``budget_s()`` bounds each request as a whole (None: no clock, the transport's timeout only)."""
        result = BulkResult()
        pending = list(documents)
        sent: set[str] = set()
        unanswered: set[str] = set()  # keys whose last request ended without an answer
        clock = _Budget(budget_s)
        for attempt in range(1, self.backoff.max_attempts + 1):
            if not pending:
                break
            if attempt > 1:
                if short():
                    break
                self._sleep(self.backoff.delay(attempt - 1))
            retry: list[Document] = []
            broken = False
            for group, body in self.requests_for(pending):
                if broken or short() or clock.spent():
                    retry += group
                    continue
                again = sum(1 for d in group if d.key in sent)
                result.retried += again
                sent.update(d.key for d in group)
                result.requests += 1
                cut: set[str] = set()
                status_retry, broken = self._request(group, body, result, clock, cut)
                unanswered = (unanswered - {d.key for d in group}) | cut
                retry += status_retry
            pending = retry
            if broken:
                break
        out_of_time = clock.spent() or short()
        for document in pending:
            cut = out_of_time and document.key in unanswered
            (result.failed if document.key in sent and not cut else result.late).append(document.key)
        return result

    def _send(self, body: bytes, clock: "_Budget") -> Any:
        if clock.end is None:
            return self.client.send("POST", self.path, body, {"Content-Type": CONTENT_TYPE})
        return self.client.send("POST", self.path, body, {"Content-Type": CONTENT_TYPE},
                                timeout=clock.left() / 3, deadline=clock.end)

    def _request(self, group: list[Document], body: bytes, result: BulkResult,
                 clock: "_Budget", cut: set[str]) -> tuple[list[Document], bool]:
        """Send one request; returns the documents to retry and whether the target refuses requests, and
        adds to ``cut`` the keys of a request that ended without an answer."""
        try:
            response = self._send(body, clock)
        except (OSError, HTTPException) as error:  # refused, reset, timed out (a hang), TLS, past the deadline
            result.errors.append(f"connection error {type(error).__name__}: {error}")
            cut.update(d.key for d in group)
            return group, False
        status = response.status
        if status in RETRYABLE_STATUSES:
            result.errors.append(f"HTTP {status}: {_excerpt(response.body)}")
            return group, False
        if status == 413 and len(group) > 1:  # larger than the domain accepts: halve it
            halves = [group[:len(group) // 2], group[len(group) // 2:]]
            retry: list[Document] = []
            for number, half in enumerate(halves):
                result.requests += 1
                more, broken = self._request(half, self._body(half), result, clock, cut)
                retry += more
                if broken:
                    return retry + [d for rest in halves[number + 1:] for d in rest], True
            return retry, False
        if status == 413:
            result.refused.append((group[0].key, f"request_entity_too_large: HTTP 413 for a single document "
                                                 f"of {len(group[0].source):,} bytes"))
            return [], False
        if status != 200:
            result.errors.append(f"HTTP {status}: {_excerpt(response.body)}")
            return group, True
        try:
            answer = json.loads(response.body)
            items = answer["items"]
        except (ValueError, KeyError, TypeError):
            result.errors.append(f"HTTP 200 with an answer that is not a bulk response: {_excerpt(response.body)}")
            return group, False
        if not isinstance(items, list) or len(items) != len(group):
            result.errors.append(f"{len(items) if isinstance(items, list) else 'no'} items for {len(group)} documents")
            return group, False
        if answer.get("errors") is False:
            result.delivered += [d.key for d in group]
            return [], False
        retry = []
        operation = self.target.operation
        for document, item in zip(group, items):
            outcome = item.get(operation) if isinstance(item, dict) else None
            if not isinstance(outcome, dict):
                outcome = next(iter(item.values()), {}) if isinstance(item, dict) and item else {}
            code = outcome.get("status")
            if isinstance(code, int) and 200 <= code < 300:
                result.delivered.append(document.key)
            elif code == 409 and self.target.ids:
                result.duplicates.append(document.key)
            elif code in RETRYABLE_STATUSES or not isinstance(code, int):
                retry.append(document)
                result.errors.append(f"item HTTP {code}: {_reason(outcome.get('error'), code or 0)}")
            else:
                result.refused.append((document.key, _reason(outcome.get("error"), code)))
        return retry, False


class _Budget:
    """The end (``time.monotonic()``) of a write's time, read from ``budget_s()`` at its first request."""

    def __init__(self, budget_s: Callable[[], Optional[float]]) -> None:
        self._budget_s = budget_s
        self._read = False
        self.end: Optional[float] = None

    def left(self) -> float:
        if not self._read:
            self._read = True
            seconds = self._budget_s()
            self.end = None if seconds is None else time.monotonic() + seconds
        return float("inf") if self.end is None else self.end - time.monotonic()

    def spent(self) -> bool:
        """True when the budget is used up (never without a clock)."""
        return self.left() <= 0


def signed_bulk_writer(endpoint: str, region: str, target: BulkTarget, *, credentials: Callable[[], Any],
                       service: str = "es", max_request_bytes: int = DEFAULT_MAX_REQUEST_BYTES,
                       timeout: float = 10.0, backoff: Optional[Backoff] = None) -> BulkWriter:
    """A :class:`BulkWriter` over a :class:`~opensearch_client.signed_http.SignedClient` (needs botocore)."""
    from .signed_http import SignedClient

    client = SignedClient(endpoint, region, credentials, timeout=timeout, service=service)
    return BulkWriter(client, target, max_request_bytes=max_request_bytes, backoff=backoff or BULK_BACKOFF)
