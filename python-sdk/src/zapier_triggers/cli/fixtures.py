"""Built-in test events for `triggers trigger <fixture>`, one per common webhook type (like `stripe trigger`).

Every send builds fresh ids and timestamps, so two triggers of the same fixture are two events.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

__all__ = ["FIXTURES", "Fixture"]


def _id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(6)}"


def _at(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Fixture:
    """``data(now)`` is the payload; ``subject`` names what the event is about, from that payload."""

    type: str
    description: str
    data: Callable[[datetime], dict[str, Any]]
    subject: Callable[[dict[str, Any]], str]


def _order(now: datetime) -> dict[str, Any]:
    return {
        "order_id": _id("ord"),
        "customer_id": _id("cus"),
        "currency": "USD",
        "total_cents": 4200,
        "items": [{"sku": "sku_tshirt", "quantity": 2, "unit_price_cents": 2100}],
        "created_at": _at(now),
    }


def _payment(now: datetime, *, failed: bool) -> dict[str, Any]:
    data: dict[str, Any] = {
        "payment_id": _id("pay"),
        "order_id": _id("ord"),
        "amount_cents": 4200,
        "currency": "USD",
        "method": "card",
        "status": "failed" if failed else "succeeded",
        "attempted_at": _at(now),
    }
    if failed:
        data["failure"] = {"code": "card_declined", "message": "Your card was declined."}
    return data


_FIXTURES = [
    Fixture("order.created", "A customer placed an order.", _order, lambda d: f"order/{d['order_id']}"),
    Fixture(
        "order.paid",
        "An order was paid in full.",
        lambda now: {**_order(now), "paid_at": _at(now)},
        lambda d: f"order/{d['order_id']}",
    ),
    Fixture(
        "order.refunded",
        "An order was refunded.",
        lambda now: {**_order(now), "refunded_cents": 4200, "reason": "requested_by_customer"},
        lambda d: f"order/{d['order_id']}",
    ),
    Fixture(
        "payment.succeeded",
        "A card payment went through.",
        lambda now: _payment(now, failed=False),
        lambda d: f"payment/{d['payment_id']}",
    ),
    Fixture(
        "payment.failed",
        "A card payment was declined.",
        lambda now: _payment(now, failed=True),
        lambda d: f"payment/{d['payment_id']}",
    ),
    Fixture(
        "user.signed_up",
        "A new user created an account.",
        lambda now: {
            "user_id": _id("usr"),
            "email": "new.user@example.com",
            "name": "New User",
            "plan": "free",
            "signed_up_at": _at(now),
        },
        lambda d: f"user/{d['user_id']}",
    ),
    Fixture(
        "user.deleted",
        "A user deleted their account.",
        lambda now: {"user_id": _id("usr"), "deleted_at": _at(now), "reason": "user_request"},
        lambda d: f"user/{d['user_id']}",
    ),
    Fixture(
        "invoice.paid",
        "An invoice was paid.",
        lambda now: {
            "invoice_id": _id("inv"),
            "customer_id": _id("cus"),
            "amount_due_cents": 9900,
            "amount_paid_cents": 9900,
            "currency": "USD",
            "period_start": _at(now - timedelta(days=30)),
            "period_end": _at(now),
        },
        lambda d: f"invoice/{d['invoice_id']}",
    ),
    Fixture(
        "subscription.canceled",
        "A customer canceled a plan.",
        lambda now: {
            "subscription_id": _id("subp"),
            "customer_id": _id("cus"),
            "plan": "pro",
            "cancel_at_period_end": True,
            "canceled_at": _at(now),
        },
        lambda d: f"subscription/{d['subscription_id']}",
    ),
    Fixture(
        "cart.abandoned",
        "A cart was left without checking out.",
        lambda now: {
            "cart_id": _id("cart"),
            "customer_id": _id("cus"),
            "items": [{"sku": "sku_mug", "quantity": 1, "unit_price_cents": 1500}],
            "abandoned_at": _at(now),
        },
        lambda d: f"cart/{d['cart_id']}",
    ),
]

FIXTURES: dict[str, Fixture] = {fixture.type: fixture for fixture in _FIXTURES}
"""By name; the name is the event type it sends."""
