"""Demo function of the inventory application: one structured log line per stock check."""
from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger

logger = Logger()


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    sku, left = str(event.get("sku", "unknown")), int(event.get("left", 0))
    if left <= 0:
        logger.critical("[CRITICAL] sku %s is out of stock", sku)
    else:
        logger.info("stock checked", extra={"sku": sku, "left": left})
    return {"sku": sku, "left": left}
