"""Replays: one event (`POST /events/{id}/replay`) and time-range jobs (`/replays`)."""

from __future__ import annotations

import sqlite3
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import Response

from triggers_server.contract_facts import PAGE_LIMIT_DEFAULT
from triggers_server.domain.cursors import decode_cursor, encode_cursor, int_field
from triggers_server.domain.filters import FieldError, raise_for_errors, validate_filter, validate_type_globs
from triggers_server.http.auth import Principal, require_scope
from triggers_server.http.contract_schemas import parse_contract_model
from triggers_server.http.responses import json_response
from triggers_server.http.routes.params import PageCursor, PageLimit
from triggers_server.http.services import services_of
from triggers_server.models._generated import EventReplayRequest, ReplayCreate, ReplayStatus
from triggers_server.problems import ProblemError
from triggers_server.storage.sqlite import replays as replay_store
from triggers_server.storage.sqlite.events import get_event
from triggers_server.storage.sqlite.replays import ReplayRecord

router = APIRouter()

Writer = Annotated[Principal, Depends(require_scope("events:write"))]
Reader = Annotated[Principal, Depends(require_scope("events:read"))]
EventId = Annotated[str, Path(min_length=1, max_length=255, description="Event id (`evt_…`).")]
ReplayId = Annotated[str, Path(min_length=1, max_length=255, description="Replay id (`rpl_…`).")]

_CURSOR = "replays"


def _not_found(replay_id: str) -> ProblemError:
    return ProblemError(404, "not-found", f"No replay {replay_id!r} in this account.")


@router.post("/events/{event_id}/replay")
async def replay_event(request: Request, principal: Writer, event_id: EventId) -> Response:
    body = await parse_contract_model(request, EventReplayRequest)
    services = services_of(request)
    account_id = principal.account_id
    now = services.clock.now()
    original = await services.db.read(lambda conn: get_event(conn, account_id, event_id, now))
    if original is None:
        raise ProblemError(404, "not-found", f"No event {event_id!r} in this account.")
    jobs = services.replays
    target = await jobs.replayer.resolve_target(account_id, body.target.model_dump(mode="json"))
    outcome = await jobs.replayer.replay_event(
        account_id,
        original,
        target,
        data_patch=body.data_patch,
        time_override=body.time_override,
        dry_run=body.dry_run,
    )
    return json_response({"dry_run": body.dry_run, "event": outcome.event, "outcomes": outcome.outcomes})


@router.post("/replays")
async def create_replay(request: Request, principal: Writer) -> Response:
    body = await parse_contract_model(request, ReplayCreate)
    raw = body.model_dump(mode="json", by_alias=True, exclude_unset=True)
    errors = validate_type_globs(raw.get("event_types"), "/event_types")
    if raw.get("filter") is not None:
        errors.extend(validate_filter(raw["filter"]))
    if body.to <= body.from_:
        errors.append(FieldError("/to", "must be after `from`"))
    raise_for_errors(errors)
    services = services_of(request)
    account_id = principal.account_id
    jobs = services.replays
    target = body.target.model_dump(mode="json")
    await jobs.replayer.resolve_target(account_id, target)
    now = services.clock.now()
    record = await services.db.write(
        lambda conn: replay_store.insert_replay(
            conn,
            account_id=account_id,
            name=body.name,
            range_from=body.from_,
            range_to=body.to,
            event_types=list(raw.get("event_types") or []),
            filter_expression=raw.get("filter"),
            target=target,
            data_patch=body.data_patch,
            dry_run=body.dry_run,
            now=now,
        )
    )
    jobs.launch(account_id, record.id)
    return json_response(record.to_wire(), status=201, headers={"Location": f"/v1/replays/{record.id}"})


@router.get("/replays")
async def list_replays(
    request: Request,
    principal: Reader,
    status: ReplayStatus | None = None,
    limit: PageLimit = PAGE_LIMIT_DEFAULT,
    cursor: PageCursor = None,
) -> Response:
    position = decode_cursor(_CURSOR, cursor)
    before = int_field(position, "s") if position is not None else None
    services = services_of(request)
    await services.replays.resume()
    account_id = principal.account_id
    records = await services.db.read(
        lambda conn: replay_store.list_replays(
            conn, account_id, limit=limit + 1, before_seq=before, status=status.value if status else None
        )
    )
    page = records[:limit]
    next_cursor = encode_cursor(_CURSOR, {"s": page[-1].seq}) if len(records) > limit else None
    return json_response({"data": [record.to_wire() for record in page], "next_cursor": next_cursor})


@router.get("/replays/{replay_id}")
async def get_replay(request: Request, principal: Reader, replay_id: ReplayId) -> Response:
    services = services_of(request)
    await services.replays.resume()
    account_id = principal.account_id
    record = await services.db.read(lambda conn: replay_store.get_replay(conn, account_id, replay_id))
    if record is None:
        raise _not_found(replay_id)
    return json_response(record.to_wire())


@router.post("/replays/{replay_id}/cancel")
async def cancel_replay(request: Request, principal: Writer, replay_id: ReplayId) -> Response:
    services = services_of(request)
    account_id = principal.account_id
    now = services.clock.now()

    def write(conn: sqlite3.Connection) -> ReplayRecord | None:
        record = replay_store.get_replay(conn, account_id, replay_id)
        if record is None:
            return None
        if record.status in (replay_store.COMPLETED, replay_store.FAILED):
            raise ProblemError(409, "conflict", f"Replay {replay_id!r} already ended {record.status}.")
        if record.status in (replay_store.STARTING, replay_store.RUNNING):
            replay_store.set_status(
                conn,
                replay_id,
                replay_store.CANCELLING,
                now=now,
                expected=(replay_store.STARTING, replay_store.RUNNING),
            )
        return replay_store.get_replay(conn, account_id, replay_id)

    record = await services.db.write(write)
    if record is None:
        raise _not_found(replay_id)
    body: dict[str, Any] = record.to_wire()
    return json_response(body, status=202)
