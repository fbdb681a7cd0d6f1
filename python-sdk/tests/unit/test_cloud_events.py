"""``events.create_cloud_event``: CloudEvents structured mode (the Go and TypeScript SDKs have it too)."""

from __future__ import annotations

import importlib.util
import json

import httpx
import pytest

from zapier_triggers.types import CloudEvent

from .fakes import FakeClock, event_json, sync_client

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize("anyio_backend", ["asyncio"])  # the reference server is asyncio-only
async def test_cloud_event_is_stored_with_its_id_as_external_id(anyio_backend: str) -> None:
    if importlib.util.find_spec("triggers_server") is None:
        pytest.skip("triggers-server is not installed (pip install 'zapier-triggers[testing]')")
    from zapier_triggers.testing import triggers_server

    async with triggers_server() as client:
        created = await client.events.create_cloud_event(
            {"id": "ce-42", "source": "/shop", "type": "order.created", "data": {"n": 1}}
        )
        stored = await client.events.get(created.id)
    assert stored.external_id == "ce-42" and stored.specversion == "1.0" and stored.data == {"n": 1}


def test_sync_twin_sends_structured_mode_and_retries_with_one_idempotency_key() -> None:
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(503) if len(seen) == 1 else httpx.Response(201, json=event_json())

    clock = FakeClock()
    event = sync_client(handle, clock).events.create_cloud_event(
        CloudEvent(specversion="1.0", id="ce-1", source="/s", type="a.b")
    )
    assert event.sequence == 1 and len(seen) == 2 and len(clock.sleeps) == 1
    assert {r.headers["Content-Type"] for r in seen} == {"application/cloudevents+json"}
    assert len({r.headers["Idempotency-Key"] for r in seen}) == 1
    assert json.loads(seen[0].content) == {"specversion": "1.0", "id": "ce-1", "source": "/s", "type": "a.b"}
