"""DynamoDB batch calls within their limits, retrying what the service leaves unprocessed.

``BatchGetItem`` takes at most 100 keys, ``BatchWriteItem`` at most 25 requests per call. Both may
return part of the work as ``UnprocessedKeys`` / ``UnprocessedItems`` (throttling); that part is
re-sent with exponential backoff and full jitter, and raised as :class:`StoreError` if it never
goes through — never dropped.
"""
from __future__ import annotations

import random
import time
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator, Sequence, TypeVar

MAX_GET_KEYS = 100
MAX_WRITE_ITEMS = 25
T = TypeVar("T")


class StoreError(RuntimeError):
    pass


@dataclass
class StoreStats:
    get_calls: int = 0
    write_calls: int = 0


def chunks(values: Sequence[T], size: int) -> Iterator[list[T]]:
    for start in range(0, len(values), size):
        yield list(values[start:start + size])


def _backoff(attempt: int, base_s: float, max_s: float) -> float:
    return random.uniform(0, min(max_s, base_s * 2**attempt))


def get_items(client: Any, table: str, ids: Iterable[str], *, key: str = "log_id", attributes: Sequence[str] = (),
              stats: StoreStats | None = None, max_attempts: int = 6, base_s: float = 0.05, max_s: float = 2.0,
              sleep: Callable[[float], None] = time.sleep) -> dict[str, dict[str, Any]]:
    """The stored items of ``ids`` (consistent reads), keyed by id; absent ids are absent."""
    stats = stats or StoreStats()
    found: dict[str, dict[str, Any]] = {}
    unique = list(dict.fromkeys(ids))
    for chunk in chunks(unique, MAX_GET_KEYS):
        request: dict[str, Any] = {"Keys": [{key: {"S": value}} for value in chunk], "ConsistentRead": True}
        if attributes:
            request["ProjectionExpression"] = ", ".join(f"#a{i}" for i in range(len(attributes)))
            request["ExpressionAttributeNames"] = {f"#a{i}": name for i, name in enumerate(attributes)}
        pending: dict[str, Any] = {table: request}
        for attempt in range(max_attempts):
            if attempt:
                sleep(_backoff(attempt, base_s, max_s))
            stats.get_calls += 1
            response = client.batch_get_item(RequestItems=pending)
            for item in response.get("Responses", {}).get(table, []):
                found[item[key]["S"]] = item
            pending = response.get("UnprocessedKeys") or {}
            if not pending:
                break
        if pending:
            raise StoreError(f"BatchGetItem left {len(pending[table]['Keys'])} key(s) unprocessed "
                             f"after {max_attempts} attempts")
    return found


def put_items(client: Any, table: str, items: Sequence[dict[str, Any]], *, stats: StoreStats | None = None,
              max_attempts: int = 6, base_s: float = 0.05, max_s: float = 2.0,
              sleep: Callable[[float], None] = time.sleep) -> int:
    """Write ``items`` in chunks of 25; return how many were written (all of them, or it raises)."""
    stats = stats or StoreStats()
    written = 0
    for chunk in chunks(items, MAX_WRITE_ITEMS):
        pending = [{"PutRequest": {"Item": item}} for item in chunk]
        for attempt in range(max_attempts):
            if attempt:
                sleep(_backoff(attempt, base_s, max_s))
            stats.write_calls += 1
            response = client.batch_write_item(RequestItems={table: pending})
            left = (response.get("UnprocessedItems") or {}).get(table, [])
            written += len(pending) - len(left)
            pending = left
            if not pending:
                break
        if pending:
            raise StoreError(f"BatchWriteItem left {len(pending)} item(s) unprocessed after {max_attempts} attempts")
    return written
