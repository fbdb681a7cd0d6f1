"""The SQLite backend: every port over one open `Database` (group commit, WAL)."""

from __future__ import annotations

from triggers_server.storage.ports.backend import CommitListener
from triggers_server.storage.ports.stores import Stores
from triggers_server.storage.sqlite.accounts import SqliteAccountStore
from triggers_server.storage.sqlite.delivery_store import SqliteDeliveryStore
from triggers_server.storage.sqlite.dlq_store import SqliteDlqStore
from triggers_server.storage.sqlite.engine import Database
from triggers_server.storage.sqlite.events import SqliteEventStore
from triggers_server.storage.sqlite.idempotency import SqliteIdempotencyStore
from triggers_server.storage.sqlite.inbox import SqliteInboxStore
from triggers_server.storage.sqlite.replays import SqliteReplayStore
from triggers_server.storage.sqlite.schemas import SqliteSchemaStore
from triggers_server.storage.sqlite.stats import SqliteStatsStore
from triggers_server.storage.sqlite.subscriptions import SqliteSubscriptionStore


def sqlite_stores(db: Database) -> Stores:
    return Stores(
        accounts=SqliteAccountStore(db),
        subscriptions=SqliteSubscriptionStore(db),
        deliveries=SqliteDeliveryStore(db),
        dlq=SqliteDlqStore(db),
        replays=SqliteReplayStore(db),
        schemas=SqliteSchemaStore(db),
        events=SqliteEventStore(db),
        idempotency=SqliteIdempotencyStore(db),
        inbox=SqliteInboxStore(db),
        stats=SqliteStatsStore(db),
    )


class SqliteBackend:
    """`storage.ports.backend.Backend` on SQLite; `db` is the engine, for SQLite-specific tooling and tests."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._stores = sqlite_stores(db)

    @classmethod
    async def open(cls, path: str) -> SqliteBackend:
        return cls(await Database.open(path))

    @property
    def stores(self) -> Stores:
        return self._stores

    def listen(self, listener: CommitListener) -> None:
        # The engine's commit buffer carries only `EventCommitted` (queued by `insert_event`): handed on as is,
        # with no per-batch copy on the commit path.
        self.db.on_commit = listener

    @property
    def closed(self) -> bool:
        return self.db.closed

    async def close(self) -> None:
        await self.db.close()
