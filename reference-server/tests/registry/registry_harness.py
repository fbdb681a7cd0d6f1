"""An in-process server (ASGI, :memory: SQLite, manual clock) and helpers to mint API keys."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
import pytest
from backend_harness import backend_settings, new_key

from triggers_server.clock import ManualClock
from triggers_server.config import Settings
from triggers_server.http.app import create_app
from triggers_server.http.services import Services

ADMIN_KEY = "tk_registry_admin_key_0123456789abcdef"
START = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@dataclass
class Server:
    client: httpx.AsyncClient
    services: Services
    clock: ManualClock

    async def key(self, *scopes: str, account_id: str | None = None) -> dict[str, str]:
        """Authorization headers for a new key with ``scopes`` (a new account unless ``account_id``)."""
        secret, _ = await new_key(self.services.stores, self.clock.now(), scopes, account_id)
        return {"Authorization": f"Bearer {secret}"}

    async def account_of(self, headers: dict[str, str]) -> str:
        principal = await self.services.auth.resolve(headers["Authorization"].removeprefix("Bearer "))
        assert principal is not None
        return principal.account_id


@pytest.fixture
async def server() -> AsyncIterator[Server]:
    clock = ManualClock(START)
    settings = Settings(
        **backend_settings(
            db_path=":memory:",
            bootstrap_admin_key=ADMIN_KEY,
            delivery_worker=False,
            rate_limit_per_second=1e9,
            rate_limit_burst=10**9,
        )
    )
    app = create_app(settings, clock)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test/v1") as client:
            yield Server(client, app.state.services, clock)


@pytest.fixture
def admin() -> dict[str, str]:
    return {"Authorization": f"Bearer {ADMIN_KEY}"}
