"""The SQLite backend's ports, bundled over one open `Database`."""

from __future__ import annotations

from triggers_server.storage.ports.stores import Stores
from triggers_server.storage.sqlite.accounts import SqliteAccountStore
from triggers_server.storage.sqlite.engine import Database
from triggers_server.storage.sqlite.events import SqliteEventStore
from triggers_server.storage.sqlite.idempotency import SqliteIdempotencyStore
from triggers_server.storage.sqlite.inbox import SqliteInboxStore
from triggers_server.storage.sqlite.stats import SqliteStatsStore


def sqlite_stores(db: Database) -> Stores:
    return Stores(
        accounts=SqliteAccountStore(db),
        events=SqliteEventStore(db),
        idempotency=SqliteIdempotencyStore(db),
        inbox=SqliteInboxStore(db),
        stats=SqliteStatsStore(db),
    )
