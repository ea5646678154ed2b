"""The Lambda events CloudWatch Logs subscription filters send, built for tests and benchmarks."""
from __future__ import annotations

import base64
import gzip
import json
from typing import Any, Mapping

from log_subscription import DATA_MESSAGE


def encode_payload(log_group: str, log_stream: str, events: list[Mapping[str, Any]], *,
                   owner: str = "123456789012", message_type: str = DATA_MESSAGE,
                   filters: tuple[str, ...] = ("log-constructs",)) -> dict[str, Any]:
    """The Lambda event CloudWatch Logs would send for ``events``."""
    body = {"messageType": message_type, "owner": owner, "logGroup": log_group, "logStream": log_stream,
            "subscriptionFilters": list(filters), "logEvents": list(events)}
    data = base64.b64encode(gzip.compress(json.dumps(body).encode("utf-8"))).decode("ascii")
    return {"awslogs": {"data": data}}
