"""Long bulk commands draw a progress bar on a terminal (stderr), never when piped; the summary always."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from zapier_triggers import TriggersClient

from .conftest import Cli, InProcessServer, ndjson, send_events

TERMINAL = {"TTY_COMPATIBLE": "1"}  # Rich treats stderr as a terminal, as it is in a real shell


@pytest.fixture
def dlq_server(tmp_path: Path) -> InProcessServer:
    """Inbox events dead-letter after one unacknowledged lease; deliveries after one failed attempt."""
    return InProcessServer(tmp_path / "bulk.db", {"max_deliveries": 1, "retry_schedule": (0.0,)})


@pytest.fixture
def dlq_cli(cli: Cli, dlq_server: InProcessServer) -> Cli:
    return Cli(dlq_server, cli.env)


def dead_letter_inbox(cli: Cli, server: InProcessServer, count: int) -> list[str]:
    ids = send_events(server, [f"bulk.n{n}" for n in range(count)])
    cli.ok("inbox", "pull", "--nack", "--max", "100")
    cli.ok("inbox", "pull")  # this lease moves them to the DLQ
    return ids


def test_dlq_retry_all_draws_a_bar_on_a_terminal(dlq_cli: Cli, dlq_server: InProcessServer) -> None:
    dead_letter_inbox(dlq_cli, dlq_server, 3)
    result = dlq_cli.ok("dlq", "retry", "--all", "-o", "table", env=TERMINAL)
    assert result.stdout.strip() == "Retried 3 of 3 dead letters."
    assert "Retrying" in result.stderr and "3/3" in result.stderr


def test_dlq_retry_all_piped_prints_the_summary_only(dlq_cli: Cli, dlq_server: InProcessServer) -> None:
    dead_letter_inbox(dlq_cli, dlq_server, 2)
    result = dlq_cli.ok("dlq", "retry", "--all")
    assert result.stderr == "", "no progress output when stderr is not a terminal"
    assert ndjson(result.stdout) == [{"retried": 2, "matched": 2, "refused": []}]
    assert dlq_cli.ok("dlq", "list").stdout == ""


def test_dlq_retry_all_names_what_it_could_not_retry(dlq_cli: Cli, dlq_server: InProcessServer) -> None:
    async def dead_delivery(client: TriggersClient) -> str:
        subscription = await client.subscriptions.create(url="https://receiver.test/hook")
        await client.events.create(type="order.created", source="shop")
        return subscription.id

    subscription_id = dlq_server.call(dead_delivery)
    assert dlq_server.deliver_due(lambda _request: httpx.Response(500)) == 1
    [entry] = ndjson(dlq_cli.ok("dlq", "list", "--origin", "delivery").stdout)
    dlq_server.call(lambda client: client.subscriptions.update(subscription_id, enabled=False))

    result = dlq_cli("dlq", "retry", "--all", "-o", "table")
    assert result.exit_code == 4
    assert result.stdout.strip() == "Retried 0 of 1 dead letter. 1 could not be retried:"
    [line] = result.stderr.splitlines()
    assert line.startswith(f"  {entry['id']}: 409 ")


def test_send_file_draws_a_bar_on_a_terminal_only(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "events.ndjson"
    path.write_text("".join(json.dumps({"type": f"t.n{n}"}) + "\n" for n in range(3)))
    shown = cli.ok("events", "send", "--file", str(path), "-o", "table", env=TERMINAL)
    assert "Sending" in shown.stderr and "3/3" in shown.stderr
    piped = cli.ok("events", "send", "--file", str(path))
    assert "Sending" not in piped.stderr
    assert piped.stderr.strip().startswith(f"Sent 3 events from {path}")
