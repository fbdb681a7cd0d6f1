"""Event ingestion (native, CloudEvents structured/binary, batches), listing, lookup and correlations."""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from triggers_server.contract_facts import PAGE_LIMIT_DEFAULT
from triggers_server.domain.errors import DomainError, UnsupportedMediaType
from triggers_server.domain.events import BatchOutcome
from triggers_server.domain.ingest import (
    CE_BATCH,
    CE_STRUCTURED,
    JSON,
    InvalidCloudEvent,
    binary_draft,
    cloudevents_batch,
    invalid_cloudevent_problem,
    media_type,
    native_batch,
    native_draft,
    parse_rfc3339,
    structured_draft,
)
from triggers_server.domain.principal import Principal
from triggers_server.domain.sagas import saga_of
from triggers_server.globs import validate_globs
from triggers_server.http.auth import authorize, require_scope
from triggers_server.http.bodies import parse_json, read_body
from triggers_server.http.idempotency import ticket_of
from triggers_server.http.problem_handlers import domain_problem
from triggers_server.http.responses import json_response
from triggers_server.http.routes.params import PageCursor, PageLimit
from triggers_server.http.services import services_of
from triggers_server.jsoncodec import dumps
from triggers_server.problems import ProblemError, request_id_of
from triggers_server.storage.ports.events import EventDraft, EventQuery
from triggers_server.storage.ports.idempotency import Reply

router = APIRouter()

Reader = Annotated[Principal, Depends(require_scope("events:read"))]
JSON_HEADERS = (("content-type", "application/json"),)


def single_draft(request: Request, body: bytes) -> EventDraft:
    """Pick the mode: binary when `ce-specversion` is present, else by Content-Type."""
    content_type = request.headers.get("content-type")
    if "ce-specversion" in request.headers:
        try:
            return binary_draft(list(request.headers.items()), content_type, body)
        except InvalidCloudEvent as error:
            raise invalid_cloudevent_problem(error) from error
    kind = media_type(content_type)
    if kind == CE_STRUCTURED:
        try:
            return structured_draft(parse_json(body))
        except InvalidCloudEvent as error:
            raise invalid_cloudevent_problem(error) from error
    if kind == JSON:
        return native_draft(parse_json(body))
    raise UnsupportedMediaType(
        f"POST /events accepts {JSON} (native), {CE_STRUCTURED} (structured) or any media type with ce-* headers "
        f"(binary mode); got {kind or 'no Content-Type'}."
    )


def _created(event: dict[str, Any]) -> Reply:
    # A replay of this request answers 200 (the contract's "idempotent replay" status).
    return Reply(201, JSON_HEADERS, dumps(event), event["id"], replay_status=200)


@router.post("/events", status_code=201)
async def create_event(request: Request) -> Response:
    started = time.perf_counter()
    principal = authorize(request, "events:write")
    services = services_of(request)
    draft = single_draft(request, await read_body(request, services.settings.max_event_bytes))
    event, reply = await services.events.ingest(
        principal, draft, respond=_created, ticket=ticket_of(request), started=started
    )
    return json_response(reply.body, 201, {"Location": f"/v1/events/{event['id']}"})


def _problem_body(problem: DomainError, *, instance: str, request_id: str) -> dict[str, Any]:
    error = domain_problem(problem)
    return error.body(instance=instance, request_id=request_id)


@router.post("/events/batch")
async def create_events_batch(request: Request) -> Response:
    started = time.perf_counter()
    principal = authorize(request, "events:write")
    services = services_of(request)
    settings = services.settings
    body = await read_body(request, settings.max_batch_bytes)
    kind = media_type(request.headers.get("content-type"))
    if kind == CE_BATCH:
        items = cloudevents_batch(parse_json(body), max_events=settings.max_batch_events)
    elif kind == JSON:
        items = native_batch(
            parse_json(body),
            max_events=settings.max_batch_events,
            max_event_bytes=settings.max_event_bytes,
            body_bytes=len(body),
        )
    else:
        raise UnsupportedMediaType(
            f'POST /events/batch accepts {JSON} ({{"events": [...]}}) or {CE_BATCH}; got {kind or "nothing"}.'
        )
    request_id = request_id_of(request)
    instance = f"{request.url.path}#{request_id}"

    def respond(outcome: BatchOutcome) -> Reply:
        results = [
            {
                "index": result.index,
                "status": result.status,
                "event": result.event,
                "problem": None
                if result.problem is None
                else _problem_body(result.problem, instance=instance, request_id=request_id),
            }
            for result in outcome.results
        ]
        payload = dumps(
            {
                "results": results,
                "created": outcome.created,
                "duplicates": outcome.duplicates,
                "rejected": outcome.rejected,
            }
        )
        return Reply(200, JSON_HEADERS, payload, None)

    reply = await services.events.ingest_batch(
        principal,
        items,
        pointer_prefix="/events" if kind == JSON else "",
        respond=respond,
        ticket=ticket_of(request),
        started=started,
    )
    return json_response(reply.body)


def _instant(value: str | None, name: str) -> Any:
    if value is None:
        return None
    try:
        return parse_rfc3339(value)
    except ValueError as error:
        raise ProblemError(
            400,
            "malformed-request",
            f"`{name}` must be an RFC 3339 date-time.",
            errors=[{"pointer": f"/query/{name}", "detail": "must be an RFC 3339 date-time"}],
        ) from error


@router.get("/events")
async def list_events_route(
    request: Request,
    principal: Reader,
    type: Annotated[list[str] | None, Query()] = None,
    source: Annotated[str | None, Query(min_length=1)] = None,
    subject: Annotated[str | None, Query(min_length=1)] = None,
    correlation_id: Annotated[str | None, Query(min_length=1)] = None,
    status: Annotated[str | None, Query(pattern="^(pending|leased|acknowledged|dead_lettered)$")] = None,
    since: Annotated[str | None, Query()] = None,
    until: Annotated[str | None, Query()] = None,
    limit: PageLimit = PAGE_LIMIT_DEFAULT,
    cursor: PageCursor = None,
) -> Response:
    query = EventQuery(
        types=validate_globs(type or [], field="type"),
        source=source,
        subject=subject,
        correlation_id=correlation_id,
        status=status,
        since=_instant(since, "since"),
        until=_instant(until, "until"),
    )
    page = await services_of(request).events.page(principal, query, limit=limit, cursor=cursor)
    return json_response(dumps({"data": page.events, "next_cursor": page.next_cursor}))


@router.get("/events/{event_id}")
async def get_event_route(request: Request, principal: Reader, event_id: str) -> Response:
    return json_response(dumps(await services_of(request).events.get(principal, event_id)))


@router.get("/correlations/{correlation_id}")
async def get_correlation(request: Request, principal: Reader, correlation_id: str) -> Response:
    services = services_of(request)
    ordered, roots = await services.events.correlation(principal, correlation_id)
    statuses = await services.deliveries.statuses_of(principal.account_id, [event["id"] for event in ordered])
    saga = saga_of(ordered, statuses)
    return json_response(dumps({"correlation_id": correlation_id, "events": ordered, "roots": roots, "saga": saga}))
