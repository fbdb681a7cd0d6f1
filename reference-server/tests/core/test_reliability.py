"""Crash and network-fault behaviour of the real server process.

- kill -9 during sustained ingest, restart on the same database: every event that got a 2xx is there,
  exactly once (201 means durable: group commit returns only after COMMIT with synchronous=FULL);
- a proxy that drops responses after the server committed: clients retrying with the same
  Idempotency-Key create no duplicates;
- the bootstrap admin key is printed once, on the first start of an empty database.
"""

from __future__ import annotations

import asyncio
import itertools
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest
from live_server import ADMIN, running, start

pytestmark = pytest.mark.slow

WORKERS = 16
KILL_AFTER = 400


async def _all_events(client: httpx.AsyncClient) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 500}
        if cursor:
            params["cursor"] = cursor
        page = (await client.get("/events", params=params)).json()
        events.extend(page["data"])
        cursor = page["next_cursor"]
        if cursor is None:
            return events


def test_kill_9_during_ingest_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    db, log = tmp_path / "crash.db", tmp_path / "server.log"
    server = start(db, log)
    acknowledged: dict[int, str] = {}
    counter = itertools.count()
    killed = asyncio.Event()

    async def worker(client: httpx.AsyncClient) -> None:
        while not killed.is_set():
            number = next(counter)
            try:
                response = await client.post(
                    "/events", json={"type": "load.tick", "source": "crash", "data": {"n": number}}
                )
            except httpx.TransportError:
                return  # the server is gone; this request may or may not have committed
            if response.status_code == 201:
                acknowledged[number] = response.json()["id"]
                if len(acknowledged) >= KILL_AFTER and not killed.is_set():
                    server.kill()
                    killed.set()

    async def load() -> None:
        headers = {"Authorization": f"Bearer {ADMIN}"}
        async with httpx.AsyncClient(base_url=server.base_url, headers=headers, timeout=10) as client:
            await asyncio.gather(*(worker(client) for _ in range(WORKERS)))

    try:
        asyncio.run(load())
        assert killed.is_set()
    finally:
        server.stop()

    async def verify(base_url: str) -> None:
        headers = {"Authorization": f"Bearer {ADMIN}"}
        async with httpx.AsyncClient(base_url=base_url, headers=headers, timeout=30) as client:
            stored = await _all_events(client)
        numbers = Counter(event["data"]["n"] for event in stored)
        assert all(count == 1 for count in numbers.values()), "an event is stored twice"
        by_number = {event["data"]["n"]: event["id"] for event in stored}
        missing = [n for n in acknowledged if by_number.get(n) != acknowledged[n]]
        assert missing == [], f"{len(missing)} acknowledged events lost"
        assert len(stored) - len(acknowledged) <= WORKERS  # at most the requests in flight at the kill

    with running(db, log) as restarted:
        asyncio.run(verify(restarted.base_url))


class DroppingProxy:
    """HTTP/1.1 proxy (one request per connection) that forwards each request, then for every
    `drop_every`-th one closes the client connection instead of answering: the server did the work,
    the client never hears about it."""

    def __init__(self, upstream: str, drop_every: int) -> None:
        self.upstream = upstream
        self.drop_every = drop_every
        self.seen = 0
        self.dropped = 0
        self.port = 0
        self._server: asyncio.Server | None = None
        self._client = httpx.AsyncClient(timeout=30)

    async def __aenter__(self) -> DroppingProxy:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()
        await self._client.aclose()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            method, target, _ = lines[0].split(" ", 2)
            headers = [tuple(line.split(": ", 1)) for line in lines[1:] if line]
            length = next((int(v) for k, v in headers if k.lower() == "content-length"), 0)
            body = await reader.readexactly(length) if length else b""
            forwarded = {k: v for k, v in headers if k.lower() not in ("host", "connection", "content-length")}
            response = await self._client.request(method, self.upstream + target, headers=forwarded, content=body)
            self.seen += 1
            if self.seen % self.drop_every == 0:
                self.dropped += 1
                return  # committed upstream, never answered
            out = [f"HTTP/1.1 {response.status_code} {response.reason_phrase}"]
            out += [
                f"{k}: {v}"
                for k, v in response.headers.items()
                if k.lower() not in ("connection", "content-length", "transfer-encoding")
            ]
            out += [f"content-length: {len(response.content)}", "connection: close", "", ""]
            writer.write("\r\n".join(out).encode("latin-1") + response.content)
            await writer.drain()
        finally:
            writer.close()


def test_retries_through_a_dropping_proxy_create_no_duplicates(tmp_path: Path) -> None:
    sends = 60

    async def scenario(origin: str) -> tuple[int, int, list[dict[str, Any]]]:
        replays = 0
        async with DroppingProxy(origin, drop_every=3) as proxy:
            headers = {"Authorization": f"Bearer {ADMIN}"}
            base = f"http://127.0.0.1:{proxy.port}/v1"
            async with httpx.AsyncClient(base_url=base, headers=headers, timeout=30) as client:
                for number in range(sends):
                    key = f"send-{number}"
                    body = {"type": "pay.captured", "source": "proxy", "data": {"n": number}}
                    for _attempt in range(5):
                        try:
                            response = await client.post("/events", json=body, headers={"Idempotency-Key": key})
                        except httpx.TransportError:
                            continue  # same key, same body: safe to repeat
                        assert response.status_code in (200, 201), response.text
                        replays += response.headers.get("idempotent-replayed") == "true"
                        break
                    else:
                        raise AssertionError(f"send {number} never got an answer")
            dropped = proxy.dropped
        async with httpx.AsyncClient(base_url=origin + "/v1", headers=headers, timeout=30) as direct:
            stored = await _all_events(direct)
        return dropped, replays, stored

    with running(tmp_path / "proxy.db", tmp_path / "server.log", "--no-delivery-worker") as server:
        dropped, replays, stored = asyncio.run(scenario(f"http://127.0.0.1:{server.port}"))
    assert dropped >= sends // 3
    assert replays == dropped
    numbers = Counter(event["data"]["n"] for event in stored)
    assert sorted(numbers) == list(range(sends))
    assert set(numbers.values()) == {1}


def test_bootstrap_key_is_printed_once(tmp_path: Path) -> None:
    db, log = tmp_path / "boot.db", tmp_path / "server.log"
    with running(db, log, admin_key=None):
        pass
    first = [line for line in log.read_text().splitlines() if "Bootstrap admin API key" in line]
    assert len(first) == 1
    secret = first[0].rsplit(" ", 1)[1]
    assert secret.startswith("tk_") and len(secret) == 35
    with running(db, log, admin_key=None) as again:
        response = httpx.get(f"{again.base_url}/account", headers={"Authorization": f"Bearer {secret}"})
        assert response.status_code == 200
    assert len([line for line in log.read_text().splitlines() if "Bootstrap admin API key" in line]) == 1
