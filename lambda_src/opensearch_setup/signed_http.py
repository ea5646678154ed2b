"""The set-up function's signed client: :mod:`logship.signed_http`, whose errors fail the deployment.

:class:`SetupError` is :class:`logship.signed_http.SignedRequestError` under the name the set-up
code raises and the handler catches: its message is what CloudFormation shows in the event.
"""
from __future__ import annotations

from logship.signed_http import MAX_ERROR_BODY, RETRYABLE_STATUSES, SERVICE, Response, SignedClient
from logship.signed_http import SignedRequestError as SetupError

__all__ = ["MAX_ERROR_BODY", "RETRYABLE_STATUSES", "SERVICE", "Response", "SetupError", "SignedClient"]
