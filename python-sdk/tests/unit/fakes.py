"""Test doubles: a fake clock whose sleeps advance time instantly, and client factories."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import respx

from zapier_triggers import SyncTriggersClient, TriggersClient

BASE_URL = "http://triggers.test/v1"
API_KEY = "tk_test_secret"


@dataclass
class FakeClock:
    """Monotonic clock + sleep: sleeping records the delay and advances time; nothing waits."""

    now: float = 1_000.0
    wall: float = 1_700_000_000.0
    sleeps: list[float] = field(default_factory=list)
    jitter: float = 0.0

    def clock(self) -> float:
        return self.now

    def wall_clock(self) -> float:
        return self.wall + self.now

    def random(self) -> float:
        return self.jitter

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    async def asleep(self, seconds: float) -> None:
        self.sleep(seconds)


def async_client(
    router: respx.Router | Callable[[httpx.Request], httpx.Response],
    clock: FakeClock | None = None,
    **kwargs: Any,
) -> TriggersClient:
    clock = clock or FakeClock()
    handler = router.async_handler if isinstance(router, respx.Router) else router
    return TriggersClient(
        api_key=API_KEY,
        base_url=BASE_URL,
        http_client=httpx.AsyncClient(transport=httpx.MockTransport(handler)),
        sleep=clock.asleep,
        clock=clock.clock,
        wall_clock=clock.wall_clock,
        random=clock.random,
        **kwargs,
    )


def sync_client(
    router: respx.Router | Callable[[httpx.Request], httpx.Response],
    clock: FakeClock | None = None,
    **kwargs: Any,
) -> SyncTriggersClient:
    clock = clock or FakeClock()
    handler = router.handler if isinstance(router, respx.Router) else router
    return SyncTriggersClient(
        api_key=API_KEY,
        base_url=BASE_URL,
        http_client=httpx.Client(transport=httpx.MockTransport(handler)),
        sleep=clock.sleep,
        clock=clock.clock,
        wall_clock=clock.wall_clock,
        random=clock.random,
        **kwargs,
    )


def event_json(sequence: int = 1, **overrides: Any) -> dict[str, Any]:
    """A complete Event as the server sends it."""
    event: dict[str, Any] = {
        "id": f"evt_{sequence:026d}",
        "external_id": None,
        "type": "order.created",
        "source": "my-app",
        "subject": None,
        "time": "2026-11-25T10:15:00Z",
        "data": {"order_id": str(sequence)},
        "data_base64": None,
        "datacontenttype": "application/json",
        "dataschema": None,
        "specversion": "1.0",
        "correlation_id": None,
        "causation_id": None,
        "metadata": {},
        "extensions": {},
        "status": "pending",
        "sequence": sequence,
        "schema_version": None,
        "replay_of": None,
        "delivery_count": 0,
        "created_at": "2026-11-25T10:15:00.123Z",
    }
    event.update(overrides)
    return event


def problem(status: int, slug: str, **extra: Any) -> httpx.Response:
    body = {
        "type": f"https://triggers.dev/problems/{slug}",
        "title": slug.replace("-", " ").capitalize(),
        "status": status,
        "detail": f"detail for {slug}",
        "instance": "/v1/events",
        "request_id": "req_body",
        **extra,
    }
    return httpx.Response(
        status, json=body, headers={"content-type": "application/problem+json", "X-Request-Id": "req_header"}
    )
