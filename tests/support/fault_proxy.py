"""A small HTTP proxy on 127.0.0.1 in front of the AWS emulator that injects faults on the wire.

Every AWS call of the code under test goes through it (``AWS_ENDPOINT_URL`` points here), so a
test can make the next N calls of one operation answer throttling, a 5xx, a hang, or a partial
failure, and can count the calls each operation received. With :meth:`FaultProxy.model_latency` it
also holds every forwarded call for the modelled round trip of its service (benchmarks: in AWS a
call costs a network round trip, against the emulator it costs the emulator's CPU instead).
"""
from __future__ import annotations

import http.client
import json
import re
import threading
import time
from collections import Counter
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable, Mapping, Optional
from urllib.parse import parse_qs, urlsplit

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "host"}
# SigV4: "Credential=AKID/20261202/us-east-1/dynamodb/aws4_request" names the signing service.
_CREDENTIAL_SCOPE = re.compile(r"Credential=[^/,]+/\d{8}/[^/,]+/([^/,]+)/aws4_request")
# Fallback for unsigned calls: the JSON-protocol target prefix (DynamoDB_20120810.PutItem).
_TARGET_SERVICE = {"dynamodb": "dynamodb", "firehose": "firehose", "logs": "logs",
                   "secretsmanager": "secretsmanager", "amazonsqs": "sqs", "kinesis": "kinesis"}


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def operation(self) -> str:
        """``PutRecordBatch`` from ``X-Amz-Target: Firehose_20150804.PutRecordBatch``, or a query ``Action``."""
        target = self.headers.get("x-amz-target")
        if target:
            return target.rsplit(".", 1)[-1]
        if self.body and b"Action=" in self.body:
            return parse_qs(self.body.decode("utf-8", "replace")).get("Action", [""])[0]
        query = parse_qs(urlsplit(self.path).query)
        if "Action" in query:
            return query["Action"][0]
        return f"{self.method} {urlsplit(self.path).path}"

    @property
    def service(self) -> Optional[str]:
        """The AWS service called (``dynamodb``, ``firehose``, ``logs``, ``sns``...), None if not known."""
        scope = _CREDENTIAL_SCOPE.search(self.headers.get("authorization", ""))
        if scope:
            return scope.group(1)
        prefix = self.headers.get("x-amz-target", "").split("_", 1)[0].split(".", 1)[0].lower()
        return _TARGET_SERVICE.get(prefix)

    def json(self) -> dict:
        return json.loads(self.body or b"{}")


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes


Forward = Callable[[Request], Response]
Responder = Callable[[Request, Forward], Optional[Response]]


@dataclass
class Rule:
    operation: str
    respond: Responder
    times: Optional[int] = None  # None: until cleared

    def applies(self, request: Request) -> bool:
        return self.operation in ("*", request.operation) and (self.times is None or self.times > 0)


def json_error(code: str, message: str, status: int = 400) -> Response:
    """An error as the JSON-protocol services (Firehose, Logs, DynamoDB, SQS, Secrets Manager) send it."""
    body = json.dumps({"__type": code, "message": message}).encode()
    return Response(status, {"Content-Type": "application/x-amz-json-1.1", "x-amzn-ErrorType": code}, body)


class FaultProxy:
    def __init__(self, upstream: str) -> None:
        parts = urlsplit(upstream)
        self._upstream = (parts.hostname or "127.0.0.1", parts.port or 80)
        self._rules: list[Rule] = []
        self._lock = threading.Lock()
        self.calls: Counter[str] = Counter()
        self.held: Counter[str] = Counter()  # operation -> seconds the latency model held its calls
        self.history: list[tuple[float, str]] = []
        self.in_flight: Counter[str] = Counter()  # operation -> calls being answered now
        self.most_in_flight: Counter[str] = Counter()  # operation -> most calls answered at once
        self._round_trips: Mapping[str, float] = {}
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out in two writes: with Nagle on, the client's delayed ACK stalls
            # every response by ~40 ms.
            disable_nagle_algorithm = True

            def log_message(self, *args: object) -> None:  # keep test output clean
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                request = Request(self.command, self.path, {k.lower(): v for k, v in self.headers.items()},
                                  self.rfile.read(length) if length else b"")
                response = proxy._dispatch(request)
                self.send_response(response.status)
                for name, value in response.headers.items():
                    if name.lower() not in HOP_BY_HOP:
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(response.body)))
                self.end_headers()
                self.wfile.write(response.body)

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = _handle

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> "FaultProxy":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    # --- rules -------------------------------------------------------------------------------
    def add(self, operation: str, respond: Responder, *, times: Optional[int] = None) -> Rule:
        rule = Rule(operation, respond, times)
        with self._lock:
            self._rules.append(rule)
        return rule

    def throttle(self, operation: str, *, times: Optional[int] = None, code: str = "ThrottlingException") -> Rule:
        return self.add(operation, lambda req, fwd: json_error(code, "Rate exceeded"), times=times)

    def server_error(self, operation: str, *, times: Optional[int] = None, status: int = 500,
                     code: str = "InternalFailure") -> Rule:
        return self.add(operation, lambda req, fwd: json_error(code, "injected failure", status), times=times)

    def hang(self, operation: str, seconds: float, *, times: Optional[int] = None) -> Rule:
        def respond(request: Request, forward: Forward) -> Response:
            time.sleep(seconds)
            return forward(request)

        return self.add(operation, respond, times=times)

    def model_latency(self, round_trips: Optional[Mapping[str, float]]) -> None:
        """Hold every later call to a service in ``round_trips`` (service → seconds) that long before
        answering; None or ``{}`` turns the model off. Kept across :meth:`clear`."""
        self._round_trips = dict(round_trips or {})

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()
            self.calls.clear()
            self.history.clear()
            self.held.clear()
            self.most_in_flight.clear()

    # --- forwarding --------------------------------------------------------------------------
    def forward(self, request: Request) -> Response:
        connection = http.client.HTTPConnection(*self._upstream, timeout=60)
        try:
            headers = {k: v for k, v in request.headers.items() if k not in HOP_BY_HOP}
            headers["Host"] = f"{self._upstream[0]}:{self._upstream[1]}"
            connection.request(request.method, request.path, body=request.body, headers=headers)
            answer = connection.getresponse()
            return Response(answer.status, dict(answer.getheaders()), answer.read())
        finally:
            connection.close()

    def _dispatch(self, request: Request) -> Response:
        operation = request.operation
        with self._lock:
            self.in_flight[operation] += 1
            self.most_in_flight[operation] = max(self.most_in_flight[operation], self.in_flight[operation])
        try:
            return self._answer(request, operation)
        finally:
            with self._lock:
                self.in_flight[operation] -= 1

    def _answer(self, request: Request, operation: str) -> Response:
        with self._lock:
            self.calls[operation] += 1
            self.history.append((time.monotonic(), operation))
            rule = next((r for r in self._rules if r.applies(request)), None)
            if rule is not None and rule.times is not None:
                rule.times -= 1
        delay = self._round_trips.get(request.service or "", 0.0)
        if delay:
            with self._lock:
                self.held[operation] += delay
            time.sleep(delay)  # a wait, not CPU: concurrent calls overlap as they would on the network
        if rule is not None:
            response = rule.respond(request, self.forward)
            if response is not None:
                return response
        return self.forward(request)
