"""`storage.ports.deliveries.DeliveryStore` on PostgreSQL: one method, one transaction, over the SQL of
`deliveries`, `subscriptions`, `dlq` and `events`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from triggers_server.clock import isoformat
from triggers_server.storage.ports.deliveries import (
    DISCARDED,
    AttemptOutcome,
    AttemptRecord,
    DeliveryQuery,
    DeliveryRecord,
    DisableSubscription,
    NewDelivery,
    PayloadOf,
)
from triggers_server.storage.ports.dlq import NewDeadLetter
from triggers_server.storage.ports.events import EventDraft
from triggers_server.storage.ports.subscriptions import SubscriptionRecord
from triggers_server.storage.postgres import deliveries as sql
from triggers_server.storage.postgres.dlq import add_dead_letter
from triggers_server.storage.postgres.engine import Conn, IngestContext, PgDatabase
from triggers_server.storage.postgres.events import events_after, get_event, insert_event
from triggers_server.storage.postgres.subscriptions import disable_subscription, get_subscription


class PgDeliveryStore:
    def __init__(self, db: PgDatabase) -> None:
        self._db = db

    async def fan_out(
        self,
        account_id: str,
        planned: Sequence[NewDelivery],
        *,
        through_sequence: int,
        now: datetime,
        due_at: datetime,
    ) -> list[str]:
        async def write(conn: Conn) -> list[str]:
            ids = await sql.insert_deliveries(conn, account_id, planned, now=now, due_at=due_at, once=True)
            await sql.advance_fanout_mark(conn, account_id, through_sequence)
            return ids

        return await self._db.write(write)

    async def fanout_marks(self) -> dict[str, int]:
        async def read(conn: Conn) -> dict[str, int]:
            rows = await conn.fetch("SELECT account_id, through_sequence FROM delivery_fanout")
            return {row["account_id"]: int(row["through_sequence"]) for row in rows}

        return await self._db.read(read)

    async def events_after(
        self, account_id: str, *, after_sequence: int, now: datetime, limit: int
    ) -> list[dict[str, Any]]:
        return await self._db.read(lambda conn: events_after(conn, account_id, after_sequence, now=now, limit=limit))

    async def store_test_event(
        self,
        account_id: str,
        draft: EventDraft,
        subscription_id: str,
        *,
        payload_of: PayloadOf,
        now: datetime,
        due_at: datetime,
    ) -> DeliveryRecord:
        async def write(conn: Conn, context: IngestContext) -> DeliveryRecord:
            event = await insert_event(conn, context, account_id, draft, now, inbox=False)
            planned = [NewDelivery(str(event["id"]), str(event["type"]), subscription_id, payload_of(event))]
            [delivery_id] = await sql.insert_deliveries(conn, account_id, planned, now=now, due_at=due_at)
            await sql.advance_fanout_mark(conn, account_id, int(event["sequence"]))
            delivery = await sql.get_delivery(conn, account_id, delivery_id)
            assert delivery is not None
            return delivery

        return await self._db.ingest(write)

    async def get(self, account_id: str, delivery_id: str) -> DeliveryRecord | None:
        return await self._db.read(lambda conn: sql.get_delivery(conn, account_id, delivery_id))

    async def get_with_attempts(
        self, account_id: str, delivery_id: str
    ) -> tuple[DeliveryRecord, list[AttemptRecord]] | None:
        async def read(conn: Conn) -> tuple[DeliveryRecord, list[AttemptRecord]] | None:
            found = await sql.get_delivery(conn, account_id, delivery_id)
            return (found, await sql.list_attempts(conn, delivery_id)) if found is not None else None

        return await self._db.snapshot(read)

    async def get_with_subscription(
        self, account_id: str, delivery_id: str
    ) -> tuple[DeliveryRecord, SubscriptionRecord | None] | None:
        async def read(conn: Conn) -> tuple[DeliveryRecord, SubscriptionRecord | None] | None:
            found = await sql.get_delivery(conn, account_id, delivery_id)
            if found is None:
                return None
            return found, await get_subscription(conn, account_id, found.subscription_id)

        return await self._db.snapshot(read)

    async def list_page(
        self, account_id: str, query: DeliveryQuery, *, limit: int, before_seq: int | None
    ) -> list[DeliveryRecord]:
        return await self._db.read(
            lambda conn: sql.list_deliveries(
                conn,
                account_id,
                limit=limit,
                before_seq=before_seq,
                subscription_id=query.subscription_id,
                event_id=query.event_id,
                status=query.status,
            )
        )

    async def list_for_event(
        self, account_id: str, event_id: str, *, now: datetime, limit: int, before_seq: int | None
    ) -> list[DeliveryRecord] | None:
        async def read(conn: Conn) -> list[DeliveryRecord] | None:
            if await get_event(conn, account_id, event_id, now) is None:
                return None
            return await sql.list_deliveries(conn, account_id, limit=limit, before_seq=before_seq, event_id=event_id)

        return await self._db.snapshot(read)

    async def schedule_manual_retry(self, account_id: str, delivery_id: str, *, now: datetime) -> DeliveryRecord | None:
        async def write(conn: Conn) -> DeliveryRecord | None:
            if not await sql.schedule_manual_retry(conn, account_id, delivery_id, now=now):
                return None
            return await sql.get_delivery(conn, account_id, delivery_id)

        return await self._db.write(write)

    async def claim_due(self, *, now: datetime, limit: int, lease_until: datetime) -> list[DeliveryRecord]:
        next_due = await self.next_due_time()  # a wake-up with nothing due costs a read, not a write
        if next_due is None or next_due > now:
            return []
        return await self._db.write(lambda conn: sql.claim_due(conn, now, limit=limit, lease_until=lease_until))

    async def next_due_time(self) -> datetime | None:
        return await self._db.read(sql.next_due_time)

    async def discard(self, delivery_id: str, *, reason: str, now: datetime) -> None:
        await self._db.write(lambda conn: sql.set_status(conn, delivery_id, DISCARDED, now=now, last_error=reason))

    async def postpone(self, delivery_id: str, until: datetime) -> None:
        async def write(conn: Conn) -> None:
            await conn.execute(
                "UPDATE deliveries SET next_attempt_at = $1 WHERE id = $2", isoformat(until), delivery_id
            )

        await self._db.write(write)

    async def record_attempt(
        self,
        delivery: DeliveryRecord,
        outcome: AttemptOutcome,
        *,
        status: str,
        next_attempt_at: datetime | None,
        now: datetime,
        dead_letter: NewDeadLetter | None,
        disable: DisableSubscription | None,
    ) -> None:
        account_id = delivery.account_id

        async def write(conn: Conn) -> None:
            made = await sql.record_attempt(
                conn, delivery, outcome, status=status, next_attempt_at=next_attempt_at, now=now
            )
            if not made:
                return
            if disable is not None:
                await disable_subscription(conn, account_id, delivery.subscription_id, reason=disable.reason, now=now)
                await sql.discard_active(
                    conn, account_id, delivery.subscription_id, reason=disable.discard_reason, now=now
                )
            if dead_letter is not None:
                await add_dead_letter(conn, dead_letter, now)

        await self._db.write(write)
