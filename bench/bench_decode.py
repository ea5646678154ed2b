"""Log shipper decode + transform against the decode floor, in the same run, on the same payloads.

* floor: the least any pure-Python shipper must do per payload: base64 → gunzip → ``json.loads`` →
  one ``json.dumps`` document per event with the same metadata fields (``@timestamp``, ``message``,
  ``log_group``, ``log_stream``, ``account``, ``id``), encoded as a newline-terminated UTF-8 record.
  Its ``@timestamp`` is the event's epoch milliseconds as they come (no formatting at all).
* ours: what the handler runs up to the Firehose records, without I/O:
  ``decode_payload(strict_utf8=False)`` (strict base64, gunzip, payload checks, Powertools' envelope) and
  ``to_records`` (ISO timestamps, levels, JSON fields, key sanitizing, UTF-8 repair, truncation).

The payloads are a realistic mix (see :func:`message`): Lambda's text format (Node.js/Java/.NET),
the Python runtime's text format, Powertools JSON lines, Lambda's JSON log format, platform lines
(START/END/REPORT), Python logging defaults, bytes that are not UTF-8, and large messages (64 KiB,
and one over a Firehose record per payload, which gets truncated).

The machine is shared and its speed drifts within seconds: the three contenders run payload by
payload, one after the other in an order that turns with each payload and round, so that each
payload is measured by all three at the same speed; a rate is events over the time a contender took
in all rounds, and each ratio is taken from those totals (the per-round ratios give the spread).
"""
from __future__ import annotations

import base64
import gc
import gzip
import json
import os
import statistics
import time
import zlib

from bench.common import Row

PAYLOADS = 10
EVENTS_PER_PAYLOAD = 1_000
ROUNDS = 30
ACCOUNT = "123456789012"
BASE_MS = 1_795_311_838_000
LARGE_BYTES = 64 * 1024
HUGE_BYTES = 1_100_000  # over Firehose's 1,000 KiB record: truncated and flagged


def message(i: int) -> str:
    """The ``i``-th message of the mix (by share of events: text 60%, JSON 35%, non-UTF-8 and large ~1% each)."""
    request = f"7d5c8a4e-1f2b-4c3d-9e8f-{i:012d}"
    at = f"2026-11-22T01:45:{i % 60:02d}.{i % 1000:03d}Z"
    kind = i % 20
    if i % 4999 == 2500:
        return f"[ERROR] {'payload dump ' * (HUGE_BYTES // 13)}\n"
    if i % 499 == 250:
        return json.dumps({"level": "DEBUG", "message": "response body", "body": "z" * LARGE_BYTES}) + "\n"
    if i % 89 == 7:  # latin-1 bytes in a UTF-8 stream: repaired to U+FFFD, kept in message_base64
        return f"{at}\t{request}\tWARN\tcaf\udce9 cr\udce8me user=u-{i}\n"
    if kind < 5:  # Lambda text format (Node.js, Java, .NET)
        level = ("INFO", "INFO", "WARN", "ERROR", "DEBUG")[kind]
        return f"{at}\t{request}\t{level}\tcart loaded items={i % 9} user=u-{i} took {i % 300} ms\n"
    if kind == 5:  # Node's console.log of an object in the text format
        return f'{at}\t{request}\tINFO\t{{"message":"order placed","order_id":"o-{i}","amount":{i % 97}.5}}\n'
    if kind < 9:  # Python runtime text format
        level = ("INFO", "WARNING", "ERROR")[kind - 6]
        return f"[{level}]\t{at}\t{request}\tpayment provider answered {i % 500} in {i % 30} s\n"
    if kind < 15:  # Powertools Logger
        return json.dumps({"level": ("INFO", "WARNING", "ERROR")[i % 3], "location": "handler:18",
                           "message": "order accepted", "timestamp": "2026-11-22 01:46:40,100+0000",
                           "service": "payments", "cold_start": False, "function_name": "payments",
                           "function_memory_size": "256", "function_request_id": request,
                           "order_id": f"o-{i}", "items": i % 5, "xray_trace_id": f"1-673fe1a0-{i:024x}"}) + "\n"
    if kind == 15:  # Lambda's JSON log format, platform record
        return json.dumps({"time": at, "type": "platform.report", "record": {
            "requestId": request, "metrics": {"durationMs": 31.2, "billedDurationMs": 32, "memorySizeMB": 256,
                                              "maxMemoryUsedMB": 70}, "status": "success"}})
    if kind == 16:
        return f"START RequestId: {request} Version: $LATEST\n"
    if kind == 17:
        return f"END RequestId: {request}\n"
    if kind == 18:
        return (f"REPORT RequestId: {request}\tDuration: {i % 90}.12 ms\tBilled Duration: 85 ms\t"
                f"Memory Size: 256 MB\tMax Memory Used: 71 MB\t\n")
    return f"INFO:payments.charge:charged order o-{i} amount={i % 97}.5 EUR"


def payloads() -> list[dict]:
    """Subscription payloads as CloudWatch Logs sends them (message bytes need not be UTF-8)."""
    out = []
    for p in range(PAYLOADS):
        events = [{"id": f"{36_000_000_000_000_000_000 + i}", "timestamp": BASE_MS + i // 3, "message": message(i)}
                  for i in range(p * EVENTS_PER_PAYLOAD, (p + 1) * EVENTS_PER_PAYLOAD)]
        body = json.dumps({"messageType": "DATA_MESSAGE", "owner": ACCOUNT, "logGroup": f"/aws/lambda/bench-{p}",
                           "logStream": "2026/11/22/[$LATEST]0a1b2c3d", "subscriptionFilters": ["f"],
                           "logEvents": events}, ensure_ascii=False)
        data = gzip.compress(body.encode("utf-8", "surrogateescape"))
        out.append({"awslogs": {"data": base64.b64encode(data).decode("ascii")}})
    return out


def floor(payload: dict) -> list[bytes]:
    """The floor: decode, parse, one ``json.dumps`` per event with the same metadata fields."""
    data = json.loads(zlib.decompress(base64.b64decode(payload["awslogs"]["data"]), zlib.MAX_WBITS | 16)
                      .decode("utf-8", "surrogateescape"))
    group, stream, owner = data["logGroup"], data["logStream"], data["owner"]
    dumps = json.dumps  # defaults: json's cached encoder, ASCII output (lone surrogates escaped)
    return [(dumps({"@timestamp": e["timestamp"], "message": e["message"], "log_group": group, "log_stream": stream,
                    "account": owner, "id": e["id"]}) + "\n").encode() for e in data["logEvents"]]


def ours(payload: dict) -> list[tuple[str, bytes]]:
    """The records as the handler takes them on: (event id, record) pairs."""
    from log_shipper.transform import to_records
    from log_subscription import decode_payload

    return to_records(decode_payload(payload, strict_utf8=False)).records


def ours_redacted(payload: dict) -> list[tuple[str, bytes]]:
    """``ours`` with the shipper's redaction on (its default rule set, as deployed by default)."""
    from log_shipper.contract import ShipperConfig
    from log_shipper.redact import Redaction, redacted_records
    from log_subscription import decode_payload

    batch = decode_payload(payload, strict_utf8=False)
    out, _ = redacted_records(Redaction.for_config(ShipperConfig("bench", "bench")), batch, batch.events, region=None)
    return out.records


def run() -> list[Row]:
    batch = payloads()
    n_events = PAYLOADS * EVENTS_PER_PAYLOAD
    assert sum(len(ours(p)) for p in batch) == sum(len(floor(p)) for p in batch) == n_events  # and warm
    assert sum(len(ours_redacted(p)) for p in batch) == n_events
    contenders = (floor, ours, ours_redacted)
    seconds = [[0.0] * len(contenders) for _ in range(ROUNDS)]  # per round, per contender
    clock = time.perf_counter
    for round_ in range(ROUNDS):
        gc.collect()  # each round starts without the garbage of the one before
        for index, payload in enumerate(batch):
            turn = (round_ + index) % len(contenders)
            for which in (*range(turn, len(contenders)), *range(turn)):
                started = clock()
                contenders[which](payload)
                seconds[round_][which] += clock() - started
    totals = [sum(times[which] for times in seconds) for which in range(len(contenders))]
    floor_rate, ours_rate, redacted_rate = (ROUNDS * n_events / total for total in totals)
    ratios = [times[0] / times[1] for times in seconds]
    kept = [times[1] / times[2] for times in seconds]
    megabytes = sum(len(base64.b64decode(p["awslogs"]["data"])) for p in batch) / 1e6
    return [Row(
        "shipper decode", "events/s, decode + transform (no I/O)", ours_rate, floor_rate, "events/s",
        note=(f"baseline is the floor (base64 → gunzip → json.loads → one json.dumps per event, pure Python); "
              f"ratio ours/floor, expected ≥ 0.8×: {ours_rate / floor_rate:.3f}; {n_events:,} events in "
              f"{PAYLOADS} payloads ({megabytes:.1f} MB gzip), {ROUNDS} rounds, contenders interleaved payload by "
              f"payload; per-round ratios {min(ratios):.2f}–{max(ratios):.2f}, median "
              f"{statistics.median(ratios):.2f}; redaction off; shared machine, load average {_load()}"),
    ), Row(
        "shipper decode", "events/s, decode + redact + transform (no I/O)", redacted_rate, ours_rate, "events/s",
        note=(f"redaction on (default rule set, pre-check) against redaction off in the same rounds; expected ≥ "
              f"0.75×: {redacted_rate / ours_rate:.3f}; per-round ratios {min(kept):.2f}–{max(kept):.2f}, median "
              f"{statistics.median(kept):.2f}; floor in the same run {floor_rate:,.0f} events/s "
              f"({redacted_rate / floor_rate:.2f}× of it)"),
    )]


def _load() -> str:
    try:
        return " / ".join(f"{value:.1f}" for value in os.getloadavg()) + " (1/5/15 min)"
    except OSError:  # pragma: no cover - no load average on this platform
        return "unknown"
