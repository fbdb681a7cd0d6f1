"""The SQLite backend's ports, bundled over one open `Database`."""

from __future__ import annotations

from triggers_server.storage.ports.stores import Stores
from triggers_server.storage.sqlite.accounts import SqliteAccountStore
from triggers_server.storage.sqlite.delivery_store import SqliteDeliveryStore
from triggers_server.storage.sqlite.dlq_store import SqliteDlqStore
from triggers_server.storage.sqlite.engine import Database
from triggers_server.storage.sqlite.replays import SqliteReplayStore
from triggers_server.storage.sqlite.schemas import SqliteSchemaStore
from triggers_server.storage.sqlite.subscriptions import SqliteSubscriptionStore


def sqlite_stores(db: Database) -> Stores:
    return Stores(
        accounts=SqliteAccountStore(db),
        subscriptions=SqliteSubscriptionStore(db),
        deliveries=SqliteDeliveryStore(db),
        dlq=SqliteDlqStore(db),
        replays=SqliteReplayStore(db),
        schemas=SqliteSchemaStore(db),
    )
