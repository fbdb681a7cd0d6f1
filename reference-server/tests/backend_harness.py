"""Which backend the server suite runs on, and a fresh database per test on PostgreSQL.

`TRIGGERS_TEST_BACKEND=postgres` runs every test against a real PostgreSQL: the cluster is
`TRIGGERS_TEST_PG_URL` (an admin URL, e.g. from the nox session) or one `pgcluster` starts for the session.
The schema is migrated once into a template database; each test gets `CREATE DATABASE … TEMPLATE` of it
(tens of milliseconds) and it is dropped afterwards. On SQLite (the default) nothing changes.
Tests about SQLite internals are marked `sqlite_only` and skipped on PostgreSQL, with the reason."""

from __future__ import annotations

import asyncio
import itertools
import os
import subprocess
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pgcluster

from triggers_server.storage.ports.backend import Backend
from triggers_server.storage.ports.events import EventDraft
from triggers_server.storage.ports.idempotency import Reply
from triggers_server.storage.ports.stores import Stores

BACKEND = os.environ.get("TRIGGERS_TEST_BACKEND", "sqlite")
if BACKEND not in ("sqlite", "postgres"):
    raise RuntimeError(f"TRIGGERS_TEST_BACKEND={BACKEND!r}: expected sqlite or postgres")
TEMPLATE = "triggers_template"
_counter = itertools.count(1)


def on_postgres() -> bool:
    return BACKEND == "postgres"


@dataclass
class PgServer:
    admin_url: str  # a database to run CREATE/DROP DATABASE from
    cluster: pgcluster.Cluster | None  # started by this session (stopped at its end)

    def url(self, database: str) -> str:
        base, _, _ = self.admin_url.rpartition("/")
        return f"{base}/{database}"

    def sql(self, statement: str) -> None:
        psql = pgcluster.bindir() / "psql"
        command = [str(psql) if psql.exists() else "psql", self.admin_url, "-q", "-v", "ON_ERROR_STOP=1", "-c"]
        done = subprocess.run([*command, statement], capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"psql {statement!r}: {done.stderr.strip()}")


_server: PgServer | None = None
_current: str | None = None


def start_session() -> PgServer:
    """The session's PostgreSQL with a migrated template database."""
    global _server
    if _server is None:
        given = os.environ.get("TRIGGERS_TEST_PG_URL")
        cluster = None if given else pgcluster.start()
        admin_url = given if given else cluster.url("postgres") if cluster is not None else ""
        server = PgServer(admin_url, cluster)
        server.sql(f"DROP DATABASE IF EXISTS {TEMPLATE} WITH (FORCE)")
        server.sql(f"CREATE DATABASE {TEMPLATE}")
        asyncio.run(_migrate(server.url(TEMPLATE)))
        _server = server
    return _server


async def _migrate(url: str) -> None:
    from triggers_server.storage.postgres.engine import PgDatabase, connect_pool

    pool = await connect_pool(url, pool_size=1)
    try:
        await PgDatabase(pool, url).migrate()
    finally:
        await pool.close()


def stop_session() -> None:
    global _server
    if _server is not None:
        _server.sql(f"DROP DATABASE IF EXISTS {TEMPLATE} WITH (FORCE)")
        if _server.cluster is not None:
            _server.cluster.stop()
        _server = None


def new_database() -> str:
    """A fresh, migrated database for one test; its URL (also `current_url()` until `drop_database`)."""
    global _current
    server = start_session()
    name = f"t_{os.getpid()}_{next(_counter)}"
    server.sql(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE}")
    _current = server.url(name)
    return _current


def drop_database() -> None:
    global _current
    if _current is not None and _server is not None:
        _server.sql(f"DROP DATABASE IF EXISTS {_current.rpartition('/')[2]} WITH (FORCE)")
    _current = None


def current_url() -> str | None:
    """The running test's PostgreSQL database, None on SQLite."""
    return _current


def backend_settings(**overrides: Any) -> dict[str, Any]:
    """Settings fields selecting the test's backend (`database_url` on PostgreSQL), then `overrides`."""
    chosen: dict[str, Any] = {"database_url": _current} if on_postgres() else {}
    chosen.update(overrides)
    return chosen


async def new_key(
    stores: Stores, now: datetime, scopes: tuple[str, ...], account_id: str | None = None
) -> tuple[str, str]:
    """(secret, account id) of a new key, through the accounts port: a new account unless `account_id`."""
    record, secret = await stores.accounts.create_key(
        account_id=account_id or "",
        new_account=None if account_id else "tenant",
        max_deliveries=5,
        name="test",
        scopes=scopes,
        now=now,
    )
    return secret, record.account_id


async def store_event(stores: Stores, account_id: str, draft: EventDraft, now: datetime) -> dict[str, Any]:
    """Store one event (with its inbox entry) through the events port, as ingestion does."""
    event, _ = await stores.events.create(
        account_id, draft, now, respond=lambda _: Reply(201, (), b"", None), keyed=None
    )
    return event


async def open_test_backend() -> Backend:
    """The test's backend opened on its own (no app): SQLite in memory, or the test's PostgreSQL database."""
    if on_postgres() and _current is not None:
        from triggers_server.storage.postgres.backend import PgBackend

        return await PgBackend.open(_current, pool_size=4)
    from triggers_server.storage.sqlite.backend import SqliteBackend

    return await SqliteBackend.open(":memory:")


def server_args(db: Path) -> list[str]:
    """`triggers-server` flags selecting the test's backend: the PostgreSQL URL, else the SQLite file."""
    return ["--database-url", _current] if on_postgres() and _current else ["--db", str(db)]
