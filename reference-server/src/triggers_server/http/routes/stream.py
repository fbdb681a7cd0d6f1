"""`GET /events/stream`: Server-Sent Events with monotonic ids, `retry:` first, heartbeats, and resume
strictly after `Last-Event-ID` with no gaps and no duplicates.

Every wake-up (a publish signal or a heartbeat timeout) re-reads `sequence > last sent` from the
database, which is the source of truth: sequences are assigned in commit order by the single writer,
so the read can never skip an event, and the signal is taken before the read, so none is missed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from functools import partial
from typing import Annotated, Any, cast

from fastapi import APIRouter, Depends, Query, Request
from sse_starlette import EventSourceResponse, ServerSentEvent

from triggers_server.domain.filters import evaluate, validate_filter
from triggers_server.domain.principal import Principal
from triggers_server.domain.streaming import RingEntry, wait_for_signal
from triggers_server.globs import matches_any, validate_globs
from triggers_server.http.auth import require_scope
from triggers_server.http.services import services_of
from triggers_server.jsoncodec import dumps_text, loads
from triggers_server.problems import ProblemError
from triggers_server.storage.sqlite.engine import Transaction
from triggers_server.storage.sqlite.events import events_after, latest_sequence, oldest_sequence, purged_through

router = APIRouter()
Reader = Annotated[Principal, Depends(require_scope("events:read"))]
BATCH = 500
_NEVER = 365 * 24 * 3600.0  # sse-starlette's own pinger is disabled; heartbeats follow the injected clock


def _cursor(value: str | None, name: str) -> int | None:
    if value is None:
        return None
    if not value.isdigit() or len(value) > 19:
        raise ProblemError(
            400,
            "malformed-request",
            f"`{name}` must be a non-negative integer event sequence.",
            errors=[
                {
                    "pointer": f"/{'header' if name == 'Last-Event-ID' else 'query'}/{name}",
                    "detail": "digits only",
                }
            ],
        )
    return int(value)


def _filter(raw: str | None) -> dict[str, Any] | None:
    if raw is None:
        return None
    try:
        expression = loads(raw)
    except ValueError as error:
        raise ProblemError(400, "malformed-request", "`filter` must be a Filter serialised as JSON.") from error
    errors = validate_filter(expression, "/query/filter")
    if errors:
        raise ProblemError(
            400,
            "malformed-request",
            "; ".join(f"{e.pointer}: {e.detail}" for e in errors[:5]),
            errors=[error.as_dict() for error in errors],
        )
    return cast("dict[str, Any]", expression)


def _next_events(account_id: str, after: int, now: datetime, conn: Transaction) -> list[dict[str, Any]]:
    return events_after(conn, account_id, after, now=now, limit=BATCH)


def _frame(**fields: Any) -> ServerSentEvent:
    return ServerSentEvent(sep="\n", **fields)


@router.get("/events/stream")
async def stream_events(
    request: Request,
    principal: Reader,
    types: Annotated[list[str] | None, Query()] = None,
    filter: Annotated[str | None, Query(min_length=2)] = None,
    last_event_id: Annotated[str | None, Query()] = None,
) -> EventSourceResponse:
    services = services_of(request)
    globs = validate_globs(types or [], field="types")
    expression = _filter(filter)
    header = request.headers.get("last-event-id")
    cursor = _cursor(header, "Last-Event-ID") if header is not None else _cursor(last_event_id, "last_event_id")
    account_id = principal.account_id

    def start(conn: Any) -> tuple[int, dict[str, Any] | None]:
        if cursor is None:
            return latest_sequence(conn, account_id), None
        purged = purged_through(conn, account_id)
        if cursor >= purged:
            return cursor, None
        oldest = oldest_sequence(conn, account_id)
        reset = {"reason": "cursor_expired", "oldest_sequence": oldest if oldest is not None else purged + 1}
        return purged, reset

    after, reset = await services.db.read(start)
    settings = services.settings

    async def frames() -> AsyncIterator[ServerSentEvent]:
        last = after
        yield _frame(retry=settings.sse_retry_ms)
        if reset is not None:
            yield _frame(data=dumps_text(reset), event="reset")
        while True:
            signal = services.hub.signal(account_id)  # before reading, so no wake-up is lost
            recent = services.hub.recent(account_id, last, BATCH)
            if recent is None:  # cursor older than what the hub holds: backfill from the database
                rows = await services.db.read(partial(_next_events, account_id, last, services.clock.now()))
                recent = [RingEntry(event["sequence"], event) for event in rows]
            for entry in recent:
                last = entry.sequence
                if not matches_any(entry.event["type"], globs):
                    continue
                if expression is not None and not evaluate(expression, entry.event).matched:
                    continue
                yield _frame(data=entry.json, event=entry.event["type"], id=str(entry.sequence))
            if len(recent) == BATCH:
                continue
            if not await wait_for_signal(signal, services.clock, settings.heartbeat_seconds):
                yield _frame(comment="ping")

    return EventSourceResponse(
        frames(), ping=_NEVER, sep="\n", headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    )
