"""Alerts as the function sees them, and their DynamoDB items (low-level attribute-value form)."""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timezone
from typing import Any, Mapping, Optional

# DynamoDB items are at most 400 KB; a log event can be up to 256 KB. Keep the stored text well
# below the item limit and say so when it was cut.
MAX_STORED_MESSAGE_CHARS = 32 * 1024
TRUNCATION_NOTE = " …[truncated: {n} more characters]"


@dataclass(frozen=True)
class Alert:
    log_id: str
    epoch_ms: int
    marker: str
    message: str  # the whole log line, redacted (what the table keeps)
    text: str  # what a person reads (the JSON ``message`` field or the line), redacted
    app_name: str
    log_group: str
    log_stream: str
    account: str
    channel: str
    truncated: bool = False
    slack_sent: bool = False
    sns_sent: bool = False

    @property
    def timestamp(self) -> str:
        moment = datetime.fromtimestamp(self.epoch_ms / 1000, tz=timezone.utc)
        return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")

    def with_flags(self, *, slack_sent: Optional[bool] = None, sns_sent: Optional[bool] = None) -> "Alert":
        return replace(
            self,
            slack_sent=self.slack_sent if slack_sent is None else slack_sent,
            sns_sent=self.sns_sent if sns_sent is None else sns_sent,
        )


def cut(text: str, limit: int = MAX_STORED_MESSAGE_CHARS) -> tuple[str, bool]:
    """``text`` within ``limit`` characters, with a note saying how much was cut."""
    if len(text) <= limit:
        return text, False
    note = TRUNCATION_NOTE.format(n=len(text) - limit)
    keep = max(limit - len(note), 0)
    return text[:keep] + TRUNCATION_NOTE.format(n=len(text) - keep), True


def to_item(alert: Alert, *, retention_days: int, sns_enabled: bool, now_s: Optional[float] = None) -> dict[str, Any]:
    """The table item; ``notified`` is true once every configured channel of delivery succeeded."""
    notified = alert.slack_sent and (alert.sns_sent or not sns_enabled)
    expires_from = alert.epoch_ms / 1000 if now_s is None else max(now_s, alert.epoch_ms / 1000)
    item: dict[str, Any] = {
        "log_id": {"S": alert.log_id},
        "timestamp": {"S": alert.timestamp},
        "epoch_ms": {"N": str(alert.epoch_ms)},
        "marker": {"S": alert.marker},
        "message": {"S": alert.message},
        "app_name": {"S": alert.app_name},
        "log_group": {"S": alert.log_group},
        "log_stream": {"S": alert.log_stream},
        "account": {"S": alert.account},
        "channel": {"S": alert.channel},
        "notified": {"BOOL": notified},
        "slack_sent": {"BOOL": alert.slack_sent},
        "sns_sent": {"BOOL": alert.sns_sent},
        "truncated": {"BOOL": alert.truncated},
        "expires_at": {"N": str(int(expires_from + retention_days * 86400))},
    }
    return item


def flags_of(item: Mapping[str, Any]) -> tuple[bool, bool, bool]:
    """``(notified, slack_sent, sns_sent)`` of a stored item (missing flags read as false)."""

    def flag(name: str) -> bool:
        return bool(item.get(name, {}).get("BOOL", False))

    return flag("notified"), flag("slack_sent"), flag("sns_sent")
