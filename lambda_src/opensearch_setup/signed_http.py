"""The set-up function's signed client: :mod:`opensearch_client.signed_http`, whose errors fail the deployment.

:class:`SetupError` is :class:`opensearch_client.signed_http.SignedRequestError` under the name the set-up
code raises and the handler catches: its message is what CloudFormation shows in the event.
"""
from __future__ import annotations

from opensearch_client.signed_http import MAX_ERROR_BODY, RETRYABLE_STATUSES, SERVICE, Response, SignedClient
from opensearch_client.signed_http import SignedRequestError as SetupError

__all__ = ["MAX_ERROR_BODY", "RETRYABLE_STATUSES", "SERVICE", "Response", "SetupError", "SignedClient"]
