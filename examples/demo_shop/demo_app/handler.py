"""Demo function of the example app: logs one structured event per order, criticals as [CRITICAL]."""
from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger

logger = Logger()


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    order_id = str(event.get("order_id", "unknown"))
    logger.append_keys(order_id=order_id, correlation_id=event.get("correlation_id"))
    if event.get("payment_failed"):
        logger.critical("[CRITICAL] payment provider unreachable for order %s", order_id)
        return {"status": "failed"}
    logger.info("order accepted", extra={"items": len(event.get("items", []))})
    return {"status": "accepted"}
