"""The pull inbox: list, lease (with long poll), ack / nack / extend by receipt, and the ack by event id."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from triggers_server.clock import Clock
from triggers_server.config import Settings
from triggers_server.domain.cursors import decode_cursor, encode_cursor, int_field
from triggers_server.domain.errors import Conflict, NotFound
from triggers_server.domain.idempotency import Ticket, keyed
from triggers_server.domain.principal import Principal
from triggers_server.domain.streaming import StreamHub, wait_for_signal
from triggers_server.storage.ports.idempotency import Reply
from triggers_server.storage.ports.inbox import InboxStore, LeaseResult, ReceiptOutcome

INBOX_CURSOR = "inbox"


@dataclass(frozen=True)
class InboxPage:
    events: list[dict[str, Any]]
    next_cursor: str | None


class InboxService:
    def __init__(self, store: InboxStore, *, hub: StreamHub, clock: Clock, settings: Settings) -> None:
        self._store = store
        self._hub = hub
        self._clock = clock
        self._default_max_deliveries = settings.max_deliveries

    async def page(self, principal: Principal, *, types: Sequence[str], limit: int, cursor: str | None) -> InboxPage:
        """Visible events, oldest first, a page of `limit`."""
        position = decode_cursor(INBOX_CURSOR, cursor)
        after = int_field(position, "s") if position is not None else 0
        events = await self._store.list_pending(
            principal.account_id, types=types, after_sequence=after, limit=limit + 1, now=self._clock.now()
        )
        if len(events) <= limit:
            return InboxPage(events, None)
        events = events[:limit]
        return InboxPage(events, encode_cursor(INBOX_CURSOR, {"s": events[-1]["sequence"]}))

    async def lease(
        self,
        principal: Principal,
        *,
        max_events: int,
        visibility_timeout: int,
        types: Sequence[str],
        wait: float,
        respond: Callable[[LeaseResult], Reply],
        ticket: Ticket | None,
    ) -> Reply:
        """Lease what is visible; with nothing visible, wait up to `wait` seconds (woken by commits, nacks and
        the next lease ending) and answer the last try, empty or not. Each try is one transaction, which also
        stores the reply it answers with under a keyed request."""
        account_id = principal.account_id
        deadline = self._clock.now().timestamp() + wait
        while True:
            signal = self._hub.signal(account_id)  # taken before the read, so no wake-up is lost
            now = self._clock.now()
            final = now.timestamp() >= deadline

            def answer(result: LeaseResult, final: bool = final) -> Reply | None:
                return respond(result) if result.messages or final else None

            result, reply = await self._store.lease(
                account_id,
                max_events=max_events,
                visibility_timeout=visibility_timeout,
                types=types,
                now=now,
                default_max_deliveries=self._default_max_deliveries,
                respond=answer,
                keyed=keyed(ticket),
            )
            if reply is not None:
                if ticket is not None:
                    ticket.recorded = True
                return reply
            remaining = deadline - now.timestamp()
            if result.next_visible_at is not None:
                remaining = min(remaining, max(0.0, result.next_visible_at - now.timestamp()))
            await wait_for_signal(signal, self._clock, remaining)

    async def ack(self, principal: Principal, receipts: Sequence[str]) -> list[ReceiptOutcome]:
        return await self._store.ack(principal.account_id, receipts, self._clock.now())

    async def nack(self, principal: Principal, receipts: Sequence[str], delay: int) -> list[ReceiptOutcome]:
        """Release leases (visible again after `delay` seconds); an immediate release wakes long polls."""
        results = await self._store.nack(principal.account_id, receipts, delay, self._clock.now())
        if delay == 0 and any(result.status == "ok" for result in results):
            self._hub.publish(principal.account_id, [])
        return results

    async def extend(
        self, principal: Principal, receipts: Sequence[str], visibility_timeout: int
    ) -> list[ReceiptOutcome]:
        return await self._store.extend(principal.account_id, receipts, visibility_timeout, self._clock.now())

    async def ack_event(self, principal: Principal, event_id: str) -> None:
        outcome = await self._store.ack_event(principal.account_id, event_id, self._clock.now())
        if outcome == "not_found":
            raise NotFound(f"No event {event_id!r} in this account.")
        if outcome == "dead_lettered":
            raise Conflict(f"Event {event_id!r} was dead-lettered; retry it from the DLQ instead.")
