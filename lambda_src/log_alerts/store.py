"""DynamoDB batch calls within their limits, retrying what the service leaves unprocessed.

``BatchGetItem`` takes at most 100 keys, ``BatchWriteItem`` at most 25 requests per call. Both may
return part of the work as ``UnprocessedKeys`` / ``UnprocessedItems`` (throttling); that part is
re-sent with exponential backoff and full jitter (:func:`logship.retry.retry_pending`), and raised
as :class:`StoreError` if it never goes through — never dropped. A whole call that fails (throttling,
5xx) is retried by botocore (the client's standard retry mode).
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator, Sequence, TypeVar

from logship.retry import Backoff, retry_pending

MAX_GET_KEYS = 100
MAX_WRITE_ITEMS = 25
# Re-sending unprocessed keys and items: 6 calls per chunk, full jitter from 0.05 s, at most 2 s apart.
BATCH_BACKOFF = Backoff(max_attempts=6, base_s=0.05, max_s=2.0)
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


def get_items(client: Any, table: str, ids: Iterable[str], *, key: str = "log_id", attributes: Sequence[str] = (),
              stats: StoreStats | None = None, backoff: Backoff = BATCH_BACKOFF,
              sleep: Callable[[float], None] = time.sleep) -> dict[str, dict[str, Any]]:
    """The stored items of ``ids`` (consistent reads), keyed by id; absent ids are absent."""
    stats = stats or StoreStats()
    found: dict[str, dict[str, Any]] = {}
    projection: dict[str, Any] = {}
    if attributes:
        projection["ProjectionExpression"] = ", ".join(f"#a{i}" for i in range(len(attributes)))
        projection["ExpressionAttributeNames"] = {f"#a{i}": name for i, name in enumerate(attributes)}

    def send(keys: list[dict[str, Any]]) -> list[dict[str, Any]]:
        stats.get_calls += 1
        response = client.batch_get_item(RequestItems={table: {"Keys": keys, "ConsistentRead": True, **projection}})
        for item in response.get("Responses", {}).get(table, []):
            found[item[key]["S"]] = item
        return (response.get("UnprocessedKeys") or {}).get(table, {}).get("Keys", [])

    for chunk in chunks(list(dict.fromkeys(ids)), MAX_GET_KEYS):
        left, calls = retry_pending(send, [{key: {"S": value}} for value in chunk], backoff, sleep=sleep)
        if left:
            raise StoreError(f"BatchGetItem left {len(left)} key(s) unprocessed after {calls} attempts")
    return found


def put_items(client: Any, table: str, items: Sequence[dict[str, Any]], *, stats: StoreStats | None = None,
              backoff: Backoff = BATCH_BACKOFF, sleep: Callable[[float], None] = time.sleep) -> int:
    """Write ``items`` in chunks of 25; return how many were written (all of them, or it raises)."""
    stats = stats or StoreStats()

    def send(requests: list[dict[str, Any]]) -> list[dict[str, Any]]:
        stats.write_calls += 1
        response = client.batch_write_item(RequestItems={table: requests})
        return (response.get("UnprocessedItems") or {}).get(table, [])

    written = 0
    for chunk in chunks(items, MAX_WRITE_ITEMS):
        left, calls = retry_pending(send, [{"PutRequest": {"Item": item}} for item in chunk], backoff, sleep=sleep)
        written += len(chunk) - len(left)
        if left:
            raise StoreError(f"BatchWriteItem left {len(left)} item(s) unprocessed after {calls} attempts")
    return written
