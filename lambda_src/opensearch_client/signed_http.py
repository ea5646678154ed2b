"""SigV4-signed requests to an OpenSearch domain or collection over ``http.client``, with retries.

Two users: the domain set-up function (JSON requests, :meth:`SignedClient.request` retries them)
and the ``_bulk`` writer (:mod:`opensearch_client.bulk`, which sends single attempts with
:meth:`SignedClient.send` and decides itself what to retry). The signing service is ``es`` for a
domain and ``aoss`` for an OpenSearch Serverless collection.

:meth:`SignedClient.with_basic_auth` gives a copy that sends HTTP basic authentication (an internal
user of the domain) instead of a signature, with the same retries, timeouts and errors: the set-up
function's one use of the master user's password.

Only the method, the path and the status are ever logged or put in an error message; request
bodies (which may carry a password or log documents) and headers never are. Needs botocore (its signer).
"""
from __future__ import annotations

import base64
import copy
import hashlib
import http.client
import json
import socket
import ssl
import time
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Optional
from urllib.parse import urlsplit

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from logship.retry import Backoff

SERVICE = "es"
SERVICES = ("es", "aoss")
RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})
MAX_ERROR_BODY = 400
READ_CHUNK_BYTES = 64 * 1024  # with a deadline, the body is read in chunks of at most this, checked in between


class SignedRequestError(RuntimeError):
    """A request cannot complete (refused, or still failing after the retries); the message says why."""


class DeadlineExceeded(TimeoutError):
    """An attempt given a deadline (``send(..., deadline=...)``) had no complete answer by then."""


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes

    def json(self) -> Any:
        if not self.body:
            return {}
        try:
            return json.loads(self.body)
        except ValueError as error:
            raise SignedRequestError(f"the domain answered HTTP {self.status} with a body that is not JSON: "
                             f"{_excerpt(self.body)}") from error


def _excerpt(body: bytes) -> str:
    text = body.decode("utf-8", errors="replace").strip()
    return text if len(text) <= MAX_ERROR_BODY else text[:MAX_ERROR_BODY] + "..."


class SignedClient:
    """Talks to one domain; every request is signed with SigV4 for ``service`` (``es``, or ``aoss``).

    ``credentials`` returns botocore credentials (refreshable ones are frozen per request).
    ``timeout`` bounds the connection and every read, so a connection that hangs fails the attempt.
    """

    def __init__(
        self,
        base_url: str,
        region: str,
        credentials: Callable[[], Any],
        *,
        retry: Optional[Backoff] = None,
        timeout: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
        log: Optional[Callable[[str], None]] = None,
        service: str = SERVICE,
    ) -> None:
        if service not in SERVICES:
            raise SignedRequestError(f"signing service {service!r} is not one of {', '.join(SERVICES)}")
        parts = urlsplit(base_url)
        if parts.scheme not in ("https", "http") or not parts.hostname:
            raise SignedRequestError(f"endpoint {base_url!r} is not an http(s) URL with a host")
        self.base_url = f"{parts.scheme}://{parts.netloc}"
        self._scheme = parts.scheme
        self._host = parts.hostname
        self._port = parts.port
        self.region = region
        self.service = service
        self._credentials = credentials
        self.retry = retry or Backoff(max_attempts=8, base_s=1.0, max_s=20.0)
        self._timeout = timeout
        self._sleep = sleep
        self._log = log or (lambda message: None)
        self._basic_auth: Optional[str] = None  # the Authorization header of with_basic_auth's copies

    def with_basic_auth(self, user: str, password: str) -> "SignedClient":
        """A copy that authenticates as the internal user ``user`` (HTTP basic) instead of signing.

        Only over HTTPS (plain HTTP only to a loopback address, the tests' stand-in): a password never
        crosses a network in clear text.
        """
        if self._scheme != "https" and self._host not in ("127.0.0.1", "localhost", "::1"):
            raise SignedRequestError(f"basic authentication needs HTTPS, not {self.base_url}")
        client = copy.copy(self)
        token = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
        client._basic_auth = f"Basic {token}"
        return client

    def _auth_headers(self, method: str, path: str, body: bytes, headers: Mapping[str, str]) -> dict[str, str]:
        if self._basic_auth is None:
            return self._signed_headers(method, path, body, headers)
        return {**headers, "Authorization": self._basic_auth}

    # --- signing -------------------------------------------------------------------------------
    def _signed_headers(self, method: str, path: str, body: bytes, headers: Mapping[str, str]) -> dict[str, str]:
        credentials = self._credentials()
        if credentials is None:
            raise SignedRequestError("no AWS credentials to sign the requests to the domain with")
        if hasattr(credentials, "get_frozen_credentials"):
            credentials = credentials.get_frozen_credentials()
        headers = dict(headers)
        if self.service == "aoss":
            # OpenSearch Serverless requires the payload hash as a (signed) header.
            headers["x-amz-content-sha256"] = hashlib.sha256(body).hexdigest()
        request = AWSRequest(method=method, url=f"{self.base_url}{path}", data=body, headers=headers)
        SigV4Auth(credentials, self.service, self.region).add_auth(request)
        return dict(request.headers.items())

    # --- one attempt ---------------------------------------------------------------------------
    def send(self, method: str, path: str, body: bytes, headers: Mapping[str, str], *,
             timeout: Optional[float] = None, deadline: Optional[float] = None) -> Response:
        """One signed (or basic-auth) attempt, whatever the status; connection errors and timeouts raise
        ``OSError`` or ``http.client.HTTPException``.

        ``timeout`` shortens the client's per-operation timeout for this attempt; ``deadline`` (a
        ``time.monotonic()`` value) bounds the attempt as a whole: every socket operation waits at most
        until then, and the body is read in chunks with the deadline checked between reads, so a server
        that trickles its answer cannot hold the caller past it (:class:`DeadlineExceeded`).
        """
        per_operation = self._timeout if timeout is None else max(0.01, min(self._timeout, timeout))

        def wait() -> float:
            if deadline is None:
                return per_operation
            left = deadline - time.monotonic()
            if left <= 0:
                raise DeadlineExceeded(f"{method} {path}: no answer before the request's deadline")
            return min(per_operation, left)

        if self._scheme == "https":
            connection: http.client.HTTPConnection = http.client.HTTPSConnection(
                self._host, self._port, timeout=wait(), context=ssl.create_default_context()
            )
        else:
            connection = http.client.HTTPConnection(self._host, self._port, timeout=wait())
        try:
            connection.request(method, path, body=body or None, headers=self._auth_headers(method, path, body, headers))
            sock = connection.sock  # kept: getresponse() hands a closing connection's socket to the response
            if sock is not None:
                sock.settimeout(wait())
            answer = connection.getresponse()
            if deadline is None:
                return Response(answer.status, answer.read())
            chunks = []
            while True:
                left = wait()
                if sock is not None:
                    sock.settimeout(left)
                chunk = answer.read1(READ_CHUNK_BYTES)
                if not chunk:
                    return Response(answer.status, b"".join(chunks))
                chunks.append(chunk)
        finally:
            connection.close()

    # --- public --------------------------------------------------------------------------------
    def request(
        self,
        method: str,
        path: str,
        document: Any = None,
        *,
        headers: Optional[Mapping[str, str]] = None,
        expect: tuple[int, ...] = (200, 201),
        allow: tuple[int, ...] = (),
    ) -> Response:
        """Send ``document`` as JSON; return the answer when its status is in ``expect`` or ``allow``.

        A 5xx, a 429 or a connection error is retried; any other status raises :class:`SignedRequestError`.
        """
        body = b"" if document is None else json.dumps(document, separators=(",", ":"), sort_keys=True).encode()
        all_headers = {"Content-Type": "application/json", "Accept": "application/json", **(headers or {})}
        if not body:
            all_headers.pop("Content-Type")
        what = f"{method} {path}"
        last = ""
        for attempt in range(1, self.retry.max_attempts + 1):
            if attempt > 1:
                self._sleep(self.retry.delay(attempt - 1))
            try:
                response = self.send(method, path, body, all_headers)
            except (OSError, http.client.HTTPException, socket.timeout) as error:
                last = f"connection error {type(error).__name__}: {error}"
                self._log(f"{what}: {last} (attempt {attempt}/{self.retry.max_attempts})")
                continue
            if response.status in RETRYABLE_STATUSES:
                last = f"HTTP {response.status}: {_excerpt(response.body)}"
                self._log(f"{what}: HTTP {response.status} (attempt {attempt}/{self.retry.max_attempts})")
                continue
            if response.status in expect or response.status in allow:
                self._log(f"{what}: HTTP {response.status}")
                return response
            raise SignedRequestError(f"{what} failed with HTTP {response.status}: {_excerpt(response.body)}")
        raise SignedRequestError(f"{what} still failing after {self.retry.max_attempts} attempts; last: {last}")

    def get_json(self, path: str, *, headers: Optional[Mapping[str, str]] = None) -> Optional[Any]:
        """The JSON at ``path``, or ``None`` when it does not exist (404)."""
        response = self.request("GET", path, headers=headers, expect=(200,), allow=(404,))
        return None if response.status == 404 else response.json()
