"""The pull inbox: lease outcomes, per-receipt outcomes, and the port (`InboxStore`).

Receipts are opaque to the domain; a backend decides what identifies an entry and when a receipt is `expired`
(the entry was since re-leased, released, acknowledged otherwise or dead-lettered) or `not_found`."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Protocol

from triggers_server.storage.ports.idempotency import KeyedRequest, Reply


@dataclass(frozen=True)
class LeaseResult:
    lease_id: str
    leased_until: str
    messages: list[dict[str, Any]]  # {event, receipt, delivery_count}, oldest first
    dead_lettered: int
    next_visible_at: float | None  # when the next matching entry becomes visible, if any


@dataclass(frozen=True)
class ReceiptOutcome:
    receipt: str
    status: Literal["ok", "expired", "not_found"]
    detail: str | None = None


class InboxStore(Protocol):
    async def list_pending(
        self, account_id: str, *, types: Sequence[str], after_sequence: int, limit: int, now: datetime
    ) -> list[dict[str, Any]]:
        """Visible (pending, or leased with an ended lease) events, oldest first."""
        ...

    async def lease(
        self,
        account_id: str,
        *,
        max_events: int,
        visibility_timeout: int,
        types: Sequence[str],
        now: datetime,
        default_max_deliveries: int,
        respond: Callable[[LeaseResult], Reply | None],
        keyed: KeyedRequest | None,
    ) -> tuple[LeaseResult, Reply | None]:
        """Lease up to `max_events` visible entries (exhausted ones are dead-lettered instead); `respond` renders
        the reply inside the transaction (None: nothing to answer yet) and, with `keyed`, it is stored there."""
        ...

    async def ack(self, account_id: str, receipts: Sequence[str], now: datetime) -> list[ReceiptOutcome]: ...

    async def nack(
        self, account_id: str, receipts: Sequence[str], delay: int, now: datetime
    ) -> list[ReceiptOutcome]: ...

    async def extend(
        self, account_id: str, receipts: Sequence[str], visibility_timeout: int, now: datetime
    ) -> list[ReceiptOutcome]: ...

    async def ack_event(
        self, account_id: str, event_id: str, now: datetime
    ) -> Literal["ok", "not_found", "dead_lettered"]:
        """Acknowledge by event id (whatever lease it is under)."""
        ...
