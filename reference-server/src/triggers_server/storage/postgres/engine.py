"""The PostgreSQL engine: an asyncpg pool, versioned migrations, grouped event ingestion and the commit feed.

What it offers the stores (and a later multi-instance layer):
- `read(fn)`: `fn(conn)` for a one-statement read; `snapshot(fn)`: several statements in one REPEATABLE READ,
  READ ONLY transaction;
- `write(fn)`: `fn(conn)` in its own READ COMMITTED transaction (row locks decide races between instances);
- `ingest(fn)` / `ingest_staged(stage)`: for every write that stores events. Concurrent calls are grouped
  into one transaction (like the SQLite engine's group commit) that first takes the deployment's event lock
  (`pg_advisory_xact_lock(EVENT_LOCK)`), so sequences are assigned in commit order across every instance,
  and announces the committed range with `NOTIFY triggers_events, '<first>:<last>'`. Staged jobs (ingestion)
  share one multi-row insert per group; a job failing after it wrote rolls the group back and every job
  reruns alone;
- `start_listening()` / `set_feed(deliver, read, after=…)`: a dedicated connection LISTENs on that channel;
  this instance's commits are handed on right after COMMIT, other ranges are read back on their NOTIFY,
  always in sequence order, so commits of any instance reach this one's stream hub and long polls;
- `migrate()` / `schema_state()`: `storage/postgres/migrations/NNNN_*.sql`, applied under an advisory lock,
  and a refusal (`SchemaTooNew`) when the database was migrated by a newer server.

`fn` callbacks are coroutines taking the connection; SQL lives only in this package.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from typing import Any, TypeAlias, TypeVar

import asyncpg
import asyncpg.pool

from triggers_server.storage.ports.events import EventCommitted

T = TypeVar("T")
Conn: TypeAlias = "asyncpg.pool.PoolConnectionProxy[asyncpg.Record]"
Row: TypeAlias = asyncpg.Record

log = logging.getLogger("triggers_server.storage")

EVENT_LOCK = 0x7472_6967  # pg_advisory_xact_lock key serialising event sequence assignment ("trig")
MIGRATION_LOCK = 0x7472_6968  # pg_advisory_lock key held while migrating
CHANNEL = "triggers_events"
DEFAULT_POOL_SIZE = 10
MAX_INGEST_BATCH = 256
_MIGRATION_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


class DatabaseUnavailable(Exception):
    """The database URL is malformed or the server cannot be reached (one line for the operator)."""


class SchemaTooNew(Exception):
    """The database was migrated by a newer server than this one."""


def migration_scripts() -> list[tuple[int, str, str]]:
    """(version, file name, sql) for every `storage/postgres/migrations/NNNN_*.sql`, ordered by version."""
    folder = resources.files("triggers_server.storage.postgres").joinpath("migrations")
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


def known_version() -> int:
    scripts = migration_scripts()
    return scripts[-1][0] if scripts else 0


class Sql:
    """Builds a statement's `$n` placeholders and its argument list together."""

    __slots__ = ("args",)

    def __init__(self) -> None:
        self.args: list[Any] = []

    def __call__(self, value: Any) -> str:
        self.args.append(value)
        return f"${len(self.args)}"


def glob_clause(column: str, globs: Sequence[str], sql: Sql) -> str:
    """`(column LIKE … OR …)` for validated type globs (their only metacharacter is `*`), as SQLite's GLOB.
    The LIKE escape is `!`, which the text codec leaves alone (it doubles backslashes)."""
    parts: list[str] = []
    for glob in globs:
        pattern = glob.replace("!", "!!").replace("%", "!%").replace("_", "!_").replace("*", "%")
        parts.append(f"{column} LIKE {sql(pattern)} ESCAPE '!'")
    return "(" + " OR ".join(parts) + ")"


# PostgreSQL text cannot hold U+0000, which the contract's strings (and SQLite) can. Every text value is
# stored escaped: backslash → `\\`, U+0000 → `\0`. The escape maps concatenation to concatenation, so
# equality, prefixes and LIKE patterns keep their meaning. Scalars go through the connection's text codec;
# text[] parameters (asyncpg encodes array elements itself) through `texts()`.
def escape_text(value: str) -> str:
    if "\\" not in value and "\x00" not in value:
        return value
    return value.replace("\\", "\\\\").replace("\x00", "\\0")


_ESCAPED = re.compile(r"\\(.)", re.DOTALL)


def _unescape_one(match: re.Match[str]) -> str:
    return "\x00" if match.group(1) == "0" else match.group(1)


def unescape_text(value: str) -> str:
    return _ESCAPED.sub(_unescape_one, value) if "\\" in value else value


def texts(values: Sequence[str | None]) -> list[str | None]:
    """A text[] parameter, escaped like scalar text."""
    return [None if value is None else escape_text(value) for value in values]


async def _init_connection(conn: asyncpg.Connection[asyncpg.Record]) -> None:
    await conn.set_type_codec("text", schema="pg_catalog", encoder=escape_text, decoder=unescape_text, format="text")


def add_equals(clauses: list[str], sql: Sql, filters: Sequence[tuple[str, object | None]]) -> None:
    """Append `column = $n` for every (column, value) whose value is given; None means "no filter"."""
    for column, value in filters:
        if value is not None:
            clauses.append(f"{column} = {sql(value)}")


def affected(status: str) -> int:
    """Rows an `UPDATE`/`DELETE`/`INSERT` status string reports (`UPDATE 3` → 3)."""
    tail = status.rsplit(" ", 1)[-1]
    return int(tail) if tail.isdigit() else 0


@dataclass
class _IngestJob:
    fn: Callable[[Conn, IngestContext], Awaitable[Any]] | None
    future: asyncio.Future[Any]
    stage: Stage[Any] | None = None


@dataclass(frozen=True)
class EventRows:
    """What one staged ingest adds to its group's single multi-row insert: `statement` (shared by every
    job staging the same kind of rows), its array parameters (concatenated across the group) and the ids
    the statement returns with their sequences."""

    statement: str
    arrays: list[list[Any]]
    ids: list[str]


Finish = Callable[["Conn", "IngestContext", Mapping[str, int]], Awaitable[T]]
Stage = Callable[["Conn"], Awaitable[tuple[EventRows | None, Finish[T]]]]


class _GroupFailed(Exception):
    """A job of an ingest group failed (or the COMMIT did): the transaction is rolled back."""

    def __init__(self, error: BaseException) -> None:
        super().__init__(str(error))
        self.error = error


class IngestContext:
    """What an ingest callback reports: the sequences it stored and their events (announced, and handed to
    this instance's feed without a read, once the group commits)."""

    __slots__ = ("committed", "sequences")

    def __init__(self) -> None:
        self.sequences: list[int] = []
        self.committed: list[EventCommitted] = []


Deliver = Callable[[list[EventCommitted]], None]
ReadRange = Callable[[int, int], Awaitable[list[EventCommitted]]]


class PgDatabase:
    def __init__(self, pool: asyncpg.Pool[asyncpg.Record], url: str) -> None:
        self.pool = pool
        self.url = url
        self._queue: asyncio.Queue[_IngestJob] = asyncio.Queue()
        self._committer: asyncio.Task[None] | None = None
        self._listener_conn: asyncpg.Connection[asyncpg.Record] | None = None
        self._deliver: Deliver | None = None
        self._read_range: ReadRange | None = None
        self._delivered_through = 0
        self._pending_last = 0
        self._feed_task: asyncio.Task[None] | None = None
        self._local: dict[int, EventCommitted] = {}
        self._closed = False
        self.batches_committed = 0
        self.writes_committed = 0

    @classmethod
    async def open(cls, url: str, *, pool_size: int = DEFAULT_POOL_SIZE, migrate: bool = True) -> PgDatabase:
        pool = await connect_pool(url, pool_size=pool_size)
        db = cls(pool, url)
        try:
            if migrate:
                await db.migrate()
            else:
                await db.check_schema()
        except BaseException:
            await pool.close()
            raise
        db._committer = asyncio.get_running_loop().create_task(db._commit_loop(), name="pg-ingest")
        try:
            await db.start_listening()
        except BaseException:
            await db.close()
            raise
        return db

    # -- transactions -----------------------------------------------------------------------------------

    async def read(self, fn: Callable[[Conn], Awaitable[T]]) -> T:
        """`fn(conn)` outside an explicit transaction: for reads that are one statement (its own snapshot),
        saving BEGIN and COMMIT round trips."""
        async with self.pool.acquire() as conn:
            return await fn(conn)

    async def snapshot(self, fn: Callable[[Conn], Awaitable[T]]) -> T:
        """`fn(conn)` in one REPEATABLE READ, READ ONLY transaction: several statements, one snapshot."""
        async with self.pool.acquire() as conn, conn.transaction(isolation="repeatable_read", readonly=True):
            return await fn(conn)

    async def write(self, fn: Callable[[Conn], Awaitable[T]]) -> T:
        async with self.pool.acquire() as conn, conn.transaction():
            result = await fn(conn)
        self.writes_committed += 1
        return result

    async def ingest(self, fn: Callable[[Conn, IngestContext], Awaitable[T]]) -> T:
        """Run `fn` in the next grouped ingest transaction (under the event lock); return after COMMIT."""
        if self._closed:
            raise RuntimeError("database is closed")
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait(_IngestJob(fn, future))
        return await future

    async def ingest_staged(self, stage: Stage[T]) -> T:
        """Like `ingest`, in three steps so a whole group's events go in with one statement: `stage(conn)`
        (reads only; an exception that is not a database error fails this job alone) returns the rows to
        insert and `finish`; the group's rows are inserted together; then `finish(conn, context, sequences)`
        (sequence per id) completes the job (its reply, its idempotency record)."""
        if self._closed:
            raise RuntimeError("database is closed")
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait(_IngestJob(None, future, stage))
        return await future

    async def _commit_loop(self) -> None:
        while True:
            first = await self._queue.get()
            batch = [first]
            while len(batch) < MAX_INGEST_BATCH and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            try:
                await self._run_batch(batch)
            except Exception as error:  # the connection failed: every job of the batch fails with it
                log.error("ingest batch failed", extra={"error": str(error)})
                for job in batch:
                    if not job.future.done():
                        job.future.set_exception(error)
            finally:
                for _ in batch:
                    self._queue.task_done()

    async def _run_batch(self, batch: list[_IngestJob]) -> None:
        """One transaction for the whole group, without per-job savepoints (two round trips each). Event
        writes never race inside it (the event lock serialises them across instances), so a job fails only
        on something unexpected: then the group is rolled back and each job runs again on its own."""
        try:
            outcomes = await self._transact(batch)
        except _GroupFailed:
            outcomes = [await self._run_alone(job) for job in batch]
        for job, (result, failure) in zip(batch, outcomes, strict=True):
            if job.future.done():
                continue
            if failure is not None:
                job.future.set_exception(failure)
            else:
                job.future.set_result(result)

    async def _run_alone(self, job: _IngestJob) -> tuple[Any, BaseException | None]:
        try:
            [outcome] = await self._transact([job])
        except _GroupFailed as failed:
            return None, failed.error
        return outcome

    async def _transact(self, batch: list[_IngestJob]) -> list[tuple[Any, BaseException | None]]:
        outcomes: list[tuple[Any, BaseException | None]] = []
        contexts: list[IngestContext] = []
        async with self.pool.acquire() as conn:
            try:
                async with conn.transaction():
                    await conn.execute("SELECT pg_advisory_xact_lock($1)", EVENT_LOCK)
                    staged: dict[int, tuple[EventRows | None, Finish[Any]]] = {}
                    failed: dict[int, BaseException] = {}
                    for index, job in enumerate(batch):
                        if job.stage is None:
                            continue
                        try:
                            staged[index] = await job.stage(conn)
                        except asyncpg.PostgresError as error:
                            raise _GroupFailed(error) from error
                        except Exception as error:  # refused before writing anything (e.g. a duplicate)
                            failed[index] = error
                    sequences_by_id = await _insert_staged(conn, [rows for rows, _ in staged.values() if rows])
                    for index, job in enumerate(batch):
                        if index in failed:
                            outcomes.append((None, failed[index]))
                            continue
                        context = IngestContext()
                        try:
                            if job.fn is not None:
                                result = await job.fn(conn, context)
                            else:
                                result = await staged[index][1](conn, context, sequences_by_id)
                        except Exception as error:
                            raise _GroupFailed(error) from error
                        outcomes.append((result, None))
                        contexts.append(context)
                    sequences = [sequence for context in contexts for sequence in context.sequences]
                    if sequences:
                        await conn.execute("SELECT pg_notify($1, $2)", CHANNEL, f"{min(sequences)}:{max(sequences)}")
            except _GroupFailed:
                raise
            except Exception as error:  # COMMIT itself failed
                raise _GroupFailed(error) from error
        self._deliver_local(
            sorted(
                (item for context in contexts for item in context.committed),
                key=lambda item: int(item.event["sequence"]),
            )
        )
        self.batches_committed += 1
        self.writes_committed += len(batch)
        return outcomes

    def take_local(self, first: int, last: int) -> list[EventCommitted] | None:
        """The events this engine committed with sequences first..last, when it committed all of them (the
        feed then needs no read); forgets everything up to `last` either way."""
        found = [self._local.pop(sequence, None) for sequence in range(first, last + 1)]
        for sequence in [s for s in self._local if s <= last]:
            del self._local[sequence]
        if any(item is None for item in found):
            return None
        return [item for item in found if item is not None]

    # -- the commit feed ---------------------------------------------------------------------------------

    async def start_listening(self) -> None:
        """LISTEN on the commit channel (a connection of its own); notifications arriving before `set_feed`
        are remembered, not lost."""
        conn: asyncpg.Connection[asyncpg.Record] = await asyncpg.connect(self.url)
        self._listener_conn = conn
        await conn.add_listener(CHANNEL, self._on_notification)

    def set_feed(self, deliver: Deliver, read: ReadRange, *, after: int) -> None:
        """Hand every event committed with a sequence above `after` to `deliver`, in sequence order, whichever
        instance committed it: this instance's own commits right after COMMIT (before their callers resume,
        as on SQLite) when nothing earlier is outstanding, other ranges once their NOTIFY arrives (`read`
        fetches them). `after` must have been read after `start_listening` returned."""
        self._deliver = deliver
        self._read_range = read
        self._delivered_through = after
        pending, self._pending_last = self._pending_last, after
        self._schedule(pending)

    def _deliver_local(self, items: list[EventCommitted]) -> None:
        """Right after COMMIT: hand on this group's events now if they directly follow what was handed on."""
        if self._deliver is None or not items:
            return
        for item in items:
            self._local[int(item.event["sequence"])] = item
        first = int(items[0].event["sequence"])
        last = int(items[-1].event["sequence"])
        if first != self._delivered_through + 1:
            return  # an earlier range is outstanding: the feed hands these on after it, in order
        # (A NOTIFY of this very range may already be pending, or being read by the feed: the feed skips
        # whatever is at or below the mark by the time it hands on.)
        found = self.take_local(first, last)
        if found is None:
            return
        self._delivered_through = last
        self._pending_last = max(self._pending_last, last)
        self._deliver(found)

    def _on_notification(self, connection: object, pid: int, channel: str, payload: object) -> None:
        _, _, last = str(payload).partition(":")
        if last.isdigit():
            self._schedule(int(last))

    def _schedule(self, last: int) -> None:
        if last <= max(self._pending_last, self._delivered_through) or self._closed:
            return
        self._pending_last = last
        if self._feed_task is None or self._feed_task.done():
            self._feed_task = asyncio.get_running_loop().create_task(self._drain_feed(), name="pg-feed")

    async def _drain_feed(self) -> None:
        while self._delivered_through < self._pending_last and not self._closed:
            if self._deliver is None or self._read_range is None:
                return
            first, last = self._delivered_through + 1, self._pending_last
            items = self.take_local(first, last)
            if items is None:
                try:
                    items = await self._read_range(first, last)
                except Exception as error:  # keep the feed alive; the range is retried with the next notification
                    log.error("commit feed failed", extra={"error": str(error)})
                    return
            fresh = [item for item in items if int(item.event["sequence"]) > self._delivered_through]
            self._delivered_through = max(self._delivered_through, last)
            if fresh:
                self._deliver(fresh)

    # -- migrations --------------------------------------------------------------------------------------

    async def migrate(self) -> list[str]:
        """Apply, each in its own transaction, every migration not yet recorded (one instance at a time)."""
        async with self.pool.acquire() as conn:
            await conn.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK)
            try:
                await conn.execute(
                    "CREATE TABLE IF NOT EXISTS schema_migrations "
                    "(version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
                )
                applied = {int(row["version"]) for row in await conn.fetch("SELECT version FROM schema_migrations")}
                newest = known_version()
                if applied and max(applied) > newest:
                    raise SchemaTooNew(
                        f"the database schema is at version {max(applied)}, newer than this server knows "
                        f"({newest}); upgrade triggers-server"
                    )
                done: list[str] = []
                for version, name, script in migration_scripts():
                    if version in applied:
                        continue
                    async with conn.transaction():
                        await conn.execute(script)
                        await conn.execute(
                            "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
                            version,
                            name,
                            datetime.now(UTC).isoformat(),
                        )
                    done.append(name)
                return done
            finally:
                await conn.execute("SELECT pg_advisory_unlock($1)", MIGRATION_LOCK)

    async def check_schema(self) -> int:
        """The database's schema version; raises SchemaTooNew past what this server knows."""
        async with self.pool.acquire() as conn:
            exists = await conn.fetchval("SELECT to_regclass('schema_migrations') IS NOT NULL")
            version = (
                int(await conn.fetchval("SELECT coalesce(max(version), 0) FROM schema_migrations")) if exists else 0
            )
        if version > known_version():
            raise SchemaTooNew(
                f"the database schema is at version {version}, newer than this server knows ({known_version()}); "
                "upgrade triggers-server"
            )
        return version

    # -- lifetime ----------------------------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        return self._closed

    async def close(self) -> None:
        if self._closed:
            return
        if self._committer is not None and not self._committer.done():
            await self._queue.join()  # let queued ingests commit before the pool goes
        self._closed = True
        for task in (self._committer, self._feed_task):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        if self._listener_conn is not None:
            with contextlib.suppress(Exception):
                await self._listener_conn.close()
        await self.pool.close()


async def _insert_staged(conn: Conn, parts: list[EventRows]) -> dict[str, int]:
    """One statement per kind of staged rows, their arrays concatenated; the sequence of every id."""
    by_statement: dict[str, list[EventRows]] = {}
    for part in parts:
        by_statement.setdefault(part.statement, []).append(part)
    sequences: dict[str, int] = {}
    for statement, group in by_statement.items():
        arrays = [
            list(itertools.chain.from_iterable(part.arrays[i] for part in group)) for i in range(len(group[0].arrays))
        ]
        for row in await conn.fetch(statement, *arrays):
            sequences[row["id"]] = int(row["seq"])
    return sequences


async def connect_pool(url: str, *, pool_size: int = DEFAULT_POOL_SIZE) -> asyncpg.Pool[asyncpg.Record]:
    """A pool on `url`; DatabaseUnavailable (one line) when the URL is bad or the server does not answer."""
    try:
        pool: asyncpg.Pool[asyncpg.Record] = await asyncpg.create_pool(
            url, min_size=1, max_size=pool_size, timeout=10, command_timeout=60, init=_init_connection
        )
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, ValueError, TimeoutError) as error:
        raise DatabaseUnavailable(describe_failure(url, error)) from error
    return pool


def redact(url: str) -> str:
    """The URL without its password."""
    return re.sub(r"(//[^:/@]+):[^@/]*@", r"\1:***@", url)


def describe_failure(url: str, error: BaseException) -> str:
    detail = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return f"cannot connect to {redact(url)}: {detail}"
