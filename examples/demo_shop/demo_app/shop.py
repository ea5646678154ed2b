"""Pure logic of the demo shop service (checkout + payments), shared by its two functions."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any, Mapping

MAX_ITEMS = 100


class InvalidOrder(ValueError):
    """The checkout event is not a usable order; the message says which field and why."""


@dataclass(frozen=True)
class Order:
    order_id: str
    customer_id: str
    total_cents: int
    items: int


def correlation_id_of(event: Mapping[str, Any]) -> str:
    """The caller's ``correlation_id``, or a new one: every log line of a request carries it."""
    value = event.get("correlation_id") if isinstance(event, Mapping) else None
    return value if isinstance(value, str) and value else f"corr-{uuid.uuid4()}"


def parse_order(event: Any) -> Order:
    """An :class:`Order` from a checkout event, or :class:`InvalidOrder` naming the problem."""
    if not isinstance(event, Mapping):
        raise InvalidOrder(f"event must be an object, got {type(event).__name__}")
    order_id, customer_id, items = event.get("order_id"), event.get("customer_id"), event.get("items")
    if not isinstance(order_id, str) or not order_id:
        raise InvalidOrder("order_id must be a non-empty string")
    if not isinstance(customer_id, str) or not customer_id:
        raise InvalidOrder("customer_id must be a non-empty string")
    if not isinstance(items, list) or not 1 <= len(items) <= MAX_ITEMS:
        raise InvalidOrder(f"items must be a list of 1 to {MAX_ITEMS} items")
    total = 0
    for index, item in enumerate(items):
        price, quantity = (item.get("price_cents"), item.get("quantity", 1)) if isinstance(item, Mapping) else (None, None)
        if not isinstance(price, int) or price < 0 or not isinstance(quantity, int) or quantity < 1:
            raise InvalidOrder(f"items[{index}] needs an integer price_cents >= 0 and quantity >= 1")
        total += price * quantity
    return Order(order_id=order_id, customer_id=customer_id, total_cents=total, items=len(items))


def payment_request(order: Order, correlation_id: str) -> dict[str, Any]:
    """What checkout asks the payments function to authorize (the correlation id travels along)."""
    return {"order_id": order.order_id, "customer_id": order.customer_id, "amount_cents": order.total_cents,
            "correlation_id": correlation_id}


def authorize(request: Mapping[str, Any], *, limit_cents: int) -> tuple[str, str]:
    """``("authorized" | "declined" | "provider_unreachable", reason)`` for a payment request.

    The demo provider declines amounts over ``limit_cents`` and is "unreachable" for customers
    whose id starts with ``outage`` (so the alert path can be exercised on demand).
    """
    amount = request.get("amount_cents")
    if not isinstance(amount, int) or amount < 0:
        return "declined", "amount_cents must be a non-negative integer"
    if str(request.get("customer_id", "")).startswith("outage"):
        return "provider_unreachable", "payment provider did not answer"
    if amount > limit_cents:
        return "declined", f"amount {amount} over the limit of {limit_cents}"
    return "authorized", "ok"
