"""The dead-letter queue: listing with the events, dismissing, and the rules of putting dead letters back in
play (an inbox origin returns to the inbox, a delivery origin gets a new delivery)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from triggers_server.clock import Clock
from triggers_server.domain.cursors import encode_cursor
from triggers_server.domain.errors import Conflict, NotFound
from triggers_server.domain.paging import Page, before_seq
from triggers_server.domain.webhooks.service import DeliveryService
from triggers_server.storage.ports.dlq import (
    ORIGIN_INBOX,
    DlqFilter,
    DlqRecord,
    DlqStore,
    Redeliver,
    Refuse,
    Requeue,
    RetryContext,
    RetryPlan,
    RetryPlanner,
)

CURSOR: Final = "dlq"
BULK_BATCH: Final = 500


@dataclass(frozen=True)
class DeadLetter:
    entry: DlqRecord
    event: dict[str, Any]


@dataclass(frozen=True)
class Retried:
    entry_id: str
    event_id: str
    delivery_id: str | None


def retry_planner(first_attempt_at: datetime) -> RetryPlanner:
    """The retry rule: an inbox dead letter goes back while its event is stored; a delivery dead letter gets a
    new delivery (first due at `first_attempt_at`) while its subscription exists and is enabled."""

    def plan(context: RetryContext) -> RetryPlan:
        entry = context.entry
        if entry.origin == ORIGIN_INBOX:
            if not context.event_stored:
                return Refuse(f"event {entry.event_id!r} is no longer stored")
            return Requeue()
        subscription = context.subscription
        if subscription is None or context.original_payload is None:
            return Refuse(f"subscription {entry.subscription_id!r} no longer exists")
        if not subscription.enabled:
            return Refuse(f"subscription {subscription.id!r} is disabled; enable it first")
        return Redeliver(context.original_payload, first_attempt_at)

    return plan


def _not_found(entry_id: str) -> NotFound:
    return NotFound(f"No dead letter {entry_id!r} in this account.")


class DlqService:
    def __init__(self, dlq: DlqStore, delivery: DeliveryService, clock: Clock) -> None:
        self._dlq = dlq
        self._delivery = delivery
        self._clock = clock

    async def list_page(self, account_id: str, query: DlqFilter, *, limit: int, cursor: str | None) -> Page[DeadLetter]:
        """Newest first; an entry whose event left retention is not shown (it still counts for paging)."""
        before = before_seq(CURSOR, cursor)
        rows = await self._dlq.list_with_events(
            account_id, query, limit=limit + 1, before_seq=before, now=self._clock.now()
        )
        page = rows[:limit]
        next_cursor = encode_cursor(CURSOR, {"s": page[-1][0].seq}) if len(rows) > limit else None
        return Page(_shown(page), next_cursor)

    async def get(self, account_id: str, entry_id: str) -> DeadLetter:
        found = await self._dlq.get_with_event(account_id, entry_id, now=self._clock.now())
        shown = _shown([found]) if found is not None else []
        if not shown:
            raise _not_found(entry_id)
        return shown[0]

    async def dismiss(self, account_id: str, entry_id: str) -> None:
        if not await self._dlq.delete(account_id, entry_id):
            raise _not_found(entry_id)

    async def retry(self, account_id: str, entry_id: str) -> Retried:
        now = self._clock.now()
        plan = retry_planner(self._delivery.policy.first_attempt_at(now))
        result = await self._dlq.retry(account_id, entry_id, now=now, plan=plan)
        if result is None:
            raise _not_found(entry_id)
        if isinstance(result, Refuse):
            raise Conflict(f"Cannot retry {entry_id!r}: {result.reason}.")
        self._delivery.notify()
        return Retried(result.entry.id, result.entry.event_id, result.delivery_id)

    async def retry_matching(self, account_id: str, query: DlqFilter) -> int:
        """Retry every matching dead letter that can be; those of a gone or disabled subscription stay."""
        now = self._clock.now()
        plan = retry_planner(self._delivery.policy.first_attempt_at(now))
        retried = await self._dlq.retry_matching(account_id, query, now=now, plan=plan, batch=BULK_BATCH)
        self._delivery.notify()
        return retried


def _shown(rows: Sequence[tuple[DlqRecord, dict[str, Any] | None]]) -> list[DeadLetter]:
    return [DeadLetter(entry, event) for entry, event in rows if event is not None]
