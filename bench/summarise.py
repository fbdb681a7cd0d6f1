"""Summarise bench/results/*.json into docs/benchmarks.md (run last by `nox -s bench`).

Each benchmark writes its own JSON; this flattens every numeric figure into one table per file so the
docs always show the figures of the latest run, with the machine they ran on.
"""

from __future__ import annotations

import json
import os
import platform
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
DOC = ROOT / "docs" / "benchmarks.md"


def _flatten(value: Any, prefix: str = "") -> list[tuple[str, Any]]:
    if isinstance(value, dict):
        rows: list[tuple[str, Any]] = []
        for key, inner in value.items():
            rows += _flatten(inner, f"{prefix}.{key}" if prefix else str(key))
        return rows
    if isinstance(value, int | float | bool) or (isinstance(value, str) and len(value) < 80):
        return [(prefix, value)]
    return []


def _peer_table(data: dict[str, Any]) -> list[str]:
    """The TypeScript SDK next to raw fetch and openai-node, per scenario, when the run measured the peer."""
    rows = [
        f"| {name} | {figures['raw_us_per_call']} | {figures['sdk_us_per_call']} ({figures['ratio']}x) "
        f"| {figures['openai_node_us_per_call']} ({figures['openai_node_ratio']}x) | {figures['sdk_vs_openai_node']}x |"
        for name, figures in data.items()
        if isinstance(figures, dict) and "openai_node_us_per_call" in figures
    ]
    if not rows:
        return []
    return [
        f"Side by side, µs per call (ratio to raw fetch); openai-node {data.get('openai_node', '')}:",
        "",
        "| scenario | raw fetch + JSON.parse | events.create | openai-node | events.create / openai-node |",
        "| --- | --- | --- | --- | --- |",
        *rows,
        "",
    ]


# (label, server figure, baseline app, baseline figure, ratio key, target key, at most?) for bench/server_ingest.py
_SERVER_ROWS = (
    (
        "single-event ingest, events/s",
        ("single_ingest", "events_per_second"),
        "bare_asgi",
        ("single_ingest", "events_per_second"),
        "single_vs_bare",
        "single_vs_bare",
        False,
    ),
    (
        "single-event ingest p99, ms",
        ("single_ingest", "latency_ms", "p99"),
        "bare_asgi",
        ("single_ingest", "latency_ms", "p99"),
        "single_p99_vs_bare_p99",
        "single_p99_vs_bare_p99_at_most",
        True,
    ),
    (
        "batch ingest (500 per request), events/s",
        ("batch_ingest", "events_per_second"),
        "bare_sqlite",
        ("batch_ingest", "events_per_second"),
        "batch_vs_sqlite_batch",
        "batch_vs_sqlite_batch",
        False,
    ),
    (
        "inbox drain (lease 100 / ack 100), events/s",
        ("inbox_drain", "events_per_second"),
        "bare_sqlite",
        ("single_ingest", "events_per_second"),
        "drain_vs_sqlite_single_ingest",
        "drain_vs_sqlite_single_ingest",
        False,
    ),
    (
        "inbox drain vs single-row lease/ack, events/s",
        ("inbox_drain", "events_per_second"),
        "bare_sqlite",
        ("single_row_drain", "events_per_second"),
        "drain_vs_sqlite_single_row_drain",
        None,
        False,
    ),
)


def _dig(value: Any, path: tuple[str, ...]) -> float:
    for key in path:
        value = value[key]
    return float(value)


def _number(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:.3g}"


def _spread(values: list[float]) -> str:
    low, high = min(values), max(values)
    middle = sorted(values)[len(values) // 2]
    return _number(middle) if low == high else f"{_number(middle)} ({_number(low)} to {_number(high)})"


def _server_table(data: dict[str, Any]) -> list[str]:
    """bench/server_ingest.py: each figure next to its same-run baseline and the ratio, median (range) over rounds."""
    runs = data.get("runs")
    if not isinstance(runs, list) or not runs:
        return []
    rows = []
    for label, mine, app, theirs, ratio, target_key, at_most in _SERVER_ROWS:
        ratios = [float(run["ratios"][ratio]) for run in runs]
        target = data["targets"].get(target_key) if target_key else None
        median = float(data["median_ratios"][ratio])
        goal = "" if target is None else f"{'≤' if at_most else '≥'} {target}"
        met = "" if target is None else ("yes" if (median <= target if at_most else median >= target) else "no")
        rows.append(
            f"| {label} | {_spread([_dig(run['server'], mine) for run in runs])} | {app}: "
            f"{_spread([_dig(run[app], theirs) for run in runs])} | {_spread(ratios)} | {goal} | {met} |"
        )
    return [
        f"Median (range) over {len(runs)} interleaved rounds; `bare_asgi` parses the JSON and answers, `bare_sqlite` also",
        "commits every event to SQLite (WAL, synchronous=FULL, group commit) (bench/_baseline_app.py):",
        "",
        "| figure | triggers-server | same-run baseline | ratio | target | met |",
        "| --- | --- | --- | --- | --- | --- |",
        *rows,
        "",
    ]


def main() -> None:
    lines = [
        "# Benchmarks",
        "",
        "Generated by `nox -s bench` (`bench/summarise.py`) from `bench/results/*.json`. Figures are ratios against a",
        "baseline measured in the same run where the benchmark defines one; absolute figures depend on the machine.",
        "",
        f"Last run: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {platform.machine()} {platform.system()}, "
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}.",
        "",
    ]
    for path in sorted(RESULTS.glob("*.json")):
        data = json.loads(path.read_text())
        notes = path.with_suffix(".md")
        lines += [f"## {path.stem}", "", *_peer_table(data), *_server_table(data)]
        if notes.exists():  # what the run's profile showed, kept next to its figures
            lines += [notes.read_text().strip(), ""]
        flat = _flatten({key: value for key, value in data.items() if not (key == "runs" and isinstance(value, list))})
        lines += ["| figure | value |", "| --- | --- |"]
        lines += [f"| {key} | {value:.4g} |" if isinstance(value, float) else f"| {key} | {value} |" for key, value in flat]
        lines.append("")
    DOC.write_text("\n".join(lines))
    print(f"wrote {DOC.relative_to(ROOT)} from {len(list(RESULTS.glob('*.json')))} result files")


if __name__ == "__main__":
    main()
