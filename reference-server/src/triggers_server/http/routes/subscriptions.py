"""Webhook subscriptions: CRUD, secret rotation with an overlap window, and test sends."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import Response

from triggers_server.contract_facts import PAGE_LIMIT_DEFAULT
from triggers_server.domain.principal import Principal
from triggers_server.http.auth import require_scope
from triggers_server.http.contract_schemas import parse_contract_model
from triggers_server.http.responses import json_response
from triggers_server.http.routes.params import PageCursor, PageLimit
from triggers_server.http.routes.wire import delivery_wire, subscription_wire
from triggers_server.http.services import services_of
from triggers_server.models._generated import (
    RotateSecretRequest,
    SubscriptionCreate,
    SubscriptionTestRequest,
    SubscriptionUpdate,
)

router = APIRouter()

Manager = Annotated[Principal, Depends(require_scope("subscriptions:manage"))]
SubscriptionId = Annotated[str, Path(min_length=1, max_length=255, description="Subscription id (`sub_…`).")]


def _raw(model: SubscriptionCreate | SubscriptionUpdate | RotateSecretRequest) -> dict[str, Any]:
    """The fields the client sent, with wire names (so `filter: null` differs from no filter)."""
    return model.model_dump(mode="json", by_alias=True, exclude_unset=True)


@router.post("/subscriptions")
async def create_subscription(request: Request, principal: Manager) -> Response:
    body = await parse_contract_model(request, SubscriptionCreate)
    record = await services_of(request).subscriptions.create(principal.account_id, _raw(body))
    return json_response(
        subscription_wire(record, include_secret=True),
        status=201,
        headers={"Location": f"/v1/subscriptions/{record.id}"},
    )


@router.get("/subscriptions")
async def list_subscriptions(
    request: Request, principal: Manager, limit: PageLimit = PAGE_LIMIT_DEFAULT, cursor: PageCursor = None
) -> Response:
    page = await services_of(request).subscriptions.list_page(principal.account_id, limit=limit, cursor=cursor)
    return json_response(
        {"data": [subscription_wire(record) for record in page.items], "next_cursor": page.next_cursor}
    )


@router.get("/subscriptions/{subscription_id}")
async def get_subscription(request: Request, principal: Manager, subscription_id: SubscriptionId) -> Response:
    record = await services_of(request).subscriptions.get(principal.account_id, subscription_id)
    return json_response(subscription_wire(record))


@router.patch("/subscriptions/{subscription_id}")
async def update_subscription(request: Request, principal: Manager, subscription_id: SubscriptionId) -> Response:
    body = await parse_contract_model(request, SubscriptionUpdate)
    record = await services_of(request).subscriptions.update(principal.account_id, subscription_id, _raw(body))
    return json_response(subscription_wire(record))


@router.delete("/subscriptions/{subscription_id}")
async def delete_subscription(request: Request, principal: Manager, subscription_id: SubscriptionId) -> Response:
    await services_of(request).subscriptions.delete(principal.account_id, subscription_id)
    return Response(status_code=204)


@router.post("/subscriptions/{subscription_id}/rotate-secret")
async def rotate_secret(request: Request, principal: Manager, subscription_id: SubscriptionId) -> Response:
    options = await parse_contract_model(request, RotateSecretRequest, optional=True)
    raw = _raw(options)
    record = await services_of(request).subscriptions.rotate_secret(
        principal.account_id,
        subscription_id,
        secret=raw.get("secret"),
        overlap_seconds=options.overlap_seconds if "overlap_seconds" in raw else None,
    )
    return json_response(subscription_wire(record, include_secret=True))


@router.post("/subscriptions/{subscription_id}/test")
async def test_subscription(request: Request, principal: Manager, subscription_id: SubscriptionId) -> Response:
    options = await parse_contract_model(request, SubscriptionTestRequest, optional=True)
    delivery = await services_of(request).subscriptions.send_test(
        principal.account_id, subscription_id, event_type=options.type, data=options.data
    )
    return json_response(delivery_wire(delivery), status=201, headers={"Location": f"/v1/deliveries/{delivery.id}"})
