"""`GET /events/ws` (asyncapi.yaml): authentication, subscriptions with the SSE stream's cursors, the push
inbox, heartbeats, backpressure and malformed frames, in process (httpx-ws's ASGI transport, ManualClock)."""

from __future__ import annotations

import json
import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import httpx
import pytest
from core_harness import BASE, Server, event
from httpx_ws import AsyncWebSocketSession, WebSocketDisconnect, aconnect_ws
from httpx_ws.transport import ASGIWebSocketTransport

pytestmark = pytest.mark.anyio
SUBPROTOCOL = "triggers.v1"
WS_URL = BASE + "/events/ws"


@asynccontextmanager
async def ws_client(server: Server) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=ASGIWebSocketTransport(server.app), base_url=BASE) as client:
        yield client


@asynccontextmanager
async def connect(
    server: Server, secret: str | None, *, subprotocols: list[str] | None = None
) -> AsyncIterator[AsyncWebSocketSession]:
    headers = {"Authorization": f"Bearer {secret}"} if secret else {}
    async with ws_client(server) as client:
        async with aconnect_ws(
            WS_URL,
            client,
            headers=headers,
            subprotocols=[SUBPROTOCOL] if subprotocols is None else subprotocols,
            keepalive_ping_interval_seconds=None,
        ) as ws:
            yield ws


async def frame(ws: AsyncWebSocketSession) -> dict[str, Any]:
    with anyio.fail_after(10):
        data: dict[str, Any] = json.loads(await ws.receive_text())
    return data


async def frame_of(ws: AsyncWebSocketSession, *types: str) -> dict[str, Any]:
    """The next frame whose type is one of `types`, skipping server pings."""
    while True:
        got = await frame(ws)
        if got["type"] in types:
            return got
        assert got["type"] == "ping", got


async def send(ws: AsyncWebSocketSession, **fields: Any) -> None:
    await ws.send_text(json.dumps(fields))


async def post(server: Server, secret: str, count: int, type_: str = "order.created") -> list[dict[str, Any]]:
    async with server.client(secret) as api:
        created = []
        for i in range(count):
            response = await api.post("/events", json=event(type_, data={"i": i}))
            assert response.status_code == 201, response.text
            created.append(response.json())
        return created


async def closed_with(ws: AsyncWebSocketSession) -> int:
    with pytest.raises(WebSocketDisconnect) as info:
        while True:
            await frame(ws)
    return info.value.code


async def test_bearer_upgrade_is_welcomed(server: Server) -> None:
    secret, account = await server.new_key("events:read")
    async with connect(server, secret) as ws:
        welcome = await frame(ws)
        assert ws.subprotocol == SUBPROTOCOL
    assert welcome["type"] == "welcome"
    assert welcome["account_id"] == account
    assert welcome["scopes"] == ["events:read"]
    assert welcome["heartbeat_interval"] == 15
    assert welcome["connection_id"].startswith("wsc_")


async def test_hello_frame_authenticates_a_browser(server: Server) -> None:
    secret, _ = await server.new_key("events:read")
    async with connect(server, None) as ws:
        await send(ws, type="hello", api_key=secret)
        assert (await frame(ws))["type"] == "welcome"


@pytest.mark.parametrize("how", ["bearer", "hello", "first-frame-not-hello"])
async def test_unknown_key_gets_a_problem_frame_and_4401(server: Server, how: str) -> None:
    async with connect(server, "tk_" + "Z" * 32 if how == "bearer" else None) as ws:
        if how == "hello":
            await send(ws, type="hello", api_key="tk_nope")
        elif how == "first-frame-not-hello":
            await send(ws, type="subscribe", id="s")
        error = await frame(ws)
        code = await closed_with(ws)
    assert error["type"] == "error"
    assert error["problem"]["type"].endswith("/unauthenticated")
    assert error["problem"]["status"] == 401
    assert code == 4401


async def test_no_hello_in_time_closes_4408(server: Server) -> None:
    async with connect(server, None) as ws:
        await server.wait_for_sleepers(2)  # the janitor and the hello timeout
        server.clock.advance(10)
        error = await frame(ws)
        assert error["problem"]["type"].endswith("/unauthenticated")
        assert await closed_with(ws) == 4408


async def test_missing_subprotocol_closes_4400(server: Server) -> None:
    secret, _ = await server.new_key("events:read")
    async with connect(server, secret, subprotocols=[]) as ws:
        error = await frame(ws)
        assert error["problem"]["type"].endswith("/malformed-request")
        assert await closed_with(ws) == 4400


async def test_a_key_without_stream_scopes_closes_4403(server: Server) -> None:
    secret, _ = await server.new_key("events:write")
    async with connect(server, secret) as ws:
        error = await frame(ws)
        assert error["problem"]["status"] == 403
        assert await closed_with(ws) == 4403


async def test_scope_missing_for_a_frame_is_an_error_frame(server: Server) -> None:
    secret, _ = await server.new_key("events:read")
    async with connect(server, secret) as ws:
        await frame(ws)
        await send(ws, type="lease", id="l1")
        error = await frame_of(ws, "error")
        assert error["id"] == "l1"
        assert error["problem"]["type"].endswith("/forbidden")
        await send(ws, type="ping", id="still-open")
        assert await frame_of(ws, "pong") == {"type": "pong", "id": "still-open"}


async def test_plain_get_is_426_after_the_key_check(server: Server) -> None:
    secret, _ = await server.new_key("events:read")
    async with server.client(secret) as api:
        response = await api.get("/events/ws")
    assert response.status_code == 426
    assert response.headers["upgrade"] == "websocket"
    assert response.json()["type"].endswith("/upgrade-required")
    async with server.client(None) as anonymous:
        assert (await anonymous.get("/events/ws")).status_code == 401


async def test_subscribe_streams_in_commit_order_with_sse_cursors(server: Server) -> None:
    secret, _ = await server.new_key("events:read", "events:write")
    async with connect(server, secret) as ws:
        await frame(ws)
        await send(ws, type="subscribe", id="all", types=["order.*"])
        subscribed = await frame(ws)
        assert subscribed["type"] == "subscribed" and subscribed["id"] == "all"
        created = await post(server, secret, 3)
        await post(server, secret, 1, "invoice.paid")
        got = [await frame_of(ws, "event") for _ in range(3)]
    assert [g["event"]["id"] for g in got] == [c["id"] for c in created]
    assert [g["cursor"] for g in got] == [str(c["sequence"]) for c in created]
    assert all(g["subscription"] == "all" for g in got)


async def test_filter_and_several_subscriptions_on_one_connection(server: Server) -> None:
    secret, _ = await server.new_key("events:read", "events:write")
    async with connect(server, secret) as ws:
        await frame(ws)
        await send(ws, type="subscribe", id="orders", types=["order.*"])
        await send(ws, type="subscribe", id="shop", filter={"exact": {"source": "other"}})
        assert {(await frame(ws))["id"], (await frame(ws))["id"]} == {"orders", "shop"}
        await post(server, secret, 1)
        async with server.client(secret) as api:
            other = (await api.post("/events", json=event("invoice.paid", source="other"))).json()
        first, second = await frame_of(ws, "event"), await frame_of(ws, "event")
    assert first["subscription"] == "orders"
    assert second["subscription"] == "shop" and second["event"]["id"] == other["id"]


async def test_unsubscribe_stops_the_feed(server: Server) -> None:
    secret, _ = await server.new_key("events:read", "events:write")
    async with connect(server, secret) as ws:
        await frame(ws)
        await send(ws, type="subscribe", id="a")
        await frame(ws)
        await send(ws, type="unsubscribe", id="a")
        await send(ws, type="subscribe", id="b", types=["invoice.*"])
        await frame_of(ws, "subscribed")
        await post(server, secret, 1)
        paid = await post(server, secret, 1, "invoice.paid")
        got = await frame_of(ws, "event")
    assert got["subscription"] == "b" and got["event"]["id"] == paid[0]["id"]


async def test_reset_when_since_is_older_than_retention(server: Server) -> None:
    secret, _ = await server.new_key("events:read", "events:write")
    await post(server, secret, 3)
    server.clock.advance(server.services.settings.retention_seconds + 60)
    await server.services.janitor.run_once()
    kept = await post(server, secret, 1)
    async with connect(server, secret) as ws:
        await frame(ws)
        await send(ws, type="subscribe", id="s", since="1")
        await frame_of(ws, "subscribed")
        reset = await frame_of(ws, "reset")
        first = await frame_of(ws, "event")
    assert reset["subscription"] == "s" and reset["reason"] == "cursor_expired"
    assert first["event"]["id"] == kept[0]["id"]
    assert reset["oldest_sequence"] <= kept[0]["sequence"]


@pytest.mark.parametrize(
    ("raw", "slug"),
    [
        ("not json", "malformed-request"),
        ("[1, 2]", "malformed-request"),
        ('{"type": "teleport", "id": "x"}', "malformed-request"),
        ('{"type": "subscribe"}', "malformed-request"),
        ('{"type": "subscribe", "id": "s", "types": ["bad glob?"]}', "malformed-request"),
        ('{"type": "subscribe", "id": "s", "filter": {"nope": {}}}', "malformed-request"),
        ('{"type": "lease", "id": "l", "max_in_flight": 0}', "malformed-request"),
    ],
)
async def test_bad_frames_get_an_error_frame_and_the_connection_stays(server: Server, raw: str, slug: str) -> None:
    secret, _ = await server.new_key("events:read", "inbox:consume")
    async with connect(server, secret) as ws:
        await frame(ws)
        await ws.send_text(raw)
        error = await frame_of(ws, "error")
        await send(ws, type="ping", id="p")
        pong = await frame_of(ws, "pong")
    assert error["problem"]["type"].endswith("/" + slug), error
    assert error["problem"]["status"] == 400 and error["problem"]["request_id"]
    assert pong["id"] == "p"


async def test_binary_frame_is_refused_with_an_error_frame(server: Server) -> None:
    secret, _ = await server.new_key("events:read")
    async with connect(server, secret) as ws:
        await frame(ws)
        await ws.send_bytes(b"\x00\x01")
        error = await frame_of(ws, "error")
        await send(ws, type="ping")
        assert (await frame_of(ws, "pong"))["type"] == "pong"
    assert "Binary" in error["problem"]["detail"]


async def test_a_1_mb_frame_closes_1009_after_an_error_frame(server: Server) -> None:
    secret, _ = await server.new_key("events:read")
    async with connect(server, secret) as ws:
        await frame(ws)
        await ws.send_text(json.dumps({"type": "ping", "id": "x" * 1_000_000}))
        error = await frame_of(ws, "error")
        assert error["problem"]["type"].endswith("/payload-too-large")
        assert await closed_with(ws) == 1009


async def test_server_pings_and_closes_a_silent_peer_4000(server: Server) -> None:
    secret, _ = await server.new_key("events:read")
    async with connect(server, secret) as ws:
        await frame(ws)
        await server.wait_for_sleepers(2)
        server.clock.advance(15)
        assert (await frame(ws))["type"] == "ping"
        await server.wait_for_sleepers(2)
        server.clock.advance(15)
        error = await frame(ws)
        assert error["type"] == "error"
        assert await closed_with(ws) == 4000


async def test_a_pong_keeps_the_peer_alive(server: Server) -> None:
    secret, _ = await server.new_key("events:read")
    async with connect(server, secret) as ws:
        await frame(ws)
        for _ in range(3):
            await server.wait_for_sleepers(2)
            server.clock.advance(15)
            assert (await frame(ws))["type"] == "ping"
            await send(ws, type="pong")
            await send(ws, type="ping", id="sync")
            assert (await frame(ws))["id"] == "sync"  # the pong was read before the clock moves again


# ---------------------------------------------------------------- push inbox
async def test_push_inbox_respects_max_in_flight_and_settles_in_band(server: Server) -> None:
    secret, _ = await server.new_key("inbox:consume", "events:write")
    created = await post(server, secret, 5)
    async with connect(server, secret) as ws:
        await frame(ws)
        await send(ws, type="lease", id="l", max_in_flight=2, visibility_timeout=30)
        first, second = await frame_of(ws, "message"), await frame_of(ws, "message")
        assert [first["event"]["id"], second["event"]["id"]] == [c["id"] for c in created[:2]]
        assert first["lease"] == "l" and first["delivery_count"] == 1
        async with server.client(secret) as api:
            visible = (await api.get("/inbox")).json()["data"]
        assert [e["id"] for e in visible] == [c["id"] for c in created[2:]]  # two in flight, no more leased
        await send(ws, type="ack", id="a1", receipts=[first["receipt"]])
        acked = await frame_of(ws, "acked", "message")
        third = await frame_of(ws, "message") if acked["type"] == "acked" else acked
        if acked["type"] == "message":
            acked = await frame_of(ws, "acked")
        assert acked == {
            "type": "acked",
            "id": "a1",
            "results": [{"receipt": first["receipt"], "status": "ok", "detail": None}],
        }
        assert third["event"]["id"] == created[2]["id"]
        await send(ws, type="extend", id="e1", receipts=[third["receipt"]], visibility_timeout=120)
        extended = await frame_of(ws, "extended")
        assert extended["results"][0]["status"] == "ok"
        await send(ws, type="nack", id="n1", receipts=[second["receipt"]], delay=0)
        nacked = await frame_of(ws, "nacked")
        assert nacked["results"][0]["status"] == "ok"
        again = await frame_of(ws, "message")  # the released message comes back first (oldest), counted
        assert again["event"]["id"] == created[1]["id"] and again["delivery_count"] == 2
        await send(ws, type="ack", id="bad", receipts=["rcpt_unknown"])
        unknown = await frame_of(ws, "acked")
    assert unknown["results"][0]["status"] == "not_found"


async def test_disconnect_releases_leases_after_their_visibility_timeout(server: Server) -> None:
    secret, _ = await server.new_key("inbox:consume", "events:write")
    created = await post(server, secret, 1)
    async with connect(server, secret) as ws:
        await frame(ws)
        await send(ws, type="lease", id="l", visibility_timeout=30)
        first = await frame_of(ws, "message")
    assert first["event"]["id"] == created[0]["id"]
    async with server.client(secret) as api:
        assert (await api.get("/inbox")).json()["data"] == []  # still leased: closing released nothing early
        server.clock.advance(31)
        assert [e["id"] for e in (await api.get("/inbox")).json()["data"]] == [created[0]["id"]]
    async with connect(server, secret) as ws:
        await frame(ws)
        await send(ws, type="lease", id="l2")
        redelivered = await frame_of(ws, "message")
        await send(ws, type="ack", id="a", receipts=[redelivered["receipt"]])
        assert (await frame_of(ws, "acked"))["results"][0]["status"] == "ok"
    assert redelivered["event"]["id"] == created[0]["id"] and redelivered["delivery_count"] == 2


async def test_an_expired_message_frees_its_slot(server: Server) -> None:
    secret, _ = await server.new_key("inbox:consume", "events:write")
    created = await post(server, secret, 2)
    async with connect(server, secret) as ws:
        await frame(ws)
        await send(ws, type="lease", id="l", max_in_flight=1, visibility_timeout=10)
        first = await frame_of(ws, "message")
        await server.wait_for_sleepers(3)  # janitor, heartbeat, the lease window waiting for a free slot
        server.clock.advance(11)
        nxt = await frame_of(ws, "message")
    assert first["event"]["id"] == created[0]["id"]
    assert nxt["event"]["id"] in {created[0]["id"], created[1]["id"]}


# ---------------------------------------------------------------- resume, fan-out, backpressure
async def test_random_disconnects_during_5000_events_lose_and_repeat_nothing(server: Server) -> None:
    secret, _ = await server.new_key("events:read", "events:write")
    rng = random.Random(14)
    expected: list[int] = []

    async def produce() -> None:
        async with server.client(secret) as api:
            for batch in range(5):
                body = [event(data={"n": batch * 1000 + i}) for i in range(1000)]
                response = await api.post("/events/batch", json={"events": body})
                assert response.status_code in (200, 201, 207), response.text
                expected.extend(item["event"]["sequence"] for item in response.json()["results"])
                await anyio.lowlevel.checkpoint()

    received: list[int] = []
    cursor = "0"
    reconnects = 0
    async with anyio.create_task_group() as group:
        group.start_soon(produce)
        while len(received) < 5000:
            take = rng.randint(1, 700)
            async with connect(server, secret) as ws:
                await frame(ws)
                await send(ws, type="subscribe", id="s", since=cursor)
                await frame_of(ws, "subscribed")
                for _ in range(take):
                    got = await frame_of(ws, "event")
                    received.append(got["event"]["sequence"])
                    cursor = got["cursor"]
                    if len(received) == 5000:
                        break
            reconnects += 1
    assert reconnects > 5
    assert received == sorted(expected)
    assert len(set(received)) == 5000


async def test_100_concurrent_connections_each_get_every_event(server: Server) -> None:
    secret, _ = await server.new_key("events:read", "events:write")
    results: dict[int, list[str]] = {}
    ready = 0
    all_ready = anyio.Event()

    async def subscriber(index: int) -> None:
        nonlocal ready
        async with connect(server, secret) as ws:
            await frame(ws)
            await send(ws, type="subscribe", id=f"s{index}")
            await frame_of(ws, "subscribed")
            ready += 1
            if ready == 100:
                all_ready.set()
            results[index] = [(await frame_of(ws, "event"))["event"]["id"] for _ in range(20)]

    async with anyio.create_task_group() as group:
        for index in range(100):
            group.start_soon(subscriber, index)
        with anyio.fail_after(30):
            await all_ready.wait()
        created = [c["id"] for c in await post(server, secret, 20)]
    assert len(results) == 100
    assert all(ids == created for ids in results.values())


class Gate:
    """An ASGI wrapper standing in for a network that stops draining: while shut, the server's sends wait."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.opened = anyio.Event()
        self.opened.set()

    def shut(self) -> None:
        self.opened = anyio.Event()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        async def gated(message: Any) -> None:
            if message["type"] == "websocket.send":
                await self.opened.wait()
            await send(message)

        await self.app(scope, receive, gated)


async def test_a_slow_consumer_is_closed_4429_and_resumes_without_gaps() -> None:
    from core_harness import open_server, settings

    async for server in open_server(settings(ws_send_queue=4)):
        secret, _ = await server.new_key("events:read", "events:write")
        gate = Gate(server.app)
        async with httpx.AsyncClient(transport=ASGIWebSocketTransport(gate), base_url=BASE) as client:
            headers = {"Authorization": f"Bearer {secret}"}
            async with aconnect_ws(WS_URL, client, headers=headers, subprotocols=[SUBPROTOCOL]) as ws:
                await frame(ws)
                await send(ws, type="subscribe", id="s", since="0")
                subscribed = await frame_of(ws, "subscribed")
                gate.shut()
                created = await post(server, secret, 20)
                await server.wait_for_sleepers(3)  # janitor, heartbeat, the producer waiting for queue space
                server.clock.advance(15)
                gate.opened.set()
                seen: list[dict[str, Any]] = []
                with pytest.raises(WebSocketDisconnect) as closed:
                    while True:
                        seen.append(await frame(ws))
            assert closed.value.code == 4429
            assert seen[-1]["type"] == "error" and seen[-1]["problem"]["status"] == 429
            events = [f for f in seen if f["type"] == "event"]
            cursor = events[-1]["cursor"] if events else subscribed["cursor"]
        async with connect(server, secret) as ws:
            await frame(ws)
            await send(ws, type="subscribe", id="s", since=cursor)
            await frame_of(ws, "subscribed")
            rest = [await frame_of(ws, "event") for _ in range(20 - len(events))]
        assert [f["event"]["id"] for f in events + rest] == [c["id"] for c in created]


async def test_a_failure_behind_a_frame_closes_1011_with_the_crash_problem(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret, _ = await server.new_key("inbox:consume")

    async def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("storage fell over")

    monkeypatch.setattr(server.services.inbox, "ack", broken)
    async with connect(server, secret) as ws:
        await frame(ws)
        await send(ws, type="ack", id="a", receipts=["rcpt_x"])
        error = await frame_of(ws, "error")
        code = await closed_with(ws)
    assert error["id"] == "a" and error["problem"]["type"].endswith("/internal")
    assert "storage" not in error["problem"]["detail"]  # nothing about the failure leaves the server
    assert code == 1011
