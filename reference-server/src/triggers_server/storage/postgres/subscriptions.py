"""Subscription rows on PostgreSQL (`SubscriptionStore`): webhook endpoints with their filters, throttle and
(rotating) signing secrets."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from triggers_server.clock import isoformat
from triggers_server.ids import new_id
from triggers_server.storage.ports.subscriptions import NewSubscription, SubscriptionRecord
from triggers_server.storage.postgres.deliveries import discard_active, init_fanout_mark
from triggers_server.storage.postgres.engine import Conn, PgDatabase, Sql
from triggers_server.storage.postgres.events import latest_sequence
from triggers_server.storage.records import subscription_record

_COLUMNS = (
    "seq, id, account_id, url, event_types, filter, enabled, disabled_reason, max_rps, description, "
    "metadata, secret, previous_secret, previous_secret_expires_at, created_at, updated_at"
)
_UPDATABLE = {"url", "event_types", "filter", "enabled", "max_rps", "description", "metadata"}


async def get_subscription(conn: Conn, account_id: str, subscription_id: str) -> SubscriptionRecord | None:
    row = await conn.fetchrow(
        f"SELECT {_COLUMNS} FROM subscriptions WHERE account_id = $1 AND id = $2", account_id, subscription_id
    )
    return subscription_record(row) if row is not None else None


async def disable_subscription(
    conn: Conn, account_id: str, subscription_id: str, *, reason: str, now: datetime
) -> None:
    await conn.execute(
        "UPDATE subscriptions SET enabled = 0, disabled_reason = $1, updated_at = $2 WHERE account_id = $3 AND id = $4",
        reason,
        isoformat(now),
        account_id,
        subscription_id,
    )


class PgSubscriptionStore:
    """`storage.ports.subscriptions.SubscriptionStore` on PostgreSQL: one method, one transaction."""

    def __init__(self, db: PgDatabase) -> None:
        self._db = db

    async def create(self, account_id: str, subscription: NewSubscription, *, now: datetime) -> SubscriptionRecord:
        async def write(conn: Conn) -> SubscriptionRecord:
            await init_fanout_mark(conn, account_id, await latest_sequence(conn, account_id))
            subscription_id = new_id("sub")
            stamp = isoformat(now)
            await conn.execute(
                "INSERT INTO subscriptions (id, account_id, url, event_types, filter, enabled, max_rps, description, "
                "metadata, secret, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)",
                subscription_id,
                account_id,
                subscription.url,
                json.dumps(subscription.event_types),
                json.dumps(subscription.filter_expression) if subscription.filter_expression is not None else None,
                int(subscription.enabled),
                subscription.max_rps,
                subscription.description,
                json.dumps(subscription.metadata),
                subscription.secret,
                stamp,
            )
            found = await get_subscription(conn, account_id, subscription_id)
            assert found is not None
            return found

        return await self._db.write(write)

    async def get(self, account_id: str, subscription_id: str) -> SubscriptionRecord | None:
        return await self._db.read(lambda conn: get_subscription(conn, account_id, subscription_id))

    async def list_page(self, account_id: str, *, limit: int, before_seq: int | None) -> list[SubscriptionRecord]:
        async def read(conn: Conn) -> list[SubscriptionRecord]:
            rows = await conn.fetch(
                f"SELECT {_COLUMNS} FROM subscriptions WHERE account_id = $1 AND seq < $2 ORDER BY seq DESC LIMIT $3",
                account_id,
                before_seq if before_seq is not None else 2**62,
                limit,
            )
            return [subscription_record(row) for row in rows]

        return await self._db.read(read)

    async def enabled(self, account_id: str) -> list[SubscriptionRecord]:
        async def read(conn: Conn) -> list[SubscriptionRecord]:
            rows = await conn.fetch(
                f"SELECT {_COLUMNS} FROM subscriptions WHERE account_id = $1 AND enabled = 1 ORDER BY seq", account_id
            )
            return [subscription_record(row) for row in rows]

        return await self._db.read(read)

    async def update(
        self, account_id: str, subscription_id: str, changes: Mapping[str, Any], *, now: datetime, discard_reason: str
    ) -> SubscriptionRecord | None:
        unknown = set(changes) - _UPDATABLE
        if unknown:
            raise ValueError(f"not updatable: {sorted(unknown)}")

        async def write(conn: Conn) -> SubscriptionRecord | None:
            sql = Sql()
            assignments: list[str] = []
            for name, value in changes.items():
                if name in ("event_types", "metadata"):
                    value = json.dumps(value)
                elif name == "filter":
                    value = json.dumps(value) if value is not None else None
                elif name == "enabled":
                    value = int(bool(value))
                    if value:
                        assignments.append("disabled_reason = NULL")
                assignments.append(f"{name} = {sql(value)}")
            assignments.append(f"updated_at = {sql(isoformat(now))}")
            found = await conn.fetchval(
                f"UPDATE subscriptions SET {', '.join(assignments)} WHERE account_id = {sql(account_id)}"
                f" AND id = {sql(subscription_id)} RETURNING id",
                *sql.args,
            )
            if found is None:
                return None
            updated = await get_subscription(conn, account_id, subscription_id)
            if updated is not None and not updated.enabled:
                await discard_active(conn, account_id, subscription_id, reason=discard_reason, now=now)
            return updated

        return await self._db.write(write)

    async def delete(self, account_id: str, subscription_id: str, *, now: datetime, discard_reason: str) -> bool:
        async def write(conn: Conn) -> bool:
            found = await conn.fetchval(
                "DELETE FROM subscriptions WHERE account_id = $1 AND id = $2 RETURNING id", account_id, subscription_id
            )
            if found is None:
                return False
            await discard_active(conn, account_id, subscription_id, reason=discard_reason, now=now)
            return True

        return await self._db.write(write)

    async def rotate_secret(
        self, account_id: str, subscription_id: str, *, new_secret: str, overlap_until: datetime, now: datetime
    ) -> SubscriptionRecord | None:
        async def write(conn: Conn) -> SubscriptionRecord | None:
            found = await conn.fetchval(
                "UPDATE subscriptions SET previous_secret = secret, previous_secret_expires_at = $1, secret = $2, "
                "updated_at = $3 WHERE account_id = $4 AND id = $5 RETURNING id",
                isoformat(overlap_until),
                new_secret,
                isoformat(now),
                account_id,
                subscription_id,
            )
            return None if found is None else await get_subscription(conn, account_id, subscription_id)

        return await self._db.write(write)
