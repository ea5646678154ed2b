"""Demo shop, function 1 of 2: accepts an order and asks payments to authorize it (async).

Logs structured JSON (Powertools Logger) with the request's correlation id, which it passes on
to the payments function so that both functions' lines of one request can be joined.
"""
from __future__ import annotations

import json
import os
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from demo_app.shop import InvalidOrder, correlation_id_of, parse_order, payment_request

logger = Logger()
metrics = Metrics()
lambda_client = boto3.client("lambda")
PAYMENTS_FUNCTION = os.environ.get("PAYMENTS_FUNCTION", "")


@metrics.log_metrics
@logger.inject_lambda_context
def handler(event: Any, context: Any) -> dict[str, Any]:
    correlation_id = correlation_id_of(event)
    logger.set_correlation_id(correlation_id)
    try:
        order = parse_order(event)
    except InvalidOrder as error:
        logger.warning("order rejected", extra={"reason": str(error)})
        metrics.add_metric(name="OrdersRejected", unit=MetricUnit.Count, value=1)
        return {"status": "rejected", "reason": str(error), "correlation_id": correlation_id}
    logger.append_keys(order_id=order.order_id)
    logger.info("order received", extra={"customer_id": order.customer_id, "items": order.items,
                                         "total_cents": order.total_cents})
    lambda_client.invoke(FunctionName=PAYMENTS_FUNCTION, InvocationType="Event",
                         Payload=json.dumps(payment_request(order, correlation_id)).encode())
    logger.info("payment requested", extra={"payments_function": PAYMENTS_FUNCTION})
    metrics.add_metric(name="OrdersAccepted", unit=MetricUnit.Count, value=1)
    return {"status": "accepted", "order_id": order.order_id, "correlation_id": correlation_id}
