"""Webhook deliveries: listing, one delivery with its attempts, manual retry, and an event's deliveries."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response

from triggers_server.contract_facts import PAGE_LIMIT_DEFAULT
from triggers_server.domain.paging import Page
from triggers_server.domain.principal import Principal
from triggers_server.http.auth import require_scope
from triggers_server.http.responses import json_response
from triggers_server.http.routes.params import PageCursor, PageLimit
from triggers_server.http.routes.wire import delivery_wire
from triggers_server.http.services import services_of
from triggers_server.models._generated import DeliveryStatus
from triggers_server.storage.ports.deliveries import DeliveryQuery, DeliveryRecord

router = APIRouter()

Manager = Annotated[Principal, Depends(require_scope("subscriptions:manage"))]
Reader = Annotated[Principal, Depends(require_scope("events:read"))]
DeliveryId = Annotated[str, Path(min_length=1, max_length=255, description="Delivery id (`dlv_…`).")]
EventId = Annotated[str, Path(min_length=1, max_length=255, description="Event id (`evt_…`).")]
Filter = Annotated[str | None, Query(min_length=1)]


def _page(page: Page[DeliveryRecord]) -> Response:
    return json_response({"data": [delivery_wire(record) for record in page.items], "next_cursor": page.next_cursor})


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
    query = DeliveryQuery(subscription_id, event_id, status.value if status is not None else None)
    return _page(
        await services_of(request).deliveries.list_page(principal.account_id, query, limit=limit, cursor=cursor)
    )


@router.get("/deliveries/{delivery_id}")
async def get_delivery(request: Request, principal: Manager, delivery_id: DeliveryId) -> Response:
    record, attempts = await services_of(request).deliveries.get(principal.account_id, delivery_id)
    return json_response(delivery_wire(record, attempts))


@router.post("/deliveries/{delivery_id}/retry")
async def retry_delivery(request: Request, principal: Manager, delivery_id: DeliveryId) -> Response:
    """One immediate manual attempt; 409 when it succeeded or its subscription is gone or disabled."""
    record = await services_of(request).deliveries.retry(principal.account_id, delivery_id)
    return json_response(delivery_wire(record), status=202)


@router.get("/events/{event_id}/deliveries")
async def list_event_deliveries(
    request: Request,
    principal: Reader,
    event_id: EventId,
    limit: PageLimit = PAGE_LIMIT_DEFAULT,
    cursor: PageCursor = None,
) -> Response:
    deliveries = services_of(request).deliveries
    return _page(await deliveries.of_event(principal.account_id, event_id, limit=limit, cursor=cursor))
