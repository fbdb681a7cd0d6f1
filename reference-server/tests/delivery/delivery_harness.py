"""An in-process server (ASGI, :memory: SQLite, ManualClock, no background worker) whose webhooks go to a
scripted receiver; tests call ``server.run_due()`` after ``server.clock.advance(...)``."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from backend_harness import backend_settings, new_key, store_event

from triggers_server.clock import ManualClock
from triggers_server.config import Settings
from triggers_server.http.app import create_app
from triggers_server.http.services import Services
from triggers_server.storage.ports.events import EventDraft

START = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
Answer = tuple[int, dict[str, str], bytes] | Exception
ALL_SCOPES = ("events:write", "events:read", "inbox:consume", "subscriptions:manage")


@dataclass
class Receiver:
    """Scripted webhook endpoint: answers from a queue of (status, headers, body) or raises; else 200."""

    answers: list[Answer] = field(default_factory=list[Answer])
    requests: list[httpx.Request] = field(default_factory=list[httpx.Request])

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer: Answer = self.answers.pop(0) if self.answers else (200, {}, b"ok")
        if isinstance(answer, Exception):
            raise answer
        status, headers, body = answer
        return httpx.Response(status, headers=headers, content=body)


@dataclass
class Server:
    client: httpx.AsyncClient
    services: Services
    clock: ManualClock
    receiver: Receiver

    async def key(self, *scopes: str, account_id: str | None = None) -> dict[str, str]:
        """Authorization headers for a new key with ``scopes`` (default: all but admin) in a new account."""
        secret, _ = await new_key(self.services.stores, self.clock.now(), scopes or ALL_SCOPES, account_id)
        return {"Authorization": f"Bearer {secret}"}

    async def account_of(self, headers: dict[str, str]) -> str:
        principal = await self.services.auth.resolve(headers["Authorization"].removeprefix("Bearer "))
        assert principal is not None
        return principal.account_id

    async def ingest(self, headers: dict[str, str], **fields: Any) -> dict[str, Any]:
        """Store an event as ingestion does (event + inbox entry, then delivery fan-out)."""
        account_id = await self.account_of(headers)
        values: dict[str, Any] = {"type": "order.created", "source": "shop"}
        values.update(fields)
        if "data" in values:
            values["has_data"] = True
        draft = EventDraft(**values)
        now = self.clock.now()
        event = await store_event(self.services.stores, account_id, draft, now)
        await self.services.delivery.on_ingested(account_id, [event])
        return event

    async def run_due(self) -> int:
        return await self.services.delivery.run_due()


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def server() -> AsyncIterator[Server]:
    clock = ManualClock(START)
    receiver = Receiver()
    settings = Settings(
        **backend_settings(
            db_path=":memory:",
            delivery_worker=False,
            retry_schedule=(0, 5, 300),
            rate_limit_per_second=1e9,
            rate_limit_burst=10**9,
        )
    )
    webhook_client = httpx.AsyncClient(transport=httpx.MockTransport(receiver.handler))
    app = create_app(settings, clock, webhook_client=webhook_client)
    async with app.router.lifespan_context(app):
        app.state.services.delivery.rng = random.Random(3)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test/v1") as client:
            yield Server(client, app.state.services, clock, receiver)
    await webhook_client.aclose()
