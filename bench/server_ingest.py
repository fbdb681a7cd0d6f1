"""Reference-server throughput: single-event ingest (64 in flight), batch ingest (500 per request), and
inbox drain (lease 100 / ack 100), against a real `triggers-server` process on loopback, as ratios against
two same-stack baselines measured in the same run (bench/_baseline_app.py): a bare ASGI app that parses the
JSON and answers, and the same app committing each event to SQLite (WAL, synchronous=FULL, group commit),
fed the same single events, the same 500-event batches, and drained by single-row lease/ack.

The load generator is a minimal keep-alive HTTP/1.1 client on asyncio streams (one request at a time per
connection), so on a 2-core machine as little CPU as possible goes to the generator instead of the server.
Targets (issue 10): single ≥ 0.35x bare ASGI with p99 ≤ 4x its p99; batch ≥ 0.5x the SQLite app's batches;
drain ≥ 0.35x the SQLite app's single-row commit rate (its single-event ingest; the single-row
lease/ack drain is reported too).
Results: bench/results/server.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from _server import UNLIMITED, running_baseline, running_server

RESULTS = Path(__file__).resolve().parent / "results" / "server.json"
TARGETS = {
    "single_vs_bare": 0.35,
    "single_p99_vs_bare_p99_at_most": 4.0,
    "batch_vs_sqlite_batch": 0.5,
    "drain_vs_sqlite_single_ingest": 0.35,
}


class Connection:
    """One keep-alive HTTP/1.1 connection; `request` returns (status, body)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, host: str, key: str) -> None:
        self.reader = reader
        self.writer = writer
        self.prefix = f"Host: {host}\r\nAuthorization: Bearer {key}\r\nContent-Type: application/json\r\n"

    @classmethod
    async def open(cls, base_url: str, key: str) -> Connection:
        parts = urlsplit(base_url)
        reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
        return cls(reader, writer, parts.netloc, key)

    async def request(self, method: str, path: str, body: bytes = b"") -> tuple[int, bytes]:
        head = f"{method} {path} HTTP/1.1\r\n{self.prefix}Content-Length: {len(body)}\r\n\r\n"
        self.writer.write(head.encode() + body)
        status_line = await self.reader.readline()
        status = int(status_line.split(b" ", 2)[1])
        length = 0
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b""):
                break
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip())
        return status, await self.reader.readexactly(length) if length else b""

    def close(self) -> None:
        self.writer.close()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(q * len(ordered) + 0.5) - 1))]


async def single_ingest(base: str, key: str, total: int, in_flight: int) -> dict[str, Any]:
    path = urlsplit(base).path + "/events"
    connections = [await Connection.open(base, key) for _ in range(in_flight)]
    latencies: list[float] = []
    counter = iter(range(total))

    async def worker(conn: Connection) -> None:
        for number in counter:
            body = json.dumps({"type": "bench.single", "source": "bench", "data": {"n": number}}).encode()
            started = time.perf_counter()
            status, _ = await conn.request("POST", path, body)
            latencies.append(time.perf_counter() - started)
            if status != 201:
                raise SystemExit(f"single ingest got HTTP {status}")

    began = time.perf_counter()
    await asyncio.gather(*(worker(conn) for conn in connections))
    elapsed = time.perf_counter() - began
    for conn in connections:
        conn.close()
    return {
        "events": total,
        "in_flight": in_flight,
        "seconds": round(elapsed, 3),
        "events_per_second": round(total / elapsed, 1),
        "latency_ms": {
            "p50": round(statistics.median(latencies) * 1000, 2),
            "p99": round(percentile(latencies, 0.99) * 1000, 2),
            "max": round(max(latencies) * 1000, 2),
        },
    }


async def batch_ingest(base: str, key: str, batches: int, size: int, in_flight: int) -> dict[str, Any]:
    path = urlsplit(base).path + "/events/batch"
    connections = [await Connection.open(base, key) for _ in range(in_flight)]
    counter = iter(range(batches))

    async def worker(conn: Connection) -> None:
        for batch in counter:
            events = [{"type": "bench.batch", "source": "bench", "data": {"b": batch, "i": i}} for i in range(size)]
            status, body = await conn.request("POST", path, json.dumps({"events": events}).encode())
            if status != 200 or json.loads(body)["created"] != size:
                raise SystemExit(f"batch ingest got HTTP {status}")

    began = time.perf_counter()
    await asyncio.gather(*(worker(conn) for conn in connections))
    elapsed = time.perf_counter() - began
    for conn in connections:
        conn.close()
    total = batches * size
    return {
        "events": total,
        "batch_size": size,
        "in_flight": in_flight,
        "seconds": round(elapsed, 3),
        "events_per_second": round(total / elapsed, 1),
    }


async def inbox_drain(base: str, key: str, consumers: int, lease_size: int = 100, limit: int | None = None) -> dict[str, Any]:
    """Lease `lease_size` / ack them, on `consumers` connections, until the inbox is empty (or `limit` drained)."""
    prefix = urlsplit(base).path
    connections = [await Connection.open(base, key) for _ in range(consumers)]
    drained = 0
    lease = json.dumps({"max_events": lease_size, "visibility_timeout": 300}).encode()

    async def consumer(conn: Connection) -> None:
        nonlocal drained
        while limit is None or drained < limit:
            status, body = await conn.request("POST", prefix + "/inbox/lease", lease)
            if status != 200:
                raise SystemExit(f"lease got HTTP {status}")
            receipts = [message["receipt"] for message in json.loads(body)["messages"]]
            if not receipts:
                return
            status, body = await conn.request("POST", prefix + "/inbox/ack", json.dumps({"receipts": receipts}).encode())
            if status != 200 or any(item["status"] != "ok" for item in json.loads(body)["results"]):
                raise SystemExit("ack failed")
            drained += len(receipts)

    began = time.perf_counter()
    await asyncio.gather(*(consumer(conn) for conn in connections))
    elapsed = time.perf_counter() - began
    for conn in connections:
        conn.close()
    return {
        "events": drained,
        "consumers": consumers,
        "lease_size": lease_size,
        "seconds": round(elapsed, 3),
        "events_per_second": round(drained / elapsed, 1),
    }


async def measure_server(single: int, batches: int, consumers: int) -> dict[str, Any]:
    """triggers-server in its default configuration (delivery worker on); only the rate limits are lifted."""
    with running_server(*UNLIMITED) as server:
        warm = await single_ingest(server.base_url, server.admin_key, 500, 16)
        single_result = await single_ingest(server.base_url, server.admin_key, single, 64)
        batch_result = await batch_ingest(server.base_url, server.admin_key, batches, 500, 4)
        drain_result = await inbox_drain(server.base_url, server.admin_key, consumers)
        rss = server.rss_mib()
    expected = single + batches * 500 + warm["events"]
    assert drain_result["events"] == expected, f"drained {drain_result['events']} of {expected}"
    return {
        "single_ingest": single_result,
        "batch_ingest": batch_result,
        "inbox_drain": drain_result,
        "rss_mib_after": round(rss, 1),
    }


async def measure_baseline(mode: str, single: int, batches: int, consumers: int) -> dict[str, Any]:
    """The same load against bench/_baseline_app.py (`bare`: parse and answer; `sqlite`: also commit)."""
    with running_baseline(mode) as app:
        await single_ingest(app.base_url, app.admin_key, 500, 16)
        result: dict[str, Any] = {"single_ingest": await single_ingest(app.base_url, app.admin_key, single, 64)}
        if mode == "sqlite":
            result["batch_ingest"] = await batch_ingest(app.base_url, app.admin_key, batches, 500, 4)
            result["single_row_drain"] = await inbox_drain(app.base_url, app.admin_key, consumers, 1, limit=single)
    return result


def ratios(bare: dict[str, Any], sqlite: dict[str, Any], server: dict[str, Any]) -> dict[str, float]:
    def rate(result: dict[str, Any], figure: str) -> float:
        return float(result[figure]["events_per_second"])

    return {
        "single_vs_bare": round(rate(server, "single_ingest") / rate(bare, "single_ingest"), 3),
        "single_p99_vs_bare_p99": round(
            server["single_ingest"]["latency_ms"]["p99"] / bare["single_ingest"]["latency_ms"]["p99"], 2
        ),
        "single_vs_sqlite": round(rate(server, "single_ingest") / rate(sqlite, "single_ingest"), 3),
        "batch_vs_sqlite_batch": round(rate(server, "batch_ingest") / rate(sqlite, "batch_ingest"), 3),
        "drain_vs_sqlite_single_row_drain": round(rate(server, "inbox_drain") / rate(sqlite, "single_row_drain"), 3),
        "drain_vs_sqlite_single_ingest": round(rate(server, "inbox_drain") / rate(sqlite, "single_ingest"), 3),
    }


async def main(single: int, batches: int, consumers: int, rounds: int) -> dict[str, Any]:
    """Interleave the three apps round by round, so a busy moment on a shared machine hits all of them."""
    runs: list[dict[str, Any]] = []
    for _ in range(rounds):
        bare = await measure_baseline("bare", single, batches, consumers)
        sqlite = await measure_baseline("sqlite", single, batches, consumers)
        server = await measure_server(single, batches, consumers)
        runs.append({"bare_asgi": bare, "bare_sqlite": sqlite, "server": server, "ratios": ratios(bare, sqlite, server)})
    median = {name: statistics.median(run["ratios"][name] for run in runs) for name in runs[0]["ratios"]}
    return {
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()},
        "rounds": rounds,
        "median_ratios": median,
        "targets": TARGETS,
        "within_target": {
            "single_vs_bare": median["single_vs_bare"] >= TARGETS["single_vs_bare"],
            "single_p99_vs_bare_p99": median["single_p99_vs_bare_p99"] <= TARGETS["single_p99_vs_bare_p99_at_most"],
            "batch_vs_sqlite_batch": median["batch_vs_sqlite_batch"] >= TARGETS["batch_vs_sqlite_batch"],
            "drain_vs_sqlite_single_ingest": median["drain_vs_sqlite_single_ingest"]
            >= TARGETS["drain_vs_sqlite_single_ingest"],
        },
        "runs": runs,
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--single", type=int, default=20_000, help="events for the single-event run")
    parser.add_argument("--batches", type=int, default=200, help="batches of 500 for the batch run")
    parser.add_argument("--consumers", type=int, default=4, help="concurrent lease/ack consumers")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (bare, sqlite, server)")
    args, _ = parser.parse_known_args()
    result = asyncio.run(main(args.single, args.batches, args.consumers, args.rounds))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
