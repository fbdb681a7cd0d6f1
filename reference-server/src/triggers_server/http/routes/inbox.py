"""The pull inbox: list, lease (with long poll), ack / nack / extend, and the simple ack by event id."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from triggers_server.contract_facts import PAGE_LIMIT_DEFAULT
from triggers_server.domain.principal import Principal
from triggers_server.globs import validate_globs
from triggers_server.http.auth import authorize, require_scope
from triggers_server.http.contract_schemas import parse_contract_model
from triggers_server.http.idempotency import ticket_of
from triggers_server.http.responses import json_response
from triggers_server.http.routes.params import PageCursor, PageLimit
from triggers_server.http.services import services_of
from triggers_server.jsoncodec import dumps
from triggers_server.models._generated import AckRequest, ExtendRequest, LeaseRequest, NackRequest
from triggers_server.storage.ports.idempotency import Reply
from triggers_server.storage.ports.inbox import LeaseResult, ReceiptOutcome

router = APIRouter()
Consumer = Annotated[Principal, Depends(require_scope("inbox:consume"))]
JSON_HEADERS = (("content-type", "application/json"),)


def _json(payload: bytes) -> Response:
    return json_response(payload)


@router.get("/inbox")
async def list_inbox(
    request: Request,
    principal: Consumer,
    type: Annotated[list[str] | None, Query()] = None,
    limit: PageLimit = PAGE_LIMIT_DEFAULT,
    cursor: PageCursor = None,
) -> Response:
    globs = validate_globs(type or [], field="type")
    page = await services_of(request).inbox.page(principal, types=globs, limit=limit, cursor=cursor)
    return _json(dumps({"data": page.events, "next_cursor": page.next_cursor}))


def _leased(result: LeaseResult) -> Reply:
    payload = dumps({"lease_id": result.lease_id, "leased_until": result.leased_until, "messages": result.messages})
    return Reply(200, JSON_HEADERS, payload, result.lease_id)


@router.post("/inbox/lease")
async def lease_inbox(request: Request) -> Response:
    principal = authorize(request, "inbox:consume")
    options = await parse_contract_model(request, LeaseRequest, optional=True)
    globs = validate_globs([glob.root for glob in options.types or []], field="types")
    reply = await services_of(request).inbox.lease(
        principal,
        max_events=options.max_events,
        visibility_timeout=options.visibility_timeout,
        types=globs,
        wait=options.wait,
        respond=_leased,
        ticket=ticket_of(request),
    )
    return _json(reply.body)


def _results(results: list[ReceiptOutcome]) -> Response:
    return _json(dumps({"results": [{"receipt": r.receipt, "status": r.status, "detail": r.detail} for r in results]}))


@router.post("/inbox/ack")
async def ack_inbox(request: Request) -> Response:
    principal = authorize(request, "inbox:consume")
    body = await parse_contract_model(request, AckRequest)
    return _results(await services_of(request).inbox.ack(principal, [receipt.root for receipt in body.receipts]))


@router.post("/inbox/nack")
async def nack_inbox(request: Request) -> Response:
    principal = authorize(request, "inbox:consume")
    body = await parse_contract_model(request, NackRequest)
    receipts = [receipt.root for receipt in body.receipts]
    return _results(await services_of(request).inbox.nack(principal, receipts, body.delay))


@router.post("/inbox/extend")
async def extend_inbox(request: Request) -> Response:
    principal = authorize(request, "inbox:consume")
    body = await parse_contract_model(request, ExtendRequest)
    receipts = [receipt.root for receipt in body.receipts]
    return _results(await services_of(request).inbox.extend(principal, receipts, body.visibility_timeout))


@router.post("/events/{event_id}/ack", status_code=204)
async def ack_event(request: Request, principal: Consumer, event_id: str) -> Response:
    await services_of(request).inbox.ack_event(principal, event_id)
    return Response(status_code=204)
