"""WebSocket vs SSE and HTTP (issue 14), on one reference server per measurement, load generator included.

1. Fan-out: publish → receive latency to 100 subscribers over `GET /events/ws` (triggers.v1) and over
   `GET /events/stream` (SSE), measured the same way as bench/server_fanout.py: each event carries the time it was
   sent on this process's monotonic clock, each subscriber records when it parsed it. Target: WebSocket p99 <= SSE p99.
2. Push-inbox drain: N pending events consumed and acknowledged one by one, over the WebSocket push inbox
   (`lease` frame with max_in_flight, in-band `ack` per message) and over HTTP (`POST /inbox/lease` batches of
   max_in_flight, then `POST /inbox/ack` per message, as inbox.consume does). Target: WebSocket >= 1.5x HTTP.

Results: bench/results/server-websocket.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from pathlib import Path
from typing import Any

import httpx
import websockets
from _server import UNLIMITED, running_server

RESULTS = Path(__file__).resolve().parent / "results" / "server-websocket.json"
EVENT_TYPE = "bench.ws"
SUBPROTOCOL = "triggers.v1"
# What py-spy on the server showed (issue 14), carried into the results so docs/benchmarks.md keeps it.
PROFILE_NOTE = (
    "py-spy on the server: uvicorn negotiated permessage-deflate with the websockets client, so every fan-out "
    "frame was compressed once per connection (and decompressed by every client), work SSE never does; the server "
    "now runs with ws_per_message_deflate=False. Frame bytes are already shared: each event's JSON is encoded once "
    "in the hub's ring and spliced into each subscriber's frame. What remains per frame is the same for both "
    "transports (EventStreams.follow, wait_for_signal) plus WS's queue hop to the sender task. Both clients parse the "
    "full JSON of every delivery. p99 is sensitive to machine load: compare WS and SSE within one run."
)


def _ws_url(base_url: str) -> str:
    return base_url.replace("http://", "ws://", 1) + "/events/ws"


def _percentiles(latencies: list[float]) -> dict[str, float]:
    ms = sorted(value * 1000 for value in latencies)

    def pct(p: float) -> float:
        return ms[min(len(ms) - 1, int(p / 100 * len(ms)))]

    return {"p50": round(statistics.median(ms), 2), "p95": round(pct(95), 2), "p99": round(pct(99), 2), "max": round(ms[-1], 2)}


async def _publish(client: httpx.AsyncClient, events: int, interval: float) -> None:
    for index in range(events):
        body = {"type": EVENT_TYPE, "source": "bench", "data": {"n": index, "sent": time.perf_counter()}}
        (await client.post("/events", json=body)).raise_for_status()
        await asyncio.sleep(interval)


async def _ws_subscriber(
    url: str, key: str, ready: asyncio.Event, count: list[int], target: int, expected: int, latencies: list[float]
) -> int:
    received = 0
    headers = {"Authorization": f"Bearer {key}"}
    async with websockets.connect(url, subprotocols=[SUBPROTOCOL], additional_headers=headers, max_size=2**22) as ws:
        json.loads(await ws.recv())  # welcome
        await ws.send(json.dumps({"type": "subscribe", "id": "s", "types": [EVENT_TYPE]}))
        while True:
            frame = json.loads(await ws.recv())
            if frame["type"] == "subscribed":
                count.append(1)
                if len(count) == target:
                    ready.set()
            elif frame["type"] == "event":
                latencies.append(time.perf_counter() - frame["event"]["data"]["sent"])
                received += 1
                if received == expected:
                    return received
            elif frame["type"] == "ping":
                await ws.send('{"type":"pong"}')


async def _sse_subscriber(
    client: httpx.AsyncClient, ready: asyncio.Event, count: list[int], target: int, expected: int, latencies: list[float]
) -> int:
    received = 0
    async with client.stream("GET", "/events/stream", params={"types": EVENT_TYPE}, timeout=None) as response:
        response.raise_for_status()
        async for line in response.aiter_lines():
            if line.startswith("retry:"):
                count.append(1)
                if len(count) == target:
                    ready.set()
            elif line.startswith("data:"):
                latencies.append(time.perf_counter() - json.loads(line[5:])["data"]["sent"])
                received += 1
                if received == expected:
                    return received
    return received


async def fanout(transport: str, subscribers: int, events: int, interval: float) -> dict[str, Any]:
    with running_server(*UNLIMITED) as server:
        headers = {"Authorization": f"Bearer {server.admin_key}"}
        limits = httpx.Limits(max_connections=subscribers + 8, max_keepalive_connections=subscribers + 8)
        async with httpx.AsyncClient(base_url=server.base_url, headers=headers, limits=limits) as client:
            ready, count, latencies = asyncio.Event(), [], []
            url = _ws_url(server.base_url)

            def subscriber() -> Any:
                if transport == "websocket":
                    return _ws_subscriber(url, server.admin_key, ready, count, subscribers, events, latencies)
                return _sse_subscriber(client, ready, count, subscribers, events, latencies)

            tasks = [asyncio.create_task(subscriber()) for _ in range(subscribers)]
            await asyncio.wait_for(ready.wait(), timeout=60)
            started = time.perf_counter()
            await _publish(client, events, interval)
            done, pending = await asyncio.wait(tasks, timeout=60)
            for task in pending:
                task.cancel()
            elapsed = time.perf_counter() - started
            received = sum(task.result() for task in done)
    return {
        "subscribers": subscribers,
        "events_published": events,
        "deliveries_expected": subscribers * events,
        "deliveries_received": received,
        "publish_rate_per_second": round(events / elapsed, 1),
        "latency_ms": _percentiles(latencies),
    }


async def _fill_inbox(client: httpx.AsyncClient, events: int) -> None:
    for start in range(0, events, 500):
        batch = [{"type": EVENT_TYPE, "source": "bench", "data": {"n": n}} for n in range(start, min(events, start + 500))]
        (await client.post("/events/batch", json={"events": batch})).raise_for_status()


async def drain_http(events: int, in_flight: int) -> dict[str, Any]:
    with running_server(*UNLIMITED) as server:
        headers = {"Authorization": f"Bearer {server.admin_key}"}
        async with httpx.AsyncClient(base_url=server.base_url, headers=headers, timeout=60) as client:
            await _fill_inbox(client, events)
            started, acked = time.perf_counter(), 0
            while acked < events:
                lease = (await client.post("/inbox/lease", json={"max_events": in_flight, "types": [EVENT_TYPE]})).json()
                for message in lease["messages"]:
                    (await client.post("/inbox/ack", json={"receipts": [message["receipt"]]})).raise_for_status()
                    acked += 1
            elapsed = time.perf_counter() - started
    return {"events": events, "max_in_flight": in_flight, "seconds": round(elapsed, 3), "events_per_second": round(events / elapsed, 1)}


async def drain_websocket(events: int, in_flight: int) -> dict[str, Any]:
    with running_server(*UNLIMITED) as server:
        headers = {"Authorization": f"Bearer {server.admin_key}"}
        async with httpx.AsyncClient(base_url=server.base_url, headers=headers, timeout=60) as client:
            await _fill_inbox(client, events)
        ws_headers = {"Authorization": f"Bearer {server.admin_key}"}
        url = _ws_url(server.base_url)
        async with websockets.connect(url, subprotocols=[SUBPROTOCOL], additional_headers=ws_headers, max_size=2**22) as ws:
            json.loads(await ws.recv())  # welcome
            started, acked, sent = time.perf_counter(), 0, 0
            await ws.send(json.dumps({"type": "lease", "id": "l", "max_in_flight": in_flight, "types": [EVENT_TYPE]}))
            while acked < events:
                frame = json.loads(await ws.recv())
                if frame["type"] == "message":
                    sent += 1
                    await ws.send(json.dumps({"type": "ack", "id": f"a{sent}", "receipts": [frame["receipt"]]}))
                elif frame["type"] == "acked":
                    acked += sum(1 for result in frame["results"] if result["status"] == "ok")
                elif frame["type"] == "ping":
                    await ws.send('{"type":"pong"}')
                elif frame["type"] == "error":
                    raise SystemExit(f"error frame: {frame}")
            elapsed = time.perf_counter() - started
    return {"events": events, "max_in_flight": in_flight, "seconds": round(elapsed, 3), "events_per_second": round(events / elapsed, 1)}


async def run(args: argparse.Namespace) -> dict[str, Any]:
    ws = await fanout("websocket", args.subscribers, args.events, args.interval)
    sse = await fanout("sse", args.subscribers, args.events, args.interval)
    ws_drain = await drain_websocket(args.drain, args.in_flight)
    http_drain = await drain_http(args.drain, args.in_flight)
    return {
        "fanout_websocket": ws,
        "fanout_sse": sse,
        "fanout_p99_ratio_ws_to_sse": round(ws["latency_ms"]["p99"] / sse["latency_ms"]["p99"], 3),
        "fanout_target": "websocket p99 <= sse p99",
        "drain_websocket": ws_drain,
        "drain_http": http_drain,
        "drain_speedup_ws_over_http": round(ws_drain["events_per_second"] / http_drain["events_per_second"], 2),
        "drain_target_speedup": 1.5,
        "profile_note": PROFILE_NOTE,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--subscribers", type=int, default=100)
    parser.add_argument("--events", type=int, default=200)
    parser.add_argument("--interval", type=float, default=0.02, help="seconds between publishes")
    parser.add_argument("--drain", type=int, default=2000, help="events to drain from the inbox")
    parser.add_argument("--in-flight", type=int, default=10, help="max_in_flight / lease batch")
    args, _ = parser.parse_known_args()
    result = asyncio.run(run(args))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
