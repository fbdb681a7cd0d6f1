"""The webhook delivery worker: fan-out at ingestion, signed HTTP attempts, retries, throttling, DLQ.

One delivery exists per (event, subscription). Attempt ``n`` (1-based) that fails is followed by
attempt ``n + 1`` after ``retry_schedule[n]`` seconds ±``retry_jitter``; a ``Retry-After`` answer moves
that delay within [scheduled, 2 x scheduled]. 2xx succeeds; 3xx and every other status fail (redirects
are never followed); 410 Gone disables the subscription. When the schedule is exhausted the delivery
is dead-lettered. The worker sleeps on the injected clock until the next due delivery or until new
work is signalled, so it neither busy-loops nor needs real time in tests (``run_due()``).

Several instances over one database (``settings.shared_database``): every instance runs this worker. Due
deliveries are claimed in the database (``claim_due``, ``FOR UPDATE SKIP LOCKED``, leased for the whole
batch), so an attempt is made by one instance; a dead instance's claims fall due again when their lease
ends, and an idle worker looks for work every ``delivery_poll_seconds`` (it cannot hear another instance's
wake-ups) and, every ``SHARED_CATCH_UP_SECONDS``, fans out events an instance stored but died before fanning
out. Subscriptions are then read per fan-out, not cached, since another instance may change them.
The ``max_rps`` throttle is per instance (each instance holds back to ``max_rps`` on its own).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import time
from collections.abc import Coroutine, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any, Final

import httpx

from triggers_server import __version__
from triggers_server.clock import Clock, isoformat
from triggers_server.config import Settings
from triggers_server.domain.filters import subscription_matches
from triggers_server.domain.webhooks.signing import webhook_headers
from triggers_server.metrics import Metrics
from triggers_server.storage.ports.deliveries import (
    DEAD_LETTERED,
    FAILED,
    SUCCEEDED,
    TIMEOUT_ERROR,
    AttemptOutcome,
    DeliveryRecord,
    DeliveryStore,
    DisableSubscription,
    NewDelivery,
)
from triggers_server.storage.ports.dlq import (
    ORIGIN_DELIVERY,
    REASON_ENDPOINT_GONE,
    REASON_RETRIES_EXHAUSTED,
    NewDeadLetter,
)
from triggers_server.storage.ports.events import EventDraft
from triggers_server.storage.ports.subscriptions import SubscriptionRecord, SubscriptionStore

log = logging.getLogger("triggers_server.domain.webhooks")

RESPONSE_BODY_LIMIT: Final = 20 * 1024
IDLE_WAKE_SECONDS: Final = 3600.0
DUE_BATCH: Final = 100
CONCURRENCY: Final = 16
CATCH_UP_BATCH: Final = 500
# Shared database: how often an instance fans out what another instance committed but died before fanning out
# (fan-out never creates a delivery twice, so overlapping with a live instance's own fan-out is harmless).
SHARED_CATCH_UP_SECONDS: Final = 5.0
# A claimed batch is sent CONCURRENCY at a time, each attempt bounded by the webhook timeout; the lease covers
# the whole batch (plus one timeout of slack) so no other claimer takes a delivery while it is in flight.
LEASE_TIMEOUTS: Final = -(-DUE_BATCH // CONCURRENCY) + 1
TRIGGER_SCHEDULED: Final = "scheduled"
TRIGGER_MANUAL: Final = "manual"


def payload_of(event: Mapping[str, Any]) -> str:
    """The exact body of every attempt: Standard Webhooks' ``{type, timestamp, data}``, the Event as data."""
    envelope = {
        "type": event["type"],
        "timestamp": event.get("time") or event.get("created_at"),
        "data": event,
    }
    return json.dumps(envelope, separators=(",", ":"), ensure_ascii=False)


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds a ``Retry-After`` header asks for (delta-seconds or HTTP-date); None when absent/invalid."""
    if value is None:
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        return None
    return max(0.0, (moment - now).total_seconds())


def plan_deliveries(
    subscriptions: Iterable[SubscriptionRecord], events: Iterable[Mapping[str, Any]]
) -> list[NewDelivery]:
    """One delivery per (event, subscription) whose globs and filter match; a subscription never receives
    events stored before it was created."""
    planned: list[NewDelivery] = []
    births = [(subscription, isoformat(subscription.created_at)) for subscription in subscriptions]
    for event in events:
        payload: str | None = None
        created = str(event.get("created_at") or "")
        for subscription, born in births:
            if created and created < born:
                continue
            if not subscription_matches(subscription.event_types, subscription.filter, event).matched:
                continue
            payload = payload or payload_of(event)
            planned.append(NewDelivery(str(event["id"]), str(event["type"]), subscription.id, payload))
    return planned


@dataclass(frozen=True)
class RetryPolicy:
    """The retry schedule with jitter; ``schedule[0]`` is the delay before the first attempt."""

    schedule: tuple[float, ...]
    jitter: float

    def first_attempt_at(self, now: datetime) -> datetime:
        """When a new delivery is first attempted (``schedule[0]`` after creation, no jitter)."""
        return now + timedelta(seconds=self.schedule[0] if self.schedule else 0.0)

    def delay_after(self, attempts_made: int, rng: random.Random, retry_after: float | None) -> float | None:
        """Seconds until the next attempt after ``attempts_made`` attempts, or None when exhausted."""
        if attempts_made >= len(self.schedule):
            return None
        base = self.schedule[attempts_made]
        scheduled = base * (1.0 + self.jitter * (2.0 * rng.random() - 1.0))
        if retry_after is not None:
            return min(max(retry_after, scheduled), 2.0 * scheduled)
        return scheduled


class DeliveryService:
    """Owns the subscription cache, the due-delivery loop and every outbound webhook request."""

    def __init__(
        self,
        settings: Settings,
        clock: Clock,
        deliveries: DeliveryStore,
        subscriptions: SubscriptionStore,
        *,
        metrics: Metrics,
        http_client: httpx.AsyncClient | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.deliveries = deliveries
        self.subscriptions = subscriptions
        self.policy = RetryPolicy(tuple(settings.retry_schedule), settings.retry_jitter)
        self.timeout = settings.webhook_timeout
        self.metrics = metrics
        self._owns_client = http_client is None
        self.http_client = http_client or httpx.AsyncClient(follow_redirects=False)
        self.rng = rng or random.Random()
        self._subscriptions: dict[str, list[SubscriptionRecord]] = {}
        self._throttle_slots: dict[str, datetime] = {}
        self._in_flight: set[str] = set()
        self._wake = asyncio.Event()
        self.idle = asyncio.Event()  # set while the background worker waits for work or its next due time
        self._task: asyncio.Task[None] | None = None
        self._side_tasks: set[asyncio.Task[Any]] = set()
        self.attempts_sent = 0
        self.attempts_succeeded = 0

    # -- lifecycle ---------------------------------------------------------------------------------

    async def start(self) -> None:
        """Run the background worker (skipped when ``settings.delivery_worker`` is off, as in unit tests)."""
        if self._task is None and self.settings.delivery_worker:
            self._wake = asyncio.Event()
            self._task = asyncio.create_task(self._run(), name="webhook-delivery-worker")

    def spawn(self, work: Coroutine[Any, Any, Any]) -> None:
        """Run related background work (replay jobs) that ``stop()`` cancels with the worker."""
        task = asyncio.create_task(work)
        self._side_tasks.add(task)
        task.add_done_callback(self._side_tasks.discard)

    async def stop(self) -> None:
        for task in list(self._side_tasks):
            task.cancel()
        await asyncio.gather(*self._side_tasks, return_exceptions=True)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._owns_client:
            await self.http_client.aclose()

    def notify(self) -> None:
        """New or rescheduled work: wake the worker now."""
        self._wake.set()

    async def _run(self) -> None:
        caught_up_at = self.clock.now()
        try:
            await self.catch_up()
        except Exception:
            log.exception("delivery catch-up failed")
        while True:
            self._wake.clear()
            try:
                if self.settings.shared_database and self.clock.now() >= caught_up_at + timedelta(
                    seconds=SHARED_CATCH_UP_SECONDS
                ):
                    caught_up_at = self.clock.now()
                    await self.catch_up()
                await self.run_due()
                next_due = await self.deliveries.next_due_time()
            except Exception:
                log.exception("delivery worker iteration failed")
                next_due = None
            idle_seconds = self.settings.delivery_poll_seconds if self.settings.shared_database else IDLE_WAKE_SECONDS
            idle_until = self.clock.now() + timedelta(seconds=idle_seconds)
            deadline = min(next_due, idle_until) if next_due is not None else idle_until
            if deadline <= self.clock.now():
                continue
            await self._wait(deadline)

    async def _wait(self, deadline: datetime) -> None:
        """Return when woken or when the injected clock reaches ``deadline``; ``idle`` is set meanwhile."""
        sleeper = asyncio.ensure_future(self._sleep_until(deadline))
        waker = asyncio.ensure_future(self._wake.wait())
        self.idle.set()
        try:
            await asyncio.wait({sleeper, waker}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            self.idle.clear()
            for task in (sleeper, waker):
                task.cancel()
            await asyncio.gather(sleeper, waker, return_exceptions=True)

    async def _sleep_until(self, deadline: datetime) -> None:
        """Absolute deadline, so a clock that moved before the sleep registered cannot strand the worker."""
        while (remaining := (deadline - self.clock.now()).total_seconds()) > 0:
            await self.clock.sleep(remaining)

    # -- subscriptions -----------------------------------------------------------------------------

    def invalidate(self, account_id: str) -> None:
        """Forget the cached subscriptions of an account (call after every subscription write)."""
        self._subscriptions.pop(account_id, None)

    async def enabled_subscriptions(self, account_id: str) -> list[SubscriptionRecord]:
        if self.settings.shared_database:
            return await self.subscriptions.enabled(account_id)
        cached = self._subscriptions.get(account_id)
        if cached is None:
            cached = await self.subscriptions.enabled(account_id)
            self._subscriptions[account_id] = cached
        return cached

    # -- fan-out -----------------------------------------------------------------------------------

    async def on_ingested(self, account_id: str, events: Sequence[Mapping[str, Any]]) -> list[str]:
        """Create a pending delivery for every (event, matching enabled subscription); returns their ids.

        The same write advances the account's fan-out mark, so ``catch_up`` knows which events a crash
        between their commit and this call left without deliveries.
        """
        subscriptions = await self.enabled_subscriptions(account_id)
        if not subscriptions or not events:
            return []
        planned = plan_deliveries(subscriptions, events)
        through = max(int(event.get("sequence") or 0) for event in events)
        now = self.clock.now()
        ids = await self.deliveries.fan_out(
            account_id, planned, through_sequence=through, now=now, due_at=self.policy.first_attempt_at(now)
        )
        if ids:
            self.notify()
        return ids

    async def catch_up(self) -> int:
        """Fan out events committed after an account's mark (a crash cut their fan-out); returns the count."""
        made = 0
        for account_id, through in (await self.deliveries.fanout_marks()).items():
            if not await self.enabled_subscriptions(account_id):
                continue
            while batch := await self.deliveries.events_after(
                account_id, after_sequence=through, now=self.clock.now(), limit=CATCH_UP_BATCH
            ):
                made += len(await self.on_ingested(account_id, batch))
                through = int(batch[-1]["sequence"])
        return made

    async def send_test_event(self, subscription: SubscriptionRecord, draft: EventDraft) -> DeliveryRecord:
        """Store ``draft`` and one delivery of it to ``subscription`` regardless of its globs and filter; the
        fan-out mark moves past the event so ``catch_up`` never sends it anywhere else."""
        now = self.clock.now()
        delivery = await self.deliveries.store_test_event(
            subscription.account_id,
            draft,
            subscription.id,
            payload_of=payload_of,
            now=now,
            due_at=self.policy.first_attempt_at(now),
        )
        self.notify()
        return delivery

    # -- sending -----------------------------------------------------------------------------------

    async def run_due(self) -> int:
        """Attempt every delivery due at ``clock.now()``; returns how many HTTP attempts were made."""
        attempts = 0
        limiter = asyncio.Semaphore(CONCURRENCY)

        async def guarded(delivery: DeliveryRecord) -> bool:
            async with limiter:
                try:
                    return await self._process(delivery)
                finally:
                    self._in_flight.discard(delivery.id)

        while True:
            now = self.clock.now()
            lease_until = now + timedelta(seconds=self.timeout * LEASE_TIMEOUTS)
            due = await self.deliveries.claim_due(now=now, limit=DUE_BATCH, lease_until=lease_until)
            batch = [delivery for delivery in due if delivery.id not in self._in_flight]
            if not batch:
                return attempts
            self._in_flight.update(delivery.id for delivery in batch)
            results = await asyncio.gather(*(guarded(delivery) for delivery in batch))
            attempts += sum(results)

    async def _process(self, delivery: DeliveryRecord) -> bool:
        """Send one due delivery (or discard/postpone it); True when an HTTP attempt was made."""
        subscription = await self.subscriptions.get(delivery.account_id, delivery.subscription_id)
        now = self.clock.now()
        manual = delivery.manual_pending
        if subscription is None or not subscription.enabled:
            reason = "subscription deleted" if subscription is None else "subscription disabled"
            await self.deliveries.discard(delivery.id, reason=reason, now=now)
            return False
        slot = self._throttle_slot(subscription, now)
        if slot > now:
            await self.deliveries.postpone(delivery.id, slot)
            return False
        outcome, retry_after = await self._attempt(delivery, subscription, manual)
        await self._record(delivery, subscription, outcome, retry_after, manual)
        return True

    def _throttle_slot(self, subscription: SubscriptionRecord, now: datetime) -> datetime:
        """Earliest send time under ``max_rps``; reserves the slot when it is now."""
        if not subscription.max_rps:
            return now
        previous = self._throttle_slots.get(subscription.id)
        interval = timedelta(seconds=1.0 / subscription.max_rps)
        slot = now if previous is None else max(now, previous + interval)
        if slot <= now:
            self._throttle_slots[subscription.id] = now
        return slot

    async def _attempt(
        self, delivery: DeliveryRecord, subscription: SubscriptionRecord, manual: bool
    ) -> tuple[AttemptOutcome, float | None]:
        started_at = self.clock.now()
        body = delivery.payload.encode("utf-8")
        headers = {
            "content-type": "application/json",
            "user-agent": f"triggers-server/{__version__}",
            "x-triggers-delivery-id": delivery.id,
            "x-triggers-subscription-id": subscription.id,
            "x-triggers-attempt": str(delivery.attempt_count + 1),
            **webhook_headers(subscription.signing_secrets(started_at), delivery.id, int(started_at.timestamp()), body),
        }
        trigger = TRIGGER_MANUAL if manual else TRIGGER_SCHEDULED
        common: dict[str, Any] = {
            "trigger": trigger,
            "started_at": started_at,
            "request_url": subscription.url,
            "request_headers": headers,
            "request_body": delivery.payload,
        }
        self.attempts_sent += 1
        clock_start = time.perf_counter()
        try:
            request = self.http_client.build_request(
                "POST", subscription.url, content=body, headers=headers, timeout=self.timeout
            )
            async with asyncio.timeout(self.timeout):  # bounds the whole exchange, not each socket read
                response = await self.http_client.send(request, stream=True, follow_redirects=False)
                try:
                    captured, truncated = await _read_capped(response, RESPONSE_BODY_LIMIT)
                finally:
                    await response.aclose()
        except (httpx.TimeoutException, TimeoutError) as exc:
            return self._failed(common, clock_start, f"{TIMEOUT_ERROR}: {type(exc).__name__}"), None
        except Exception as exc:  # no response at all (transport, invalid URL, TLS): a failed attempt
            return self._failed(common, clock_start, f"{type(exc).__name__}: {exc}"), None
        duration_ms = (time.perf_counter() - clock_start) * 1000.0
        succeeded = 200 <= response.status_code < 300
        outcome = AttemptOutcome(
            **common,
            duration_ms=duration_ms,
            response_status=response.status_code,
            response_headers=dict(response.headers),
            response_body=captured.decode("utf-8", errors="replace"),
            response_body_truncated=truncated,
            error=None,
            succeeded=succeeded,
        )
        return outcome, parse_retry_after(response.headers.get("retry-after"), started_at)

    @staticmethod
    def _failed(common: dict[str, Any], clock_start: float, error: str) -> AttemptOutcome:
        return AttemptOutcome(
            **common,
            duration_ms=(time.perf_counter() - clock_start) * 1000.0,
            response_status=None,
            response_headers=None,
            response_body=None,
            response_body_truncated=False,
            error=error,
            succeeded=False,
        )

    async def _record(
        self,
        delivery: DeliveryRecord,
        subscription: SubscriptionRecord,
        outcome: AttemptOutcome,
        retry_after: float | None,
        manual: bool,
    ) -> None:
        now = self.clock.now()
        gone = outcome.response_status == 410
        next_at: datetime | None = None
        dead_reason: str | None = None
        if outcome.succeeded:
            self.attempts_succeeded += 1
            status = SUCCEEDED
        elif gone:
            status, dead_reason = DEAD_LETTERED, REASON_ENDPOINT_GONE
        elif manual and delivery.resume_status is not None:
            status = delivery.resume_status  # a manual retry of an ended delivery: one attempt, no new schedule
        else:
            delay = self.policy.delay_after(delivery.attempt_count + 1, self.rng, retry_after)
            if delay is None:
                status, dead_reason = DEAD_LETTERED, REASON_RETRIES_EXHAUSTED
            else:
                status, next_at = FAILED, now + timedelta(seconds=delay)
        dead_letter = None
        if dead_reason is not None:
            dead_letter = NewDeadLetter(
                account_id=delivery.account_id,
                origin=ORIGIN_DELIVERY,
                event_id=delivery.event_id,
                event_type=delivery.event_type,
                reason=dead_reason,
                detail=outcome.error or f"last response status {outcome.response_status}",
                attempts=delivery.attempt_count + 1,
                subscription_id=subscription.id,
                delivery_id=delivery.id,
            )
        disable = (
            DisableSubscription(REASON_ENDPOINT_GONE, "subscription disabled: endpoint answered 410") if gone else None
        )
        await self.deliveries.record_attempt(
            delivery, outcome, status=status, next_attempt_at=next_at, now=now, dead_letter=dead_letter, disable=disable
        )
        if gone:
            self.invalidate(delivery.account_id)
        self.metrics.delivery_attempt_duration.observe(outcome.duration_ms / 1000.0)
        if status in (SUCCEEDED, DEAD_LETTERED):
            self.metrics.deliveries.labels(status=status).inc()


async def _read_capped(response: httpx.Response, limit: int) -> tuple[bytes, bool]:
    """At most ``limit`` bytes of the body; True when more was sent (the rest is not read)."""
    buffer = bytearray()
    async for chunk in response.aiter_bytes():
        buffer.extend(chunk)
        if len(buffer) > limit:
            return bytes(buffer[:limit]), True
    return bytes(buffer), False
