"""The delivery worker on httpx.MockTransport: schedule, jitter, Retry-After, 3xx, 410, DLQ, throttle."""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from backend_harness import open_test_backend
from delivery_harness import Receiver

from triggers_server.clock import ManualClock
from triggers_server.config import Settings
from triggers_server.domain.deliveries import DeliveryLog
from triggers_server.domain.webhooks.service import DeliveryService, RetryPolicy, parse_retry_after
from triggers_server.domain.webhooks.signing import generate_secret, verify
from triggers_server.metrics import Metrics
from triggers_server.storage.ports import deliveries as delivery_store
from triggers_server.storage.ports.dlq import DlqFilter
from triggers_server.storage.ports.stores import Stores
from triggers_server.storage.ports.subscriptions import NewSubscription, SubscriptionRecord

ACCOUNT = "acc_a"
START = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def new_subscription(**overrides: Any) -> NewSubscription:
    values: dict[str, Any] = {
        "url": "https://hooks.example/in",
        "event_types": [],
        "filter_expression": None,
        "enabled": True,
        "max_rps": None,
        "description": None,
        "metadata": {},
        "secret": generate_secret(),
    }
    values.update(overrides)
    return NewSubscription(**values)


async def dead_letters(stores: Stores, now: datetime) -> list[Any]:
    listed = await stores.dlq.list_with_events(ACCOUNT, DlqFilter(), limit=10, before_seq=None, now=now)
    return [entry for entry, _ in listed]


@dataclass
class Harness:
    stores: Stores
    clock: ManualClock
    service: DeliveryService
    receiver: Receiver
    log: DeliveryLog

    async def subscription(self, **overrides: Any) -> SubscriptionRecord:
        record = await self.stores.subscriptions.create(ACCOUNT, new_subscription(**overrides), now=self.clock.now())
        self.service.invalidate(ACCOUNT)
        return record

    async def delivery(self, delivery_id: str) -> delivery_store.DeliveryRecord:
        found = await self.stores.deliveries.get(ACCOUNT, delivery_id)
        assert found is not None
        return found

    async def attempts(self, delivery_id: str) -> list[delivery_store.AttemptRecord]:
        found = await self.stores.deliveries.get_with_attempts(ACCOUNT, delivery_id)
        assert found is not None
        return found[1]


def event(number: int = 1, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": f"evt_{number}",
        "type": "order.created",
        "source": "shop",
        "data": {"n": number},
    }
    body.update(overrides)
    return body


@pytest.fixture
async def harness() -> AsyncIterator[Harness]:
    backend = await open_test_backend()
    stores = backend.stores
    clock = ManualClock(START)
    receiver = Receiver()
    client = httpx.AsyncClient(transport=httpx.MockTransport(receiver.handler))
    settings = Settings(delivery_worker=False, retry_schedule=(0, 5, 300), retry_jitter=0.2)
    service = DeliveryService(
        settings,
        clock,
        stores.deliveries,
        stores.subscriptions,
        metrics=Metrics(),
        http_client=client,
        rng=random.Random(7),
    )
    yield Harness(stores, clock, service, receiver, DeliveryLog(stores.deliveries, service, clock))
    await service.stop()
    await client.aclose()
    await backend.close()


pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def test_success_is_signed_and_recorded(harness: Harness) -> None:
    subscription = await harness.subscription()
    [delivery_id] = await harness.service.on_ingested(ACCOUNT, [event()])
    assert await harness.service.run_due() == 1
    [request] = harness.receiver.requests
    body = request.content
    assert json.loads(body) == {"type": "order.created", "timestamp": None, "data": event()}
    assert request.headers["webhook-id"] == delivery_id
    assert request.headers["webhook-timestamp"] == str(int(START.timestamp()))
    verify(subscription.secret, body, dict(request.headers), now=int(START.timestamp()))
    delivery = await harness.delivery(delivery_id)
    assert delivery.status == delivery_store.SUCCEEDED and delivery.next_attempt_at is None
    [attempt] = await harness.attempts(delivery_id)
    assert attempt.response_status == 200 and attempt.response_body == "ok" and attempt.outcome == "succeeded"
    assert attempt.request_headers["webhook-id"] == delivery_id and attempt.request_body == body.decode()
    assert await harness.service.run_due() == 0


async def test_filters_decide_fan_out(harness: Harness) -> None:
    await harness.subscription(event_types=["invoice.*"])
    matching = await harness.subscription(filter_expression={"exact": {"data.n": "2"}})
    ids = await harness.service.on_ingested(ACCOUNT, [event(1), event(2)])
    assert len(ids) == 1
    delivery = await harness.delivery(ids[0])
    assert delivery.subscription_id == matching.id and delivery.event_id == "evt_2"
    assert await harness.service.on_ingested("acc_other", [event(3)]) == []


async def test_failures_follow_schedule_with_jitter_then_dead_letter(harness: Harness) -> None:
    await harness.subscription()
    harness.receiver.answers = [
        (500, {}, b"boom"),
        (302, {"location": "https://elsewhere"}, b""),
        (503, {}, b""),
    ]
    [delivery_id] = await harness.service.on_ingested(ACCOUNT, [event()])
    assert await harness.service.run_due() == 1
    first = await harness.delivery(delivery_id)
    assert first.status == delivery_store.FAILED
    assert first.next_attempt_at is not None
    delay = (first.next_attempt_at - START).total_seconds()
    assert 4.0 <= delay <= 6.0
    harness.clock.advance(delay - 0.01)
    assert await harness.service.run_due() == 0
    harness.clock.advance(0.01)
    assert await harness.service.run_due() == 1
    second = await harness.delivery(delivery_id)
    assert second.last_response_status == 302 and len(harness.receiver.requests) == 2
    assert second.next_attempt_at is not None
    harness.clock.advance(360)
    assert await harness.service.run_due() == 1
    final = await harness.delivery(delivery_id)
    assert final.status == delivery_store.DEAD_LETTERED and final.attempt_count == 3
    [entry] = await dead_letters(harness.stores, harness.clock.now())
    assert entry.origin == "delivery" and entry.reason == "retries_exhausted" and entry.attempts == 3
    assert entry.delivery_id == delivery_id and entry.event_type == "order.created"
    assert [a.response_status for a in await harness.attempts(delivery_id)] == [500, 302, 503]


async def test_retry_after_is_clamped_between_schedule_and_twice(harness: Harness) -> None:
    await harness.subscription()
    harness.service.rng = random.Random(0)
    harness.service.policy = RetryPolicy((0, 100, 100), 0.0)
    harness.receiver.answers = [
        (429, {"retry-after": "150"}, b""),
        (429, {"retry-after": "9999"}, b""),
        (200, {}, b""),
    ]
    [delivery_id] = await harness.service.on_ingested(ACCOUNT, [event()])
    await harness.service.run_due()
    delivery = await harness.delivery(delivery_id)
    assert delivery.next_attempt_at == START + timedelta(seconds=150)
    harness.clock.advance(150)
    await harness.service.run_due()
    delivery = await harness.delivery(delivery_id)
    assert delivery.next_attempt_at == START + timedelta(seconds=350)


def test_policy_and_retry_after_parsing() -> None:
    policy = RetryPolicy((0, 10), 0.2)
    rng = random.Random(1)
    delays = [policy.delay_after(1, rng, None) for _ in range(200)]
    assert all(d is not None and 8.0 <= d <= 12.0 for d in delays)
    assert policy.delay_after(2, rng, None) is None
    assert RetryPolicy((0, 10), 0.0).delay_after(1, rng, 1.0) == 10.0
    assert parse_retry_after("120", START) == 120.0
    assert parse_retry_after("Sun, 01 Mar 2026 12:01:00 GMT", START) == 60.0
    assert parse_retry_after("soon", START) is None
    assert parse_retry_after(None, START) is None


async def test_gone_disables_subscription_and_dead_letters(harness: Harness) -> None:
    subscription = await harness.subscription(max_rps=1)
    harness.receiver.answers = [(410, {}, b"gone")]
    first, second = await harness.service.on_ingested(ACCOUNT, [event(1), event(2)])
    assert await harness.service.run_due() == 1
    harness.clock.advance(1)
    assert await harness.service.run_due() == 0
    stored = await harness.stores.subscriptions.get(ACCOUNT, subscription.id)
    assert stored is not None and not stored.enabled
    statuses = {(await harness.delivery(i)).status for i in (first, second)}
    assert statuses == {delivery_store.DEAD_LETTERED, delivery_store.DISCARDED}
    assert stored.disabled_reason == "endpoint_gone"
    entries = await dead_letters(harness.stores, harness.clock.now())
    assert [e.reason for e in entries] == ["endpoint_gone"]
    assert await harness.service.on_ingested(ACCOUNT, [event(3)]) == []


async def test_failed_attempts_are_counted_by_cause_and_unsettled_deliveries_as_pending(harness: Harness) -> None:
    await harness.subscription()
    harness.receiver.answers = [
        (500, {}, b""),
        httpx.ReadTimeout("slow"),
        (500, {}, b""),
        httpx.ConnectError("refused"),
    ]
    await harness.service.on_ingested(ACCOUNT, [event(1), event(2)])
    assert await harness.service.run_due() == 2
    harness.clock.advance(10)
    assert await harness.service.run_due() == 2
    stats = harness.stores.stats
    window = await stats.activity(ACCOUNT, since=START.isoformat(), top=10)
    assert window.attempts == 4 and window.succeeded == 0
    by_cause = [(entry.cause, entry.count) for entry in window.errors]
    assert by_cause == [("http_500", 2), ("ConnectError", 1), ("timeout", 1)]
    assert window.backlog.deliveries == 2
    assert (await stats.backlog(None)).deliveries == 2
    assert (await stats.backlog("acc_other")).deliveries == 0
    harness.clock.advance(400)
    assert await harness.service.run_due() == 2  # both answered 200 (the receiver's default): settled
    assert (await stats.backlog(ACCOUNT)).deliveries == 0


async def test_transport_errors_and_timeouts_are_captured(harness: Harness) -> None:
    await harness.subscription()
    harness.receiver.answers = [
        httpx.ConnectError("refused"),
        httpx.ReadTimeout("slow"),
        httpx.InvalidURL("bad"),
    ]
    [delivery_id] = await harness.service.on_ingested(ACCOUNT, [event()])
    await harness.service.run_due()
    harness.clock.advance(10)
    await harness.service.run_due()
    attempts = await harness.attempts(delivery_id)
    assert attempts[0].error is not None and "refused" in attempts[0].error and attempts[0].response_status is None
    assert attempts[1].error is not None and attempts[1].error.startswith("timeout")
    harness.clock.advance(400)
    await harness.service.run_due()
    third = (await harness.attempts(delivery_id))[2]
    assert third.error == "InvalidURL: bad" and (await harness.delivery(delivery_id)).status == "dead_lettered"


async def test_large_response_body_is_truncated(harness: Harness) -> None:
    await harness.subscription()
    harness.receiver.answers = [(200, {}, b"x" * 50_000)]
    [delivery_id] = await harness.service.on_ingested(ACCOUNT, [event()])
    await harness.service.run_due()
    [attempt] = await harness.attempts(delivery_id)
    assert attempt.response_body is not None and len(attempt.response_body) == 20 * 1024
    assert attempt.response_body_truncated


async def test_max_rps_spaces_attempts(harness: Harness) -> None:
    await harness.subscription(max_rps=2.0)
    await harness.service.on_ingested(ACCOUNT, [event(n) for n in range(5)])
    assert await harness.service.run_due() == 1
    for expected_total in (2, 3, 4, 5):
        harness.clock.advance(0.5)
        assert await harness.service.run_due() == 1
        assert len(harness.receiver.requests) == expected_total


async def test_disabled_or_deleted_subscription_discards(harness: Harness) -> None:
    subscription = await harness.subscription()
    [delivery_id] = await harness.service.on_ingested(ACCOUNT, [event()])
    await harness.stores.subscriptions.delete(ACCOUNT, subscription.id, now=harness.clock.now(), discard_reason="gone")
    assert await harness.service.run_due() == 0
    assert (await harness.delivery(delivery_id)).status == delivery_store.DISCARDED
    assert harness.receiver.requests == []


async def test_manual_retry_of_dead_letter_makes_one_attempt(harness: Harness) -> None:
    await harness.subscription()
    harness.service.policy = RetryPolicy((0,), 0)
    harness.receiver.answers = [(500, {}, b""), (500, {}, b""), (204, {}, b"")]
    [delivery_id] = await harness.service.on_ingested(ACCOUNT, [event()])
    await harness.service.run_due()
    dead = await harness.delivery(delivery_id)
    assert dead.status == delivery_store.DEAD_LETTERED
    await harness.log.retry(ACCOUNT, dead.id)
    assert await harness.service.run_due() == 1
    still_dead = await harness.delivery(delivery_id)
    assert still_dead.status == delivery_store.DEAD_LETTERED and still_dead.next_attempt_at is None
    await harness.log.retry(ACCOUNT, still_dead.id)
    await harness.service.run_due()
    done = await harness.delivery(delivery_id)
    assert done.status == delivery_store.SUCCEEDED and done.attempt_count == 3
    assert [a.trigger for a in await harness.attempts(delivery_id)] == ["scheduled", "manual", "manual"]


async def test_rotation_overlap_sends_both_signatures(harness: Harness) -> None:
    subscription = await harness.subscription()
    new_secret = generate_secret()
    until = START + timedelta(hours=1)
    await harness.stores.subscriptions.rotate_secret(
        ACCOUNT, subscription.id, new_secret=new_secret, overlap_until=until, now=START
    )
    await harness.service.on_ingested(ACCOUNT, [event(1)])
    await harness.service.run_due()
    request = harness.receiver.requests[-1]
    assert len(request.headers["webhook-signature"].split(" ")) == 2
    for secret in (subscription.secret, new_secret):
        verify(secret, request.content, dict(request.headers), now=int(START.timestamp()))
    harness.clock.advance(3601)
    await harness.service.on_ingested(ACCOUNT, [event(2)])
    await harness.service.run_due()
    assert len(harness.receiver.requests[-1].headers["webhook-signature"].split(" ")) == 1


async def test_background_worker_wakes_on_work_and_clock(harness: Harness) -> None:
    harness.service.settings = Settings(delivery_worker=True)
    await harness.subscription()
    harness.receiver.answers = [(500, {}, b"")]
    await harness.service.start()
    await harness.service.on_ingested(ACCOUNT, [event()])
    await _until(lambda: len(harness.receiver.requests) == 1)
    await _until(lambda: harness.clock.sleeper_count == 1)
    harness.clock.advance(10)
    await _until(lambda: len(harness.receiver.requests) == 2)
    await harness.service.stop()


async def _until(condition: Callable[[], bool]) -> None:
    for _ in range(100_000):
        if condition():
            return
        await asyncio.sleep(0)
    raise AssertionError("condition never became true")


async def test_whole_exchange_is_bounded_by_webhook_timeout() -> None:
    """A receiver that never answers: the attempt ends at ``webhook_timeout`` (a 10 ms wall-clock bound)."""
    never = asyncio.Event()

    async def hang(request: httpx.Request) -> httpx.Response:
        await never.wait()
        return httpx.Response(200)

    backend = await open_test_backend()
    stores = backend.stores
    client = httpx.AsyncClient(transport=httpx.MockTransport(hang))
    settings = Settings(delivery_worker=False, retry_schedule=(0, 5), webhook_timeout=0.01)
    service = DeliveryService(
        settings,
        ManualClock(START),
        stores.deliveries,
        stores.subscriptions,
        metrics=Metrics(),
        http_client=client,
        rng=random.Random(1),
    )
    try:
        await stores.subscriptions.create(ACCOUNT, new_subscription(), now=START)
        [delivery_id] = await service.on_ingested(ACCOUNT, [event()])
        assert await service.run_due() == 1
        found = await stores.deliveries.get_with_attempts(ACCOUNT, delivery_id)
        assert found is not None
        [attempt] = found[1]
        assert attempt.error is not None and attempt.error.startswith("timeout")
        assert attempt.response_status is None
    finally:
        await client.aclose()
        await backend.close()


async def test_first_attempt_waits_schedule_zero(harness: Harness) -> None:
    await harness.subscription()
    harness.service.policy = RetryPolicy((10, 5), 0.2)
    [delivery_id] = await harness.service.on_ingested(ACCOUNT, [event()])
    assert (await harness.delivery(delivery_id)).next_attempt_at == START + timedelta(seconds=10)
    assert await harness.service.run_due() == 0
    harness.clock.advance(10)
    assert await harness.service.run_due() == 1


async def test_claim_leases_due_deliveries_until_the_lease_ends(harness: Harness) -> None:
    """The worker's claim is one store transaction: a claimed delivery is not handed to a second claimer while
    its attempt may be in flight, and is due again when the lease ends (a worker that died mid-attempt)."""
    await harness.subscription()
    [delivery_id] = await harness.service.on_ingested(ACCOUNT, [event()])
    store = harness.service.deliveries
    lease_until = START + timedelta(seconds=60)
    [claimed] = await store.claim_due(now=START, limit=10, lease_until=lease_until)
    assert claimed.id == delivery_id
    assert await store.claim_due(now=START, limit=10, lease_until=lease_until) == []
    assert await store.next_due_time() == lease_until
    [again] = await store.claim_due(now=lease_until, limit=10, lease_until=lease_until + timedelta(seconds=60))
    assert again.id == delivery_id and again.attempt_count == 0
    assert harness.receiver.requests == []
