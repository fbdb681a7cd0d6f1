"""Event ingestion (native, CloudEvents structured/binary, batches), listing, lookup and correlations."""

from __future__ import annotations

import heapq
import logging
import time
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from triggers_server.contract_facts import PAGE_LIMIT_DEFAULT
from triggers_server.domain.cursors import decode_cursor, encode_cursor, int_field
from triggers_server.domain.errors import DomainError
from triggers_server.domain.ingest import (
    CE_BATCH,
    CE_STRUCTURED,
    JSON,
    BatchItem,
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
from triggers_server.domain.registry.service import apply_schema
from triggers_server.globs import validate_globs
from triggers_server.http.auth import authorize, require_scope
from triggers_server.http.bodies import parse_json, read_body
from triggers_server.http.idempotency import IdempotencyContext
from triggers_server.http.problem_handlers import domain_problem
from triggers_server.http.responses import json_response
from triggers_server.http.routes.params import PageCursor, PageLimit
from triggers_server.http.services import services_of
from triggers_server.jsoncodec import dumps
from triggers_server.problems import ProblemError, request_id_of
from triggers_server.storage.ports.events import EventDraft
from triggers_server.storage.sqlite.events import (
    DuplicateEvent,
    EventQuery,
    correlation_events,
    get_event,
    insert_event,
    insert_events,
    list_events,
)

if TYPE_CHECKING:
    from triggers_server.http.services import Services

router = APIRouter()
log = logging.getLogger("triggers_server.events")

Reader = Annotated[Principal, Depends(require_scope("events:read"))]
EVENTS_CURSOR = "events"
JSON_HEADERS = [("content-type", "application/json")]


def _idempotency(request: Request) -> IdempotencyContext | None:
    context = request.scope.get("state", {}).get("idempotency")
    return context if isinstance(context, IdempotencyContext) else None


async def after_ingest(services: Services, account_id: str, events: list[dict[str, Any]], started: float) -> None:
    """Hand committed events to webhooks and the stream; failures here never undo the (durable) ingest."""
    if not events:
        return
    try:
        await services.delivery.on_ingested(account_id, events)
    except Exception:
        log.exception("scheduling deliveries failed", extra={"event_count": len(events)})
    services.hub.publish(account_id, events)
    services.metrics.record_ingest(
        account_id,
        at=services.clock.now().timestamp(),
        types=[event["type"] for event in events],
        latency=time.perf_counter() - started,
    )


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
    raise ProblemError(
        415,
        "unsupported-media-type",
        f"POST /events accepts {JSON} (native), {CE_STRUCTURED} (structured) or any media type with ce-* headers "
        f"(binary mode); got {kind or 'no Content-Type'}.",
    )


@router.post("/events", status_code=201)
async def create_event(request: Request) -> Response:
    started = time.perf_counter()
    principal = authorize(request, "events:write")
    services = services_of(request)
    body = await read_body(request, services.settings.max_event_bytes)
    draft = single_draft(request, body)
    account_id = principal.account_id
    await apply_schema(services.registry, account_id, draft)
    context = _idempotency(request)
    now = services.clock.now()

    def write(conn: Any) -> tuple[dict[str, Any], bytes]:
        event = insert_event(conn, account_id, draft, now)
        payload = dumps(event)
        if context is not None:
            # A replay of this request answers 200 (the contract's "idempotent replay" status).
            context.record(
                conn,
                status_code=201,
                headers=JSON_HEADERS,
                body=payload,
                resource_id=event["id"],
                replay_status=200,
            )
        return event, payload

    try:
        event, payload = await services.db.write(write)
    except DuplicateEvent as duplicate:
        existing = duplicate.existing["id"]
        raise ProblemError(
            409,
            "conflict",
            f"An event with source {draft.source!r} and id {draft.external_id!r} already exists ({existing}).",
            extra={"existing_event_id": existing},
        ) from duplicate
    await after_ingest(services, account_id, [event], started)
    return json_response(payload, 201, {"Location": f"/v1/events/{event['id']}"})


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
        raise ProblemError(
            415,
            "unsupported-media-type",
            f'POST /events/batch accepts {JSON} ({{"events": [...]}}) or {CE_BATCH}; got {kind or "nothing"}.',
        )
    account_id = principal.account_id
    prefix = "/events" if kind == JSON else ""
    for index, item in enumerate(items):
        if item.draft is not None:
            try:
                await apply_schema(services.registry, account_id, item.draft, pointer=f"{prefix}/{index}")
            except DomainError as error:
                items[index] = BatchItem(None, domain_problem(error))
    context = _idempotency(request)
    now = services.clock.now()
    request_id = request_id_of(request)
    instance = f"{request.url.path}#{request_id}"

    def write(conn: Any) -> tuple[list[dict[str, Any]], bytes]:
        drafts = [item.draft for item in items if item.draft is not None]
        stored = iter(insert_events(conn, account_id, drafts, now))
        results: list[dict[str, Any]] = []
        created: list[dict[str, Any]] = []
        counts = {"created": 0, "duplicate": 0, "rejected": 0}
        for index, item in enumerate(items):
            if item.draft is None:
                assert item.problem is not None
                status, event, problem = "rejected", None, item.problem.body(instance=instance, request_id=request_id)
            else:
                outcome = next(stored)
                if isinstance(outcome, DuplicateEvent):
                    status, event, problem = "duplicate", outcome.existing, None
                else:
                    status, event, problem = "created", outcome, None
                    created.append(outcome)
            counts[status] += 1
            results.append({"index": index, "status": status, "event": event, "problem": problem})
        payload = dumps(
            {
                "results": results,
                "created": counts["created"],
                "duplicates": counts["duplicate"],
                "rejected": counts["rejected"],
            }
        )
        if context is not None:
            context.record(conn, status_code=200, headers=JSON_HEADERS, body=payload, resource_id=None)
        return created, payload

    created, payload = await services.db.write(write)
    await after_ingest(services, account_id, created, started)
    return json_response(payload)


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
    services = services_of(request)
    position = decode_cursor(EVENTS_CURSOR, cursor)
    before = int_field(position, "s") if position is not None else None
    query = EventQuery(
        types=validate_globs(type or [], field="type"),
        source=source,
        subject=subject,
        correlation_id=correlation_id,
        status=status,
        since=_instant(since, "since"),
        until=_instant(until, "until"),
    )
    now = services.clock.now()
    account_id = principal.account_id
    events = await services.db.read(
        lambda conn: list_events(conn, account_id, query, now=now, limit=limit + 1, before_sequence=before)
    )
    next_cursor = None
    if len(events) > limit:
        events = events[:limit]
        next_cursor = encode_cursor(EVENTS_CURSOR, {"s": events[-1]["sequence"]})
    return json_response(dumps({"data": events, "next_cursor": next_cursor}))


@router.get("/events/{event_id}")
async def get_event_route(request: Request, principal: Reader, event_id: str) -> Response:
    services = services_of(request)
    now = services.clock.now()
    account_id = principal.account_id
    event = await services.db.read(lambda conn: get_event(conn, account_id, event_id, now))
    if event is None:
        raise ProblemError(404, "not-found", f"No event {event_id!r} in this account.")
    return json_response(dumps(event))


def causal_order(events: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Events in causal order (every cause before its effects, ties by sequence) and the causation forest.
    A `causation_id` may name a cause by server id or by producer id; causes outside the set make roots;
    a cycle (possible with producer ids) is broken at its lowest sequence."""
    by_key: dict[str, dict[str, Any]] = {}
    for event in events:
        if event["external_id"] is not None:
            by_key.setdefault(event["external_id"], event)
    for event in events:
        by_key[event["id"]] = event
    parent: dict[str, str | None] = {}
    for event in events:
        cause = by_key.get(event["causation_id"]) if event["causation_id"] else None
        parent[event["id"]] = cause["id"] if cause is not None and cause["id"] != event["id"] else None
    children: dict[str, list[dict[str, Any]]] = {event["id"]: [] for event in events}
    for event in events:
        cause_id = parent[event["id"]]
        if cause_id is not None:
            children[cause_id].append(event)
    ordered: list[dict[str, Any]] = []
    placed: set[str] = set()
    pending = sorted(events, key=lambda event: event["sequence"])
    while len(placed) < len(events):
        heap = [
            (event["sequence"], event["id"])
            for event in pending
            if event["id"] not in placed and (parent[event["id"]] is None or parent[event["id"]] in placed)
        ]
        if not heap:  # only cycles remain: cut the lowest sequence loose
            lowest = next(event for event in pending if event["id"] not in placed)
            parent[lowest["id"]] = None
            continue
        heapq.heapify(heap)
        while heap:
            _, event_id = heapq.heappop(heap)
            if event_id in placed:
                continue
            placed.add(event_id)
            ordered.append(by_key[event_id])
            for child in children[event_id]:
                if child["id"] not in placed and parent[child["id"]] == event_id:
                    heapq.heappush(heap, (child["sequence"], child["id"]))

    nodes: dict[str, dict[str, Any]] = {
        event["id"]: {"event_id": event["id"], "type": event["type"], "children": []} for event in events
    }
    roots: list[dict[str, Any]] = []
    for event in ordered:  # causal order keeps every children list sorted by sequence among siblings
        cause_id = parent[event["id"]]
        (nodes[cause_id]["children"] if cause_id is not None else roots).append(nodes[event["id"]])
    return ordered, roots


@router.get("/correlations/{correlation_id}")
async def get_correlation(request: Request, principal: Reader, correlation_id: str) -> Response:
    services = services_of(request)
    now = services.clock.now()
    account_id = principal.account_id
    events = await services.db.read(lambda conn: correlation_events(conn, account_id, correlation_id, now))
    if not events:
        raise ProblemError(404, "not-found", f"No events with correlation id {correlation_id!r} in this account.")
    ordered, roots = causal_order(events)
    return json_response(dumps({"correlation_id": correlation_id, "events": ordered, "roots": roots}))
