"""A real HTTP server on 127.0.0.1 standing in for a webhook receiver (Slack incoming webhooks).

It records every request (attempts included) and answers ``200 ok`` unless told otherwise:

    with WebhookServer() as hook:
        hook.rate_limit(retry_after=1, times=1)   # next request: 429 with Retry-After: 1
        hook.fail(500, times=2)                   # then two 500s
        hook.hang(3.0, times=1)                   # then one request that gets no answer for 3 s
        hook.fail(503, path="/oncall")            # every request to /oncall from now on: 503 (an outage)
        hook.recover()                            # back to 200 for everything
        ...
        hook.delivered("/oncall")                 # JSON bodies answered with 2xx on that path

``WebhookServer(delay_s=0.15)`` (or setting ``hook.delay_s``) holds every answer that long, the
modelled round trip of a webhook call in benchmarks. Rules apply in the order they were added, each to its next ``times`` requests (``None``: until
:meth:`recover` or :meth:`reset`), to one ``path`` or to all. Reusable by any test or benchmark that needs an HTTP endpoint.
"""
from __future__ import annotations

import json
import threading
import time
from collections import Counter
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Optional


@dataclass
class Recorded:
    path: str
    headers: dict[str, str]
    body: bytes
    status: Any  # the answered status, or "hang"
    at: float

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class _Rule:
    status: int
    times: Optional[int]
    headers: dict[str, str]
    body: bytes
    hang_s: float = 0.0
    path: Optional[str] = None  # None: any path


class WebhookServer:
    def __init__(self, *, delay_s: float = 0.0) -> None:
        self.delay_s = delay_s
        self._lock = threading.Lock()
        self._rules: list[_Rule] = []
        self._stopping = threading.Event()
        self.requests: list[Recorded] = []
        self.in_flight: Counter[str] = Counter()  # path -> requests being answered now
        self.most_in_flight = 0  # most requests answered at once, all paths
        self.most_in_flight_on: Counter[str] = Counter()  # path -> most requests answered at once
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                with server._lock:
                    server.in_flight[self.path] += 1
                    server.most_in_flight = max(server.most_in_flight, sum(server.in_flight.values()))
                    server.most_in_flight_on[self.path] = max(server.most_in_flight_on[self.path],
                                                              server.in_flight[self.path])
                try:
                    self._answer()
                finally:
                    with server._lock:
                        server.in_flight[self.path] -= 1

            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                rule = server._next_rule(self.path)
                headers = {k.lower(): v for k, v in self.headers.items()}
                if rule is not None and rule.hang_s:
                    server._record(Recorded(self.path, headers, body, "hang", time.monotonic()))
                    server._stopping.wait(rule.hang_s)
                    self.close_connection = True
                    return
                if server.delay_s:
                    server._stopping.wait(server.delay_s)  # a wait before answering, not CPU
                status, extra, answer = (200, {}, b"ok") if rule is None else (rule.status, rule.headers, rule.body)
                server._record(Recorded(self.path, headers, body, status, time.monotonic()))
                self.send_response(status)
                for name, value in extra.items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    # --- lifecycle ---------------------------------------------------------------------------
    def start(self) -> "WebhookServer":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> "WebhookServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def url(self, path: str = "/hook") -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}{path}"

    # --- behaviour ---------------------------------------------------------------------------
    def respond(self, status: int, *, times: Optional[int] = 1, headers: Optional[dict[str, str]] = None,
                body: bytes = b"", path: Optional[str] = None) -> None:
        with self._lock:
            self._rules.append(_Rule(status, times, dict(headers or {}), body, path=path))

    def rate_limit(self, *, retry_after: float = 1, times: Optional[int] = 1, path: Optional[str] = None) -> None:
        self.respond(429, times=times, headers={"Retry-After": f"{retry_after:g}"}, body=b"rate_limited", path=path)

    def fail(self, status: int = 500, *, times: Optional[int] = None, path: Optional[str] = None) -> None:
        self.respond(status, times=times, body=b"server_error", path=path)

    def hang(self, seconds: float, *, times: Optional[int] = 1, path: Optional[str] = None) -> None:
        with self._lock:
            self._rules.append(_Rule(0, times, {}, b"", hang_s=seconds, path=path))

    def recover(self) -> None:
        """Drop every rule (answer 200 again), keeping the record of past requests."""
        with self._lock:
            self._rules.clear()

    def reset(self) -> None:
        with self._lock:
            self._rules.clear()
            self.requests.clear()
            self.most_in_flight = 0
            self.most_in_flight_on.clear()

    # --- what happened -----------------------------------------------------------------------
    def delivered(self, path: Optional[str] = None) -> list[Any]:
        """JSON bodies of the requests answered with 2xx (on ``path`` if given), in order."""
        with self._lock:
            return [r.json() for r in self.requests
                    if isinstance(r.status, int) and 200 <= r.status < 300 and (path is None or r.path == path)]

    def attempts(self, path: Optional[str] = None) -> list[Recorded]:
        with self._lock:
            return [r for r in self.requests if path is None or r.path == path]

    # --- internals ---------------------------------------------------------------------------
    def _next_rule(self, path: str) -> Optional[_Rule]:
        with self._lock:
            for rule in self._rules:
                if rule.path not in (None, path):
                    continue
                if rule.times is None or rule.times > 0:
                    if rule.times is not None:
                        rule.times -= 1
                    return rule
        return None

    def _record(self, request: Recorded) -> None:
        with self._lock:
            self.requests.append(request)
