"""Webhook subscriptions: CRUD, secret rotation with an overlap window, and test sends."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import JSONResponse, Response

from triggers_server.contract_facts import PAGE_LIMIT_DEFAULT
from triggers_server.domain.cursors import decode_cursor, encode_cursor, int_field
from triggers_server.domain.filters import (
    FieldError,
    json_object,
    raise_for_errors,
    validate_filter,
    validate_type_globs,
)
from triggers_server.domain.principal import Principal
from triggers_server.domain.webhooks.signing import generate_secret, is_valid_secret
from triggers_server.http.auth import require_scope
from triggers_server.http.contract_schemas import parse_contract_model
from triggers_server.http.routes.params import PageCursor, PageLimit
from triggers_server.http.services import services_of
from triggers_server.models._generated import (
    RotateSecretRequest,
    SubscriptionCreate,
    SubscriptionTestRequest,
    SubscriptionUpdate,
)
from triggers_server.problems import ProblemError
from triggers_server.storage.ports.events import EventDraft
from triggers_server.storage.sqlite import deliveries as delivery_store
from triggers_server.storage.sqlite import subscriptions as subscription_store
from triggers_server.storage.sqlite.engine import Transaction
from triggers_server.storage.sqlite.events import insert_event, latest_sequence
from triggers_server.storage.sqlite.subscriptions import SubscriptionRecord

router = APIRouter()

Manager = Annotated[Principal, Depends(require_scope("subscriptions:manage"))]
SubscriptionId = Annotated[str, Path(min_length=1, max_length=255, description="Subscription id (`sub_…`).")]

MAX_METADATA_KEYS = 50
MAX_URL_LENGTH = 2048
TEST_EVENT_SOURCE = "triggers-server"
_CURSOR = "subscriptions"


def _not_found(subscription_id: str) -> ProblemError:
    return ProblemError(404, "not-found", f"No subscription {subscription_id!r} in this account.")


def _check_fields(body: dict[str, Any]) -> None:
    """Semantic checks the JSON Schema cannot express; 422 with pointers."""
    errors: list[FieldError] = []
    url = body.get("url")
    if url is not None and not str(url).startswith(("https://", "http://")):
        errors.append(FieldError("/url", "must be an http:// or https:// URL"))
    elif url is not None and len(str(url)) > MAX_URL_LENGTH:
        errors.append(FieldError("/url", f"at most {MAX_URL_LENGTH} characters"))
    errors.extend(validate_type_globs(body.get("event_types"), "/event_types"))
    if body.get("filter") is not None:
        errors.extend(validate_filter(body["filter"]))
    metadata = json_object(body.get("metadata"))
    if metadata is not None and len(metadata) > MAX_METADATA_KEYS:
        errors.append(FieldError("/metadata", f"at most {MAX_METADATA_KEYS} keys"))
    secret = body.get("secret")
    if secret is not None and not is_valid_secret(secret):
        errors.append(FieldError("/secret", "must be whsec_ followed by valid base64"))
    raise_for_errors(errors)


def _raw(model: SubscriptionCreate | SubscriptionUpdate | RotateSecretRequest) -> dict[str, Any]:
    """The fields the client sent, with wire names (so `filter: null` differs from no filter)."""
    return model.model_dump(mode="json", by_alias=True, exclude_unset=True)


def _json(body: dict[str, Any], status_code: int = 200, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(body, status_code=status_code, headers=headers)


async def _load(request: Request, account_id: str, subscription_id: str) -> SubscriptionRecord:
    found = await services_of(request).db.read(
        lambda conn: subscription_store.get_subscription(conn, account_id, subscription_id)
    )
    if found is None:
        raise _not_found(subscription_id)
    return found


@router.post("/subscriptions")
async def create_subscription(request: Request, principal: Manager) -> JSONResponse:
    body = await parse_contract_model(request, SubscriptionCreate)
    raw = _raw(body)
    _check_fields(raw)
    services = services_of(request)
    account_id = principal.account_id
    now = services.clock.now()

    def write(conn: Transaction) -> SubscriptionRecord:
        delivery_store.init_fanout_mark(conn, account_id, latest_sequence(conn, account_id))
        return subscription_store.insert_subscription(
            conn,
            account_id=account_id,
            url=raw["url"],
            event_types=list(raw.get("event_types") or []),
            filter_expression=raw.get("filter"),
            enabled=bool(raw.get("enabled", True)),
            max_rps=raw.get("max_rps"),
            description=raw.get("description"),
            metadata=dict(raw.get("metadata") or {}),
            secret=raw.get("secret") or generate_secret(),
            now=now,
        )

    record = await services.db.write(write)
    services.delivery.invalidate(account_id)
    return _json(record.to_wire(include_secret=True), 201, {"Location": f"/v1/subscriptions/{record.id}"})


@router.get("/subscriptions")
async def list_subscriptions(
    request: Request, principal: Manager, limit: PageLimit = PAGE_LIMIT_DEFAULT, cursor: PageCursor = None
) -> JSONResponse:
    position = decode_cursor(_CURSOR, cursor)
    before = int_field(position, "s") if position is not None else None
    account_id = principal.account_id
    records = await services_of(request).db.read(
        lambda conn: subscription_store.list_subscriptions(conn, account_id, limit=limit + 1, before_seq=before)
    )
    page = records[:limit]
    next_cursor = encode_cursor(_CURSOR, {"s": page[-1].seq}) if len(records) > limit else None
    return _json({"data": [record.to_wire() for record in page], "next_cursor": next_cursor})


@router.get("/subscriptions/{subscription_id}")
async def get_subscription(request: Request, principal: Manager, subscription_id: SubscriptionId) -> JSONResponse:
    return _json((await _load(request, principal.account_id, subscription_id)).to_wire())


@router.patch("/subscriptions/{subscription_id}")
async def update_subscription(request: Request, principal: Manager, subscription_id: SubscriptionId) -> JSONResponse:
    body = await parse_contract_model(request, SubscriptionUpdate)
    changes = _raw(body)
    _check_fields(changes)
    for required in ("url", "event_types", "enabled", "description", "metadata"):
        if required in changes and changes[required] is None:
            raise_for_errors([FieldError(f"/{required}", "may not be null")])
    services = services_of(request)
    account_id = principal.account_id
    now = services.clock.now()

    def write(conn: Transaction) -> SubscriptionRecord | None:
        updated = subscription_store.update_subscription(conn, account_id, subscription_id, changes, now=now)
        if updated is not None and not updated.enabled:
            delivery_store.discard_active(conn, account_id, subscription_id, reason="subscription disabled", now=now)
        return updated

    record = await services.db.write(write)
    if record is None:
        raise _not_found(subscription_id)
    services.delivery.invalidate(account_id)
    return _json(record.to_wire())


@router.delete("/subscriptions/{subscription_id}")
async def delete_subscription(request: Request, principal: Manager, subscription_id: SubscriptionId) -> Response:
    services = services_of(request)
    account_id = principal.account_id
    now = services.clock.now()

    def write(conn: Transaction) -> bool:
        deleted = subscription_store.delete_subscription(conn, account_id, subscription_id)
        if deleted:
            delivery_store.discard_active(conn, account_id, subscription_id, reason="subscription deleted", now=now)
        return deleted

    if not await services.db.write(write):
        raise _not_found(subscription_id)
    services.delivery.invalidate(account_id)
    return Response(status_code=204)


@router.post("/subscriptions/{subscription_id}/rotate-secret")
async def rotate_secret(
    request: Request,
    principal: Manager,
    subscription_id: SubscriptionId,
) -> JSONResponse:
    options = await parse_contract_model(request, RotateSecretRequest, optional=True)
    raw = _raw(options)
    _check_fields({"secret": raw.get("secret")})
    services = services_of(request)
    account_id = principal.account_id
    now = services.clock.now()
    new_secret = options.secret or generate_secret()
    overlap = options.overlap_seconds if "overlap_seconds" in raw else services.settings.secret_rotation_overlap
    overlap_until = now + timedelta(seconds=overlap)
    record = await services.db.write(
        lambda conn: subscription_store.rotate_secret(
            conn, account_id, subscription_id, new_secret=new_secret, overlap_until=overlap_until, now=now
        )
    )
    if record is None:
        raise _not_found(subscription_id)
    services.delivery.invalidate(account_id)
    return _json(record.to_wire(include_secret=True))


@router.post("/subscriptions/{subscription_id}/test")
async def test_subscription(
    request: Request,
    principal: Manager,
    subscription_id: SubscriptionId,
) -> JSONResponse:
    options = await parse_contract_model(request, SubscriptionTestRequest, optional=True)
    services = services_of(request)
    account_id = principal.account_id
    subscription = await _load(request, account_id, subscription_id)
    if not subscription.enabled:
        raise ProblemError(409, "conflict", f"Subscription {subscription_id!r} is disabled; enable it to test it.")
    now = services.clock.now()
    draft = EventDraft(type=options.type, source=TEST_EVENT_SOURCE, has_data=True, data=options.data)

    def write(conn: Transaction) -> str:
        event = insert_event(conn, account_id, draft, now, inbox=False)
        return services.delivery.send_test_event(conn, account_id, subscription, event)

    delivery_id = await services.db.write(write)
    services.delivery.notify()
    delivery = await services.db.read(lambda conn: delivery_store.get_delivery(conn, account_id, delivery_id))
    assert delivery is not None
    return _json(delivery.to_wire(), 201, {"Location": f"/v1/deliveries/{delivery_id}"})
