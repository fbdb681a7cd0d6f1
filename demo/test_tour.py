"""The product tour runs end to end, on a fresh data folder and again over the same database (`nox -s tour`).

Each step's outcome comes from the tour's `--report` JSON: what a user would see, not the narration's wording.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

TOUR = Path(__file__).resolve().parent / "tour.py"


def run_tour(data_dir: Path, report: Path) -> dict[str, Any]:
    server = shutil.which("triggers-server")
    assert server, "triggers-server must be installed next to the SDK"
    done = subprocess.run(
        [sys.executable, str(TOUR), "--no-wait", "--data-dir", str(data_dir), "--report", str(report), "--server", server],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "NO_COLOR": "1"},
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    result: dict[str, Any] = json.loads(report.read_text())
    result["stdout"] = done.stdout
    return result


def steps_of(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {step["name"]: step for step in result["steps"]}


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    """The tour twice over one data folder: a fresh start, then a re-run over the existing database."""
    data_dir = tmp_path_factory.mktemp("demo")
    return [run_tour(data_dir, data_dir / f"report-{n}.json") for n in (1, 2)]


@pytest.mark.parametrize("run", [0, 1], ids=["fresh", "rerun"])
def test_every_step_has_its_outcome(runs: list[dict[str, Any]], run: int) -> None:
    steps = steps_of(runs[run])
    assert list(steps) == [
        "create_api_key",
        "first_event_curl",
        "playground_test_events",
        "inbox_shows_event",
        "schema_rejects",
        "cli_stream",
        "websocket",
        "sdk_snippets",
        "webhook_retries",
        "dlq_retry",
        "replay",
        "metrics",
    ]

    assert steps["create_api_key"]["key_id"]
    assert steps["first_event_curl"]["status"] == "pending"
    inbox = steps["inbox_shows_event"]
    assert inbox["visible"] is True and steps["first_event_curl"]["event_id"] in inbox["pending"]
    assert inbox["time_to_first_event_seconds"] > 0

    assert steps["schema_rejects"]["status"] == 422
    assert "/data/amount" in steps["schema_rejects"]["pointers"]

    stream = steps["cli_stream"]
    assert stream["exit_code"] == 0 and stream["streamed"] == stream["expected"]

    assert set(steps["sdk_snippets"]["lines"]) == {"Python", "TypeScript", "Go"}
    assert all(lines > 0 for lines in steps["sdk_snippets"]["lines"].values())

    webhook = steps["webhook_retries"]
    assert webhook["status"] == "succeeded"
    assert webhook["attempts"] == [500, 500, 200]
    assert webhook["verified_by_receiver"] == 1  # the signature is checked on the answer that succeeds

    dlq = steps["dlq_retry"]
    assert dlq["dead_lettered"] == [dlq["event_id"]]
    assert dlq["retried"] == 1 and dlq["inbox"] == [dlq["event_id"]]

    replay = steps["replay"]
    assert replay["replay_of"] == replay["original"] != replay["copy"]
    assert replay["original_data"] == {"order_id": "4001", "amount": 10}
    assert replay["copy_data"] == {"order_id": "4001", "amount": 50}

    assert steps["metrics"]["samples"] > 0

    playground = steps["playground_test_events"]
    assert len(playground["created"]) == 3
    origin, _, shared = playground["share_link"].partition("/docs?request=")
    request = json.loads(base64.urlsafe_b64decode(shared + "=" * (-len(shared) % 4)))
    assert origin == runs[run]["base_url"].removesuffix("/v1") and request["method"] == "POST"
    assert request["path"] == "/events" and "tk_" not in playground["share_link"]  # the request, never the key
    assert len(set(playground["created"])) == 3  # three sends, three events (no idempotent replay between them)
    websocket = steps["websocket"]
    assert websocket["received"] == websocket["expected"]  # resumed from the cursor: in order, no gap, no duplicate
    assert sorted(websocket["acked"]) == sorted(websocket["expected"])  # both leased and acked over the socket


def test_the_tour_ends_with_what_to_try_next(runs: list[dict[str, Any]]) -> None:
    for result in runs:
        origin = result["base_url"].removesuffix("/v1")
        assert f"API base URL   {result['base_url']}" in result["stdout"]
        assert "API key        tk_" in result["stdout"]
        # Each start of the server prints a fresh one-time sign-in link (the key is never in it).
        assert result["sign_in_link"].startswith(f"{origin}/console/#code=sic_")
        assert f"Console        {result['sign_in_link']}" in result["stdout"]
        assert result["docs_url"] == f"{origin}/docs" and f"API docs       {origin}/docs" in result["stdout"]
    assert runs[0]["sign_in_link"] != runs[1]["sign_in_link"]


# The console's pages (console/src/app.tsx): every step names the one that shows it, with the ids it made.
CONSOLE_PAGES = ("/events", "/events/evt_", "/deliveries/dlv_", "/inbox", "/schemas", "/dlq", "/metrics")


def test_each_step_names_the_console_page_that_shows_it(runs: list[dict[str, Any]]) -> None:
    steps = steps_of(runs[0])
    assert steps["first_event_curl"]["console"] == f"/events/{steps['first_event_curl']['event_id']}"
    assert steps["webhook_retries"]["console"] == f"/deliveries/{steps['webhook_retries']['delivery_id']}"
    assert steps["replay"]["console"] == f"/events/{steps['replay']['original']}"
    assert steps["dlq_retry"]["console"] == "/dlq" and steps["metrics"]["console"] == "/metrics"
    shown = [step["console"] for step in steps.values() if step["console"] is not None]
    assert len(shown) == 10 and all(page.startswith(CONSOLE_PAGES) for page in shown)
    for page in shown:
        assert f"in the console: {runs[0]['base_url'].removesuffix('/v1')}/console{page}" in runs[0]["stdout"]


def test_a_rerun_signs_in_to_the_same_account(runs: list[dict[str, Any]]) -> None:
    fresh, rerun = (steps_of(r) for r in runs)
    assert fresh["create_api_key"]["key_id"] != rerun["create_api_key"]["key_id"]
    # The second run's inbox count includes nothing lost or duplicated from the first run's types:
    # each run uses its own event types, so each sees exactly its own events.
    expected = [rerun["first_event_curl"]["event_id"], *rerun["playground_test_events"]["created"]]
    assert rerun["inbox_shows_event"]["pending"] == expected
