"""`storage.ports.dlq.DlqStore` on the group-commit engine: one method, one transaction; the domain's retry
plan decides, this module only applies it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from triggers_server.storage.ports.deliveries import NewDelivery
from triggers_server.storage.ports.dlq import (
    ORIGIN_INBOX,
    DlqFilter,
    DlqRecord,
    Redeliver,
    Refuse,
    RetryContext,
    RetryDone,
    RetryPlanner,
)
from triggers_server.storage.sqlite import dlq as sql
from triggers_server.storage.sqlite.deliveries import get_delivery, insert_deliveries
from triggers_server.storage.sqlite.engine import Database, Transaction
from triggers_server.storage.sqlite.events import enqueue_inbox, get_event, get_events_by_ids
from triggers_server.storage.sqlite.inbox import requeue_dead_lettered
from triggers_server.storage.sqlite.subscriptions import get_subscription


def _context(tx: Transaction, entry: DlqRecord, now: datetime) -> tuple[RetryContext, int | None]:
    account_id = entry.account_id
    event = get_event(tx, account_id, entry.event_id, now)
    subscription = None
    payload = None
    if entry.origin != ORIGIN_INBOX:
        if entry.subscription_id is not None:
            subscription = get_subscription(tx, account_id, entry.subscription_id)
        original = get_delivery(tx, account_id, entry.delivery_id) if entry.delivery_id is not None else None
        payload = original.payload if original is not None else None
    sequence = int(event["sequence"]) if event is not None else None
    return RetryContext(entry, event is not None, subscription, payload), sequence


def _retry(tx: Transaction, entry: DlqRecord, now: datetime, plan: RetryPlanner) -> RetryDone | Refuse:
    context, sequence = _context(tx, entry, now)
    decision = plan(context)
    if isinstance(decision, Refuse):
        return decision
    account_id = entry.account_id
    delivery_id: str | None = None
    if isinstance(decision, Redeliver):
        assert entry.subscription_id is not None
        planned = NewDelivery(entry.event_id, entry.event_type, entry.subscription_id, decision.payload)
        [delivery_id] = insert_deliveries(tx, account_id, [planned], now=now, due_at=decision.due_at)
    elif not requeue_dead_lettered(tx, account_id, entry.event_id, now):
        assert sequence is not None, "a requeue plan needs the stored event"
        enqueue_inbox(tx, account_id, sequence, entry.event_type, now)
    sql.delete_dlq_entry(tx, account_id, entry.id)
    return RetryDone(entry, delivery_id)


class SqliteDlqStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def list_with_events(
        self, account_id: str, query: DlqFilter, *, limit: int, before_seq: int | None, now: datetime
    ) -> list[tuple[DlqRecord, dict[str, Any] | None]]:
        def read(tx: Transaction) -> list[tuple[DlqRecord, dict[str, Any] | None]]:
            entries = sql.list_dlq_entries(tx, account_id, query, limit=limit, before_seq=before_seq)
            events = get_events_by_ids(tx, account_id, [entry.event_id for entry in entries], now)
            return [(entry, events.get(entry.event_id)) for entry in entries]

        return await self._db.read(read)

    async def get_with_event(
        self, account_id: str, entry_id: str, *, now: datetime
    ) -> tuple[DlqRecord, dict[str, Any] | None] | None:
        def read(tx: Transaction) -> tuple[DlqRecord, dict[str, Any] | None] | None:
            entry = sql.get_dlq_entry(tx, account_id, entry_id)
            return (entry, get_event(tx, account_id, entry.event_id, now)) if entry is not None else None

        return await self._db.read(read)

    async def delete(self, account_id: str, entry_id: str) -> bool:
        return await self._db.write(lambda tx: sql.delete_dlq_entry(tx, account_id, entry_id))

    async def retry(
        self, account_id: str, entry_id: str, *, now: datetime, plan: RetryPlanner
    ) -> RetryDone | Refuse | None:
        def write(tx: Transaction) -> RetryDone | Refuse | None:
            entry = sql.get_dlq_entry(tx, account_id, entry_id)
            return _retry(tx, entry, now, plan) if entry is not None else None

        return await self._db.write(write)

    async def retry_matching(
        self, account_id: str, query: DlqFilter, *, now: datetime, plan: RetryPlanner, batch: int
    ) -> int:
        def write(tx: Transaction) -> int:
            retried = 0
            before: int | None = None
            while entries := sql.list_dlq_entries(tx, account_id, query, limit=batch, before_seq=before):
                retried += sum(isinstance(_retry(tx, entry, now, plan), RetryDone) for entry in entries)
                before = entries[-1].seq
            return retried

        return await self._db.write(write)
