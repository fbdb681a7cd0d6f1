"""Webhook deliveries (one per event x subscription) and their attempt log: the records and the port
(`DeliveryStore`), including the worker's claim of due deliveries.

Status machine (contract `DeliveryStatus`): `pending` (an attempt is scheduled) → `succeeded` | `failed` (an
attempt failed, the next one is scheduled) → … → `dead_lettered` (schedule exhausted or endpoint gone);
`discarded` when the subscription was disabled or deleted before it could be sent. A manual retry makes any
delivery but a succeeded one `pending` again.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, Protocol

from triggers_server.storage.ports.dlq import NewDeadLetter
from triggers_server.storage.ports.events import EventDraft
from triggers_server.storage.ports.subscriptions import SubscriptionRecord

PENDING: Final = "pending"
FAILED: Final = "failed"
SUCCEEDED: Final = "succeeded"
DEAD_LETTERED: Final = "dead_lettered"
DISCARDED: Final = "discarded"
STATUSES: Final = (PENDING, FAILED, SUCCEEDED, DEAD_LETTERED, DISCARDED)
ACTIVE_STATUSES: Final = (PENDING, FAILED)
TIMEOUT_ERROR: Final = "timeout"
"""How a failed attempt's `error` starts (`timeout: <exception>`) when the receiver did not answer in time; any
other transport failure is `<exception name>: <message>`. `/stats` counts failures by this cause."""

PayloadOf = Callable[[Mapping[str, Any]], str]
"""The body every attempt of a delivery of this (stored, wire) event sends."""


@dataclass(frozen=True)
class AttemptRecord:
    id: str
    delivery_id: str
    attempt_number: int
    trigger: str
    started_at: datetime
    duration_ms: float
    request_url: str
    request_headers: dict[str, str]
    request_body: str
    response_status: int | None
    response_headers: dict[str, str] | None
    response_body: str | None
    response_body_truncated: bool
    error: str | None
    outcome: str
    next_attempt_at: datetime | None


@dataclass(frozen=True)
class DeliveryRecord:
    seq: int
    id: str
    account_id: str
    event_id: str
    event_type: str
    subscription_id: str
    payload: str
    status: str
    attempt_count: int
    next_attempt_at: datetime | None
    last_attempt_at: datetime | None
    manual_pending: bool
    last_response_status: int | None
    last_error: str | None
    created_at: datetime
    updated_at: datetime
    resume_status: str | None = None  # the end a manual retry came from (a failed manual attempt returns there)


@dataclass(frozen=True)
class NewDelivery:
    event_id: str
    event_type: str
    subscription_id: str
    payload: str


@dataclass(frozen=True)
class AttemptOutcome:
    """What one HTTP attempt produced, as recorded."""

    trigger: str
    started_at: datetime
    duration_ms: float
    request_url: str
    request_headers: dict[str, str]
    request_body: str
    response_status: int | None
    response_headers: dict[str, str] | None
    response_body: str | None
    response_body_truncated: bool
    error: str | None
    succeeded: bool


@dataclass(frozen=True)
class DeliveryQuery:
    subscription_id: str | None = None
    event_id: str | None = None
    status: str | None = None


@dataclass(frozen=True)
class DisableSubscription:
    """The endpoint is gone: disable its subscription and discard its other active deliveries."""

    reason: str
    discard_reason: str


class DeliveryStore(Protocol):
    async def fan_out(
        self,
        account_id: str,
        planned: Sequence[NewDelivery],
        *,
        through_sequence: int,
        now: datetime,
        due_at: datetime,
    ) -> list[str]:
        """Create pending deliveries first due at `due_at` and move the account's fan-out mark to
        `through_sequence` (never backwards), in one transaction; returns the new ids in order."""
        ...

    async def fanout_marks(self) -> dict[str, int]:
        """Per account, the last event sequence fanned out."""
        ...

    async def events_after(
        self, account_id: str, *, after_sequence: int, now: datetime, limit: int
    ) -> list[dict[str, Any]]:
        """Stored events (wire form) after `after_sequence`, oldest first (what a crash left without fan-out)."""
        ...

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
        """Store `draft` (not in the inbox), one delivery of it to `subscription_id`, and move the fan-out mark
        past it (no other subscription gets it), in one transaction."""
        ...

    async def get(self, account_id: str, delivery_id: str) -> DeliveryRecord | None: ...

    async def get_with_attempts(
        self, account_id: str, delivery_id: str
    ) -> tuple[DeliveryRecord, list[AttemptRecord]] | None: ...

    async def get_with_subscription(
        self, account_id: str, delivery_id: str
    ) -> tuple[DeliveryRecord, SubscriptionRecord | None] | None:
        """The delivery and its subscription (None when deleted); None when there is no such delivery."""
        ...

    async def list_page(
        self, account_id: str, query: DeliveryQuery, *, limit: int, before_seq: int | None
    ) -> list[DeliveryRecord]:
        """Newest first; `before_seq` continues a page."""
        ...

    async def list_for_event(
        self, account_id: str, event_id: str, *, now: datetime, limit: int, before_seq: int | None
    ) -> list[DeliveryRecord] | None:
        """The deliveries of one stored event, newest first; None when the event is not stored."""
        ...

    async def schedule_manual_retry(self, account_id: str, delivery_id: str, *, now: datetime) -> DeliveryRecord | None:
        """Queue one immediate manual attempt (the delivery is `pending`, due now); None when it succeeded
        meanwhile (or vanished)."""
        ...

    async def claim_due(self, *, now: datetime, limit: int, lease_until: datetime) -> list[DeliveryRecord]:
        """Up to `limit` deliveries due at `now`, oldest first, each moved to `lease_until` in the same
        transaction so no other claimer takes them meanwhile (a crash leaves them due again then)."""
        ...

    async def next_due_time(self) -> datetime | None:
        """When the next delivery falls due (claimed ones count at the end of their lease)."""
        ...

    async def discard(self, delivery_id: str, *, reason: str, now: datetime) -> None:
        """End a delivery without an attempt (its subscription is disabled or gone)."""
        ...

    async def postpone(self, delivery_id: str, until: datetime) -> None:
        """Throttled: due again at `until`, no attempt counted."""
        ...

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
        """Append the attempt and move the delivery to `status`, with the dead letter and the endpoint-gone
        consequences it implies, in one transaction."""
        ...
