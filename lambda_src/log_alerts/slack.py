"""Slack: one Block Kit message per channel and invocation, within Slack's limits, and its delivery.

Limits honoured (Slack Block Kit reference): at most 50 blocks per message, 3,000 characters per
section text, 150 per header text, 10 elements per context block; the top-level ``text`` (the
notification fallback) is kept under 3,000 characters. Longer text is cut with a note.

Text from log lines is sanitized (lone surrogates become U+FFFD) and escaped (``&``, ``<``, ``>``)
everywhere it appears, the fallback ``text`` included, so a log line can neither ping a channel
(``<!channel>``) nor plant a link. Text is cut before it is escaped, so a cut never splits an entity.

Delivery uses only the standard library (``urllib``): HTTP 429 waits for ``Retry-After``; 5xx,
connection errors and timeouts are retried with exponential backoff and equal jitter
(:class:`logship.retry.Backoff`: every wait between half its cap and its cap); other 4xx fail at
once (retrying a rejected payload or a revoked webhook cannot succeed). Redirects are not followed:
a 3xx answer is a failure.
"""
from __future__ import annotations

import http.client
import json
import re
import socket
import time
import urllib.error
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable, Optional, Sequence
from urllib.parse import quote

from logship.retry import EQUAL, Backoff

from .items import Alert

MAX_BLOCKS = 50
MAX_SECTION_CHARS = 3000
MAX_HEADER_CHARS = 150
MAX_CONTEXT_ELEMENTS = 10
MAX_FALLBACK_CHARS = 3000
MORE_NOTE = "…[cut: {n} more characters, full text in the audit table]"
MARKER_EMOJI = {"CRITICAL": ":rotating_light:", "ALERT": ":warning:"}


MAX_LINK_CHARS = 1500  # a longer console link (very long group and stream names) is left out
MAX_GROUP_CHARS = 300
MAX_APP_CHARS = 100
_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
_SURROGATES = re.compile("[\ud800-\udfff]")


def sanitize(text: str) -> str:
    """``text`` with every lone surrogate (not encodable as UTF-8) replaced by U+FFFD."""
    return _SURROGATES.sub("\ufffd", text)


def escape(text: str) -> str:
    """Slack mrkdwn control characters (``&``, ``<``, ``>``) as entities."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def fit(text: str, limit: int) -> str:
    """``text`` sanitized and escaped within ``limit`` characters: cut (whole characters, before
    escaping, so no entity is split) with a note saying how much was left out."""
    text = sanitize(text)
    full = escape(text)
    if len(full) <= limit:
        return full
    room = max(limit - len(MORE_NOTE.format(n=len(text))), 0)
    out: list[str] = []
    used = 0
    for char in text:
        piece = _ENTITIES.get(char, char)
        if used + len(piece) > room:
            break
        out.append(piece)
        used += len(piece)
    return "".join(out) + MORE_NOTE.format(n=len(text) - len(out))


def shorten(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    note = MORE_NOTE.format(n=len(text) - limit)
    keep = max(limit - len(note), 0)
    return text[:keep] + MORE_NOTE.format(n=len(text) - keep)


def console_url(region: str, log_group: str, log_stream: str) -> str:
    """The CloudWatch console link to a log stream (the console's ``$25`` double encoding)."""

    def enc(value: str) -> str:
        return quote(quote(value, safe=""), safe="").replace("%", "$")

    host = "console.amazonaws.cn" if region.startswith("cn-") else "console.aws.amazon.com"
    return (f"https://{region}.{host}/cloudwatch/home?region={region}#logsV2:log-groups/log-group/"
            f"{enc(log_group)}/log-events/{enc(log_stream)}")


def _summary(alerts: Sequence[Alert]) -> str:
    counts = Counter(alert.marker for alert in alerts)
    return ", ".join(f"{n} {marker}" for marker, n in counts.most_common())


def _code(text: str, limit: int) -> str:
    return fit(text.replace("`", "'"), limit)


def _section(alert: Alert, region: str) -> dict[str, Any]:
    """One alert: header line, log group, console link (left out if too long), the text; within
    ``MAX_SECTION_CHARS`` whatever the lengths of names and text."""
    link = console_url(region, sanitize(alert.log_group), sanitize(alert.log_stream))
    where = (f"<{escape(link)}|log stream>" if len(link) <= MAX_LINK_CHARS
             else f"stream `{_code(alert.log_stream, MAX_GROUP_CHARS)}`")
    head = (f"{MARKER_EMOJI.get(alert.marker, ':bell:')} *{fit(alert.marker, 40)}* · "
            f"*{fit(alert.app_name, MAX_APP_CHARS)}* · {alert.timestamp}\n"
            f"`{_code(alert.log_group, MAX_GROUP_CHARS)}` · {where}\n")
    fence = "```"
    room = MAX_SECTION_CHARS - len(head) - 2 * len(fence)
    body = fit(alert.text.replace(fence, "'''"), max(room, 0))
    return {"type": "section", "text": {"type": "mrkdwn", "text": f"{head}{fence}{body}{fence}"}}


def render(channel: str, alerts: Sequence[Alert], *, region: str, max_messages: int = 5) -> dict[str, Any]:
    """The webhook payload for ``alerts`` of one channel: summary, apps, the first ``max_messages``."""
    if not alerts:
        raise ValueError("nothing to render")
    apps = Counter(alert.app_name for alert in alerts)
    title = fit(f"{_summary(alerts)} alert{'s' if len(alerts) > 1 else ''} in {len(apps)} application"
                    f"{'s' if len(apps) > 1 else ''}", MAX_HEADER_CHARS)
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": title, "emoji": True}},
        {"type": "context", "elements": [
            {"type": "mrkdwn", "text": f"*{fit(app, 1900)}*: {n}"}
            for app, n in apps.most_common(MAX_CONTEXT_ELEMENTS)
        ]},
    ]
    # header + context + up to N sections + divider + "more" context, never above MAX_BLOCKS.
    shown = list(alerts[: max(0, min(max_messages, MAX_BLOCKS - 4))])
    blocks.extend(_section(alert, region) for alert in shown)
    hidden = len(alerts) - len(shown)
    if hidden > 0:
        blocks.append({"type": "divider"})
        blocks.append({"type": "context", "elements": [
            {"type": "mrkdwn", "text": f"…and {hidden} more alert{'s' if hidden > 1 else ''} "
                                       "(all of them are in the audit table)"}
        ]})
    fallback = fit(f"{title}: " + " | ".join(f"[{a.marker}] {a.app_name}: {a.text}" for a in shown),
                   MAX_FALLBACK_CHARS)
    return {"text": fallback, "blocks": blocks}


def minimal(alerts: Sequence[Alert]) -> dict[str, Any]:
    """A message Slack surely accepts (plain fallback text only, short, escaped): sent instead of the
    full one when Slack rejects that (HTTP 400), so the alert still reaches the channel."""
    apps = Counter(alert.app_name for alert in alerts)
    names = ", ".join(f"{fit(app, 60)} ({n})" for app, n in apps.most_common(MAX_CONTEXT_ELEMENTS))
    more = len(apps) - min(len(apps), MAX_CONTEXT_ELEMENTS)
    text = (f"{_summary(alerts)} alert{'s' if len(alerts) > 1 else ''} in {names}"
            f"{f' and {more} more applications' if more else ''}. Slack refused the detailed message; "
            "the full text is in the audit table.")
    return {"text": text[:MAX_FALLBACK_CHARS]}


UNRENDERABLE = ("{marker} alert from {app} could not be shown here (rendering it failed); its full text is in "
                "the audit table, log id {log_id}.")


def _safe(alert: Any, name: str, limit: int) -> str:
    """The field ``name`` of ``alert`` as short escaped text, or ``?``: never raises, whatever the
    alert holds (reading the field may raise anything, not only ``AttributeError``)."""
    try:
        value = getattr(alert, name)
        return fit(value if isinstance(value, str) else "?", limit) or "?"
    except Exception:  # noqa: BLE001 - the notice must be built whatever the alert holds
        return "?"


def unrenderable(alert: Any) -> dict[str, Any]:
    """A message Slack surely accepts for an alert whose full message could not be built: fallback
    text only, at most a few hundred escaped characters, from fields read without raising."""
    return {"text": UNRENDERABLE.format(marker=_safe(alert, "marker", 40), app=_safe(alert, "app_name", MAX_APP_CHARS),
                                        log_id=_safe(alert, "log_id", 80))}


def _renders(alert: Alert, region: str) -> bool:
    """Whether every piece of ``alert`` that ``render`` uses can be built."""
    try:
        render("#probe", [alert], region=region)
        return True
    except Exception:  # noqa: BLE001 - any failure isolates this alert, whatever its cause
        return False


def render_messages(channel: str, alerts: Sequence[Alert], *, region: str,
                    max_messages: int = 5) -> list[tuple[list[Alert], dict[str, Any]]]:
    """The messages for ``alerts`` of one channel, each with the alerts it carries: one message for
    every alert that renders, and for each alert that does not (for whatever reason) its own
    ``unrenderable`` message, so one bad alert never costs the others their full message."""
    good = [alert for alert in alerts if _renders(alert, region)]
    bad = [alert for alert in alerts if not any(alert is g for g in good)]
    messages: list[tuple[list[Alert], dict[str, Any]]] = []
    if good:
        try:
            messages.append((good, render(channel, good, region=region, max_messages=max_messages)))
        except Exception:  # noqa: BLE001 - alerts that render alone but not together: each gets the notice
            bad = list(alerts)
    messages.extend(([alert], unrenderable(alert)) for alert in bad)
    return messages


class WebhookError(RuntimeError):
    """The webhook did not accept the message; ``retryable`` says whether a later retry may succeed."""

    def __init__(self, message: str, *, status: Optional[int] = None, retryable: bool = True) -> None:
        super().__init__(message)
        self.status = status
        self.retryable = retryable


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Refuse every redirect: the 3xx answer surfaces as an ``HTTPError`` (a failed delivery)."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirect())


def open_url(request: urllib.request.Request, *, timeout: float) -> Any:
    """``urlopen`` without redirects (a webhook that redirects is refused, never followed)."""
    return _OPENER.open(request, timeout=timeout)


@dataclass
class Delivery:
    attempts: int = 0
    statuses: list[Any] = field(default_factory=list)
    waited_s: float = 0.0


def _retry_after(value: Optional[str], default: float) -> float:
    try:
        return max(float(value), 0.0) if value is not None else default
    except ValueError:
        return default


def post(
    url: str,
    payload: dict[str, Any],
    *,
    timeout_s: float = 5.0,
    max_attempts: int = 4,
    base_delay_s: float = 0.5,
    max_delay_s: float = 8.0,
    max_retry_after_s: float = 30.0,
    deadline: Optional[float] = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    opener: Callable[..., Any] = open_url,
) -> Delivery:
    """POST ``payload`` as JSON to ``url``; return on 2xx, raise :class:`WebhookError` otherwise.

    ``deadline`` (a ``clock()`` value) stops retrying when the next wait would pass it, so the
    invocation can still record what happened before Lambda's timeout.
    """
    data = sanitize(json.dumps(payload, ensure_ascii=False)).encode("utf-8")
    backoff = Backoff(max_attempts=max_attempts, base_s=base_delay_s, max_s=max_delay_s, jitter=EQUAL)
    delivery = Delivery()
    last_error = "no attempt made"
    status: Optional[int] = None
    for attempt in range(1, backoff.max_attempts + 1):
        delivery.attempts += 1
        wait = backoff.delay(attempt)
        try:
            request = urllib.request.Request(url, data=data, method="POST",
                                             headers={"Content-Type": "application/json; charset=utf-8"})
            with opener(request, timeout=timeout_s) as response:
                response.read()
                delivery.statuses.append(response.status)
                return delivery
        except urllib.error.HTTPError as error:
            status = error.code
            delivery.statuses.append(status)
            error.close()
            if status == 429:
                wait = min(_retry_after(error.headers.get("Retry-After"), wait), max_retry_after_s)
                last_error = "HTTP 429 (rate limited)"
            elif status >= 500:
                last_error = f"HTTP {status}"
            elif 300 <= status < 400:
                raise WebhookError(f"webhook answered HTTP {status} (redirect refused)", status=status,
                                   retryable=False) from None
            else:
                raise WebhookError(f"webhook rejected the message with HTTP {status}", status=status,
                                   retryable=False) from None
        except (ValueError, http.client.InvalidURL):
            # http.client's and urllib's errors about the URL quote it, and it is the secret.
            raise WebhookError("webhook URL is not valid", retryable=False) from None
        except (TimeoutError, socket.timeout) as error:
            delivery.statuses.append("timeout")
            last_error = f"timeout after {timeout_s}s ({type(error).__name__})"
        except urllib.error.URLError as error:
            delivery.statuses.append("unreachable")
            last_error = "timeout" if isinstance(error.reason, (TimeoutError, socket.timeout)) else "connection failed"
        except (ConnectionError, OSError) as error:
            delivery.statuses.append("unreachable")
            last_error = f"connection failed ({type(error).__name__})"
        if attempt >= backoff.max_attempts:
            break
        if deadline is not None and clock() + wait + timeout_s > deadline:
            last_error += "; no time left for another attempt"
            break
        sleep(wait)
        delivery.waited_s += wait
    raise WebhookError(f"webhook failed after {delivery.attempts} attempt(s): {last_error}", status=status)
