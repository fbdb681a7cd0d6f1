"""Every list command: `--limit` with a "more results" hint, `--cursor` to go on, `--all` over every page."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import httpx
import pytest

from zapier_triggers import TriggersClient

from .conftest import Cli, InProcessServer, ndjson, send_events

HINT = re.compile(r"^more results: --all or --cursor (\S+)$", re.MULTILINE)


class Recorder(httpx.AsyncBaseTransport):
    """Notes, for every list request, its cursor and how many stdout lines were already written."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.seen: list[tuple[str | None, int]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        written = sys.stdout.buffer.getvalue().decode()  # type: ignore[attr-defined]  # CliRunner's BytesIO
        self.seen.append((request.url.params.get("cursor"), len(written.splitlines())))
        return await self.inner.handle_async_request(request)


def seed(server: InProcessServer, count: int) -> list[str]:
    async def create(client: TriggersClient) -> list[str]:
        result = await client.events.create_batch(
            [{"type": "bulk.item", "source": "seed", "data": {"n": n}} for n in range(count)]
        )
        return [item.event.id for item in result.results if item.event is not None]

    return server.call(create)


def test_a_truncated_table_says_how_to_get_the_rest(cli: Cli, server: InProcessServer) -> None:
    ids = send_events(server, ["a.one", "a.two", "a.three"])
    first = cli.ok("events", "list", "--limit", "2", "-o", "table")
    rows = first.stdout.strip().splitlines()[1:]
    assert [row.split()[0] for row in rows] == [ids[2], ids[1]]
    match = HINT.search(first.stderr)
    assert match, first.stderr

    rest = cli.ok("events", "list", "--cursor", match.group(1), "-o", "table")
    assert [row.split()[0] for row in rest.stdout.strip().splitlines()[1:]] == [ids[0]]
    assert "more results" not in rest.stderr, "the last page has no hint"


def test_a_complete_list_and_a_piped_list_have_no_hint(cli: Cli, server: InProcessServer) -> None:
    send_events(server, ["a.one", "a.two"])
    assert "more results" not in cli.ok("events", "list", "--limit", "2", "-o", "table").stderr
    piped = cli.ok("events", "list", "--limit", "1")
    assert len(ndjson(piped.stdout)) == 1
    assert piped.stderr == "", "stdout is not a terminal: the hint would only be noise"


@pytest.mark.parametrize(
    ("command", "make"),
    [
        (("inbox", "list"), "events"),
        (("subscriptions", "list"), "subscriptions"),
        (("schemas", "list"), "schemas"),
    ],
)
def test_every_list_command_pages_the_same_way(
    cli: Cli, server: InProcessServer, command: tuple[str, str], make: str
) -> None:
    async def create(client: TriggersClient) -> None:
        for n in range(3):
            if make == "events":
                await client.events.create(type=f"t.n{n}", source="seed")
            elif make == "subscriptions":
                await client.subscriptions.create(url=f"https://example.com/hook/{n}")
            else:
                await client.schemas.register(f"t.n{n}", {"type": "object"})

    server.call(create)
    first = cli.ok(*command, "--limit", "2", "-o", "table")
    assert len(first.stdout.strip().splitlines()) == 3
    match = HINT.search(first.stderr)
    assert match, first.stderr
    rest = ndjson(cli.ok(*command, "--cursor", match.group(1)).stdout)
    assert len(rest) == 1
    assert len(ndjson(cli.ok(*command, "--all").stdout)) == 3


def test_dlq_list_pages_too(cli: Cli, tmp_path: Path) -> None:
    dlq_server = InProcessServer(tmp_path / "dlq.db", {"max_deliveries": 1})
    dlq_cli = Cli(dlq_server, cli.env)
    send_events(dlq_server, ["a.one", "a.two", "a.three"])
    dlq_cli.ok("inbox", "pull", "--nack", "--max", "10")
    dlq_cli.ok("inbox", "pull")  # this lease moves them to the DLQ
    first = dlq_cli.ok("dlq", "list", "--limit", "2", "-o", "table")
    match = HINT.search(first.stderr)
    assert match, first.stderr
    assert len(ndjson(dlq_cli.ok("dlq", "list", "--cursor", match.group(1)).stdout)) == 1
    assert len(ndjson(dlq_cli.ok("dlq", "list", "--all").stdout)) == 3


def test_all_streams_every_page_as_ndjson_before_fetching_the_next(cli: Cli, server: InProcessServer) -> None:
    ids = seed(server, 501)  # one more than the largest page
    recorder: list[Recorder] = []

    def wrap(inner: httpx.AsyncBaseTransport) -> httpx.AsyncBaseTransport:
        recorder.append(Recorder(inner))
        return recorder[0]

    result = cli.ok("events", "list", "--all", api_http=lambda: server.http(wrap))
    lines = result.stdout.splitlines()
    assert [event["id"] for event in map(ndjson, lines) for event in event] == ids[::-1]
    [(first_cursor, before_first), (second_cursor, before_second)] = recorder[0].seen
    assert first_cursor is None and before_first == 0
    assert second_cursor is not None
    assert before_second == 500, "page one was on stdout before page two was asked for"
    assert "more results" not in result.stderr


def test_all_and_limit_are_exclusive(cli: Cli) -> None:
    result = cli("events", "list", "--all", "--limit", "5")
    assert result.exit_code == 2
    assert "--all and --limit are exclusive" in result.stderr


def test_a_bad_cursor_is_one_line_and_exit_1(cli: Cli) -> None:
    result = cli("events", "list", "--cursor", "not-a-cursor")
    assert result.exit_code == 1
    [line] = result.stderr.splitlines()
    assert line.startswith("Error: 400 ")
