"""In-process server for CORE tests: ASGI transport, :memory: SQLite, ManualClock, no webhook worker.
Nothing here sleeps: time moves only through `server.clock.advance(...)`."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import anyio
import anyio.lowlevel
import httpx
import pytest
from backend_harness import backend_settings, new_key

from triggers_server.clock import ManualClock
from triggers_server.config import Settings
from triggers_server.http.app import create_app
from triggers_server.http.services import Services

START = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
ADMIN_KEY = "tk_" + "A" * 32
BASE = "http://testserver/v1"
CONFORMANCE = Path(__file__).resolve().parents[3].parent / "shared" / "conformance"


@dataclass
class Server:
    app: Any
    services: Services
    clock: ManualClock
    admin: httpx.AsyncClient

    def client(self, secret: str | None) -> httpx.AsyncClient:
        headers = {"Authorization": f"Bearer {secret}"} if secret else {}
        return httpx.AsyncClient(transport=httpx.ASGITransport(self.app), base_url=BASE, headers=headers)

    async def new_key(self, *scopes: str, account_id: str | None = None) -> tuple[str, str]:
        """(secret, account id) of a new key; a new account unless `account_id` is given."""
        return await new_key(self.services.stores, self.clock.now(), scopes or ("admin",), account_id)

    async def tenant(self, *scopes: str) -> httpx.AsyncClient:
        secret, _ = await self.new_key(*scopes)
        return self.client(secret)

    async def wait_for_sleepers(self, count: int) -> None:
        """Yield to the event loop until `count` tasks wait on the clock (e.g. a parked long poll; the
        janitor is always one of them)."""
        for _ in range(200_000):
            if self.clock.sleeper_count >= count:
                return
            await anyio.lowlevel.checkpoint()
        raise AssertionError(f"expected {count} tasks waiting on the clock, found {self.clock.sleeper_count}")


def settings(**overrides: Any) -> Settings:
    base: dict[str, Any] = {
        "db_path": ":memory:",
        "bootstrap_admin_key": ADMIN_KEY,
        "delivery_worker": False,
        "rate_limit_per_second": 1_000_000.0,
        "rate_limit_burst": 1_000_000,
    }
    base.update(overrides)
    return Settings(**backend_settings(**base))


async def open_server(config: Settings) -> AsyncIterator[Server]:
    clock = ManualClock(START)
    app = create_app(config, clock)
    async with app.router.lifespan_context(app):
        services: Services = app.state.services
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app),
            base_url=BASE,
            headers={"Authorization": f"Bearer {ADMIN_KEY}"},
        ) as admin:
            yield Server(app, services, clock, admin)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def server(anyio_backend: str) -> AsyncIterator[Server]:
    async for running in open_server(settings()):
        yield running


def event(type_: str = "order.created", **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"type": type_, "source": "shop", "data": {"order_id": "o-1"}}
    body.update(fields)
    return body


def assert_problem(response: httpx.Response, status: int, slug: str) -> dict[str, Any]:
    """The response is problem+json of `slug` with every required member and the request id."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = json.loads(response.content)
    assert body["type"] == f"https://triggers.dev/problems/{slug}", body
    assert body["status"] == status
    assert body["title"] and body["detail"]
    assert body["request_id"] == response.headers["x-request-id"]
    assert body["instance"].endswith("#" + body["request_id"])
    return body
