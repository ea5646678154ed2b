"""Demo shop, function 2 of 2: authorizes a payment; an unreachable provider is logged [CRITICAL]."""
from __future__ import annotations

import os
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from demo_app.shop import authorize, correlation_id_of

logger = Logger()
metrics = Metrics()
LIMIT_CENTS = int(os.environ.get("PAYMENT_LIMIT_CENTS", "100000"))


@metrics.log_metrics
@logger.inject_lambda_context
def handler(event: Any, context: Any) -> dict[str, Any]:
    event = event if isinstance(event, dict) else {}
    logger.set_correlation_id(correlation_id_of(event))
    logger.append_keys(order_id=event.get("order_id"))
    outcome, reason = authorize(event, limit_cents=LIMIT_CENTS)
    if outcome == "provider_unreachable":
        logger.critical("[CRITICAL] payment provider unreachable", extra={"reason": reason})
        metrics.add_metric(name="PaymentsFailed", unit=MetricUnit.Count, value=1)
        raise RuntimeError(reason)  # the async invocation is retried by Lambda
    if outcome == "declined":
        logger.warning("payment declined", extra={"reason": reason})
    else:
        logger.info("payment authorized", extra={"amount_cents": event.get("amount_cents")})
    metrics.add_metric(name=f"Payments{outcome.capitalize()}", unit=MetricUnit.Count, value=1)
    return {"status": outcome, "reason": reason}
