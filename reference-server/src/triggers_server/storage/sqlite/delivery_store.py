"""`storage.ports.deliveries.DeliveryStore` on the group-commit engine: one method, one transaction, over the
SQL of `deliveries`, `subscriptions`, `dlq` and `events`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

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
from triggers_server.storage.sqlite import deliveries as sql
from triggers_server.storage.sqlite.dlq import add_dead_letter
from triggers_server.storage.sqlite.engine import Database, Transaction
from triggers_server.storage.sqlite.events import events_after, get_event, insert_event
from triggers_server.storage.sqlite.subscriptions import disable_subscription, get_subscription


class SqliteDeliveryStore:
    def __init__(self, db: Database) -> None:
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
        def write(tx: Transaction) -> list[str]:
            ids = sql.insert_deliveries(tx, account_id, planned, now=now, due_at=due_at) if planned else []
            sql.advance_fanout_mark(tx, account_id, through_sequence)
            return ids

        return await self._db.write(write)

    async def fanout_marks(self) -> dict[str, int]:
        return await self._db.read(sql.fanout_marks)

    async def events_after(
        self, account_id: str, *, after_sequence: int, now: datetime, limit: int
    ) -> list[dict[str, Any]]:
        return await self._db.read(
            lambda tx: events_after(tx, account_id=account_id, after_sequence=after_sequence, now=now, limit=limit)
        )

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
        def write(tx: Transaction) -> DeliveryRecord:
            event = insert_event(tx, account_id, draft, now, inbox=False)
            planned = [NewDelivery(str(event["id"]), str(event["type"]), subscription_id, payload_of(event))]
            [delivery_id] = sql.insert_deliveries(tx, account_id, planned, now=now, due_at=due_at)
            sql.advance_fanout_mark(tx, account_id, int(event["sequence"]))
            delivery = sql.get_delivery(tx, account_id, delivery_id)
            assert delivery is not None
            return delivery

        return await self._db.write(write)

    async def get(self, account_id: str, delivery_id: str) -> DeliveryRecord | None:
        return await self._db.read(lambda tx: sql.get_delivery(tx, account_id, delivery_id))

    async def get_with_attempts(
        self, account_id: str, delivery_id: str
    ) -> tuple[DeliveryRecord, list[AttemptRecord]] | None:
        def read(tx: Transaction) -> tuple[DeliveryRecord, list[AttemptRecord]] | None:
            record = sql.get_delivery(tx, account_id, delivery_id)
            return (record, sql.list_attempts(tx, delivery_id)) if record is not None else None

        return await self._db.read(read)

    async def get_with_subscription(
        self, account_id: str, delivery_id: str
    ) -> tuple[DeliveryRecord, SubscriptionRecord | None] | None:
        def read(tx: Transaction) -> tuple[DeliveryRecord, SubscriptionRecord | None] | None:
            record = sql.get_delivery(tx, account_id, delivery_id)
            if record is None:
                return None
            return record, get_subscription(tx, account_id, record.subscription_id)

        return await self._db.read(read)

    async def list_page(
        self, account_id: str, query: DeliveryQuery, *, limit: int, before_seq: int | None
    ) -> list[DeliveryRecord]:
        return await self._db.read(
            lambda tx: sql.list_deliveries(
                tx,
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
        def read(tx: Transaction) -> list[DeliveryRecord] | None:
            if get_event(tx, account_id, event_id, now) is None:
                return None
            return sql.list_deliveries(tx, account_id, limit=limit, before_seq=before_seq, event_id=event_id)

        return await self._db.read(read)

    async def schedule_manual_retry(self, account_id: str, delivery_id: str, *, now: datetime) -> DeliveryRecord | None:
        def write(tx: Transaction) -> DeliveryRecord | None:
            if not sql.schedule_manual_retry(tx, account_id, delivery_id, now=now):
                return None
            return sql.get_delivery(tx, account_id, delivery_id)

        return await self._db.write(write)

    async def claim_due(self, *, now: datetime, limit: int, lease_until: datetime) -> list[DeliveryRecord]:
        # A wake-up with nothing due costs a read, not a job in the writer's queue (which ingestion shares).
        next_due = await self._db.read(sql.next_due_time)
        if next_due is None or next_due > now:
            return []
        return await self._db.write(lambda tx: sql.claim_due(tx, now, limit=limit, lease_until=lease_until))

    async def next_due_time(self) -> datetime | None:
        return await self._db.read(sql.next_due_time)

    async def discard(self, delivery_id: str, *, reason: str, now: datetime) -> None:
        await self._db.write(lambda tx: sql.set_status(tx, delivery_id, DISCARDED, now=now, last_error=reason))

    async def postpone(self, delivery_id: str, until: datetime) -> None:
        await self._db.write(lambda tx: sql.postpone(tx, delivery_id, until))

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

        def write(tx: Transaction) -> None:
            sql.record_attempt(tx, delivery, outcome, status=status, next_attempt_at=next_attempt_at, now=now)
            if disable is not None:
                disable_subscription(tx, account_id, delivery.subscription_id, reason=disable.reason, now=now)
                sql.discard_active(tx, account_id, delivery.subscription_id, reason=disable.discard_reason, now=now)
            if dead_letter is not None:
                add_dead_letter(tx, dead_letter, now)

        await self._db.write(write)
