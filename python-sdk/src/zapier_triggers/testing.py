"""Test your own code against the real Triggers semantics, in-process, with no network.

``pip install 'zapier-triggers[testing]'`` pulls in the reference server (``triggers-server``). Then::

    from zapier_triggers.testing import triggers_server

    async with triggers_server() as client:      # a TriggersClient wired to an in-memory server
        await client.events.create(type="order.created", source="test")

or, with pytest and the anyio plugin, import the ready-made fixture into your ``conftest.py``::

    from zapier_triggers.testing import triggers_client  # noqa: F401

The server runs as an ASGI app inside the test's event loop, on an in-memory SQLite database that
disappears with it. Responses are streamed (not buffered) so ``client.events.stream()`` works too, and
WebSocket upgrades reach the app, so ``client.events.subscribe()`` and ``client.inbox.stream()`` do as well.
"""

from __future__ import annotations

import importlib
import math
import secrets
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, MutableMapping
from contextlib import asynccontextmanager
from typing import Any

import anyio
import httpx
import pytest
from anyio.abc import TaskGroup
from httpx_ws.transport import ASGIWebSocketTransport

from ._client import TriggersClient

__all__ = ["InProcessTransport", "StreamingASGITransport", "triggers_client", "triggers_server"]

ASGIApp = Callable[
    [
        MutableMapping[str, Any],
        Callable[[], Awaitable[MutableMapping[str, Any]]],
        Callable[[MutableMapping[str, Any]], Awaitable[None]],
    ],
    Awaitable[None],
]

BASE_URL = "http://triggers.testserver/v1"


class _ChannelStream(httpx.AsyncByteStream):
    """Body chunks as the app sends them; closing it tells the app the client went away."""

    def __init__(self, chunks: anyio.abc.ObjectReceiveStream[bytes], disconnected: anyio.Event) -> None:
        self._chunks = chunks
        self._disconnected = disconnected

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._chunks:
            yield chunk

    async def aclose(self) -> None:
        self._disconnected.set()
        await self._chunks.aclose()


class StreamingASGITransport(httpx.AsyncBaseTransport):
    """Like ``httpx.ASGITransport`` but streams response bodies, so SSE endpoints work in-process."""

    def __init__(self, app: ASGIApp, task_group: TaskGroup) -> None:
        self._app = app
        self._task_group = task_group

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        send_chunk, receive_chunk = anyio.create_memory_object_stream[bytes](math.inf)
        started = anyio.Event()
        disconnected = anyio.Event()
        head: dict[str, Any] = {}
        scope: dict[str, Any] = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": request.method,
            "scheme": request.url.scheme,
            "path": request.url.path,
            "raw_path": request.url.raw_path.split(b"?")[0],
            "query_string": request.url.query,
            "root_path": "",
            "headers": [(k.lower(), v) for k, v in request.headers.raw],
            "server": (request.url.host, request.url.port or 80),
            "client": ("127.0.0.1", 50000),
        }
        request_sent = False

        async def receive() -> dict[str, Any]:
            nonlocal request_sent
            if not request_sent:
                request_sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            await disconnected.wait()
            return {"type": "http.disconnect"}

        async def send(message: MutableMapping[str, Any]) -> None:
            if message["type"] == "http.response.start":
                head["status"] = message["status"]
                head["headers"] = message.get("headers", [])
                started.set()
            elif message["type"] == "http.response.body":
                chunk = message.get("body", b"")
                try:
                    if chunk:
                        await send_chunk.send(chunk)
                    if not message.get("more_body", False):
                        await send_chunk.aclose()
                except (anyio.ClosedResourceError, anyio.BrokenResourceError):
                    disconnected.set()

        async def run() -> None:
            try:
                await self._app(scope, receive, send)
            except Exception as exc:
                head.setdefault("error", exc)
            finally:
                await send_chunk.aclose()
                started.set()

        self._task_group.start_soon(run)
        await started.wait()
        if "status" not in head:
            raise httpx.RemoteProtocolError(f"the app failed before responding: {head.get('error')!r}")
        return httpx.Response(
            head["status"], headers=head["headers"], stream=_ChannelStream(receive_chunk, disconnected)
        )


class InProcessTransport(httpx.AsyncBaseTransport):
    """Plain requests to :class:`StreamingASGITransport`, WebSocket upgrades (``events.subscribe``,
    ``inbox.stream``) to httpx-ws's ASGI WebSocket transport, both on the same app."""

    def __init__(self, http: StreamingASGITransport, websockets: ASGIWebSocketTransport) -> None:
        self._http = http
        self._websockets = websockets

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.headers.get("upgrade", "").lower() == "websocket":
            return await self._websockets.handle_async_request(request)
        return await self._http.handle_async_request(request)


@asynccontextmanager
async def triggers_server(**settings: Any) -> AsyncGenerator[TriggersClient, None]:
    """Run the reference server in-process (in-memory db) and yield a client with its admin key.

    ``settings`` override ``triggers_server.config.Settings`` fields (e.g. ``max_deliveries=3``). The
    background worker (webhook deliveries, replay jobs) runs as in production; it posts to the URLs
    of the subscriptions you create. Pass ``delivery_worker=False`` to keep it idle.
    """
    # triggers-server ships no py.typed, so its API is used through an explicitly untyped handle.
    server_app: Any = importlib.import_module("triggers_server.http.app")
    server_config: Any = importlib.import_module("triggers_server.config")
    admin_key = "tk_" + secrets.token_urlsafe(24)
    config = server_config.Settings(db_path=":memory:", bootstrap_admin_key=admin_key, **settings)
    app: Any = server_app.create_app(config)
    async with (
        app.router.lifespan_context(app),
        anyio.create_task_group() as group,
        ASGIWebSocketTransport(app) as websockets,
    ):
        transport = InProcessTransport(StreamingASGITransport(app, group), websockets)
        async with (
            httpx.AsyncClient(transport=transport) as http,
            TriggersClient(api_key=admin_key, base_url=BASE_URL, http_client=http) as client,
        ):
            yield client
        group.cancel_scope.cancel()


@pytest.fixture
async def triggers_client() -> AsyncGenerator[TriggersClient, None]:
    """pytest fixture: a ``TriggersClient`` bound to a fresh in-process reference server."""
    async with triggers_server() as client:
        yield client
