"""`GET /events/stream`: retry first, monotonic ids, resume strictly after Last-Event-ID with no gaps or
duplicates (also across random disconnects during a burst), filters, heartbeats, and reset on expiry.

The stream is driven directly over ASGI (httpx's ASGITransport buffers whole responses), so the test
reads frames as the server sends them and disconnects whenever it wants."""

from __future__ import annotations

import json
import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import urlencode

import anyio
import anyio.lowlevel
import pytest
from core_harness import ADMIN_KEY, Server, assert_problem, event

from triggers_server.domain.streaming import AccountRing, EventStreams, StreamHub

pytestmark = pytest.mark.anyio


class Stream:
    def __init__(self) -> None:
        self.status = 0
        self.headers: dict[str, str] = {}
        self._buffer = ""
        self._chunks: anyio.abc.ObjectReceiveStream[str]

    async def frame(self) -> dict[str, str]:
        """The next frame as {field: value} (a comment is {"comment": text})."""
        while "\n\n" not in self._buffer:
            self._buffer += (await self._chunks.receive()).replace("\r\n", "\n")
        raw, self._buffer = self._buffer.split("\n\n", 1)
        frame: dict[str, str] = {}
        for line in raw.split("\n"):
            if line.startswith(":"):
                frame["comment"] = line[1:].strip()
            else:
                name, _, value = line.partition(":")
                frame[name] = value[1:] if value.startswith(" ") else value
        return frame

    async def event_frame(self) -> dict[str, str]:
        while True:
            frame = await self.frame()
            if "data" in frame:
                return frame


@asynccontextmanager
async def open_stream(
    server: Server, query: dict[str, Any] | None = None, headers: dict[str, str] | None = None
) -> AsyncIterator[Stream]:
    stream = Stream()
    send_chunk, stream._chunks = anyio.create_memory_object_stream[str](1000)
    disconnected = anyio.Event()
    started = anyio.Event()
    raw_headers = [(b"host", b"testserver"), (b"authorization", f"Bearer {ADMIN_KEY}".encode())]
    raw_headers += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/v1/events/stream",
        "raw_path": b"/v1/events/stream",
        "root_path": "",
        "query_string": urlencode(query or {}, doseq=True).encode(),
        "headers": raw_headers,
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }

    async def receive() -> dict[str, Any]:
        await disconnected.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            stream.status = message["status"]
            stream.headers = {k.decode(): v.decode() for k, v in message["headers"]}
            started.set()
        elif message["type"] == "http.response.body" and message.get("body"):
            await send_chunk.send(message["body"].decode())

    async with anyio.create_task_group() as group:
        group.start_soon(server.app, scope, receive, send)
        await started.wait()
        try:
            yield stream
        finally:
            disconnected.set()
            group.cancel_scope.cancel()


async def _post(server: Server, type_: str = "order.created") -> dict[str, Any]:
    response = await server.admin.post("/events", json=event(type_))
    assert response.status_code == 201
    body: dict[str, Any] = response.json()
    return body


async def test_retry_first_then_only_new_events(server: Server) -> None:
    await _post(server)
    async with open_stream(server) as stream:
        assert stream.status == 200
        assert stream.headers["content-type"].startswith("text/event-stream")
        assert stream.headers["cache-control"] == "no-cache"
        assert await stream.frame() == {"retry": "3000"}
        live = await _post(server, "user.signup")
        frame = await stream.event_frame()
        assert frame["id"] == str(live["sequence"])
        assert frame["event"] == "user.signup"
        assert json.loads(frame["data"]) == live


async def test_resume_strictly_after_last_event_id(server: Server) -> None:
    created = [await _post(server) for _ in range(4)]
    async with open_stream(server, headers={"Last-Event-ID": str(created[1]["sequence"])}) as stream:
        got = [json.loads((await stream.event_frame())["data"])["id"] for _ in range(2)]
        assert got == [created[2]["id"], created[3]["id"]]
        live = await _post(server)
        assert json.loads((await stream.event_frame())["data"])["id"] == live["id"]
    query = {"last_event_id": str(created[2]["sequence"])}
    async with open_stream(server, query=query, headers={"Last-Event-ID": str(created[0]["sequence"])}) as stream:
        assert json.loads((await stream.event_frame())["data"])["id"] == created[1]["id"]  # header wins
    async with open_stream(server, query=query) as stream:
        assert json.loads((await stream.event_frame())["data"])["id"] == created[3]["id"]


@pytest.mark.parametrize("ring_capacity", [10_000, 7], ids=["from-memory", "mostly-backfill"])
async def test_random_disconnects_during_a_burst_lose_and_repeat_nothing(server: Server, ring_capacity: int) -> None:
    """With a tiny ring most resumes fall behind it and backfill from the database, then catch up."""
    server.services.hub.capacity = ring_capacity
    rng = random.Random(7)
    total = 120
    published: list[int] = []
    received: list[int] = []
    last = (await _post(server))["sequence"]
    published.append(last)

    async def producer() -> None:
        for index in range(total):
            published.append((await _post(server, f"burst.{index % 3}"))["sequence"])
            if rng.random() < 0.3:
                await anyio.lowlevel.checkpoint()

    async with anyio.create_task_group() as group:
        group.start_soon(producer)
        while len(received) < total:
            async with open_stream(server, headers={"Last-Event-ID": str(last)}) as stream:
                for _ in range(rng.randint(1, 15)):
                    if len(received) == total:
                        break
                    frame = await stream.event_frame()
                    sequence = int(frame["id"])
                    assert json.loads(frame["data"])["sequence"] == sequence
                    received.append(sequence)
                    last = sequence
    assert received == published[1:]


async def test_type_globs_and_filter(server: Server) -> None:
    async with open_stream(server, query={"types": ["user.*", "billing.*"]}) as stream:
        await _post(server, "order.created")
        wanted = await _post(server, "user.signup")
        assert (await stream.event_frame())["id"] == str(wanted["sequence"])
    flt = json.dumps({"exact": {"type": "order.created"}})
    async with open_stream(server, query={"filter": flt}) as stream:
        await _post(server, "order.shipped")
        wanted = await _post(server, "order.created")
        assert (await stream.event_frame())["id"] == str(wanted["sequence"])


async def test_heartbeat_follows_the_clock(server: Server) -> None:
    parked = server.clock.sleeper_count
    async with open_stream(server) as stream:
        assert await stream.frame() == {"retry": "3000"}
        await server.wait_for_sleepers(parked + 1)  # the stream now waits for events or its heartbeat
        server.clock.advance(15)
        assert await stream.frame() == {"comment": "ping"}
        await server.wait_for_sleepers(parked + 1)
        server.clock.advance(15)
        assert await stream.frame() == {"comment": "ping"}


async def test_expired_cursor_gets_a_reset_then_continues_from_the_oldest(server: Server) -> None:
    old = [await _post(server) for _ in range(3)]
    server.clock.advance(8 * 24 * 3600)
    kept = await _post(server)
    await server.services.janitor.run_once()
    assert_problem(await server.admin.get(f"/events/{old[0]['id']}"), 404, "not-found")
    async with open_stream(server, headers={"Last-Event-ID": str(old[0]["sequence"])}) as stream:
        assert await stream.frame() == {"retry": "3000"}
        reset = await stream.frame()
        assert reset["event"] == "reset"
        assert json.loads(reset["data"]) == {"reason": "cursor_expired", "oldest_sequence": kept["sequence"]}
        assert (await stream.event_frame())["id"] == str(kept["sequence"])
    async with open_stream(server, headers={"Last-Event-ID": str(old[2]["sequence"])}) as stream:
        assert await stream.frame() == {"retry": "3000"}
        assert (await stream.frame())["id"] == str(kept["sequence"])


@pytest.mark.parametrize(
    ("query", "headers"),
    [
        ({"last_event_id": "abc"}, {}),
        ({}, {"Last-Event-ID": "-1"}),
        ({"types": "bad glob"}, {}),
        ({"filter": "{not json"}, {}),
        ({"filter": json.dumps({"sql": "x"})}, {}),
    ],
)
async def test_bad_stream_requests_are_400(server: Server, query: dict[str, str], headers: dict[str, str]) -> None:
    response = await server.admin.get("/events/stream", params=query, headers=headers)
    assert_problem(response, 400, "malformed-request")


async def test_events_from_before_the_hub_started_are_backfilled_from_the_database(server: Server) -> None:
    early = [await _post(server) for _ in range(3)]
    services = server.services
    hub = StreamHub(early[-1]["sequence"])  # as after a restart: memory starts empty
    services.backend.listen(hub.on_commit)
    services.stream = EventStreams(
        services.stores.events, hub=hub, clock=server.clock, heartbeat_seconds=services.settings.heartbeat_seconds
    )
    async with open_stream(server, headers={"Last-Event-ID": str(early[0]["sequence"])}) as stream:
        assert [int((await stream.event_frame())["id"]) for _ in range(2)] == [e["sequence"] for e in early[1:]]
        live = await _post(server)
        assert int((await stream.event_frame())["id"]) == live["sequence"]


def test_ring_vouches_only_above_its_floor() -> None:
    ring = AccountRing(floor=10, capacity=3)
    for sequence in range(11, 19):
        ring.append({"sequence": sequence, "type": "t"})
    # trimmed (in halves, once past twice the capacity) when 17 arrived: 11-14 left, the floor is 14
    assert ring.floor == 14 and [entry.sequence for entry in ring.entries] == [15, 16, 17, 18]
    assert ring.after(13, 10) is None
    after = ring.after(14, 10)
    assert after is not None and [entry.sequence for entry in after] == [15, 16, 17, 18]
    limited = ring.after(16, 1)
    assert limited is not None and [entry.sequence for entry in limited] == [17]
    assert limited[0].json == '{"sequence":17,"type":"t"}'
