"""The reference server on PostgreSQL next to SQLite, in the same run: single-event ingest (64 in flight),
batch ingest (500 per request, 4 in flight) and inbox drain (lease 100 / ack 100, 4 consumers), the same load
generator as bench/server_ingest.py, against a real `triggers-server` process on each backend (one worker).
PostgreSQL is a throwaway cluster (reference-server/tests/pgcluster.py: Debian's server, fsync off, as in the
tests) with a fresh database per round. Rounds interleave the two backends so a busy moment hits both.

Targets (issue 13): PostgreSQL with 1 worker ≥ 0.7x the SQLite figure for each; batch ingest ≥ 10,000
events/s on PostgreSQL. `--workers 2` is not measured here yet (the multi-instance layer adds it).
Results: bench/results/server-postgres.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

from _server import UNLIMITED, running_server
from server_ingest import batch_ingest, inbox_drain, single_ingest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "reference-server" / "tests"))
import pgcluster  # noqa: E402  (stdlib-only helper shared with the tests and nox)

RESULTS = Path(__file__).resolve().parent / "results" / "server-postgres.json"
TARGETS = {"postgres_vs_sqlite_each_at_least": 0.7, "postgres_batch_events_per_second_at_least": 10_000}
FIGURES = ("single_ingest", "batch_ingest", "inbox_drain")


def create_database(cluster: pgcluster.Cluster, name: str) -> str:
    psql = cluster.bin / "psql"
    subprocess.run(
        [str(psql) if psql.exists() else "psql", cluster.url(), "-q", "-c", f"CREATE DATABASE {name}"],
        check=True,
        capture_output=True,
    )
    return cluster.url(name)


async def measure(extra: tuple[str, ...], single: int, batches: int, consumers: int) -> dict[str, Any]:
    with running_server(*UNLIMITED, *extra) as server:
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


def ratios(sqlite: dict[str, Any], postgres: dict[str, Any]) -> dict[str, float]:
    return {
        f"{figure}_postgres_vs_sqlite": round(float(postgres[figure]["events_per_second"]) / float(sqlite[figure]["events_per_second"]), 3)
        for figure in FIGURES
    }


async def main(single: int, batches: int, consumers: int, rounds: int) -> dict[str, Any]:
    runs: list[dict[str, Any]] = []
    with pgcluster.running() as cluster:
        for round_number in range(rounds):
            url = create_database(cluster, f"bench_{os.getpid()}_{round_number}")
            sqlite = await measure((), single, batches, consumers)
            postgres = await measure(("--database-url", url), single, batches, consumers)
            runs.append({"sqlite": sqlite, "postgres": postgres, "ratios": ratios(sqlite, postgres)})
    median = {name: statistics.median(run["ratios"][name] for run in runs) for name in runs[0]["ratios"]}
    batch = statistics.median(run["postgres"]["batch_ingest"]["events_per_second"] for run in runs)
    return {
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()},
        "postgres": "Debian PostgreSQL from pgcluster.bindir() on loopback, fsync=off, synchronous_commit=off",
        "workers": 1,
        "rounds": rounds,
        "median_ratios": median,
        "median_postgres_batch_events_per_second": batch,
        "targets": TARGETS,
        "within_target": {
            **{name: value >= TARGETS["postgres_vs_sqlite_each_at_least"] for name, value in median.items()},
            "postgres_batch_events_per_second": batch >= TARGETS["postgres_batch_events_per_second_at_least"],
        },
        "runs": runs,
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--single", type=int, default=20_000, help="events for the single-event run")
    parser.add_argument("--batches", type=int, default=200, help="batches of 500 for the batch run")
    parser.add_argument("--consumers", type=int, default=4, help="concurrent lease/ack consumers")
    parser.add_argument("--rounds", type=int, default=2, help="interleaved rounds (SQLite, PostgreSQL)")
    args, _ = parser.parse_known_args()
    result = asyncio.run(main(args.single, args.batches, args.consumers, args.rounds))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({key: value for key, value in result.items() if key != "runs"}, indent=2))
