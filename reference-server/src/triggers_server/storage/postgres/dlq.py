"""The dead-letter queue on PostgreSQL (`DlqStore`): rows, listing with their events, and retries that apply
the domain's plan inside the transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from triggers_server.clock import isoformat
from triggers_server.ids import new_id
from triggers_server.storage.ports.deliveries import NewDelivery
from triggers_server.storage.ports.dlq import (
    ORIGIN_INBOX,
    ORIGINS,
    DlqFilter,
    DlqRecord,
    NewDeadLetter,
    Redeliver,
    Refuse,
    RetryContext,
    RetryDone,
    RetryPlanner,
)
from triggers_server.storage.postgres.deliveries import get_delivery, insert_deliveries
from triggers_server.storage.postgres.engine import Conn, PgDatabase, Sql, add_equals, affected, glob_clause
from triggers_server.storage.postgres.events import enqueue_inbox, get_event, get_events_by_ids
from triggers_server.storage.postgres.subscriptions import get_subscription
from triggers_server.storage.records import dead_letter_record


async def add_dead_letter(conn: Conn, letter: NewDeadLetter, now: datetime) -> str:
    """Dead-letter one event (the inbox's max deliveries, or a delivery's exhausted retries). Returns the id."""
    if letter.origin not in ORIGINS:
        raise ValueError(f"unknown DLQ origin {letter.origin!r}")
    entry_id = new_id("dlq")
    await conn.execute(
        "INSERT INTO dlq_entries (id, account_id, origin, event_id, event_type, subscription_id, delivery_id, "
        "reason, detail, attempts, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        entry_id,
        letter.account_id,
        letter.origin,
        letter.event_id,
        letter.event_type,
        letter.subscription_id,
        letter.delivery_id,
        letter.reason,
        letter.detail,
        letter.attempts,
        isoformat(now),
    )
    return entry_id


async def get_entry(conn: Conn, account_id: str, entry_id: str, *, lock: bool = False) -> DlqRecord | None:
    row = await conn.fetchrow(
        "SELECT * FROM dlq_entries WHERE account_id = $1 AND id = $2" + (" FOR UPDATE" if lock else ""),
        account_id,
        entry_id,
    )
    return dead_letter_record(row) if row is not None else None


async def list_entries(
    conn: Conn, account_id: str, query: DlqFilter, *, limit: int, before_seq: int | None, lock: bool = False
) -> list[DlqRecord]:
    sql = Sql()
    clauses = [f"account_id = {sql(account_id)}"]
    if query.event_type is not None:
        clauses.append(glob_clause("event_type", [query.event_type], sql))
    add_equals(
        clauses, sql, (("subscription_id", query.subscription_id), ("origin", query.origin), ("reason", query.reason))
    )
    clauses.append(f"seq < {sql(before_seq if before_seq is not None else 2**62)}")
    rows = await conn.fetch(
        f"SELECT * FROM dlq_entries WHERE {' AND '.join(clauses)} ORDER BY seq DESC LIMIT {sql(limit)}"
        + (" FOR UPDATE SKIP LOCKED" if lock else ""),
        *sql.args,
    )
    return [dead_letter_record(row) for row in rows]


async def _retry(conn: Conn, entry: DlqRecord, now: datetime, plan: RetryPlanner) -> RetryDone | Refuse:
    account_id = entry.account_id
    event = await get_event(conn, account_id, entry.event_id, now)
    subscription = None
    payload = None
    if entry.origin != ORIGIN_INBOX:
        if entry.subscription_id is not None:
            subscription = await get_subscription(conn, account_id, entry.subscription_id)
        original = await get_delivery(conn, account_id, entry.delivery_id) if entry.delivery_id is not None else None
        payload = original.payload if original is not None else None
    decision = plan(RetryContext(entry, event is not None, subscription, payload))
    if isinstance(decision, Refuse):
        return decision
    delivery_id: str | None = None
    if isinstance(decision, Redeliver):
        assert entry.subscription_id is not None
        planned = NewDelivery(entry.event_id, entry.event_type, entry.subscription_id, decision.payload)
        [delivery_id] = await insert_deliveries(conn, account_id, [planned], now=now, due_at=decision.due_at)
    else:
        status = await conn.execute(
            "UPDATE inbox SET state = 'pending', visible_at = $1, delivery_count = 0, receipt = NULL, lease_id = NULL,"
            " updated_at = $2 WHERE account_id = $3"
            " AND event_seq = (SELECT seq FROM events WHERE id = $4 AND account_id = $3)",
            now.timestamp(),
            isoformat(now),
            account_id,
            entry.event_id,
        )
        if affected(status) == 0:
            assert event is not None, "a requeue plan needs the stored event"
            await enqueue_inbox(conn, account_id, int(event["sequence"]), entry.event_type, now)
    await conn.execute("DELETE FROM dlq_entries WHERE account_id = $1 AND id = $2", account_id, entry.id)
    return RetryDone(entry, delivery_id)


class PgDlqStore:
    def __init__(self, db: PgDatabase) -> None:
        self._db = db

    async def list_with_events(
        self, account_id: str, query: DlqFilter, *, limit: int, before_seq: int | None, now: datetime
    ) -> list[tuple[DlqRecord, dict[str, Any] | None]]:
        async def read(conn: Conn) -> list[tuple[DlqRecord, dict[str, Any] | None]]:
            entries = await list_entries(conn, account_id, query, limit=limit, before_seq=before_seq)
            events = await get_events_by_ids(conn, account_id, [entry.event_id for entry in entries], now)
            return [(entry, events.get(entry.event_id)) for entry in entries]

        return await self._db.snapshot(read)

    async def get_with_event(
        self, account_id: str, entry_id: str, *, now: datetime
    ) -> tuple[DlqRecord, dict[str, Any] | None] | None:
        async def read(conn: Conn) -> tuple[DlqRecord, dict[str, Any] | None] | None:
            entry = await get_entry(conn, account_id, entry_id)
            return (entry, await get_event(conn, account_id, entry.event_id, now)) if entry is not None else None

        return await self._db.snapshot(read)

    async def delete(self, account_id: str, entry_id: str) -> bool:
        async def write(conn: Conn) -> bool:
            status = await conn.execute(
                "DELETE FROM dlq_entries WHERE account_id = $1 AND id = $2", account_id, entry_id
            )
            return affected(status) > 0

        return await self._db.write(write)

    async def retry(
        self, account_id: str, entry_id: str, *, now: datetime, plan: RetryPlanner
    ) -> RetryDone | Refuse | None:
        async def write(conn: Conn) -> RetryDone | Refuse | None:
            entry = await get_entry(conn, account_id, entry_id, lock=True)
            return await _retry(conn, entry, now, plan) if entry is not None else None

        return await self._db.write(write)

    async def retry_matching(
        self, account_id: str, query: DlqFilter, *, now: datetime, plan: RetryPlanner, batch: int
    ) -> int:
        async def write(conn: Conn) -> int:
            retried = 0
            before: int | None = None
            while entries := await list_entries(conn, account_id, query, limit=batch, before_seq=before, lock=True):
                for entry in entries:
                    retried += isinstance(await _retry(conn, entry, now, plan), RetryDone)
                before = entries[-1].seq
            return retried

        return await self._db.write(write)
