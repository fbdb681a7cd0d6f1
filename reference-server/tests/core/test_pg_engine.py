"""The PostgreSQL engine on a real server (always, whatever TRIGGERS_TEST_BACKEND says): grouped ingest
transactions with savepoint isolation, sequences in commit order, the LISTEN/NOTIFY commit feed across two
engines on one database, SKIP LOCKED leases under concurrent consumers, idempotent migrations."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime

import backend_harness
import pytest

from triggers_server.storage.ports.events import DuplicateEvent, EventCommitted, EventDraft
from triggers_server.storage.ports.idempotency import Reply
from triggers_server.storage.postgres.backend import PgBackend
from triggers_server.storage.postgres.engine import Conn, IngestContext, known_version

pytestmark = pytest.mark.anyio
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
REPLY = Reply(201, (), b"", None)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def url() -> Iterator[str]:
    server = backend_harness.start_session()
    name = f"engine_{os.getpid()}_{id(server)}_{datetime.now().microsecond}"
    server.sql(f"CREATE DATABASE {name} TEMPLATE {backend_harness.TEMPLATE}")
    try:
        yield server.url(name)
    finally:
        server.sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


async def _account(backend: PgBackend) -> str:
    outcome = await backend.stores.accounts.ensure_bootstrap_key(secret=None, max_deliveries=5, now=NOW)
    assert outcome is not None
    return outcome.account_id


async def _ingest(backend: PgBackend, account: str, n: int, **fields: str) -> dict[str, object]:
    draft = EventDraft(type="order.created", source="shop", has_data=True, data={"n": n}, **fields)
    event, _ = await backend.stores.events.create(account, draft, NOW, respond=lambda _: REPLY, keyed=None)
    return event


async def test_concurrent_ingests_share_transactions_and_sequences_follow_commit_order(url: str) -> None:
    backend = await PgBackend.open(url)
    try:
        account = await _account(backend)
        before = backend.db.batches_committed
        events = await asyncio.gather(*(_ingest(backend, account, n) for n in range(200)))
        sequences = [int(str(event["sequence"])) for event in events]
        assert sorted(sequences) == list(range(1, 201))
        assert backend.db.batches_committed - before < 200, "concurrent ingests were grouped"
        listed = await backend.stores.events.after(account, 0, now=NOW, limit=500)
        assert [event["sequence"] for event in listed] == list(range(1, 201))
    finally:
        await backend.close()


async def test_a_failing_write_in_a_group_spares_the_others(url: str) -> None:
    backend = await PgBackend.open(url)
    try:
        account = await _account(backend)
        await _ingest(backend, account, 0, external_id="dup")

        async def broken(conn: Conn, context: IngestContext) -> None:
            await conn.execute("INSERT INTO events (seq) VALUES (NULL)")  # violates NOT NULL: its savepoint rolls back

        results = await asyncio.gather(
            _ingest(backend, account, 1),
            backend.db.ingest(broken),
            _ingest(backend, account, 2, external_id="dup"),
            _ingest(backend, account, 3),
            return_exceptions=True,
        )
        assert isinstance(results[1], Exception) and isinstance(results[2], DuplicateEvent)
        stored = await backend.stores.events.after(account, 0, now=NOW, limit=10)
        assert [event["data"] for event in stored] == [{"n": 0}, {"n": 1}, {"n": 3}]
    finally:
        await backend.close()


async def test_commits_of_another_engine_reach_this_feed_in_order(url: str) -> None:
    """Two engines on one database (as two instances would be): each hands on every commit, in order."""
    first, second = await PgBackend.open(url), await PgBackend.open(url)
    seen: dict[str, list[int]] = {"first": [], "second": []}
    done = asyncio.Event()

    def listener(name: str) -> object:
        def on_commit(items: Sequence[EventCommitted]) -> None:
            seen[name] += [int(item.event["sequence"]) for item in items]
            if all(len(found) >= 60 for found in seen.values()):
                done.set()

        return on_commit

    try:
        first.listen(listener("first"))  # type: ignore[arg-type]
        second.listen(listener("second"))  # type: ignore[arg-type]
        account = await _account(first)
        await asyncio.gather(
            *(_ingest(first, account, n) for n in range(30)), *(_ingest(second, account, n) for n in range(30))
        )
        await asyncio.wait_for(done.wait(), timeout=10)
        assert seen["first"] == seen["second"] == list(range(1, 61))
    finally:
        await first.close()
        await second.close()


async def test_concurrent_consumers_never_share_a_live_lease(url: str) -> None:
    """Twenty consumers on two engines drain 300 events: each is handed out once while leased, every ack lands."""
    engines = [await PgBackend.open(url), await PgBackend.open(url)]
    try:
        account = await _account(engines[0])
        for n in range(300):
            await _ingest(engines[0], account, n)
        received: list[str] = []

        async def consume(index: int) -> None:
            inbox = engines[index % 2].stores.inbox
            while True:
                result, _ = await inbox.lease(
                    account,
                    max_events=7,
                    visibility_timeout=300,
                    types=(),
                    now=NOW,
                    default_max_deliveries=5,
                    respond=lambda _: None,
                    keyed=None,
                )
                if not result.messages:
                    return
                received.extend(str(message["event"]["id"]) for message in result.messages)
                outcomes = await inbox.ack(account, [str(m["receipt"]) for m in result.messages], NOW)
                assert {outcome.status for outcome in outcomes} == {"ok"}

        await asyncio.gather(*(consume(index) for index in range(20)))
        assert len(received) == len(set(received)) == 300
        assert (await engines[1].stores.stats.backlog(account)).inbox == 0
    finally:
        for engine in engines:
            await engine.close()


async def test_migrations_are_recorded_once(url: str) -> None:
    backend = await PgBackend.open(url)
    try:
        assert await backend.db.migrate() == []
        assert await backend.db.check_schema() == known_version()
    finally:
        await backend.close()


async def test_own_commits_reach_the_feed_before_their_callers_resume(url: str) -> None:
    """As on SQLite: a returned ingest is already in this instance's stream hub (no NOTIFY round trip)."""
    backend = await PgBackend.open(url)
    seen: list[int] = []
    try:
        backend.listen(lambda items: seen.extend(int(item.event["sequence"]) for item in items))
        account = await _account(backend)
        for n in range(5):
            event = await _ingest(backend, account, n)
            assert seen[-1] == event["sequence"]
        assert seen == [1, 2, 3, 4, 5]
    finally:
        await backend.close()


async def test_duplicates_within_one_group_store_one_original(url: str) -> None:
    """Concurrent ingests of one `source` + `id` land in one group: one is stored, the others are duplicates."""
    backend = await PgBackend.open(url)
    try:
        account = await _account(backend)
        results = await asyncio.gather(
            *(_ingest(backend, account, n, external_id="same") for n in range(8)),
            *(_ingest(backend, account, n) for n in range(8)),
            return_exceptions=True,
        )
        originals = [result for result in results[:8] if not isinstance(result, BaseException)]
        duplicates = [result for result in results[:8] if isinstance(result, DuplicateEvent)]
        assert len(originals) == 1 and len(duplicates) == 7
        assert all(duplicate.existing["id"] == originals[0]["id"] for duplicate in duplicates)
        assert not any(isinstance(result, BaseException) for result in results[8:])
        stored = await backend.stores.events.after(account, 0, now=NOW, limit=100)
        assert len(stored) == 9
    finally:
        await backend.close()
