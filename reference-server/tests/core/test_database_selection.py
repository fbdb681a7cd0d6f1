"""Selecting the backend on the command line: `--database-url` (PostgreSQL, a real server from
backend_harness/pgcluster whatever TRIGGERS_TEST_BACKEND says), `triggers-server migrate`, and the one-line
refusals: a bad URL, an unreachable database, a schema newer than the server (on both backends)."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import backend_harness
import httpx
import pytest
from live_server import free_port

from triggers_server.storage.postgres.engine import known_version

pytestmark = pytest.mark.slow


def run(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRIGGERS_")}
    command = [sys.executable, "-m", "triggers_server", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env, check=False)


def lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


@pytest.fixture
def empty_database() -> Iterator[str]:
    """An empty PostgreSQL database (no schema at all): what an operator creates before `migrate`."""
    server = backend_harness.start_session()
    name = f"empty_{os.getpid()}_{free_port()}"
    server.sql(f"CREATE DATABASE {name}")
    try:
        yield server.url(name)
    finally:
        server.sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def test_migrate_applies_the_postgresql_migrations_once(empty_database: str) -> None:
    first = run("migrate", "--database-url", empty_database)
    assert first.returncode == 0, first.stderr
    [line] = lines(first.stdout)
    assert line.startswith("applied 2 migration(s) to PostgreSQL postgresql://postgres@127.0.0.1:")
    assert line.endswith(": 0001_schema.sql, 0002_multi_instance.sql")
    again = run("migrate", "--database-url", empty_database)
    assert again.returncode == 0, again.stderr
    assert lines(again.stdout) == [f"PostgreSQL {empty_database} is up to date"]


def test_the_server_serves_on_postgresql_and_says_so(empty_database: str, tmp_path: Path) -> None:
    port = free_port()
    log = tmp_path / "server.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRIGGERS_")}
    env["TRIGGERS_DATABASE_URL"] = empty_database  # the environment variable selects it as the flag does
    args = [
        sys.executable,
        "-m",
        "triggers_server",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
    ]
    with log.open("wb") as sink:
        process = subprocess.Popen(args, stdout=sink, stderr=subprocess.STDOUT, env=env)
    try:
        base = f"http://127.0.0.1:{port}/v1"
        for _ in range(600):
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None:
                raise AssertionError(f"server exited: {log.read_text()}")
            time.sleep(0.1)  # polling a child process's readiness, not waiting on server logic
        first = lines(log.read_text())[0]
        assert first.endswith(f"(database PostgreSQL {empty_database})"), first
        key = next(line for line in lines(log.read_text()) if "Bootstrap" in line).rsplit(" ", 1)[1]
        created = httpx.post(
            f"{base}/events", headers={"Authorization": f"Bearer {key}"}, json={"type": "t", "source": "s"}
        )
        assert created.status_code == 201 and created.json()["sequence"] == 1
    finally:
        process.terminate()
        process.wait(timeout=20)


def test_a_url_that_is_not_postgresql_is_one_line_and_exit_1() -> None:
    result = run("--port", str(free_port()), "--database-url", "mysql://root@localhost/db")
    assert result.returncode == 1 and result.stdout == ""
    assert lines(result.stderr) == [
        "triggers-server: --database-url 'mysql://root@localhost/db': "
        "expected postgresql://user[:password]@host[:port]/database"
    ]


def test_an_unreachable_database_is_one_line_and_exit_1() -> None:
    url = f"postgresql://someone:secret@127.0.0.1:{free_port()}/nothing"
    for command in (("--port", str(free_port()), "--database-url", url), ("migrate", "--database-url", url)):
        result = run(*command)
        assert result.returncode == 1 and result.stdout == ""
        [line] = lines(result.stderr)
        prefix = "triggers-server migrate: " if command[0] == "migrate" else "triggers-server: "
        assert line.startswith(f"{prefix}cannot connect to postgresql://someone:***@127.0.0.1:"), line
        assert "secret" not in line


def test_a_postgresql_schema_newer_than_the_server_is_refused_with_one_line(empty_database: str) -> None:
    assert run("migrate", "--database-url", empty_database).returncode == 0
    future = known_version() + 1
    backend_harness.PgServer(empty_database, None).sql(
        f"INSERT INTO schema_migrations (version, name, applied_at) VALUES ({future}, '{future:04d}_future.sql', 'x')"
    )
    for command in (
        ("--port", str(free_port()), "--database-url", empty_database),
        ("migrate", "--database-url", empty_database),
    ):
        result = run(*command)
        assert result.returncode == 1 and result.stdout == ""
        [line] = lines(result.stderr)
        assert line.endswith(
            f"the database schema is at version {future}, newer than this server knows ({known_version()}); "
            "upgrade triggers-server"
        ), line


def test_a_sqlite_schema_newer_than_the_server_is_refused_with_one_line(tmp_path: Path) -> None:
    db = tmp_path / "t.db"
    assert run("migrate", "--db", str(db)).returncode == 0
    with sqlite3.connect(db) as conn:
        conn.execute("INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, '0999_future.sql', 'x')")
    result = run("--port", str(free_port()), "--db", str(db))
    assert result.returncode == 1 and result.stdout == ""
    [line] = lines(result.stderr)
    assert line.startswith(f"triggers-server: --db {db}: the database schema is at version 999, newer than")
