"""Webhook deliveries: listing, one delivery with its attempts, manual retry, and an event's deliveries."""

from __future__ import annotations

import sqlite3
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response

from triggers_server.contract_facts import PAGE_LIMIT_DEFAULT
from triggers_server.domain.cursors import decode_cursor, encode_cursor, int_field
from triggers_server.http.auth import Principal, require_scope
from triggers_server.http.responses import json_response
from triggers_server.http.routes.params import PageCursor, PageLimit
from triggers_server.http.services import services_of
from triggers_server.models._generated import DeliveryStatus
from triggers_server.problems import ProblemError
from triggers_server.storage.sqlite import deliveries as delivery_store
from triggers_server.storage.sqlite import subscriptions as subscription_store
from triggers_server.storage.sqlite.deliveries import DeliveryRecord
from triggers_server.storage.sqlite.events import get_event

router = APIRouter()

Manager = Annotated[Principal, Depends(require_scope("subscriptions:manage"))]
Reader = Annotated[Principal, Depends(require_scope("events:read"))]
DeliveryId = Annotated[str, Path(min_length=1, max_length=255, description="Delivery id (`dlv_…`).")]
EventId = Annotated[str, Path(min_length=1, max_length=255, description="Event id (`evt_…`).")]
Filter = Annotated[str | None, Query(min_length=1)]

_CURSOR = "deliveries"
_EVENT_CURSOR = "event-deliveries"


def _page(records: list[DeliveryRecord], limit: int, kind: str) -> Response:
    page = records[:limit]
    next_cursor = encode_cursor(kind, {"s": page[-1].seq}) if len(records) > limit else None
    return json_response({"data": [record.to_wire() for record in page], "next_cursor": next_cursor})


def _before(kind: str, cursor: str | None) -> int | None:
    position = decode_cursor(kind, cursor)
    return int_field(position, "s") if position is not None else None


@router.get("/deliveries")
async def list_deliveries(
    request: Request,
    principal: Manager,
    subscription_id: Filter = None,
    event_id: Filter = None,
    status: DeliveryStatus | None = None,
    limit: PageLimit = PAGE_LIMIT_DEFAULT,
    cursor: PageCursor = None,
) -> Response:
    before = _before(_CURSOR, cursor)
    account_id = principal.account_id
    records = await services_of(request).db.read(
        lambda conn: delivery_store.list_deliveries(
            conn,
            account_id,
            limit=limit + 1,
            before_seq=before,
            subscription_id=subscription_id,
            event_id=event_id,
            status=status.value if status is not None else None,
        )
    )
    return _page(records, limit, _CURSOR)


@router.get("/deliveries/{delivery_id}")
async def get_delivery(request: Request, principal: Manager, delivery_id: DeliveryId) -> Response:
    account_id = principal.account_id

    def read(conn: sqlite3.Connection) -> tuple[DeliveryRecord | None, list[delivery_store.AttemptRecord]]:
        record = delivery_store.get_delivery(conn, account_id, delivery_id)
        return record, delivery_store.list_attempts(conn, delivery_id) if record is not None else []

    record, attempts = await services_of(request).db.read(read)
    if record is None:
        raise ProblemError(404, "not-found", f"No delivery {delivery_id!r} in this account.")
    return json_response(record.to_wire(attempts))


@router.post("/deliveries/{delivery_id}/retry")
async def retry_delivery(request: Request, principal: Manager, delivery_id: DeliveryId) -> Response:
    """One immediate manual attempt; 409 when the subscription is gone or disabled."""
    services = services_of(request)
    account_id = principal.account_id
    record = await services.db.read(lambda conn: delivery_store.get_delivery(conn, account_id, delivery_id))
    if record is None:
        raise ProblemError(404, "not-found", f"No delivery {delivery_id!r} in this account.")
    subscription = await services.db.read(
        lambda conn: subscription_store.get_subscription(conn, account_id, record.subscription_id)
    )
    if subscription is None or not subscription.enabled:
        state = "deleted" if subscription is None else "disabled"
        raise ProblemError(409, "conflict", f"Subscription {record.subscription_id!r} is {state}; enable it first.")
    await services.delivery.retry_now(record)
    refreshed = await services.db.read(lambda conn: delivery_store.get_delivery(conn, account_id, delivery_id))
    assert refreshed is not None
    return json_response(refreshed.to_wire(), status=202)


@router.get("/events/{event_id}/deliveries")
async def list_event_deliveries(
    request: Request,
    principal: Reader,
    event_id: EventId,
    limit: PageLimit = PAGE_LIMIT_DEFAULT,
    cursor: PageCursor = None,
) -> Response:
    services = services_of(request)
    before = _before(_EVENT_CURSOR, cursor)
    account_id = principal.account_id
    now = services.clock.now()
    if await services.db.read(lambda conn: get_event(conn, account_id, event_id, now)) is None:
        raise ProblemError(404, "not-found", f"No event {event_id!r} in this account.")
    records = await services.db.read(
        lambda conn: delivery_store.list_deliveries(
            conn, account_id, limit=limit + 1, before_seq=before, event_id=event_id
        )
    )
    return _page(records, limit, _EVENT_CURSOR)
