"""`GET /events/stream`: Server-Sent Events with monotonic ids, `retry:` first, heartbeats, and resume
strictly after `Last-Event-ID` with no gaps and no duplicates.

The feed is `domain.streaming.EventStreams`: committed events from the hub's in-memory ring (a cursor older
than the ring backfills from storage first); this module parses the request and renders frames."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any, cast

from fastapi import APIRouter, Depends, Query, Request
from sse_starlette import EventSourceResponse, ServerSentEvent

from triggers_server.domain.filters import validate_filter
from triggers_server.domain.principal import Principal
from triggers_server.globs import validate_globs
from triggers_server.http.auth import require_scope
from triggers_server.http.services import services_of
from triggers_server.jsoncodec import dumps_text, loads
from triggers_server.problems import ProblemError

router = APIRouter()
Reader = Annotated[Principal, Depends(require_scope("events:read"))]
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
            errors=[{"pointer": error.pointer, "detail": error.detail} for error in errors],
        )
    return cast("dict[str, Any]", expression)


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
    streams = services.stream
    start = await streams.start(principal, cursor)
    retry_ms = services.settings.sse_retry_ms

    async def frames() -> AsyncIterator[ServerSentEvent]:
        yield _frame(retry=retry_ms)
        if start.reset is not None:
            yield _frame(data=dumps_text(start.reset), event="reset")
        async for entry in streams.follow(principal, start.after, types=globs, expression=expression):
            if entry is None:
                yield _frame(comment="ping")
            else:
                yield _frame(data=entry.json, event=entry.event["type"], id=str(entry.sequence))

    return EventSourceResponse(
        frames(), ping=_NEVER, sep="\n", headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    )
