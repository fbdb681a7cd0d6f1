"""The same-stack baselines for bench/server_ingest.py: bare ASGI apps on uvicorn + httptools + uvloop.

`BASELINE_MODE=bare`: parse the JSON body and answer 201 (200 for a batch), nothing else.
`BASELINE_MODE=sqlite`: the same, and commit every event to SQLite (WAL, synchronous=FULL) through one writer
thread that group-commits whatever is queued, like the reference server's writer; plus a single-row
lease/ack drain (`/v1/inbox/lease` leases one row, `/v1/inbox/ack` deletes it) for the inbox comparison.
Run with `uvicorn _baseline_app:app --loop uvloop --http httptools` (see `running_baseline`).
"""

from __future__ import annotations

import asyncio
import os
import queue
import sqlite3
import threading
from collections.abc import Callable
from typing import Any

import orjson

MODE = os.environ.get("BASELINE_MODE", "bare")
DB_PATH = os.environ.get("BASELINE_DB", ":memory:")
Job = tuple[Callable[[sqlite3.Connection], Any], asyncio.Future[Any], asyncio.AbstractEventLoop]


class GroupCommitWriter:
    """One thread, one connection: each loop takes every queued job into one transaction, then COMMITs."""

    def __init__(self, path: str) -> None:
        self._queue: queue.SimpleQueue[Job] = queue.SimpleQueue()
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute(
            "CREATE TABLE IF NOT EXISTS events (seq INTEGER PRIMARY KEY, body BLOB NOT NULL, leased INTEGER DEFAULT 0)"
        )
        self._conn = conn
        threading.Thread(target=self._main, daemon=True).start()

    async def write(self, fn: Callable[[sqlite3.Connection], Any]) -> Any:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self._queue.put((fn, future, loop))
        return await future

    def _main(self) -> None:
        conn = self._conn
        while True:
            batch = [self._queue.get()]
            while len(batch) < 512:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            conn.execute("BEGIN IMMEDIATE")
            results = [fn(conn) for fn, _, _ in batch]
            conn.execute("COMMIT")
            for (_, future, loop), result in zip(batch, results, strict=True):
                loop.call_soon_threadsafe(future.set_result, result)


writer = GroupCommitWriter(DB_PATH) if MODE == "sqlite" else None


async def read_body(receive: Any) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


async def respond(send: Any, status: int, payload: Any) -> None:
    body = orjson.dumps(payload)
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def insert_one(body: bytes) -> Callable[[sqlite3.Connection], int]:
    return lambda conn: int(conn.execute("INSERT INTO events (body) VALUES (?)", (body,)).lastrowid or 0)


def insert_many(bodies: list[bytes]) -> Callable[[sqlite3.Connection], int]:
    return lambda conn: conn.executemany("INSERT INTO events (body) VALUES (?)", [(b,) for b in bodies]).rowcount


def lease_one(conn: sqlite3.Connection) -> list[int]:
    row = conn.execute(
        "UPDATE events SET leased = 1 WHERE seq = (SELECT seq FROM events WHERE leased = 0 ORDER BY seq LIMIT 1) "
        "RETURNING seq"
    ).fetchone()
    return [int(row[0])] if row else []


def ack(receipts: list[int]) -> Callable[[sqlite3.Connection], int]:
    return lambda conn: conn.executemany("DELETE FROM events WHERE seq = ?", [(r,) for r in receipts]).rowcount


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        await receive()  # lifespan.startup
        await send({"type": "lifespan.startup.complete"})
        await receive()  # lifespan.shutdown
        await send({"type": "lifespan.shutdown.complete"})
        return
    path = scope["path"]
    body = await read_body(receive)
    if scope["method"] == "GET":
        await respond(send, 200, {"status": "ok"})
    elif path == "/v1/events":
        event = orjson.loads(body)
        seq = await writer.write(insert_one(orjson.dumps(event))) if writer else 0
        await respond(send, 201, {"sequence": seq, **event})
    elif path == "/v1/events/batch":
        events = orjson.loads(body)["events"]
        if writer:
            await writer.write(insert_many([orjson.dumps(event) for event in events]))
        await respond(send, 200, {"created": len(events)})
    elif path == "/v1/inbox/lease" and writer:
        orjson.loads(body)
        leased = await writer.write(lease_one)
        await respond(send, 200, {"messages": [{"receipt": seq} for seq in leased]})
    elif path == "/v1/inbox/ack" and writer:
        receipts = orjson.loads(body)["receipts"]
        await writer.write(ack(receipts))
        await respond(send, 200, {"results": [{"status": "ok"} for _ in receipts]})
    else:
        await respond(send, 404, {"status": "not found"})
