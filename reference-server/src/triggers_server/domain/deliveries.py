"""Webhook deliveries as the API shows them: listing, one with its attempts, an event's, and manual retry."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from triggers_server.clock import Clock
from triggers_server.domain.errors import Conflict, NotFound
from triggers_server.domain.paging import Page, before_seq, page_of
from triggers_server.domain.webhooks.service import DeliveryService
from triggers_server.storage.ports.deliveries import (
    SUCCEEDED,
    AttemptRecord,
    DeliveryQuery,
    DeliveryRecord,
    DeliveryStore,
)

CURSOR: Final = "deliveries"
EVENT_CURSOR: Final = "event-deliveries"
# Delivery statuses of an event are read a page at a time (a workflow's saga view); events rarely have many.
STATUS_PAGE: Final = 500


def _not_found(delivery_id: str) -> NotFound:
    return NotFound(f"No delivery {delivery_id!r} in this account.")


def _succeeded(delivery_id: str) -> Conflict:
    return Conflict(f"Delivery {delivery_id!r} already succeeded; there is nothing to retry.")


class DeliveryLog:
    def __init__(self, deliveries: DeliveryStore, delivery: DeliveryService, clock: Clock) -> None:
        self._deliveries = deliveries
        self._delivery = delivery
        self._clock = clock

    async def list_page(
        self, account_id: str, query: DeliveryQuery, *, limit: int, cursor: str | None
    ) -> Page[DeliveryRecord]:
        before = before_seq(CURSOR, cursor)
        records = await self._deliveries.list_page(account_id, query, limit=limit + 1, before_seq=before)
        return page_of(CURSOR, records, limit, lambda record: record.seq)

    async def get(self, account_id: str, delivery_id: str) -> tuple[DeliveryRecord, list[AttemptRecord]]:
        found = await self._deliveries.get_with_attempts(account_id, delivery_id)
        if found is None:
            raise _not_found(delivery_id)
        return found

    async def of_event(self, account_id: str, event_id: str, *, limit: int, cursor: str | None) -> Page[DeliveryRecord]:
        before = before_seq(EVENT_CURSOR, cursor)
        records = await self._deliveries.list_for_event(
            account_id, event_id, now=self._clock.now(), limit=limit + 1, before_seq=before
        )
        if records is None:
            raise NotFound(f"No event {event_id!r} in this account.")
        return page_of(EVENT_CURSOR, records, limit, lambda record: record.seq)

    async def statuses_of(self, account_id: str, event_ids: Sequence[str]) -> dict[str, list[str]]:
        """Every delivery status of each event (an event not stored has none)."""
        now = self._clock.now()
        statuses: dict[str, list[str]] = {}
        for event_id in event_ids:
            found: list[str] = []
            before: int | None = None
            while True:
                page = await self._deliveries.list_for_event(
                    account_id, event_id, now=now, limit=STATUS_PAGE, before_seq=before
                )
                found.extend(record.status for record in page or ())
                if not page or len(page) < STATUS_PAGE:
                    break
                before = page[-1].seq
            statuses[event_id] = found
        return statuses

    async def retry(self, account_id: str, delivery_id: str) -> DeliveryRecord:
        """One immediate manual attempt of a delivery in any state but `succeeded`, to an enabled subscription;
        returns the delivery, pending."""
        found = await self._deliveries.get_with_subscription(account_id, delivery_id)
        if found is None:
            raise _not_found(delivery_id)
        record, subscription = found
        if record.status == SUCCEEDED:
            raise _succeeded(delivery_id)
        if subscription is None or not subscription.enabled:
            state = "deleted" if subscription is None else "disabled"
            raise Conflict(f"Subscription {record.subscription_id!r} is {state}; enable it first.")
        queued = await self._deliveries.schedule_manual_retry(account_id, delivery_id, now=self._clock.now())
        if queued is None:
            raise _succeeded(delivery_id)
        self._delivery.notify()
        return queued
