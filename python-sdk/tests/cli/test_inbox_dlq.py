"""`triggers inbox …` and `triggers dlq …` against the in-process reference server."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from zapier_triggers import TriggersClient
from zapier_triggers.cli.output import Printer

from .conftest import Cli, InProcessServer, ndjson, send_events


def statuses(server: InProcessServer, event_ids: list[str]) -> list[str]:
    async def fetch(client: TriggersClient) -> list[str]:
        return [str((await client.events.get(event_id)).status.value) for event_id in event_ids]

    return server.call(fetch)


def test_inbox_list_table_has_the_seed_columns(cli: Cli, server: InProcessServer) -> None:
    ids = send_events(server, ["order.created", "order.updated"])
    result = cli.ok("inbox", "list", "--limit", "10", "-o", "table")
    header, *rows = result.stdout.strip().splitlines()
    assert header.split() == ["ID", "TYPE", "STATUS", "CREATED"]
    assert [row.split()[:3] for row in rows] == [
        [ids[0], "order.created", "pending"],
        [ids[1], "order.updated", "pending"],
    ]
    assert all(re.search(r"(just now|\d+s ago)$", row) for row in rows)


def test_inbox_list_piped_filters_by_type(cli: Cli, server: InProcessServer) -> None:
    send_events(server, ["order.created", "user.created"])
    events = ndjson(cli.ok("inbox", "list", "--type", "user.*").stdout)
    assert [e["type"] for e in events] == ["user.created"]


def test_inbox_ack_acknowledges_and_reports_unknown_ids(cli: Cli, server: InProcessServer) -> None:
    ids = send_events(server, ["a.one", "a.two"])
    result = cli("inbox", "ack", ids[0], "evt_unknown", ids[1])
    assert result.exit_code == 1
    lines = ndjson(result.stdout)
    assert [(line["event_id"], line["acknowledged"]) for line in lines] == [
        (ids[0], True),
        ("evt_unknown", False),
        (ids[1], True),
    ]
    [error] = result.stderr.splitlines()
    assert error.startswith("Error: evt_unknown: 404 ")
    assert statuses(server, ids) == ["acknowledged", "acknowledged"]


def test_inbox_pull_prints_and_acks(cli: Cli, server: InProcessServer) -> None:
    ids = send_events(server, ["order.created", "order.paid"])
    result = cli.ok("inbox", "pull", "--max", "5")
    pulled = ndjson(result.stdout)
    assert [p["event"]["id"] for p in pulled] == ids
    assert [p["delivery_count"] for p in pulled] == [1, 1]
    assert "Acknowledged 2 events." in result.stderr
    assert statuses(server, ids) == ["acknowledged", "acknowledged"]
    assert "nothing to lease" in cli.ok("inbox", "pull").stderr


def test_inbox_pull_nack_releases_for_redelivery(cli: Cli, server: InProcessServer) -> None:
    [event_id] = send_events(server, ["order.created"])
    table = cli.ok("inbox", "pull", "--nack", "-o", "table")
    assert re.search(rf"{event_id} order.created .*\(delivery 1\)", table.stdout)
    assert "Released 1 event." in table.stderr
    assert statuses(server, [event_id]) == ["pending"]
    again = ndjson(cli.ok("inbox", "pull").stdout)
    assert again[0]["delivery_count"] == 2


@pytest.fixture
def dlq_server(tmp_path: Path) -> InProcessServer:
    """Events are dead-lettered after one unacknowledged delivery."""
    return InProcessServer(tmp_path / "dlq.db", {"max_deliveries": 1})


@pytest.fixture
def dlq_cli(cli: Cli, dlq_server: InProcessServer) -> Cli:
    return Cli(dlq_server, cli.env)


def dead_letter(cli: Cli) -> None:
    cli.ok("inbox", "pull", "--nack", "--max", "100")
    assert "nothing to lease" in cli.ok("inbox", "pull").stderr  # this lease moves them to the DLQ


def test_dlq_list_retry_dismiss(dlq_cli: Cli, dlq_server: InProcessServer) -> None:
    ids = send_events(dlq_server, ["order.created", "user.created"])
    dead_letter(dlq_cli)
    table = dlq_cli.ok("dlq", "list", "-o", "table").stdout
    header, *rows = table.strip().splitlines()
    assert header.split() == ["ID", "EVENT", "TYPE", "ORIGIN", "REASON", "ATTEMPTS", "CREATED"]
    assert len(rows) == 2 and all("max_deliveries_exceeded" in row for row in rows)

    entries = {e["event_id"]: e["id"] for e in ndjson(dlq_cli.ok("dlq", "list").stdout)}
    retried = dlq_cli.ok("dlq", "retry", entries[ids[0]], "-o", "table")
    assert f"Retried {entries[ids[0]]} (event {ids[0]})" in retried.stdout
    assert statuses(dlq_server, [ids[0]]) == ["pending"]

    dismissed = ndjson(dlq_cli.ok("dlq", "dismiss", entries[ids[1]]).stdout)
    assert dismissed == [{"entry_id": entries[ids[1]], "dismissed": True}]
    assert dlq_cli.ok("dlq", "list").stdout == ""
    assert "empty" in dlq_cli.ok("dlq", "list", "-o", "table").stderr


def test_dlq_retry_all_with_a_type_filter(dlq_cli: Cli, dlq_server: InProcessServer) -> None:
    ids = send_events(dlq_server, ["order.created", "user.created"])
    dead_letter(dlq_cli)
    result = dlq_cli.ok("dlq", "retry", "--all", "--type", "order.*", "-o", "json")
    assert '"retried": 1' in result.stdout
    assert statuses(dlq_server, ids) == ["pending", "dead_lettered"]
    assert [e["event_type"] for e in ndjson(dlq_cli.ok("dlq", "list").stdout)] == ["user.created"]


def test_dlq_retry_needs_exactly_one_of_id_or_all(cli: Cli) -> None:
    assert cli("dlq", "retry").exit_code == 2
    assert cli("dlq", "retry", "dlq_x", "--all").exit_code == 2
    assert cli("dlq", "retry", "dlq_x", "--type", "a.*").exit_code == 2


def test_dlq_unknown_entry_is_an_api_error(cli: Cli) -> None:
    result = cli("dlq", "dismiss", "dlq_missing")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: 404 ")


def test_inbox_pull_releases_everything_when_printing_fails(
    cli: Cli, server: InProcessServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = send_events(server, ["order.created", "order.paid"])

    def broken_pipe(*_args: object) -> None:
        raise BrokenPipeError("stdout closed")

    monkeypatch.setattr(Printer, "line", broken_pipe)
    with pytest.raises(BrokenPipeError):
        cli("inbox", "pull")
    assert statuses(server, ids) == ["pending", "pending"], "nothing unseen is acknowledged"
