"""Server memory after storing 1,000,000 events (target: RSS < 300 MB), plus the batch ingest rate on the way.

Ingests through `POST /events/batch` (500 per request, 4 requests in flight) into a real triggers-server on a
SQLite file, then reads the server's VmRSS. Results: bench/results/server-memory.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from pathlib import Path

import httpx
from _server import UNLIMITED, running_server

RESULTS = Path(__file__).resolve().parent / "results" / "server-memory.json"
BATCH = 500


async def ingest(client: httpx.AsyncClient, total: int, in_flight: int) -> None:
    batches = asyncio.Queue[int]()
    for start in range(0, total, BATCH):
        batches.put_nowait(start)

    async def worker() -> None:
        while not batches.empty():
            start = batches.get_nowait()
            events = [
                {"type": f"bench.memory.t{n % 20}", "source": "bench", "data": {"order_id": n, "amount": n % 997, "country": "DE"}}
                for n in range(start, min(start + BATCH, total))
            ]
            response = await client.post("/events/batch", json={"events": events}, timeout=120)
            response.raise_for_status()

    await asyncio.gather(*(worker() for _ in range(in_flight)))


async def run(total: int, in_flight: int) -> dict[str, object]:
    with running_server(*UNLIMITED) as server:
        headers = {"Authorization": f"Bearer {server.admin_key}"}
        async with httpx.AsyncClient(base_url=server.base_url, headers=headers) as client:
            rss_start = server.rss_mib()
            started = time.perf_counter()
            await ingest(client, total, in_flight)
            elapsed = time.perf_counter() - started
            rss_end = server.rss_mib()
            account = (await client.get("/account")).json()
        db_mib = sum(p.stat().st_size for p in server.db_path.parent.glob(f"{server.db_path.name}*")) / 2**20
    return {
        "events_stored": account["usage"]["events_total"],
        "rss_mib_at_start": round(rss_start, 1),
        "rss_mib_after": round(rss_end, 1),
        "target_rss_mib": 300,
        "batch_ingest_events_per_second": round(total / elapsed),
        "database_mib": round(db_mib, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--in-flight", type=int, default=4)
    args, _ = parser.parse_known_args()
    result = asyncio.run(run(args.events, args.in_flight))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
