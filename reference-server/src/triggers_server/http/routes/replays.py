"""Replays: one event (`POST /events/{id}/replay`) and time-range jobs (`/replays`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import Response

from triggers_server.contract_facts import PAGE_LIMIT_DEFAULT
from triggers_server.domain.principal import Principal
from triggers_server.http.auth import require_scope
from triggers_server.http.contract_schemas import parse_contract_model
from triggers_server.http.responses import json_response
from triggers_server.http.routes.params import PageCursor, PageLimit
from triggers_server.http.routes.wire import replay_wire
from triggers_server.http.services import services_of
from triggers_server.models._generated import EventReplayRequest, ReplayCreate, ReplayStatus
from triggers_server.storage.ports.replays import NewReplay

router = APIRouter()

Writer = Annotated[Principal, Depends(require_scope("events:write"))]
Reader = Annotated[Principal, Depends(require_scope("events:read"))]
EventId = Annotated[str, Path(min_length=1, max_length=255, description="Event id (`evt_…`).")]
ReplayId = Annotated[str, Path(min_length=1, max_length=255, description="Replay id (`rpl_…`).")]


@router.post("/events/{event_id}/replay")
async def replay_event(request: Request, principal: Writer, event_id: EventId) -> Response:
    body = await parse_contract_model(request, EventReplayRequest)
    outcome = await services_of(request).replay_service.replay_event(
        principal.account_id,
        event_id,
        body.target.model_dump(mode="json"),
        data_patch=body.data_patch,
        time_override=body.time_override,
        dry_run=body.dry_run,
    )
    return json_response({"dry_run": body.dry_run, "event": outcome.event, "outcomes": outcome.outcomes})


@router.post("/replays")
async def create_replay(request: Request, principal: Writer) -> Response:
    body = await parse_contract_model(request, ReplayCreate)
    raw = body.model_dump(mode="json", by_alias=True, exclude_unset=True)
    replay = NewReplay(
        name=body.name,
        range_from=body.from_,
        range_to=body.to,
        event_types=list(raw.get("event_types") or []),
        filter_expression=raw.get("filter"),
        target=body.target.model_dump(mode="json"),
        data_patch=body.data_patch,
        dry_run=body.dry_run,
    )
    record = await services_of(request).replay_service.create(principal.account_id, replay)
    return json_response(replay_wire(record), status=201, headers={"Location": f"/v1/replays/{record.id}"})


@router.get("/replays")
async def list_replays(
    request: Request,
    principal: Reader,
    status: ReplayStatus | None = None,
    limit: PageLimit = PAGE_LIMIT_DEFAULT,
    cursor: PageCursor = None,
) -> Response:
    page = await services_of(request).replay_service.list_page(
        principal.account_id, status=status.value if status else None, limit=limit, cursor=cursor
    )
    return json_response({"data": [replay_wire(record) for record in page.items], "next_cursor": page.next_cursor})


@router.get("/replays/{replay_id}")
async def get_replay(request: Request, principal: Reader, replay_id: ReplayId) -> Response:
    return json_response(replay_wire(await services_of(request).replay_service.get(principal.account_id, replay_id)))


@router.post("/replays/{replay_id}/cancel")
async def cancel_replay(request: Request, principal: Writer, replay_id: ReplayId) -> Response:
    record = await services_of(request).replay_service.cancel(principal.account_id, replay_id)
    return json_response(replay_wire(record), status=202)
