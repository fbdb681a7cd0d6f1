"""The pull inbox: list, lease (with long poll), ack / nack / extend, and the simple ack by event id."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from triggers_server.contract_facts import PAGE_LIMIT_DEFAULT
from triggers_server.domain.cursors import decode_cursor, encode_cursor, int_field
from triggers_server.domain.principal import Principal
from triggers_server.domain.streaming import wait_for_signal
from triggers_server.globs import validate_globs
from triggers_server.http.auth import authorize, require_scope
from triggers_server.http.contract_schemas import parse_contract_model
from triggers_server.http.idempotency import IdempotencyContext
from triggers_server.http.responses import json_response
from triggers_server.http.routes.params import PageCursor, PageLimit
from triggers_server.http.services import services_of
from triggers_server.jsoncodec import dumps
from triggers_server.models._generated import AckRequest, ExtendRequest, LeaseRequest, NackRequest
from triggers_server.problems import ProblemError
from triggers_server.storage.sqlite import inbox as store

router = APIRouter()
Consumer = Annotated[Principal, Depends(require_scope("inbox:consume"))]
INBOX_CURSOR = "inbox"
JSON_HEADERS = [("content-type", "application/json")]


def _dumps(value: Any) -> bytes:
    return dumps(value)


def _json(payload: bytes) -> Response:
    return json_response(payload)


def _idempotency(request: Request) -> IdempotencyContext | None:
    context = request.scope.get("state", {}).get("idempotency")
    return context if isinstance(context, IdempotencyContext) else None


@router.get("/inbox")
async def list_inbox(
    request: Request,
    principal: Consumer,
    type: Annotated[list[str] | None, Query()] = None,
    limit: PageLimit = PAGE_LIMIT_DEFAULT,
    cursor: PageCursor = None,
) -> Response:
    services = services_of(request)
    position = decode_cursor(INBOX_CURSOR, cursor)
    after = int_field(position, "s") if position is not None else 0
    globs = validate_globs(type or [], field="type")
    now = services.clock.now()
    account_id = principal.account_id
    events = await services.db.read(
        lambda conn: store.list_pending(conn, account_id, types=globs, after_sequence=after, limit=limit + 1, now=now)
    )
    next_cursor = None
    if len(events) > limit:
        events = events[:limit]
        next_cursor = encode_cursor(INBOX_CURSOR, {"s": events[-1]["sequence"]})
    return _json(_dumps({"data": events, "next_cursor": next_cursor}))


@router.post("/inbox/lease")
async def lease_inbox(request: Request) -> Response:
    principal = authorize(request, "inbox:consume")
    services = services_of(request)
    options = await parse_contract_model(request, LeaseRequest, optional=True)
    globs = validate_globs([glob.root for glob in options.types or []], field="types")
    account_id = principal.account_id
    context = _idempotency(request)
    clock = services.clock
    deadline = clock.now().timestamp() + options.wait
    while True:
        signal = services.hub.signal(account_id)  # taken before the read, so no wake-up is lost
        now = clock.now()
        final = now.timestamp() >= deadline

        def write(conn: Any, now: Any = now, final: bool = final) -> tuple[store.LeaseResult, bytes | None]:
            result = store.lease(
                conn,
                account_id,
                max_events=options.max_events,
                visibility_timeout=options.visibility_timeout,
                types=globs,
                now=now,
                default_max_deliveries=services.settings.max_deliveries,
            )
            if not result.messages and not final:
                return result, None
            payload = _dumps(
                {
                    "lease_id": result.lease_id,
                    "leased_until": result.leased_until,
                    "messages": result.messages,
                }
            )
            if context is not None:
                context.record(conn, status_code=200, headers=JSON_HEADERS, body=payload, resource_id=result.lease_id)
            return result, payload

        result, payload = await services.db.write(write)
        if payload is not None:
            return _json(payload)
        remaining = deadline - now.timestamp()
        if result.next_visible_at is not None:
            remaining = min(remaining, max(0.0, result.next_visible_at - now.timestamp()))
        await wait_for_signal(signal, clock, remaining)


def _results(results: list[dict[str, Any]]) -> Response:
    return _json(_dumps({"results": results}))


@router.post("/inbox/ack")
async def ack_inbox(request: Request) -> Response:
    principal = authorize(request, "inbox:consume")
    services = services_of(request)
    body = await parse_contract_model(request, AckRequest)
    receipts = [receipt.root for receipt in body.receipts]
    now = services.clock.now()
    account_id = principal.account_id
    return _results(await services.db.write(lambda conn: store.ack(conn, account_id, receipts, now)))


@router.post("/inbox/nack")
async def nack_inbox(request: Request) -> Response:
    principal = authorize(request, "inbox:consume")
    services = services_of(request)
    body = await parse_contract_model(request, NackRequest)
    receipts = [receipt.root for receipt in body.receipts]
    now = services.clock.now()
    account_id = principal.account_id
    results = await services.db.write(lambda conn: store.nack(conn, account_id, receipts, body.delay, now))
    if body.delay == 0 and any(result["status"] == "ok" for result in results):
        services.hub.publish(account_id, [])  # wake long polls: events are visible again
    return _results(results)


@router.post("/inbox/extend")
async def extend_inbox(request: Request) -> Response:
    principal = authorize(request, "inbox:consume")
    services = services_of(request)
    body = await parse_contract_model(request, ExtendRequest)
    receipts = [receipt.root for receipt in body.receipts]
    now = services.clock.now()
    account_id = principal.account_id
    return _results(
        await services.db.write(lambda conn: store.extend(conn, account_id, receipts, body.visibility_timeout, now))
    )


@router.post("/events/{event_id}/ack", status_code=204)
async def ack_event(request: Request, principal: Consumer, event_id: str) -> Response:
    services = services_of(request)
    now = services.clock.now()
    account_id = principal.account_id
    outcome = await services.db.write(lambda conn: store.ack_event(conn, account_id, event_id, now))
    if outcome == "not_found":
        raise ProblemError(404, "not-found", f"No event {event_id!r} in this account.")
    if outcome == "dead_lettered":
        raise ProblemError(409, "conflict", f"Event {event_id!r} was dead-lettered; retry it from the DLQ instead.")
    return Response(status_code=204)
