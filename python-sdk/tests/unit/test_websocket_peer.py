"""The WebSocket runtime against a scripted triggers.v1 peer (asyncio and trio): reconnects with the
policy's backoff, resumes after the last cursor, skips what it already yielded, answers pings, records
resets; the blocking twin against the same script over a real socket (websockets' sync server)."""

from __future__ import annotations

import json
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from typing import Any

import anyio
import httpx
import pytest
from httpx_ws.transport import ASGIWebSocketTransport

from zapier_triggers import AuthenticationError, SyncTriggersClient, TriggersClient
from zapier_triggers._constants import STREAM_RECONNECT_DELAY
from zapier_triggers.types.frames import CloseCode

from .fakes import API_KEY, FakeClock, event_json

pytestmark = pytest.mark.anyio
WELCOME = {
    "type": "welcome",
    "connection_id": "wsc_1",
    "account_id": "acct_1",
    "scopes": ["events:read"],
    "heartbeat_interval": 15,
    "max_frame_bytes": 65536,
    "send_queue_limit": 1000,
}


def _event(sequence: int) -> dict[str, Any]:
    return {"type": "event", "subscription": "s", "cursor": str(sequence), "event": event_json(sequence)}


# One list of frames per connection; an int ends the connection with that close code, "pong?" waits
# for the client's pong, None keeps the connection open until the client leaves.
RESUME_SCRIPT: list[list[Any]] = [
    [_event(1), _event(2), {"type": "ping", "id": "hb"}, "pong?", _event(3), CloseCode.INTERNAL_ERROR],
    [_event(3), _event(4), _event(5), CloseCode.GOING_AWAY],  # 3 again: already yielded
    [
        {"type": "reset", "subscription": "s", "reason": "cursor_expired", "oldest_sequence": 9},
        _event(9),
        None,
    ],
]


@dataclass
class Peer:
    """Records each connection's Authorization header and client frames; plays one script per connection."""

    script: list[list[Any]]
    authorizations: list[str | None] = field(default_factory=list)
    received: list[list[dict[str, Any]]] = field(default_factory=list)

    def subscribed(self, frames: list[dict[str, Any]]) -> dict[str, Any]:
        return {"type": "subscribed", "id": frames[0]["id"], "cursor": frames[0].get("since", "0")}


class AsgiPeer(Peer):
    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        assert scope["type"] == "websocket" and scope["subprotocols"] == ["triggers.v1"]
        headers = dict(scope["headers"])
        self.authorizations.append(headers.get(b"authorization", b"").decode() or None)
        steps = self.script[len(self.received)]
        frames: list[dict[str, Any]] = []
        self.received.append(frames)
        await receive()  # websocket.connect
        await send({"type": "websocket.accept", "subprotocol": "triggers.v1"})

        async def say(frame: dict[str, Any]) -> None:
            await send({"type": "websocket.send", "text": json.dumps(frame)})

        async def hear() -> dict[str, Any] | None:
            message = await receive()
            if message["type"] == "websocket.disconnect":
                return None
            frames.append(json.loads(message["text"]))
            return frames[-1]

        await say(WELCOME)
        if await hear() is None:
            return
        await say(self.subscribed(frames))
        for step in steps:
            if step is None:
                while await hear() is not None:
                    pass
                return
            if isinstance(step, int):
                await send({"type": "websocket.close", "code": int(step), "reason": ""})
                return
            if step == "pong?":
                assert await hear() == {"type": "pong", "id": "hb"}
                continue
            await say(step)


@asynccontextmanager
async def _client(peer: AsgiPeer, clock: FakeClock) -> AsyncIterator[TriggersClient]:
    async with httpx.AsyncClient(transport=ASGIWebSocketTransport(peer)) as http:
        yield TriggersClient(
            api_key=API_KEY,
            base_url="http://triggers.test/v1",
            http_client=http,
            sleep=clock.asleep,
            clock=clock.clock,
            random=clock.random,
        )


async def test_reconnects_with_backoff_and_resumes_after_the_last_cursor() -> None:
    peer, clock = AsgiPeer(RESUME_SCRIPT), FakeClock()
    async with _client(peer, clock) as client, client.events.subscribe(types=["order.*"]) as subscription:
        got: list[int] = []
        with anyio.fail_after(10):
            async for event in subscription:
                got.append(event.sequence)
                if len(got) == 6:
                    break
    assert got == [1, 2, 3, 4, 5, 9]
    assert [frames[0].get("since") for frames in peer.received] == [None, "3", "5"]
    assert all(frames[0]["types"] == ["order.*"] for frames in peer.received)
    assert peer.authorizations == [f"Bearer {API_KEY}"] * 3
    # each connection was healthy (subscribed) before it dropped, so each retry starts from the base delay
    assert clock.sleeps == [STREAM_RECONNECT_DELAY, STREAM_RECONNECT_DELAY]
    assert [r.oldest_sequence for r in subscription.resets] == [9]
    assert subscription.cursor == "9"


async def test_a_close_with_a_problem_the_client_cannot_fix_raises_its_typed_error() -> None:
    class Refusing(AsgiPeer):
        async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
            await receive()
            await send({"type": "websocket.accept", "subprotocol": "triggers.v1"})
            problem = {
                "type": "https://triggers.dev/problems/unauthenticated",
                "title": "Unauthenticated",
                "status": 401,
                "detail": "Unknown API key.",
            }
            await send(
                {
                    "type": "websocket.send",
                    "text": json.dumps({"type": "error", "id": None, "problem": problem}),
                }
            )
            await send({"type": "websocket.close", "code": int(CloseCode.UNAUTHENTICATED), "reason": ""})

    peer, clock = Refusing([]), FakeClock()
    async with _client(peer, clock) as client:
        with pytest.raises(AuthenticationError) as info:
            async with client.events.subscribe() as subscription:
                async for _ in subscription:
                    pass
    assert info.value.detail == "Unknown API key."
    assert clock.sleeps == []  # never retried


# ---------------------------------------------------------------- the blocking twin, over a real socket
@contextmanager
def sync_peer(script: list[list[Any]]) -> Iterator[tuple[str, Peer]]:
    from websockets.sync.server import ServerConnection, serve

    peer = Peer(script)

    def handler(ws: ServerConnection) -> None:
        peer.authorizations.append(ws.request.headers.get("Authorization") if ws.request else None)
        steps = script[len(peer.received)]
        frames: list[dict[str, Any]] = []
        peer.received.append(frames)
        ws.send(json.dumps(WELCOME))
        frames.append(json.loads(ws.recv()))
        ws.send(json.dumps(peer.subscribed(frames)))
        for step in steps:
            if step is None:
                for raw in ws:
                    frames.append(json.loads(raw))
                return
            if isinstance(step, int):
                ws.close(int(step))
                return
            if step == "pong?":
                assert json.loads(ws.recv()) == {"type": "pong", "id": "hb"}
                continue
            ws.send(json.dumps(step))

    def choose(ws: ServerConnection, offered: Any) -> Any:
        return "triggers.v1" if "triggers.v1" in offered else None

    with serve(handler, "127.0.0.1", 0, select_subprotocol=choose) as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        host, port = server.socket.getsockname()[:2]
        try:
            yield f"http://{host}:{port}/v1", peer
        finally:
            server.shutdown()
            thread.join(timeout=10)


@pytest.mark.parametrize("anyio_backend", ["asyncio"])  # blocking code: one run is enough
def test_sync_subscription_resumes_the_same_way(anyio_backend: str) -> None:
    clock = FakeClock()
    with sync_peer(RESUME_SCRIPT) as (base_url, peer):
        client = SyncTriggersClient(
            api_key=API_KEY, base_url=base_url, sleep=clock.sleep, random=clock.random
        )
        got: list[int] = []
        with client, client.events.subscribe(types=["order.*"]) as subscription:
            for event in subscription:
                got.append(event.sequence)
                if len(got) == 6:
                    break
    assert got == [1, 2, 3, 4, 5, 9]
    assert [frames[0].get("since") for frames in peer.received] == [None, "3", "5"]
    assert clock.sleeps == [STREAM_RECONNECT_DELAY, STREAM_RECONNECT_DELAY]
