"""The demo shop of the example app: pure order/payment logic and its two thin handlers."""
from __future__ import annotations

import io
import json
from dataclasses import dataclass
from typing import Any

import pytest

from demo_app import checkout, payments
from demo_app.shop import InvalidOrder, Order, authorize, correlation_id_of, parse_order, payment_request
from tests.support.emulator import Emulator
from tests.support.fault_proxy import Response

ORDER = {"order_id": "o-1", "customer_id": "c-7", "correlation_id": "corr-abc",
         "items": [{"price_cents": 1250, "quantity": 2}, {"price_cents": 499}]}


@dataclass
class Context:
    function_name: str = "shop-checkout"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:shop-checkout"
    aws_request_id: str = "req-1"


class Captured:
    def __init__(self) -> None:
        self.buffer = io.StringIO()

    def lines(self) -> list[dict[str, Any]]:
        """The JSON log lines written so far (metrics' EMF lines have no "message")."""
        return [line for line in map(json.loads, self.buffer.getvalue().splitlines()) if "message" in line]


@pytest.fixture
def logs() -> Captured:
    """What the two functions' Powertools loggers write (their handlers keep the stdout of import time)."""
    captured = Captured()
    previous = [(logger, logger.registered_handler.setStream(captured.buffer))
                for logger in (checkout.logger, payments.logger)]
    yield captured
    for logger, stream in previous:
        logger.registered_handler.setStream(stream)


def test_parse_order_totals_the_items() -> None:
    assert parse_order(ORDER) == Order(order_id="o-1", customer_id="c-7", total_cents=2999, items=2)


@pytest.mark.parametrize("event, message", [
    ([], "event must be an object, got list"),
    ({**ORDER, "order_id": ""}, "order_id must be a non-empty string"),
    ({**ORDER, "customer_id": 7}, "customer_id must be a non-empty string"),
    ({**ORDER, "items": []}, "items must be a list of 1 to 100 items"),
    ({**ORDER, "items": [{"price_cents": "12"}]}, "items[0] needs an integer price_cents >= 0 and quantity >= 1"),
])
def test_malformed_orders_name_the_problem(event: Any, message: str) -> None:
    with pytest.raises(InvalidOrder) as error:
        parse_order(event)
    assert str(error.value) == message


def test_correlation_id_is_kept_or_made() -> None:
    assert correlation_id_of({"correlation_id": "corr-x"}) == "corr-x"
    made = correlation_id_of({})
    assert made.startswith("corr-") and made != correlation_id_of({})


@pytest.mark.parametrize("request_, outcome", [
    ({"customer_id": "c", "amount_cents": 100}, "authorized"),
    ({"customer_id": "c", "amount_cents": 100_001}, "declined"),
    ({"customer_id": "c", "amount_cents": -1}, "declined"),
    ({"customer_id": "outage-1", "amount_cents": 100}, "provider_unreachable"),
])
def test_authorize(request_: dict[str, Any], outcome: str) -> None:
    assert authorize(request_, limit_cents=100_000)[0] == outcome


def test_checkout_passes_the_correlation_id_to_payments(aws: Emulator, logs: Captured,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN Lambda's Invoke API answers 202 (the proxy stands in for it) and records the payload
    invoked: list[dict[str, Any]] = []

    def accept(request: Any, forward: Any) -> Response:
        invoked.append({"path": request.path, "type": request.headers.get("x-amz-invocation-type"),
                        "payload": json.loads(request.body)})
        return Response(202, {"Content-Type": "application/json"}, b"")

    aws.proxy.add("POST /2015-03-31/functions/shop-payments/invocations", accept)
    monkeypatch.setattr(checkout, "PAYMENTS_FUNCTION", "shop-payments")

    # WHEN a valid order is checked out
    result = checkout.handler(ORDER, Context())

    # THEN payments is invoked asynchronously with the order's amount and the same correlation id
    assert result == {"status": "accepted", "order_id": "o-1", "correlation_id": "corr-abc"}
    assert invoked == [{"path": "/2015-03-31/functions/shop-payments/invocations", "type": "Event",
                        "payload": payment_request(parse_order(ORDER), "corr-abc")}]
    # AND every log line is structured JSON carrying the correlation id and the order id
    lines = logs.lines()
    assert [line["message"] for line in lines] == ["order received", "payment requested"]
    assert all(line["correlation_id"] == "corr-abc" and line["order_id"] == "o-1" for line in lines)


def test_checkout_rejects_a_malformed_order_without_calling_payments(aws: Emulator, logs: Captured) -> None:
    result = checkout.handler({"order_id": "o-2", "correlation_id": "corr-bad"}, Context())
    assert result["status"] == "rejected" and result["correlation_id"] == "corr-bad"
    assert not [op for op in aws.proxy.calls if "invocations" in op]
    (line,) = logs.lines()
    assert line["level"] == "WARNING" and line["reason"] == "customer_id must be a non-empty string"


def test_payments_logs_critical_when_the_provider_is_down(logs: Captured) -> None:
    # GIVEN a payment request of a customer the demo provider cannot serve
    event = {"order_id": "o-3", "customer_id": "outage-9", "amount_cents": 10, "correlation_id": "corr-3"}
    # WHEN payments handles it THEN it fails (Lambda retries) and logs a [CRITICAL] line for the alerts
    with pytest.raises(RuntimeError):
        payments.handler(event, Context(function_name="shop-payments"))
    (line,) = logs.lines()
    assert line["level"] == "CRITICAL" and line["message"].startswith("[CRITICAL]")
    assert line["correlation_id"] == "corr-3" and line["order_id"] == "o-3"
