"""The real `triggers-server` process at its edges: the HTTP parser, start-up and shutdown, one process per
database (issue 10 §2 defects 6, 10, 11, 12)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from backend_harness import current_url, on_postgres
from live_server import ADMIN, LiveServer, free_port, running

from triggers_server import __version__

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    folder = tmp_path_factory.mktemp("edges")
    with running(folder / "t.db", folder / "server.log") as live:
        yield live


def raw_request(port: int, head: bytes, body: bytes = b"") -> tuple[int, dict[str, str], bytes]:
    """Send bytes exactly as given (no client library re-validates them); (status, headers, body)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(head + body)
        received = b""
        while b"\r\n\r\n" not in received:
            received += sock.recv(65536)
        header_block, _, rest = received.partition(b"\r\n\r\n")
        lines = header_block.decode("latin-1").split("\r\n")
        headers = {name.lower(): value.strip() for name, _, value in (line.partition(":") for line in lines[1:])}
        length = int(headers.get("content-length", "0"))
        while len(rest) < length:
            chunk = sock.recv(65536)
            if not chunk:
                break
            rest += chunk
    return int(lines[0].split()[1]), headers, rest


def _post_event(port: int, key: bytes, extra: bytes = b"") -> tuple[int, dict[str, str], bytes]:
    body = b'{"type":"t","source":"s"}'
    head = (
        b"POST /v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer tk_" + b"L" * 32 + b"\r\n"
        b"Content-Type: application/json\r\nIdempotency-Key: "
        + key
        + b"\r\n"
        + extra
        + b"Content-Length: "
        + str(len(body)).encode()
        + b"\r\nConnection: close\r\n\r\n"
    )
    return raw_request(port, head, body)


@pytest.mark.parametrize("key", [b"a\x7fb", b"a\x01b", b"tab\x1fkey"])
def test_control_characters_in_an_idempotency_key_are_the_contract_problem(server: LiveServer, key: bytes) -> None:
    status, headers, body = _post_event(server.port, key)
    assert status == 400, body
    assert headers["content-type"].startswith("application/problem+json")
    problem = json.loads(body)
    assert problem["type"] == "https://triggers.dev/problems/invalid-idempotency-key"
    assert problem["request_id"] == headers["x-request-id"]


@pytest.mark.parametrize(
    "extra",
    [
        b"X-Bad: a\x00b\r\n",  # NUL: never valid in a field value
        b"X-Bad : value\r\n",  # whitespace before the colon
        b"X-Folded: a\r\n b\r\n",  # obs-fold
    ],
)
def test_the_parser_stays_strict_about_everything_else(server: LiveServer, extra: bytes) -> None:
    status, _, _ = _post_event(server.port, b"ok-key", extra)
    healthy, _, _ = raw_request(server.port, b"GET /v1/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert status == 400
    assert healthy == 200


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    """A `triggers-server` that is expected to stop on its own (start-up refused)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRIGGERS_")}
    command = [sys.executable, "-m", "triggers_server", "--host", "127.0.0.1", "--log-level", "warning", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, env=env, check=False)


def _lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


def test_startup_prints_the_url_it_serves_then_the_new_key(tmp_path: Path) -> None:
    log = tmp_path / "server.log"
    with running(tmp_path / "t.db", log, admin_key=None) as live:
        pass
    lines = _lines(log.read_text())
    database = f"PostgreSQL {current_url()}" if on_postgres() else str(tmp_path / "t.db")
    assert lines[0] == f"triggers-server {__version__} serving {live.base_url} (database {database})"
    assert lines[1].startswith("Bootstrap admin API key (shown once, store it now): tk_")


def test_a_db_in_a_missing_folder_is_one_line_and_exit_2(tmp_path: Path) -> None:
    result = run_cli("--port", str(free_port()), "--db", str(tmp_path / "missing" / "t.db"))
    assert result.returncode == 2
    assert result.stdout == ""
    assert _lines(result.stderr) == [
        f"triggers-server: --db {tmp_path / 'missing' / 't.db'}: the folder {tmp_path / 'missing'} does not exist"
    ]


def test_a_taken_port_is_one_line_and_no_key_is_made_or_printed(tmp_path: Path) -> None:
    db = tmp_path / "t.db"
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_cli("--port", str(port), "--db", str(db))
    assert result.returncode == 1
    assert result.stdout == ""
    [line] = _lines(result.stderr)
    assert line.startswith(f"triggers-server: cannot listen on 127.0.0.1:{port}: ")
    log = tmp_path / "server.log"
    with running(db, log, admin_key=None):  # the key is made (and shown) by the server that starts
        pass
    assert sum("Bootstrap admin API key" in line for line in log.read_text().splitlines()) == 1


@pytest.mark.sqlite_only(reason="one server per SQLite file; PostgreSQL is shared by design")
def test_a_second_server_on_the_same_database_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "t.db"
    with running(db, tmp_path / "server.log") as first:
        result = run_cli("--port", str(free_port()), "--db", str(db))
        assert httpx.get(f"{first.base_url}/health").status_code == 200
    assert result.returncode == 1
    assert result.stdout == ""
    [line] = _lines(result.stderr)
    assert line.startswith(f"triggers-server: --db {db} is in use by another triggers-server (pid {first.process.pid})")
    with running(db, tmp_path / "server.log"):  # the lock goes with the process
        pass


def test_admin_key_on_an_existing_database_joins_the_bootstrap_account(tmp_path: Path) -> None:
    db, log = tmp_path / "t.db", tmp_path / "server.log"
    with running(db, log, admin_key=None) as live:
        first_key = next(line for line in _lines(log.read_text()) if "Bootstrap" in line).rsplit(" ", 1)[1]
        first = {"Authorization": f"Bearer {first_key}"}
        account = httpx.get(f"{live.base_url}/account", headers=first).json()["id"]
        created = httpx.post(f"{live.base_url}/events", headers=first, json={"type": "t", "source": "s"})
        assert created.status_code == 201
    log.write_text("")
    with running(db, log, admin_key=ADMIN) as live:
        second = {"Authorization": f"Bearer {ADMIN}"}
        assert httpx.get(f"{live.base_url}/account", headers=second).json()["id"] == account
        events = httpx.get(f"{live.base_url}/events", headers=second).json()["data"]
        assert [event["id"] for event in events] == [created.json()["id"]]
    assert f"--admin-key added to the existing account {account} (admin scope)" in _lines(log.read_text())
