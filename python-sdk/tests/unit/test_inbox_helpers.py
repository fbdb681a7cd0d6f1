"""Inbox consumers: iterate(), consume() (ack on success, nack on failure, bounded concurrency, stop)."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from typing import Any

import anyio
import anyio.lowlevel
import httpx
import pytest

from zapier_triggers import Message, SyncMessage
from zapier_triggers._constants import INBOX_CONSUME_CONCURRENCY, INBOX_LEASE_WAIT

from .fakes import async_client, event_json, sync_client

pytestmark = pytest.mark.anyio


@dataclass
class FakeInbox:
    """A stateful in-memory inbox speaking the contract's lease/ack/nack/extend shapes."""

    pending: list[int]
    acked: list[str] = field(default_factory=list)
    nacked: list[tuple[str, int | None]] = field(default_factory=list)
    extended: list[tuple[str, int]] = field(default_factory=list)
    lease_bodies: list[dict[str, Any]] = field(default_factory=list)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content or b"{}")
        path = request.url.path.removeprefix("/v1")
        if path == "/inbox/lease":
            self.lease_bodies.append(body)
            batch, self.pending = self.pending[: body["max_events"]], self.pending[body["max_events"] :]
            messages = [
                {"event": event_json(seq), "receipt": f"rcpt_{seq}", "delivery_count": 1} for seq in batch
            ]
            return httpx.Response(
                200, json={"lease_id": "lse_1", "leased_until": "2026-11-25T10:16:00Z", "messages": messages}
            )
        receipts = body["receipts"]
        if path == "/inbox/ack":
            self.acked.extend(receipts)
        elif path == "/inbox/nack":
            self.nacked.extend((r, body.get("delay")) for r in receipts)
        elif path == "/inbox/extend":
            self.extended.extend((r, body["visibility_timeout"]) for r in receipts)
        else:
            return httpx.Response(404)
        return httpx.Response(
            200, json={"results": [{"receipt": r, "status": "ok", "detail": None} for r in receipts]}
        )

    async def handle_async(self, request: httpx.Request) -> httpx.Response:
        return self(request)


async def test_iterate_leases_in_batches_and_messages_settle() -> None:
    inbox = FakeInbox(pending=[1, 2, 3])
    client = async_client(inbox.handle_async)
    seen: list[Message] = []
    async for message in client.inbox.iterate(
        batch_size=2, visibility_timeout=45, wait=0, stop_when_empty=True
    ):
        seen.append(message)
        if message.event.sequence == 1:
            assert (await message.ack()).status == "ok"
        elif message.event.sequence == 2:
            await message.extend(60)
            await message.nack(delay=5)
        else:
            await message.nack()
    assert [m.event.sequence for m in seen] == [1, 2, 3]
    assert [m.receipt for m in seen] == ["rcpt_1", "rcpt_2", "rcpt_3"]
    assert inbox.acked == ["rcpt_1"]
    assert inbox.nacked == [("rcpt_2", 5), ("rcpt_3", None)]
    assert inbox.extended == [("rcpt_2", 60)]
    assert inbox.lease_bodies[0] == {"max_events": 2, "visibility_timeout": 45, "wait": 0}


async def test_iterate_types_filter_and_bad_batch_size() -> None:
    inbox = FakeInbox(pending=[])
    client = async_client(inbox.handle_async)
    assert [m async for m in client.inbox.iterate(types=["order.*"], wait=0, stop_when_empty=True)] == []
    assert inbox.lease_bodies[0]["types"] == ["order.*"]
    with pytest.raises(ValueError, match="batch_size"):
        async for _ in client.inbox.iterate(batch_size=0):
            pass


async def test_consume_acks_successes_nacks_failures_and_bounds_concurrency() -> None:
    inbox = FakeInbox(pending=list(range(1, 11)))
    client = async_client(inbox.handle_async)
    running = 0
    peak = 0

    async def handler(message: Message) -> None:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await anyio.lowlevel.checkpoint()
        running -= 1
        if message.event.sequence % 5 == 0:
            raise RuntimeError("boom")

    stats = await client.inbox.consume(handler, concurrency=3, wait=0, nack_delay=7, stop_when_empty=True)
    assert (stats.acked, stats.nacked, stats.failed) == (8, 2, 2)
    assert sorted(inbox.nacked) == [("rcpt_10", 7), ("rcpt_5", 7)]
    assert len(inbox.acked) == 8
    assert 1 <= peak <= 3
    assert inbox.lease_bodies[0]["max_events"] == 3


async def test_consume_does_not_double_settle_when_handler_settles() -> None:
    inbox = FakeInbox(pending=[1, 2])
    client = async_client(inbox.handle_async)

    async def handler(message: Message) -> None:
        await message.nack(delay=1)

    stats = await client.inbox.consume(handler, wait=0, stop_when_empty=True)
    assert (stats.acked, stats.nacked) == (0, 0)
    assert inbox.acked == [] and len(inbox.nacked) == 2


async def test_graceful_stop_finishes_in_flight_and_releases_the_rest() -> None:
    inbox = FakeInbox(pending=[1, 2, 3, 4])
    client = async_client(inbox.handle_async)
    stop = anyio.Event()
    handled: list[int] = []

    async def handler(message: Message) -> None:
        handled.append(message.event.sequence)
        stop.set()  # a shutdown signal arrives while the first message is being handled

    stats = await client.inbox.consume(handler, concurrency=1, batch_size=4, wait=0, stop=stop)
    assert handled == [1]
    assert inbox.acked == ["rcpt_1"]
    assert sorted(r for r, _ in inbox.nacked) == ["rcpt_2", "rcpt_3", "rcpt_4"]
    assert stats.acked == 1
    with pytest.raises(ValueError, match="concurrency"):
        await client.inbox.consume(handler, concurrency=0)


def test_sync_consume_and_iterate() -> None:
    inbox = FakeInbox(pending=[1, 2, 3, 4, 5])
    client = sync_client(inbox)

    def handler(message: SyncMessage) -> None:
        if message.event.sequence == 2:
            raise ValueError("bad")

    stats = client.inbox.consume(handler, concurrency=2, wait=0, stop_when_empty=True)
    assert (stats.acked, stats.nacked, stats.failed) == (4, 1, 1)
    assert inbox.nacked == [("rcpt_2", None)]

    inbox.pending = [6, 7]
    stop = threading.Event()
    for message in client.inbox.iterate(wait=0, stop=stop):
        message.extend(10)
        message.ack()
        stop.set()
    assert inbox.acked[-1] == "rcpt_6"
    assert inbox.nacked[-1] == ("rcpt_7", None)
    assert inbox.extended == [("rcpt_6", 10)]


async def test_acknowledge_single_event() -> None:
    seen: list[httpx.Request] = []

    async def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(204)

    assert await async_client(handle).inbox.acknowledge("evt_1") is None
    assert seen[0].method == "POST" and seen[0].url.path == "/v1/events/evt_1/ack"
    assert "Idempotency-Key" in seen[0].headers


async def test_consumer_defaults_come_from_the_policy() -> None:
    # Draining (stop_when_empty) leases `concurrency` messages without a long poll, as in the TS and Go SDKs.
    inbox = FakeInbox(pending=[])
    client = async_client(inbox.handle_async)
    await client.inbox.consume(lambda message: anyio.lowlevel.checkpoint(), stop_when_empty=True)
    assert inbox.lease_bodies == [
        {"max_events": INBOX_CONSUME_CONCURRENCY, "visibility_timeout": 30, "wait": 0}
    ]
    # A running consumer long-polls each lease for the policy's wait.
    stop = threading.Event()

    def lease_then_stop(request: httpx.Request) -> httpx.Response:
        stop.set()
        return inbox(request)

    sync = sync_client(lease_then_stop)
    assert list(sync.inbox.iterate(stop=stop)) == []
    assert (INBOX_CONSUME_CONCURRENCY, INBOX_LEASE_WAIT) == (8, 20)
    assert inbox.lease_bodies[-1]["wait"] == INBOX_LEASE_WAIT
