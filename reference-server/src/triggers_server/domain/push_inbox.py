"""A push inbox: the pull inbox's leases, handed out one message at a time while fewer than `max_in_flight`
are unacknowledged (the WebSocket `lease` frame).

Every message is leased through `InboxService.lease`, so receipts, visibility timeouts, delivery counts and
dead-lettering are exactly the HTTP inbox's; acks, nacks and extends go through the same service. Nothing is
released when the consumer goes away: unacknowledged messages return when their visibility timeout ends."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import timedelta
from typing import Any

import anyio

from triggers_server.clock import Clock
from triggers_server.domain.inbox import InboxService
from triggers_server.domain.principal import Principal
from triggers_server.domain.streaming import wait_for_signal
from triggers_server.storage.ports.idempotency import Reply
from triggers_server.storage.ports.inbox import LeaseResult, ReceiptOutcome

LONG_POLL_SECONDS = 20.0  # each lease try waits this long for a commit before it tries again


class PushLease:
    """The in-flight window of one push inbox on one connection."""

    def __init__(
        self,
        inbox: InboxService,
        principal: Principal,
        clock: Clock,
        *,
        max_in_flight: int,
        visibility_timeout: int,
        types: Sequence[str],
    ) -> None:
        self._inbox = inbox
        self._principal = principal
        self._clock = clock
        self.max_in_flight = max_in_flight
        self.visibility_timeout = visibility_timeout
        self._types = list(types)
        self._deadlines: dict[str, float] = {}  # receipt -> epoch seconds its lease ends
        self._freed = anyio.Event()

    def in_flight(self) -> int:
        """Messages sent and neither settled nor expired (an expired one is visible again, so its slot is free)."""
        now = self._clock.now().timestamp()
        for receipt in [r for r, deadline in self._deadlines.items() if deadline <= now]:
            del self._deadlines[receipt]
        return len(self._deadlines)

    def settle(self, outcomes: Sequence[ReceiptOutcome]) -> None:
        """Free the slots of acknowledged or released receipts (and of receipts the store no longer knows)."""
        freed = False
        for outcome in outcomes:
            if self._deadlines.pop(outcome.receipt, None) is not None:
                freed = True
        if freed:
            self._wake()

    def extended(self, outcomes: Sequence[ReceiptOutcome], visibility_timeout: int) -> None:
        until = (self._clock.now() + timedelta(seconds=visibility_timeout)).timestamp()
        for outcome in outcomes:
            if outcome.receipt in self._deadlines:
                if outcome.status == "ok":
                    self._deadlines[outcome.receipt] = until
                else:
                    del self._deadlines[outcome.receipt]
                    self._wake()

    def _wake(self) -> None:
        self._freed.set()
        self._freed = anyio.Event()

    async def messages(self) -> AsyncIterator[dict[str, Any]]:
        """Leased messages (`{event, receipt, delivery_count}`), forever, never more than `max_in_flight` open."""
        while True:
            freed = self._freed  # taken before the count, so a settle in between is not missed
            free = self.max_in_flight - self.in_flight()
            if free <= 0:
                now = self._clock.now().timestamp()
                soonest = min(self._deadlines.values())
                await wait_for_signal(freed, self._clock, soonest - now)
                continue
            for message in await self._lease(free):
                self._deadlines[message["receipt"]] = self._lease_end()
                yield message

    def _lease_end(self) -> float:
        return (self._clock.now() + timedelta(seconds=self.visibility_timeout)).timestamp()

    async def _lease(self, count: int) -> list[dict[str, Any]]:
        leased: list[LeaseResult] = []

        def respond(result: LeaseResult) -> Reply:
            leased.append(result)
            return Reply(200, (), b"", result.lease_id)

        await self._inbox.lease(
            self._principal,
            max_events=count,
            visibility_timeout=self.visibility_timeout,
            types=self._types,
            wait=LONG_POLL_SECONDS,
            respond=respond,
            ticket=None,
        )
        return leased[-1].messages if leased else []
