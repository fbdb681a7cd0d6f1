"""The SQLite engine: group commit, savepoint isolation between batched writes, versioned migrations."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest

from triggers_server.storage.sqlite.engine import Database, Transaction, migration_scripts

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.sqlite_only(reason="the SQLite engine; test_pg_engine.py covers PostgreSQL's"),
]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def test_concurrent_writes_share_commits(tmp_path: Path) -> None:
    db = await Database.open(str(tmp_path / "t.db"))
    try:
        await db.write(lambda conn: conn.execute("CREATE TABLE t (v INTEGER)"))
        before = db.batches_committed

        async def insert(value: int) -> None:
            await db.write(lambda conn: conn.execute("INSERT INTO t VALUES (?)", (value,)))

        async with anyio.create_task_group() as group:
            for value in range(300):
                group.start_soon(insert, value)
        count = await db.read(lambda conn: conn.execute("SELECT count(*) FROM t").fetchone()[0])
        assert count == 300
        assert db.batches_committed - before < 300  # many writes rode on one COMMIT
    finally:
        await db.close()


async def test_a_failing_write_rolls_back_alone(tmp_path: Path) -> None:
    db = await Database.open(str(tmp_path / "t.db"))
    try:
        await db.write(lambda conn: conn.execute("CREATE TABLE t (v INTEGER PRIMARY KEY)"))

        def failing(conn: Transaction) -> None:
            conn.execute("INSERT INTO t VALUES (1)")
            raise RuntimeError("boom")

        outcomes: dict[str, object] = {}

        async def good() -> None:
            outcomes["good"] = await db.write(lambda conn: conn.execute("INSERT INTO t VALUES (2)").rowcount)

        async def bad() -> None:
            try:
                await db.write(failing)
            except RuntimeError as error:
                outcomes["bad"] = str(error)

        async with anyio.create_task_group() as group:
            group.start_soon(bad)
            group.start_soon(good)
        assert outcomes == {"good": 1, "bad": "boom"}
        rows = await db.read(lambda conn: [row[0] for row in conn.execute("SELECT v FROM t")])
        assert rows == [2]
    finally:
        await db.close()


async def test_migrations_are_versioned_and_applied_once(tmp_path: Path) -> None:
    path = str(tmp_path / "m.db")
    first = await Database.open(path)
    applied = list(first.applied_migrations)
    await first.close()
    assert applied == [name for _, name, _ in migration_scripts()]
    assert applied[0] == "0001_core.sql" and "0004_idempotency_replay_status.sql" in applied
    second = await Database.open(path)
    try:
        assert second.applied_migrations == []
        versions = await second.read(
            lambda conn: [row[0] for row in conn.execute("SELECT version FROM schema_migrations ORDER BY version")]
        )
        assert versions == sorted(version for version, _, _ in migration_scripts())
        mode = await second.read(lambda conn: conn.execute("PRAGMA journal_mode").fetchone()[0])
        assert mode == "wal"
    finally:
        await second.close()


async def test_memory_databases_work_and_reads_see_writes() -> None:
    db = await Database.open(":memory:")
    try:
        await db.write(lambda conn: conn.execute("CREATE TABLE t (v TEXT)"))
        await db.write(lambda conn: conn.execute("INSERT INTO t VALUES ('x')"))
        assert await db.read(lambda conn: conn.execute("SELECT v FROM t").fetchone()[0]) == "x"
    finally:
        await db.close()
    with pytest.raises(RuntimeError):
        await db.write(lambda conn: None)
