"""The domain runs on any backend that implements the ports: the idempotency and inbox services over small
in-memory stores, no SQLite and no HTTP request involved (issue 10 §1)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, Literal

import pytest
from core_harness import START

from triggers_server.clock import ManualClock
from triggers_server.config import Settings
from triggers_server.domain.errors import Conflict, IdempotencyInFlight, IdempotencyKeyReuse, NotFound
from triggers_server.domain.idempotency import IdempotencyService, Ticket
from triggers_server.domain.inbox import InboxService
from triggers_server.domain.principal import Principal
from triggers_server.domain.streaming import StreamHub
from triggers_server.storage.ports.idempotency import InFlightClaim, KeyedRequest, Reply, StoredResponse
from triggers_server.storage.ports.inbox import LeaseResult, ReceiptOutcome

pytestmark = pytest.mark.anyio
ALICE = Principal("acc_alice", "key_alice", frozenset({"admin"}))


class MemoryIdempotency:
    def __init__(self) -> None:
        self.rows: dict[tuple[str, str, str, str], StoredResponse] = {}
        self.claims: dict[tuple[str, str, str, str], tuple[str, InFlightClaim]] = {}

    async def claim(self, keyed: KeyedRequest, *, token: str, now: float, lease_until: float) -> bool:
        scope = (keyed.account_id, keyed.key, keyed.method, keyed.path)
        held = self.claims.get(scope)
        if held is not None and held[1].lease_until > now:
            return False
        claim = InFlightClaim(*scope, keyed.fingerprint, keyed.created_at.isoformat(), lease_until)
        self.claims[scope] = (token, claim)
        return True

    async def release(self, keyed: KeyedRequest, *, token: str) -> None:
        scope = (keyed.account_id, keyed.key, keyed.method, keyed.path)
        if scope in self.claims and self.claims[scope][0] == token:
            del self.claims[scope]

    async def in_flight_for_key(self, account_id: str, key: str, now: float) -> InFlightClaim | None:
        for (a, k, _, _), (_, claim) in self.claims.items():
            if a == account_id and k == key and claim.lease_until > now:
                return claim
        return None

    async def lookup(self, account_id: str, key: str, method: str, path: str, now: float) -> StoredResponse | None:
        row = self.rows.get((account_id, key, method, path))
        return row if row is not None and row.expires_at > now else None

    async def latest_for_key(self, account_id: str, key: str, now: float) -> StoredResponse | None:
        rows = [r for (a, k, _, _), r in self.rows.items() if a == account_id and k == key and r.expires_at > now]
        return max(rows, key=lambda row: row.created_at, default=None)

    async def record(self, keyed: KeyedRequest, reply: Reply) -> None:
        self.rows[(keyed.account_id, keyed.key, keyed.method, keyed.path)] = StoredResponse(
            keyed.fingerprint,
            reply.status_code,
            reply.headers,
            reply.body,
            keyed.route,
            keyed.method,
            reply.resource_id,
            keyed.created_at.isoformat(),
            keyed.expires_at,
            reply.replay_status,
        )

    async def purge_expired(self, now: float) -> int:
        expired = [scope for scope, row in self.rows.items() if row.expires_at <= now]
        for scope in expired:
            del self.rows[scope]
        return len(expired)


class MemoryInbox:
    """One pending event; leases hand out `rcpt_1`; acks by event id know `evt_1` (dead-lettered) only."""

    def __init__(self) -> None:
        self.pending: list[dict[str, Any]] = [{"sequence": 1, "type": "order.created"}]
        self.leases = 0

    async def list_pending(
        self, account_id: str, *, types: Sequence[str], after_sequence: int, limit: int, now: datetime
    ) -> list[dict[str, Any]]:
        return [event for event in self.pending if event["sequence"] > after_sequence][:limit]

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
        self.leases += 1
        messages = [{"event": event, "receipt": "rcpt_1", "delivery_count": 1} for event in self.pending]
        self.pending = []
        result = LeaseResult("lse_1", now.isoformat(), messages, 0, None)
        return result, respond(result)

    async def ack(self, account_id: str, receipts: Sequence[str], now: datetime) -> list[ReceiptOutcome]:
        return [ReceiptOutcome(r, "ok" if r == "rcpt_1" else "not_found") for r in receipts]

    async def nack(self, account_id: str, receipts: Sequence[str], delay: int, now: datetime) -> list[ReceiptOutcome]:
        return [ReceiptOutcome(r, "ok") for r in receipts]

    async def extend(
        self, account_id: str, receipts: Sequence[str], visibility_timeout: int, now: datetime
    ) -> list[ReceiptOutcome]:
        return [ReceiptOutcome(r, "expired", "gone") for r in receipts]

    async def ack_event(
        self, account_id: str, event_id: str, now: datetime
    ) -> Literal["ok", "not_found", "dead_lettered"]:
        return "dead_lettered" if event_id == "evt_1" else "not_found"


async def test_idempotency_rules_run_over_any_store() -> None:
    clock = ManualClock(START)
    store = MemoryIdempotency()
    service = IdempotencyService(store, clock, Settings())
    ticket = await service.begin(ALICE, "k", method="POST", path="/v1/events", fingerprint="f1")
    assert isinstance(ticket, Ticket)
    with pytest.raises(IdempotencyInFlight) as busy:
        await service.begin(ALICE, "k", method="POST", path="/v1/events", fingerprint="f1")
    assert busy.value.retry_after_seconds == 1
    assert (await service.status(ALICE, "k"))["status"] == "in_progress"
    ticket.route = "/events"
    await service.finish(ticket, status=201, headers=[("content-type", "application/json")], body=b'{"id":"e"}')
    replay = await service.begin(ALICE, "k", method="POST", path="/v1/events", fingerprint="f1")
    assert isinstance(replay, StoredResponse) and replay.status_code == 201 and replay.resource_id == "e"
    with pytest.raises(IdempotencyKeyReuse):
        await service.begin(ALICE, "k", method="POST", path="/v1/events", fingerprint="f2")
    assert (await service.status(ALICE, "k"))["response_status"] == 201
    clock.advance(24 * 3600)
    assert await service.purge_expired() == 1
    with pytest.raises(NotFound):
        await service.status(ALICE, "k")


async def test_a_validation_failure_is_not_remembered() -> None:
    store = MemoryIdempotency()
    service = IdempotencyService(store, ManualClock(START), Settings())
    ticket = await service.begin(ALICE, "v", method="POST", path="/v1/events", fingerprint="f")
    assert isinstance(ticket, Ticket)
    await service.finish(ticket, status=422, headers=[], body=b'{"type":"https://triggers.dev/problems/validation"}')
    assert store.rows == {}
    assert isinstance(await service.begin(ALICE, "v", method="POST", path="/v1/events", fingerprint="g"), Ticket)


async def test_inbox_rules_run_over_any_store() -> None:
    store = MemoryInbox()
    service = InboxService(store, hub=StreamHub(), clock=ManualClock(START), settings=Settings())
    page = await service.page(ALICE, types=[], limit=10, cursor=None)
    assert [event["sequence"] for event in page.events] == [1] and page.next_cursor is None

    def respond(result: LeaseResult) -> Reply:
        return Reply(200, (), str(len(result.messages)).encode(), result.lease_id)

    reply = await service.lease(
        ALICE, max_events=10, visibility_timeout=30, types=[], wait=0, respond=respond, ticket=None
    )
    assert reply.body == b"1" and store.leases == 1
    assert [outcome.status for outcome in await service.ack(ALICE, ["rcpt_1", "rcpt_9"])] == ["ok", "not_found"]
    with pytest.raises(Conflict):
        await service.ack_event(ALICE, "evt_1")
    with pytest.raises(NotFound):
        await service.ack_event(ALICE, "evt_2")
