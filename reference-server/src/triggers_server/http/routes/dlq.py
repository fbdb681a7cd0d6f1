"""The dead-letter queue: list/get (with the event), dismiss, retry one, retry in bulk by filter."""

from __future__ import annotations

import sqlite3
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response

from triggers_server.contract_facts import PAGE_LIMIT_DEFAULT
from triggers_server.domain.cursors import decode_cursor, encode_cursor, int_field
from triggers_server.globs import validate_globs
from triggers_server.http.auth import Principal, require_scope
from triggers_server.http.contract_schemas import parse_contract_model
from triggers_server.http.responses import json_response
from triggers_server.http.routes.params import PageCursor, PageLimit
from triggers_server.http.services import services_of
from triggers_server.models._generated import DlqBulkRetryRequest, DlqOrigin, DlqReason
from triggers_server.problems import ProblemError
from triggers_server.storage.sqlite import deliveries as delivery_store
from triggers_server.storage.sqlite import dlq as dlq_store
from triggers_server.storage.sqlite import subscriptions as subscription_store
from triggers_server.storage.sqlite.deliveries import NewDelivery
from triggers_server.storage.sqlite.dlq import DlqFilter, DlqRecord
from triggers_server.storage.sqlite.events import enqueue_inbox, get_event, get_events_by_ids
from triggers_server.storage.sqlite.inbox import requeue_dead_lettered

router = APIRouter()

Consumer = Annotated[Principal, Depends(require_scope("inbox:consume"))]
EntryId = Annotated[str, Path(min_length=1, max_length=255, description="Dead-letter id (`dlq_…`).")]
Text = Annotated[str | None, Query(min_length=1)]

_CURSOR = "dlq"
BULK_BATCH = 500


class RetryRefused(Exception):
    """A dead letter that cannot be retried now (its subscription is gone or disabled)."""


def _not_found(entry_id: str) -> ProblemError:
    return ProblemError(404, "not-found", f"No dead letter {entry_id!r} in this account.")


def _query(event_type: str | None, subscription_id: str | None, origin: Any, reason: Any) -> DlqFilter:
    if event_type is not None:
        validate_globs([event_type], field="event_type")
    return DlqFilter(
        event_type=event_type,
        subscription_id=subscription_id,
        origin=origin.value if origin is not None else None,
        reason=reason.value if reason is not None else None,
    )


def _with_events(
    conn: sqlite3.Connection, account_id: str, entries: list[DlqRecord], now: datetime
) -> list[dict[str, Any]]:
    """Wire entries with their events; an entry whose event left retention is not shown."""
    events = get_events_by_ids(conn, account_id, [entry.event_id for entry in entries], now)
    return [{**entry.to_wire(), "event": events[entry.event_id]} for entry in entries if entry.event_id in events]


def retry_entry(conn: sqlite3.Connection, entry: DlqRecord, now: datetime, first_attempt_at: datetime) -> str | None:
    """Put one dead letter back in play and remove it; returns the new delivery id (delivery origin).
    Raises RetryRefused when its subscription is gone or disabled."""
    account_id = entry.account_id
    new_delivery: str | None = None
    if entry.origin == dlq_store.ORIGIN_INBOX:
        if not requeue_dead_lettered(conn, account_id, entry.event_id, now):
            event = get_event(conn, account_id, entry.event_id, now)
            if event is None:
                raise RetryRefused(f"event {entry.event_id!r} is no longer stored")
            enqueue_inbox(conn, account_id, int(event["sequence"]), entry.event_type, now)
    else:
        subscription = (
            subscription_store.get_subscription(conn, account_id, entry.subscription_id)
            if entry.subscription_id is not None
            else None
        )
        original = (
            delivery_store.get_delivery(conn, account_id, entry.delivery_id) if entry.delivery_id is not None else None
        )
        if subscription is None or original is None:
            raise RetryRefused(f"subscription {entry.subscription_id!r} no longer exists")
        if not subscription.enabled:
            raise RetryRefused(f"subscription {subscription.id!r} is disabled; enable it first")
        planned = NewDelivery(original.event_id, original.event_type, subscription.id, original.payload)
        [new_delivery] = delivery_store.insert_deliveries(conn, account_id, [planned], now=now, due_at=first_attempt_at)
    dlq_store.delete_dlq_entry(conn, account_id, entry.id)
    return new_delivery


@router.get("/dlq")
async def list_dlq(
    request: Request,
    principal: Consumer,
    event_type: Text = None,
    subscription_id: Text = None,
    origin: DlqOrigin | None = None,
    reason: DlqReason | None = None,
    limit: PageLimit = PAGE_LIMIT_DEFAULT,
    cursor: PageCursor = None,
) -> Response:
    query = _query(event_type, subscription_id, origin, reason)
    position = decode_cursor(_CURSOR, cursor)
    before = int_field(position, "s") if position is not None else None
    services = services_of(request)
    account_id = principal.account_id
    now = services.clock.now()

    def read(conn: sqlite3.Connection) -> tuple[list[dict[str, Any]], int | None]:
        entries = dlq_store.list_dlq_entries(conn, account_id, query, limit=limit + 1, before_seq=before)
        page = entries[:limit]
        last = page[-1].seq if len(entries) > limit else None
        return _with_events(conn, account_id, page, now), last

    data, last = await services.db.read(read)
    next_cursor = encode_cursor(_CURSOR, {"s": last}) if last is not None else None
    return json_response({"data": data, "next_cursor": next_cursor})


@router.post("/dlq/retry")
async def retry_dlq_bulk(request: Request, principal: Consumer) -> Response:
    """Retry every matching dead letter that can be retried; entries of a gone/disabled subscription stay."""
    options = await parse_contract_model(request, DlqBulkRetryRequest, optional=True)
    query = _query(options.event_type, options.subscription_id, options.origin, options.reason)
    services = services_of(request)
    account_id = principal.account_id
    now = services.clock.now()
    first_attempt = services.delivery.policy.first_attempt_at(now)

    def write(conn: sqlite3.Connection) -> int:
        retried = 0
        before: int | None = None
        while True:
            entries = dlq_store.list_dlq_entries(conn, account_id, query, limit=BULK_BATCH, before_seq=before)
            if not entries:
                return retried
            for entry in entries:
                try:
                    retry_entry(conn, entry, now, first_attempt)
                except RetryRefused:
                    continue
                retried += 1
            before = entries[-1].seq

    retried = await services.db.write(write)
    services.delivery.notify()
    return json_response({"retried": retried})


@router.get("/dlq/{entry_id}")
async def get_dlq_entry(request: Request, principal: Consumer, entry_id: EntryId) -> Response:
    services = services_of(request)
    account_id = principal.account_id
    now = services.clock.now()

    def read(conn: sqlite3.Connection) -> list[dict[str, Any]]:
        entry = dlq_store.get_dlq_entry(conn, account_id, entry_id)
        return _with_events(conn, account_id, [entry], now) if entry is not None else []

    found = await services.db.read(read)
    if not found:
        raise _not_found(entry_id)
    return json_response(found[0])


@router.delete("/dlq/{entry_id}")
async def dismiss_dlq_entry(request: Request, principal: Consumer, entry_id: EntryId) -> Response:
    account_id = principal.account_id
    if not await services_of(request).db.write(lambda conn: dlq_store.delete_dlq_entry(conn, account_id, entry_id)):
        raise _not_found(entry_id)
    return Response(status_code=204)


@router.post("/dlq/{entry_id}/retry")
async def retry_dlq_entry(request: Request, principal: Consumer, entry_id: EntryId) -> Response:
    services = services_of(request)
    account_id = principal.account_id
    now = services.clock.now()
    first_attempt = services.delivery.policy.first_attempt_at(now)

    def write(conn: sqlite3.Connection) -> dict[str, Any] | None:
        entry = dlq_store.get_dlq_entry(conn, account_id, entry_id)
        if entry is None:
            return None
        try:
            delivery_id = retry_entry(conn, entry, now, first_attempt)
        except RetryRefused as refused:
            raise ProblemError(409, "conflict", f"Cannot retry {entry_id!r}: {refused}.") from refused
        return {"entry_id": entry.id, "event_id": entry.event_id, "delivery_id": delivery_id}

    result = await services.db.write(write)
    if result is None:
        raise _not_found(entry_id)
    services.delivery.notify()
    return json_response(result)
