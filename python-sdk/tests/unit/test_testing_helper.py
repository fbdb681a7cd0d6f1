"""zapier_triggers.testing: the streaming ASGI transport, and the in-process reference server."""

from __future__ import annotations

import importlib.util
from collections.abc import MutableMapping
from typing import Any

import anyio
import httpx
import pytest

from zapier_triggers.testing import StreamingASGITransport
from zapier_triggers.types import Event

from .fakes import event_json

pytestmark = pytest.mark.anyio


async def _ticker(scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
    """An ASGI app that streams three chunks, then waits for the client to disconnect."""
    assert scope["path"] == "/tick" and scope["query_string"] == b"n=3"
    request = await receive()
    assert request["body"] == b"hello"
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    for i in range(3):
        await send({"type": "http.response.body", "body": f"{i};".encode(), "more_body": True})
    assert (await receive())["type"] == "http.disconnect"


async def _broken(scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
    raise RuntimeError("boom")


async def test_transport_streams_chunks_before_the_response_ends() -> None:
    async with anyio.create_task_group() as group:
        transport = StreamingASGITransport(_ticker, group)
        async with (
            httpx.AsyncClient(transport=transport) as http,
            http.stream("POST", "http://app.test/tick?n=3", content=b"hello") as response,
        ):
            chunks = []
            async for chunk in response.aiter_bytes():
                chunks.append(chunk)
                if len(chunks) == 3:
                    break
        assert response.status_code == 200 and chunks == [b"0;", b"1;", b"2;"]


async def test_transport_reports_an_app_that_fails_before_responding() -> None:
    async with (
        anyio.create_task_group() as group,
        httpx.AsyncClient(transport=StreamingASGITransport(_broken, group)) as http,
    ):
        with pytest.raises(httpx.RemoteProtocolError, match="boom"):
            await http.get("http://app.test/")


@pytest.mark.parametrize("anyio_backend", ["asyncio"])  # the reference server is asyncio-only
async def test_in_process_reference_server(anyio_backend: str) -> None:
    if importlib.util.find_spec("triggers_server") is None:
        pytest.skip("triggers-server is not installed (pip install 'zapier-triggers[testing]')")
    from zapier_triggers.testing import triggers_server

    async with triggers_server() as client:
        created = await client.events.create(type="order.created", source="test", data={"n": 1})
        assert (await client.events.get(created.id)).data == {"n": 1}
        raw = await client.request("GET", f"/events/{created.id}", cast_to=Event)
        assert raw.status_code == 200 and raw.parse().id == created.id
        with anyio.fail_after(10):
            async with client.events.stream(last_event_id=str(created.sequence - 1)) as stream:
                async for event in stream:
                    assert event.id == created.id
                    break


async def test_low_level_request_sends_raw_content() -> None:
    from .fakes import async_client

    seen: list[httpx.Request] = []

    async def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(201, json=event_json(), headers={"Idempotent-Replayed": "false"})

    client = async_client(handle)
    raw = await client.request(
        "post",
        "/events",
        content=b'{"specversion":"1.0"}',
        content_type="application/cloudevents+json",
        cast_to=Event,
    )
    assert raw.status_code == 201 and raw.parse().sequence == 1 and not raw.idempotent_replayed
    assert seen[0].headers["Content-Type"] == "application/cloudevents+json"
    assert seen[0].content == b'{"specversion":"1.0"}'
    assert raw.idempotency_key == seen[0].headers["Idempotency-Key"]


def test_sync_low_level_request() -> None:
    from .fakes import sync_client

    def handle(request: httpx.Request) -> httpx.Response:
        return httpx.Response(204)

    raw = sync_client(handle).request("DELETE", "/subscriptions/sub_1")
    assert raw.status_code == 204 and raw.parse() is None and raw.idempotency_key is None
