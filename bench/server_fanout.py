"""SSE fan-out: publish → receive latency with 100 live subscribers on one reference server.

Publisher and subscribers share this process's monotonic clock: each event carries the time it was sent, each
subscriber records the time it parsed it. Target (issue 3): p99 < 50 ms on a 2-core machine, load generator
included. Results: bench/results/server-fanout.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from pathlib import Path

import httpx
from _server import UNLIMITED, running_server

RESULTS = Path(__file__).resolve().parent / "results" / "server-fanout.json"
EVENT_TYPE = "bench.fanout"


async def subscriber(client: httpx.AsyncClient, connected: asyncio.Event, ready: list[int], expected: int, latencies: list[float]) -> int:
    received = 0
    async with client.stream("GET", "/events/stream", params={"types": EVENT_TYPE}, timeout=None) as response:
        response.raise_for_status()
        async for line in response.aiter_lines():
            if not connected.is_set() and line.startswith("retry:"):
                ready.append(1)
                continue
            if line.startswith("data:"):
                now = time.perf_counter()
                sent = json.loads(line[5:])["data"]["sent"]
                latencies.append(now - sent)
                received += 1
                if received == expected:
                    return received
    return received


async def run(subscribers: int, events: int, interval: float) -> dict[str, object]:
    with running_server(*UNLIMITED) as server:
        headers = {"Authorization": f"Bearer {server.admin_key}"}
        limits = httpx.Limits(max_connections=subscribers + 8, max_keepalive_connections=subscribers + 8)
        async with httpx.AsyncClient(base_url=server.base_url, headers=headers, limits=limits) as client:
            connected = asyncio.Event()
            ready: list[int] = []
            latencies: list[float] = []
            tasks = [asyncio.create_task(subscriber(client, connected, ready, events, latencies)) for _ in range(subscribers)]
            deadline = time.monotonic() + 30
            while len(ready) < subscribers:
                if time.monotonic() > deadline:
                    raise SystemExit(f"only {len(ready)} of {subscribers} subscribers connected")
                await asyncio.sleep(0.05)
            connected.set()
            started = time.perf_counter()
            for index in range(events):
                body = {"type": EVENT_TYPE, "source": "bench", "data": {"n": index, "sent": time.perf_counter()}}
                (await client.post("/events", json=body)).raise_for_status()
                await asyncio.sleep(interval)
            done, pending = await asyncio.wait(tasks, timeout=30)
            for task in pending:
                task.cancel()
            elapsed = time.perf_counter() - started
            received = sum(task.result() for task in done)
    latencies.sort()
    ms = [value * 1000 for value in latencies]

    def pct(p: float) -> float:
        return ms[min(len(ms) - 1, int(p / 100 * len(ms)))]

    return {
        "subscribers": subscribers,
        "events_published": events,
        "deliveries_expected": subscribers * events,
        "deliveries_received": received,
        "publish_rate_per_second": round(events / elapsed, 1),
        "latency_ms": {"p50": round(statistics.median(ms), 2), "p95": round(pct(95), 2), "p99": round(pct(99), 2), "max": round(ms[-1], 2)},
        "target_p99_ms": 50,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--subscribers", type=int, default=100)
    parser.add_argument("--events", type=int, default=200)
    parser.add_argument("--interval", type=float, default=0.02, help="seconds between publishes")
    args, _ = parser.parse_known_args()
    result = asyncio.run(run(args.subscribers, args.events, args.interval))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
