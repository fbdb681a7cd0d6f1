"""Forward inbox events to a local URL as signed webhook deliveries (what `triggers forward` runs).

Each leased event is POSTed exactly like a real delivery: the Standard Webhooks envelope
``{type, timestamp, data: <Event>}`` with ``webhook-id`` (the event id, stable across redeliveries so
the receiver can deduplicate), ``webhook-timestamp`` and ``webhook-signature``. A 2xx acks the event;
anything else (or no answer) nacks it so the inbox redelivers it. On stop, every leased event not
yet settled is released with a nack, so nothing waits for its visibility timeout.
"""

from __future__ import annotations

import base64
import json
import secrets
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Literal

import anyio
import anyio.lowlevel
import httpx

from .._client import TriggersClient
from .._constants import SDK_VERSION
from .._exceptions import APIConnectionError
from .._types import NOT_GIVEN
from ..webhooks import Webhook
from .errors import describe_api_error
from .interrupts import GracefulStop

if TYPE_CHECKING:  # models are only annotations here; importing them costs startup time
    from ..types import Event, InboxMessage, Lease

__all__ = ["DeliveryOutcome", "ForwardSettings", "ForwardStats", "Forwarder", "new_secret"]

_USER_AGENT = f"triggers-cli/{SDK_VERSION}"
Settlement = Literal["acked", "nacked", "lease_expired"]
"""What happened to an event after its POST; `lease_expired`: too late to settle, it will be redelivered."""
OUTAGE_INITIAL_DELAY = 1.0
OUTAGE_MAX_DELAY = 30.0
"""Backoff between leases while the API is unreachable (after the SDK's own retries gave up)."""
EXTEND_MARGIN = 5.0
"""Seconds of lease left, beyond one request timeout, below which the lease is extended first."""


def new_secret() -> str:
    """A fresh ``whsec_`` signing secret (256 random bits), printed once at start."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode("ascii")


@dataclass(frozen=True)
class ForwardSettings:
    url: str
    secret: str
    types: Sequence[str] = ()
    batch_size: int = 10
    visibility_timeout: int = 30
    wait: int = 2
    retry_delay: int = 5
    request_timeout: float = 10.0
    max_deliveries: int | None = None


@dataclass(frozen=True)
class DeliveryOutcome:
    """One POST to the local URL and what was done with the event afterwards."""

    event: Event
    delivery_count: int
    status_code: int | None
    error: str | None
    latency_ms: float
    result: Settlement
    at: datetime

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300

    def as_json(self) -> dict[str, object]:
        return {
            "event_id": self.event.id,
            "type": self.event.type,
            "delivery_count": self.delivery_count,
            "status_code": self.status_code,
            "error": self.error,
            "latency_ms": round(self.latency_ms, 1),
            "result": self.result,
            "at": self.at.isoformat(),
        }


@dataclass
class ForwardStats:
    acked: int = 0
    nacked: int = 0
    expired: int = 0
    released: int = 0
    latencies_ms: list[float] = field(default_factory=list[float])

    @property
    def attempts(self) -> int:
        return self.acked + self.nacked + self.expired

    def record(self, result: Settlement, latency_ms: float) -> None:
        if result == "acked":
            self.acked += 1
        elif result == "nacked":
            self.nacked += 1
        else:
            self.expired += 1
        self.latencies_ms.append(latency_ms)


class Forwarder:
    """Lease → POST → ack/nack, until stopped or ``max_deliveries`` attempts were made."""

    def __init__(
        self,
        client: TriggersClient,
        http: httpx.AsyncClient,
        settings: ForwardSettings,
        *,
        on_delivery: Callable[[DeliveryOutcome], None],
        on_notice: Callable[[str], None] = lambda _message: None,
        sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
        wall_clock: Callable[[], float] = time.time,
        timer: Callable[[], float] = time.perf_counter,
    ) -> None:
        self._client = client
        self._http = http
        self._settings = settings
        self._webhook = Webhook(settings.secret)
        self._on_delivery = on_delivery
        self._on_notice = on_notice
        self._sleep = sleep
        self._wall_clock = wall_clock
        self._timer = timer
        self.stats = ForwardStats()

    def signed_request(self, event: Event, delivery_count: int) -> httpx.Request:
        """The POST a real subscription delivery of ``event`` would be."""
        payload = event.model_dump(mode="json")
        envelope = {"type": event.type, "timestamp": payload.get("time"), "data": payload}
        body = json.dumps(envelope, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        timestamp = int(self._wall_clock())
        headers = {
            "content-type": "application/json",
            "user-agent": _USER_AGENT,
            "webhook-id": event.id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": self._webhook.sign(event.id, timestamp, body),
            "x-triggers-event-id": event.id,
            "x-triggers-attempt": str(delivery_count),
        }
        return self._http.build_request("POST", self._settings.url, content=body, headers=headers)

    async def run(self, stop: GracefulStop) -> ForwardStats:
        limit = self._settings.max_deliveries
        unsettled: list[str] = []
        try:
            with stop.scope:
                while not stop.requested and (limit is None or self.stats.attempts < limit):
                    lease = await self._lease_when_reachable()
                    unsettled = [message.receipt for message in lease.messages]
                    deadline = lease.leased_until.timestamp()
                    await anyio.lowlevel.checkpoint()  # deliver a stop that arrived during the shielded lease
                    for message in lease.messages:
                        if limit is not None and self.stats.attempts >= limit:
                            break
                        deadline = await self._keep_leased(unsettled, deadline)
                        outcome = await self._forward(message)
                        unsettled.remove(message.receipt)
                        self._on_delivery(outcome)
                    if unsettled:
                        await self._release(unsettled)
                        unsettled = []
        finally:
            if unsettled:
                with anyio.CancelScope(shield=True):
                    await self._release(unsettled)
        return self.stats

    async def _lease_when_reachable(self) -> Lease:
        """Lease, waiting out API outages (a restarted dev server) instead of exiting; Ctrl-C still stops."""
        outages = 0
        while True:
            try:
                return await self._lease()
            except APIConnectionError as error:
                outages += 1
                delay = min(OUTAGE_INITIAL_DELAY * 2 ** (outages - 1), OUTAGE_MAX_DELAY)
                self._on_notice(
                    f"API unreachable, {describe_api_error(error)}; trying again in {delay:.0f}s."
                )
                await self._sleep(delay)

    async def _lease(self) -> Lease:
        # Shielded: a lease cut short by Ctrl-C would leave events we never saw invisible until
        # their visibility timeout; finishing it (at most `wait` seconds) lets us release them.
        with anyio.CancelScope(shield=True):
            return await self._client.inbox.lease(
                max_events=self._settings.batch_size,
                visibility_timeout=self._settings.visibility_timeout,
                wait=self._settings.wait,
                types=list(self._settings.types) or NOT_GIVEN,
            )
        raise AssertionError("unreachable: a shielded scope is never cancelled")  # CancelScope may swallow

    async def _keep_leased(self, receipts: list[str], deadline: float) -> float:
        """Extend the batch's lease when it could expire during the next POST; returns the new deadline.

        Without this, a slow local server would see events redelivered while later events of the same
        batch still wait their turn.
        """
        now = self._wall_clock()
        if deadline - now >= self._settings.request_timeout + EXTEND_MARGIN:
            return deadline
        await self._client.inbox.extend(
            receipts=receipts, visibility_timeout=self._settings.visibility_timeout
        )
        return now + self._settings.visibility_timeout

    async def _forward(self, message: InboxMessage) -> DeliveryOutcome:
        request = self.signed_request(message.event, message.delivery_count)
        started = self._timer()
        status: int | None = None
        error: str | None = None
        try:
            response = await self._http.send(request)
            await response.aclose()
            status = response.status_code
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        latency_ms = (self._timer() - started) * 1000.0
        result: Settlement
        if status is not None and 200 <= status < 300:
            settled = await self._client.inbox.ack([message.receipt])
            result = "acked"
        else:
            settled = await self._client.inbox.nack(
                receipts=[message.receipt], delay=self._settings.retry_delay
            )
            result = "nacked"
        if any(item.status != "ok" for item in settled.results):
            result = "lease_expired"  # the inbox will redeliver it whatever the local server said
        self.stats.record(result, latency_ms)
        return DeliveryOutcome(
            event=message.event,
            delivery_count=message.delivery_count,
            status_code=status,
            error=error,
            latency_ms=latency_ms,
            result=result,
            at=datetime.fromtimestamp(self._wall_clock(), timezone.utc),
        )

    async def _release(self, receipts: list[str]) -> None:
        results = await self._client.inbox.nack(receipts=receipts)
        self.stats.released += sum(1 for result in results.results if result.status == "ok")
