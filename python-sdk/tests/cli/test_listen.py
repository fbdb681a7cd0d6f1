"""`triggers listen`: events and delivery attempts with status and latency, polled from the API."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from zapier_triggers import SyncTriggersClient, TriggersClient

from .conftest import ADMIN_KEY, BASE_URL, Cli, InProcessServer, ndjson
from .live import API_KEY

EVENT_LINE = r"\[\d\d:\d\d:\d\d\] event (evt_\w+) order\.created"
DELIVERY_LINE = r"\[\d\d:\d\d:\d\d\] delivery (dlv_\w+) {event} → (sub_\w+) {status} \d+ ms \(attempt {n}\)"


def delivered_once(server: InProcessServer, status: int) -> str:
    """A subscription, one order.created event, and its first attempt answered with ``status``."""

    async def setup(client: TriggersClient) -> str:
        await client.subscriptions.create(url="https://receiver.test/hook", event_types=["order.*"])
        event = await client.events.create(type="order.created", source="shop")
        return event.id

    event_id = server.call(setup)
    assert server.deliver_due(lambda _request: httpx.Response(status)) == 1
    return event_id


def test_compact_shows_the_event_then_its_attempt(cli: Cli, server: InProcessServer) -> None:
    event_id = delivered_once(server, 503)
    result = cli.ok("listen", "--since", "1h", "--output", "compact", "--count", "2", "--timeout", "30")
    event_line, delivery_line = result.stdout.splitlines()
    assert re.fullmatch(EVENT_LINE.replace(r"(evt_\w+)", event_id), event_line), event_line
    assert re.fullmatch(DELIVERY_LINE.format(event=event_id, status="503 failed", n=1), delivery_line), (
        delivery_line
    )
    assert "Listening for events and deliveries" in result.stderr
    assert "Done: 1 event, 1 delivery attempt, 1 failed." in result.stderr


def test_quiet_shows_only_failed_deliveries_and_ndjson_has_both(cli: Cli, server: InProcessServer) -> None:
    delivered_once(server, 500)
    quiet = cli.ok("listen", "--since", "1h", "-o", "quiet", "--count", "1", "--timeout", "30")
    [line] = quiet.stdout.splitlines()
    assert " delivery " in line and "500 failed" in line

    records = ndjson(
        cli.ok("listen", "--since", "1h", "-o", "ndjson", "--count", "2", "--timeout", "30").stdout
    )
    assert [record["kind"] for record in records] == ["event", "delivery"]
    assert records[1]["attempt"]["response_status"] == 500
    assert records[1]["delivery"]["event_id"] == records[0]["event"]["id"]


def test_without_since_only_what_happens_after_the_start_shows(cli: Cli, server: InProcessServer) -> None:
    delivered_once(server, 200)  # before the start: neither the event nor its attempt is shown
    opened: list[httpx.AsyncClient] = []
    later: list[str] = []

    @asynccontextmanager
    async def api_http() -> AsyncIterator[httpx.AsyncClient]:
        async with server.http() as http:
            opened.append(http)
            yield http

    async def between_polls(_seconds: float) -> None:
        """The poll interval: another producer sends one event while listen waits (once)."""
        if not later:
            producer = TriggersClient(api_key=ADMIN_KEY, base_url=BASE_URL, http_client=opened[0])
            later.append((await producer.events.create(type="user.created", source="later")).id)

    result = cli.ok("listen", "-o", "compact", "--count", "1", api_http=api_http, sleep=between_polls)
    [line] = result.stdout.splitlines()
    assert re.fullmatch(rf"\[\d\d:\d\d:\d\d\] event {later[0]} user\.created", line), line
    assert "Done: 1 event, 0 delivery attempts." in result.stderr


def test_a_timeout_before_count_is_exit_4(cli: Cli, server: InProcessServer) -> None:
    delivered_once(server, 200)
    result = cli("listen", "-o", "compact", "--count", "1", "--timeout", "0")
    assert result.exit_code == 4
    assert result.stdout == ""
    assert "Done: 0 events, 0 delivery attempts." in result.stderr


class Receiver(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length", "0")))
        self.send_response(200)
        self.send_header("content-length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *_args: object) -> None:
        """Quiet."""


@pytest.fixture
def receiver() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/hook"
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_compact_against_a_live_server(live_server: str, receiver: str, tmp_path: Path) -> None:
    with SyncTriggersClient(api_key=API_KEY, base_url=live_server) as client:
        client.subscriptions.create(url=receiver, event_types=["order.*"])
    env = {
        **os.environ,
        "TRIGGERS_API_KEY": API_KEY,
        "TRIGGERS_BASE_URL": live_server,
        "TRIGGERS_CONFIG": str(tmp_path / "config.toml"),
        "NO_COLOR": "1",
    }
    command = [
        sys.executable,
        "-m",
        "zapier_triggers.cli",
        "listen",
        "--output",
        "compact",
        "--type",
        "order.*",
    ]
    command += ["--count", "2", "--timeout", "30", "--interval", "0.1"]
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stderr is not None
        banner = process.stderr.readline()  # blocks until listen has its baseline
        assert "Listening for events and deliveries" in banner, banner
        with SyncTriggersClient(api_key=API_KEY, base_url=live_server) as client:
            client.events.create(type="user.created", source="live", data={"ignored": True})
            event = client.events.create(type="order.created", source="live", data={"order_id": "1"})
        stdout, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, stderr
    event_line, delivery_line = stdout.splitlines()
    assert re.fullmatch(EVENT_LINE.replace(r"(evt_\w+)", event.id), event_line), event_line
    assert re.fullmatch(DELIVERY_LINE.format(event=event.id, status="200 succeeded", n=1), delivery_line), (
        stdout
    )
    assert "user.created" not in stdout
    assert "Done: 1 event, 1 delivery attempt." in stderr


def test_interactive_is_a_live_table(cli: Cli, server: InProcessServer) -> None:
    event_id = delivered_once(server, 200)
    result = cli.ok(
        "listen",
        "--since",
        "1h",
        "-o",
        "interactive",
        "--count",
        "2",
        "--timeout",
        "30",
        env={"TTY_COMPATIBLE": "1"},
    )
    screen = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", result.stdout)  # Rich's cursor and style codes
    assert "Listening on http://triggers.test/v1 · 1 event · 1 attempt" in screen
    assert re.search(r"TIME\s+ID\s+WHAT\s+STATUS\s+LATENCY", screen)
    assert re.search(rf"{event_id}\s+order\.created\s+pending", screen)
    assert re.search(rf"dlv_\w+\s+{event_id} → sub_\w+\s+200 succeeded\s+\d+ ms", screen)
