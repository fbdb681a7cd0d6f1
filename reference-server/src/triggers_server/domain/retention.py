"""The janitor's pass: persist API-key usage, expire idempotency records, purge events past retention."""

from __future__ import annotations

from triggers_server.clock import Clock
from triggers_server.domain.accounts import AccountService
from triggers_server.domain.idempotency import IdempotencyService
from triggers_server.storage.ports.events import EventStore


class Janitor:
    def __init__(
        self,
        *,
        accounts: AccountService,
        idempotency: IdempotencyService,
        events: EventStore,
        clock: Clock,
        retention_seconds: float,
    ) -> None:
        self._accounts = accounts
        self._idempotency = idempotency
        self._events = events
        self._clock = clock
        self._retention_seconds = retention_seconds

    async def run_once(self) -> None:
        """One pass, each step its own transaction (a failing step leaves the others done)."""
        await self._accounts.persist_last_used()
        await self._idempotency.purge_expired()
        await self._events.purge_retention(self._clock.now(), self._retention_seconds)
