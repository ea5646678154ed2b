"""One SigV4-signed ``_search`` against a domain (service ``es``) or a serverless collection (``aoss``).

botocore's :class:`~botocore.auth.SigV4Auth` signs; ``urllib`` sends. The payload's SHA-256 travels
as the signed ``X-Amz-Content-SHA256`` header, which OpenSearch Serverless requires and domains accept.
Only the method, the path and the status (with a short excerpt of an error answer) reach a message.
"""
from __future__ import annotations

import hashlib
import json
import urllib.error
import urllib.request
from typing import Any, Mapping, Optional

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest

MAX_EXCERPT = 300


class SearchError(RuntimeError):
    """The search did not answer 2xx: ``status`` (0 when the endpoint could not be reached) and an excerpt."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def signed_headers(method: str, url: str, body: bytes, *, credentials: Any, region: str, service: str,
                   headers: Optional[Mapping[str, str]] = None) -> dict[str, str]:
    """The headers of ``method url`` with ``body``, SigV4-signed for ``service`` in ``region``."""
    request = AWSRequest(method=method, url=url, data=body, headers={
        **(headers or {}), "X-Amz-Content-SHA256": hashlib.sha256(body).hexdigest()})
    SigV4Auth(credentials.get_frozen_credentials(), service, region).add_auth(request)
    return dict(request.headers.items())


def search(endpoint: str, index: str, query: Mapping[str, Any], *, credentials: Any, region: str, service: str,
           timeout_s: float = 10.0) -> dict[str, Any]:
    """``POST <endpoint>/<index>/_search`` with ``query``; the answer's JSON, or :class:`SearchError`."""
    url = f"{endpoint}/{index}/_search"
    body = json.dumps(query).encode("utf-8")
    headers = signed_headers("POST", url, body, credentials=credentials, region=region, service=service,
                             headers={"Content-Type": "application/json"})
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as answer:  # https, or http to this machine only
            return json.loads(answer.read() or b"{}")
    except urllib.error.HTTPError as error:
        excerpt = error.read()[:MAX_EXCERPT].decode("utf-8", "replace")
        raise SearchError(error.code, f"POST /{index}/_search answered HTTP {error.code}: {excerpt}") from None
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise SearchError(0, f"POST /{index}/_search: cannot reach {endpoint}: {reason}") from None


def hits(answer: Mapping[str, Any]) -> list[dict[str, Any]]:
    return list((answer.get("hits") or {}).get("hits") or [])
