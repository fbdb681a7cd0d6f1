"""The PostgreSQL backend: every port over one `PgDatabase` (asyncpg pool), and a commit feed driven by
LISTEN/NOTIFY so events committed by any instance reach this one's stream hub and long polls in order."""

from __future__ import annotations

import time

from triggers_server.storage.ports.backend import CommitListener
from triggers_server.storage.ports.events import EventCommitted
from triggers_server.storage.ports.stores import Stores
from triggers_server.storage.postgres.accounts import PgAccountStore
from triggers_server.storage.postgres.delivery_store import PgDeliveryStore
from triggers_server.storage.postgres.dlq import PgDlqStore
from triggers_server.storage.postgres.engine import DEFAULT_POOL_SIZE, Conn, PgDatabase
from triggers_server.storage.postgres.events import PgEventStore, committed, committed_range
from triggers_server.storage.postgres.idempotency import PgIdempotencyStore
from triggers_server.storage.postgres.inbox import PgInboxStore
from triggers_server.storage.postgres.replays import PgReplayStore
from triggers_server.storage.postgres.schemas import PgSchemaStore
from triggers_server.storage.postgres.stats import PgStatsStore
from triggers_server.storage.postgres.subscriptions import PgSubscriptionStore


def postgres_stores(db: PgDatabase) -> Stores:
    return Stores(
        accounts=PgAccountStore(db),
        subscriptions=PgSubscriptionStore(db),
        deliveries=PgDeliveryStore(db),
        dlq=PgDlqStore(db),
        replays=PgReplayStore(db),
        schemas=PgSchemaStore(db),
        events=PgEventStore(db),
        idempotency=PgIdempotencyStore(db),
        inbox=PgInboxStore(db),
        stats=PgStatsStore(db),
    )


class PgBackend:
    """`storage.ports.backend.Backend` on PostgreSQL; `db` is the engine (pool, ingest grouping, feed)."""

    def __init__(self, db: PgDatabase, start_sequence: int) -> None:
        self.db = db
        self._start = start_sequence
        self._stores = postgres_stores(db)

    @classmethod
    async def open(cls, url: str, *, pool_size: int = DEFAULT_POOL_SIZE, migrate: bool = True) -> PgBackend:
        db = await PgDatabase.open(url, pool_size=pool_size, migrate=migrate)
        start = await db.read(_max_sequence)
        return cls(db, start)

    @property
    def stores(self) -> Stores:
        return self._stores

    def listen(self, listener: CommitListener) -> None:
        async def read(first: int, last: int) -> list[EventCommitted]:
            rows = await self.db.read(lambda conn: committed_range(conn, first, last))
            return committed(rows, time.time())

        self.db.set_feed(lambda items: listener(items), read, after=self._start)

    @property
    def closed(self) -> bool:
        return self.db.closed

    async def close(self) -> None:
        await self.db.close()


async def _max_sequence(conn: Conn) -> int:
    return int(await conn.fetchval("SELECT coalesce(max(seq), 0) FROM events"))
