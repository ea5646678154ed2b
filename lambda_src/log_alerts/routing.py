"""Which Slack channel an alert goes to, and which webhook URL serves that channel.

Routes are tried in order; the first whose ``marker`` and ``log_group_prefix`` (each optional, at
least one set) both match wins; otherwise the default channel. A Slack incoming webhook is bound to
one channel, so the webhook secret maps channel → URL:

* a plain ``https://…`` string: one webhook for every channel;
* a JSON object ``{"#oncall": "https://…", "#ops": "https://…", "default": "https://…"}``: the
  channel's URL, else ``default``.
"""
from __future__ import annotations

import json
from typing import Any, Mapping, Sequence
from urllib.parse import urlsplit

from .contract import DEFAULT_WEBHOOK_HOSTS, Route, parse_routes

__all__ = ["Route", "WebhookConfigError", "channel_for", "check_url", "parse_routes", "parse_webhooks", "webhook_for"]

DEFAULT_KEY = "default"
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


class WebhookConfigError(ValueError):
    """The webhook secret has no usable URL for a channel (fix the secret, then redrive)."""


def channel_for(marker: str, log_group: str, routes: Sequence[Route], default_channel: str) -> str:
    for route in routes:
        if route.matches(marker, log_group):
            return route.channel
    return default_channel


def parse_webhooks(secret_value: Any) -> dict[str, str]:
    """The channel → URL map held by the secret (a URL string or a JSON object)."""
    if isinstance(secret_value, bytes):
        secret_value = secret_value.decode("utf-8", errors="replace")
    if isinstance(secret_value, str):
        text = secret_value.strip()
        if text.startswith("{"):
            try:
                secret_value = json.loads(text)
            except ValueError:
                raise WebhookConfigError("webhook secret is neither a URL nor a JSON object") from None
        else:
            return {DEFAULT_KEY: text} if text else {}
    if not isinstance(secret_value, Mapping):
        raise WebhookConfigError("webhook secret is neither a URL nor a JSON object")
    return {str(k): str(v) for k, v in secret_value.items() if isinstance(v, str) and v.strip()}


def check_url(url: str, *, allow_loopback_http: bool = False,
              allowed_hosts: Sequence[str] = DEFAULT_WEBHOOK_HOSTS) -> str:
    """``url`` if it is an https URL to one of ``allowed_hosts`` (exact host names, compared without
    case; default ``hooks.slack.com`` only); http to a loopback host only when explicitly allowed.

    The function never logs the URL itself (it is the secret): errors name the problem only.
    Only printable ASCII without spaces is accepted: ``urlsplit`` drops tabs and newlines from its
    view, while the raw string is what gets sent, and ``http.client`` would refuse it with an error
    that quotes the URL.
    """
    bad = next((position for position, char in enumerate(url) if not "!" <= char <= "~"), None)
    if bad is not None:
        raise WebhookConfigError(f"webhook URL must be printable ASCII without whitespace or control characters "
                                 f"(character {bad + 1} of {len(url)} is not)")
    parts = urlsplit(url)
    if parts.scheme == "http" and allow_loopback_http and parts.hostname in LOOPBACK_HOSTS:
        return url
    if parts.scheme != "https" or not parts.hostname:
        raise WebhookConfigError(f"webhook URL must be https:// (got scheme {parts.scheme or 'none'!r})")
    if parts.username is not None or parts.password is not None:
        raise WebhookConfigError("webhook URL must not carry credentials")
    host = parts.hostname.lower().rstrip(".")
    if host in {allowed.lower() for allowed in allowed_hosts} or (allow_loopback_http and host in LOOPBACK_HOSTS):
        return url
    raise WebhookConfigError("webhook URL host is not allowed (allowed: " + ", ".join(allowed_hosts) + ")")


def webhook_for(channel: str, webhooks: Mapping[str, str], *, allow_loopback_http: bool = False,
                allowed_hosts: Sequence[str] = DEFAULT_WEBHOOK_HOSTS) -> str:
    url = webhooks.get(channel) or webhooks.get(DEFAULT_KEY)
    if not url:
        raise WebhookConfigError(
            f"webhook secret has no URL for channel {channel!r} and no {DEFAULT_KEY!r} entry"
        )
    return check_url(url, allow_loopback_http=allow_loopback_http, allowed_hosts=allowed_hosts)
