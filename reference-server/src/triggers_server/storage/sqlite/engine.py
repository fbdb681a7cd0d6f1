"""SQLite in WAL mode behind one writer thread that commits many small transactions at once (group commit).

Every `write(fn)` runs `fn(tx)` inside its own SAVEPOINT of a shared transaction (`tx` is a `Transaction`:
statements only, the engine owns COMMIT and ROLLBACK); the caller's awaitable resolves only after that
transaction's COMMIT, so a returned write is durable on disk. A failing `fn` rolls back to its savepoint and
does not disturb the others in the batch.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import re
import sqlite3
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

log = logging.getLogger("triggers_server.storage")

MEMORY = ":memory:"
CHECKPOINT_EVERY_CHANGES = 5_000  # rows changed since the last checkpoint before one is requested
CHECKPOINT_INTERVAL_SECONDS = 1.0  # and at least this often while the server runs
_MIGRATION_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


Params = Sequence[Any] | Mapping[str, Any]


class Transaction:
    """What a storage callback may do: run statements in the transaction the engine opened for it.

    It cannot commit, roll back or close: the engine owns the transaction's boundaries (the SAVEPOINT of a
    group commit, or a read snapshot). The methods are the connection's own, bound once, so this costs
    nothing per statement."""

    __slots__ = ("_conn", "execute", "executemany")

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self.execute: Callable[..., sqlite3.Cursor] = conn.execute
        self.executemany: Callable[[str, Iterable[Params]], sqlite3.Cursor] = conn.executemany

    @property
    def total_changes(self) -> int:
        """Rows changed on this connection so far (to tell whether a statement touched anything)."""
        return self._conn.total_changes


@dataclass
class _Job:
    fn: Callable[[Transaction], Any]
    future: asyncio.Future[Any]
    loop: asyncio.AbstractEventLoop
    readonly: bool


_STOP = object()
_commit_buffer = threading.local()


def after_commit(item: Any) -> None:
    """Queue `item` for `Database.on_commit`, to be delivered (in commit order, on the event loop) once the
    current write is durably committed; dropped if the write rolls back. No-op outside the writer thread."""
    items: list[Any] | None = getattr(_commit_buffer, "items", None)
    if items is not None:
        items.append(item)


def _resolve(future: asyncio.Future[Any], result: Any, error: BaseException | None) -> None:
    if future.done():
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)


def _settle(outcomes: list[tuple[asyncio.Future[Any], Any, BaseException | None]]) -> None:
    for future, result, error in outcomes:
        _resolve(future, result, error)


def _hand_back(batch: Sequence[_Job], outcomes: Iterable[tuple[Any, BaseException | None]]) -> None:
    """Resolve every job's future with one call per event loop, not one per job: each `call_soon_threadsafe`
    takes the loop's lock and wakes it, which under a single-event ingest load was a visible share of the
    event loop's time (py-spy). The futures still resolve in the batch's order."""
    by_loop: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[Any], Any, BaseException | None]]] = {}
    for job, (result, error) in zip(batch, outcomes, strict=True):
        by_loop.setdefault(job.loop, []).append((job.future, result, error))
    for loop, settled in by_loop.items():
        loop.call_soon_threadsafe(_settle, settled)


def _connect(path: str) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA busy_timeout = 10000")
    conn.execute("PRAGMA foreign_keys = ON")
    return conn


def migration_scripts() -> list[tuple[int, str, str]]:
    """(version, file name, sql) for every `storage/sqlite/migrations/NNNN_*.sql`, ordered by version."""
    folder = resources.files("triggers_server.storage.sqlite").joinpath("migrations")
    found: list[tuple[int, str, str]] = []
    for entry in folder.iterdir():
        match = _MIGRATION_NAME.match(entry.name)
        if match:
            found.append((int(match.group(1)), entry.name, entry.read_text(encoding="utf-8")))
    found.sort()
    versions = [version for version, _, _ in found]
    if len(set(versions)) != len(versions):
        raise RuntimeError(f"duplicate migration versions: {versions}")
    return found


class SchemaNewer(Exception):
    """The database file was migrated by a newer server than this one."""


def check_schema_version(path: str) -> None:
    """Raise SchemaNewer when the file at `path` records a migration this server does not know (no-op for a
    new file or :memory:)."""
    if path == MEMORY or path.startswith("file:") or not Path(path).exists():
        return
    conn = sqlite3.connect(f"file:{Path(path).resolve()}?mode=ro", uri=True)
    try:
        row = conn.execute("SELECT max(version) FROM schema_migrations").fetchone()
    except sqlite3.Error:
        return  # no migrations table yet: a new or foreign file, which opening reports
    finally:
        conn.close()
    newest = migration_scripts()[-1][0]
    if row is not None and row[0] is not None and int(row[0]) > newest:
        raise SchemaNewer(
            f"the database schema is at version {row[0]}, newer than this server knows ({newest}); "
            "upgrade triggers-server"
        )


def apply_migrations(conn: sqlite3.Connection) -> list[str]:
    """Apply, each in its own transaction, every migration not yet recorded in `schema_migrations`."""
    conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations "
        "(version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
    )
    applied = {row[0] for row in conn.execute("SELECT version FROM schema_migrations")}
    done: list[str] = []
    for version, name, sql in migration_scripts():
        if version in applied:
            continue
        stamp = datetime.now(UTC).isoformat()
        try:
            conn.executescript(
                "BEGIN;\n"
                + sql
                + f"\n;INSERT INTO schema_migrations (version, name, applied_at) VALUES ({version}, "
                + f"'{name}', '{stamp}');\nCOMMIT;"
            )
        except sqlite3.Error:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        done.append(name)
    return done


class Database:
    """The narrow storage interface handlers see: `write(fn)`, `read(fn)`, `close()`."""

    def __init__(self, path: str, *, max_batch: int = 512, readers: int = 2) -> None:
        self.path = path
        self.in_memory = path == MEMORY or path.startswith("file::memory:")
        self._max_batch = max_batch
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._writer: threading.Thread | None = None
        self._ready = threading.Event()
        self._open_error: BaseException | None = None
        self._local = threading.local()
        self._reader_conns: list[sqlite3.Connection] = []
        self._reader_lock = threading.Lock()
        self._readers = None if self.in_memory else ThreadPoolExecutor(readers, thread_name_prefix="db-read")
        self._closed = False
        self._checkpoint_due = threading.Event()
        self._checkpointer: threading.Thread | None = None
        self._pages_since_checkpoint = 0
        self.checkpoints = 0
        self.batches_committed = 0
        self.writes_committed = 0
        self.applied_migrations: list[str] = []
        self._changes_seen = 0
        self.on_commit: Callable[[list[Any]], None] | None = None

    @classmethod
    async def open(cls, path: str, *, max_batch: int = 512, readers: int = 2) -> Database:
        db = cls(path, max_batch=max_batch, readers=readers)
        db._writer = threading.Thread(target=db._writer_main, name="db-writer", daemon=True)
        db._writer.start()
        await asyncio.get_running_loop().run_in_executor(None, db._ready.wait)
        if db._open_error is not None:
            raise db._open_error
        if not db.in_memory:
            db._checkpointer = threading.Thread(target=db._checkpointer_main, name="db-checkpoint", daemon=True)
            db._checkpointer.start()
        return db

    async def write(self, fn: Callable[[Transaction], T]) -> T:
        """Run `fn` in a SAVEPOINT of the next group-committed transaction; return after COMMIT."""
        return await self._submit(fn, readonly=False)

    async def read(self, fn: Callable[[Transaction], T]) -> T:
        """Run `fn` in a read-only snapshot of committed data."""
        if self._readers is None:
            return await self._submit(fn, readonly=True)
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._readers, self._run_read, fn)

    @property
    def closed(self) -> bool:
        return self._closed

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._queue.put(_STOP)
        if self._writer is not None:
            await asyncio.get_running_loop().run_in_executor(None, self._writer.join)
        if self._checkpointer is not None:
            self._checkpoint_due.set()
            await asyncio.get_running_loop().run_in_executor(None, self._checkpointer.join)
        if self._readers is not None:
            self._readers.shutdown(wait=True)
        with self._reader_lock:
            for conn in self._reader_conns:
                conn.close()
            self._reader_conns.clear()

    # -- internals -------------------------------------------------------------------------------------

    async def _submit(self, fn: Callable[[Transaction], T], *, readonly: bool) -> T:
        if self._closed:
            raise RuntimeError("database is closed")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._queue.put(_Job(fn, future, loop, readonly))
        return await future

    def _run_read(self, fn: Callable[[Transaction], T]) -> T:
        tx: Transaction | None = getattr(self._local, "tx", None)
        if tx is None:
            conn = _connect(self.path)
            conn.execute("PRAGMA query_only = ON")
            tx = self._local.tx = Transaction(conn)
            with self._reader_lock:
                self._reader_conns.append(conn)
        tx.execute("BEGIN")
        try:
            return fn(tx)
        finally:
            tx.execute("COMMIT")

    def _checkpointer_main(self) -> None:
        """Copy the WAL into the database file (PASSIVE: never blocks the writer or readers)."""
        conn = _connect(self.path)
        try:
            while not self._closed:
                self._checkpoint_due.wait(CHECKPOINT_INTERVAL_SECONDS)
                self._checkpoint_due.clear()
                try:
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
                    self.checkpoints += 1
                except sqlite3.Error as error:
                    log.warning("checkpoint failed", extra={"error": str(error)})
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            conn.close()

    def _writer_main(self) -> None:
        _commit_buffer.items = []
        try:
            conn = _connect(self.path)
            if not self.in_memory:
                conn.execute("PRAGMA journal_mode = WAL")
                # Checkpoints run on their own thread (below), so a commit never waits for one.
                conn.execute("PRAGMA wal_autocheckpoint = 0")
            conn.execute("PRAGMA synchronous = FULL")
            self.applied_migrations = apply_migrations(conn)
        except BaseException as error:  # reported to open()
            self._open_error = error
            self._ready.set()
            return
        self._ready.set()
        try:
            stopping = False
            while not stopping:
                first = self._queue.get()
                if first is _STOP:
                    break
                batch: list[_Job] = [first]
                while len(batch) < self._max_batch:
                    try:
                        item = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    if item is _STOP:
                        stopping = True
                        break
                    batch.append(item)
                self._run_batch(conn, batch)
        finally:
            conn.close()

    def _run_batch(self, conn: sqlite3.Connection, batch: list[_Job]) -> None:
        outcomes: list[tuple[Any, BaseException | None]] = []
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as error:
            _hand_back(batch, [(None, error) for _ in batch])
            return
        committed: list[Any] = _commit_buffer.items
        committed.clear()
        tx = Transaction(conn)
        for job in batch:
            if job.future.cancelled() and job.readonly:
                outcomes.append((None, None))
                continue
            conn.execute("SAVEPOINT job")
            mark = len(committed)
            try:
                result = job.fn(tx)
            except BaseException as error:
                conn.execute("ROLLBACK TO job")
                conn.execute("RELEASE job")
                del committed[mark:]
                outcomes.append((None, error))
            else:
                conn.execute("RELEASE job")
                outcomes.append((result, None))
        try:
            conn.execute("COMMIT")
        except sqlite3.Error as error:
            log.error("group commit failed", extra={"error": str(error)})
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            outcomes = [(None, error) for _ in batch]
        else:
            if committed and self.on_commit is not None:
                # Scheduled before the futures resolve: listeners see commits in order, before the callers resume.
                batch[0].loop.call_soon_threadsafe(self.on_commit, list(committed))
            self.batches_committed += 1
            self.writes_committed += sum(1 for job in batch if not job.readonly)
            self._pages_since_checkpoint += conn.total_changes - self._changes_seen
            self._changes_seen = conn.total_changes
            if self._pages_since_checkpoint >= CHECKPOINT_EVERY_CHANGES:
                self._pages_since_checkpoint = 0
                self._checkpoint_due.set()
        committed.clear()
        _hand_back(batch, outcomes)
