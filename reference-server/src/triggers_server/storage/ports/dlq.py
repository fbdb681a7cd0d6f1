"""The dead-letter queue: events the inbox (max deliveries) or a webhook delivery (retries) gave up on; the
records and the port (`DlqStore`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, Protocol

from triggers_server.storage.ports.subscriptions import SubscriptionRecord

ORIGIN_INBOX: Final = "inbox"
ORIGIN_DELIVERY: Final = "delivery"
ORIGINS: Final = (ORIGIN_INBOX, ORIGIN_DELIVERY)

REASON_MAX_DELIVERIES: Final = "max_deliveries_exceeded"
REASON_RETRIES_EXHAUSTED: Final = "retries_exhausted"
REASON_ENDPOINT_GONE: Final = "endpoint_gone"
REASONS: Final = (REASON_MAX_DELIVERIES, REASON_RETRIES_EXHAUSTED, REASON_ENDPOINT_GONE)


@dataclass(frozen=True)
class DlqRecord:
    seq: int
    id: str
    account_id: str
    origin: str
    event_id: str
    event_type: str
    subscription_id: str | None
    delivery_id: str | None
    reason: str
    detail: str | None
    attempts: int
    created_at: datetime


@dataclass(frozen=True)
class NewDeadLetter:
    account_id: str
    origin: str
    event_id: str
    event_type: str
    reason: str
    attempts: int
    detail: str | None = None
    subscription_id: str | None = None
    delivery_id: str | None = None


@dataclass(frozen=True)
class DlqFilter:
    """Query filters shared by listing and bulk retry; `event_type` is a validated type glob."""

    event_type: str | None = None
    subscription_id: str | None = None
    origin: str | None = None
    reason: str | None = None


@dataclass(frozen=True)
class RetryContext:
    """What deciding a dead letter's retry needs, read in the retrying transaction."""

    entry: DlqRecord
    event_stored: bool  # the event is still stored (within retention)
    subscription: SubscriptionRecord | None  # delivery origin: its subscription, None when deleted
    original_payload: str | None  # delivery origin: the body its delivery sent, None when gone


@dataclass(frozen=True)
class Requeue:
    """Put the event back in the inbox as pending, its delivery count reset."""


@dataclass(frozen=True)
class Redeliver:
    """A new delivery of the event to the entry's subscription, first due at `due_at`."""

    payload: str
    due_at: datetime


@dataclass(frozen=True)
class Refuse:
    reason: str


RetryPlan = Requeue | Redeliver | Refuse
RetryPlanner = Callable[[RetryContext], RetryPlan]
"""The domain's rule: what retrying one dead letter does (pure; runs inside the backend's transaction)."""


@dataclass(frozen=True)
class RetryDone:
    entry: DlqRecord
    delivery_id: str | None  # the new delivery (delivery origin)


class DlqStore(Protocol):
    async def list_with_events(
        self, account_id: str, query: DlqFilter, *, limit: int, before_seq: int | None, now: datetime
    ) -> list[tuple[DlqRecord, dict[str, Any] | None]]:
        """Entries newest first (`before_seq` continues a page), each with its stored event (wire form) or None
        when the event left retention; one snapshot."""
        ...

    async def get_with_event(
        self, account_id: str, entry_id: str, *, now: datetime
    ) -> tuple[DlqRecord, dict[str, Any] | None] | None: ...

    async def delete(self, account_id: str, entry_id: str) -> bool: ...

    async def retry(
        self, account_id: str, entry_id: str, *, now: datetime, plan: RetryPlanner
    ) -> RetryDone | Refuse | None:
        """Apply `plan` to one entry and remove it unless refused, in one transaction; None when absent."""
        ...

    async def retry_matching(
        self, account_id: str, query: DlqFilter, *, now: datetime, plan: RetryPlanner, batch: int
    ) -> int:
        """Apply `plan` to every matching entry (read `batch` at a time), removing each one not refused, in one
        transaction; returns how many were retried."""
        ...
