"""Subscription rows: webhook endpoints with their filters, throttle and (rotating) signing secrets."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from triggers_server.clock import isoformat
from triggers_server.ids import new_id
from triggers_server.storage.ports.subscriptions import NewSubscription, SubscriptionRecord
from triggers_server.storage.records import subscription_record
from triggers_server.storage.sqlite.deliveries import discard_active, init_fanout_mark
from triggers_server.storage.sqlite.engine import Database, Transaction
from triggers_server.storage.sqlite.events import latest_sequence

_COLUMNS = (
    "seq, id, account_id, url, event_types, filter, enabled, disabled_reason, max_rps, description, "
    "metadata, "
    "secret, previous_secret, previous_secret_expires_at, created_at, updated_at"
)


def new_subscription_id() -> str:
    return new_id("sub")


def insert_subscription(
    tx: Transaction,
    *,
    account_id: str,
    url: str,
    event_types: list[str],
    filter_expression: dict[str, Any] | None,
    enabled: bool,
    max_rps: float | None,
    description: str | None,
    metadata: dict[str, str],
    secret: str,
    now: datetime,
) -> SubscriptionRecord:
    subscription_id = new_subscription_id()
    stamp = isoformat(now)
    tx.execute(
        "INSERT INTO subscriptions (id, account_id, url, event_types, filter, enabled, max_rps, description, "
        "metadata, secret, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            subscription_id,
            account_id,
            url,
            json.dumps(event_types),
            json.dumps(filter_expression) if filter_expression is not None else None,
            int(enabled),
            max_rps,
            description,
            json.dumps(metadata),
            secret,
            stamp,
            stamp,
        ),
    )
    found = get_subscription(tx, account_id, subscription_id)
    assert found is not None
    return found


def get_subscription(tx: Transaction, account_id: str, subscription_id: str) -> SubscriptionRecord | None:
    row = tx.execute(
        f"SELECT {_COLUMNS} FROM subscriptions WHERE account_id = ? AND id = ?", (account_id, subscription_id)
    ).fetchone()
    return subscription_record(row) if row is not None else None


def list_subscriptions(
    tx: Transaction, account_id: str, *, limit: int, before_seq: int | None = None
) -> list[SubscriptionRecord]:
    """Up to ``limit`` subscriptions, newest first; ``before_seq`` continues a page."""
    rows = tx.execute(
        f"SELECT {_COLUMNS} FROM subscriptions WHERE account_id = ? AND seq < ? ORDER BY seq DESC LIMIT ?",
        (account_id, before_seq if before_seq is not None else 2**62, limit),
    ).fetchall()
    return [subscription_record(row) for row in rows]


def enabled_subscriptions(tx: Transaction, account_id: str) -> list[SubscriptionRecord]:
    rows = tx.execute(
        f"SELECT {_COLUMNS} FROM subscriptions WHERE account_id = ? AND enabled = 1 ORDER BY seq",
        (account_id,),
    ).fetchall()
    return [subscription_record(row) for row in rows]


_UPDATABLE = {"url", "event_types", "filter", "enabled", "max_rps", "description", "metadata"}


def update_subscription(
    tx: Transaction, account_id: str, subscription_id: str, changes: Mapping[str, Any], *, now: datetime
) -> SubscriptionRecord | None:
    """Apply a partial update; re-enabling clears ``disabled_reason``. None when not found."""
    unknown = set(changes) - _UPDATABLE
    if unknown:
        raise ValueError(f"not updatable: {sorted(unknown)}")
    assignments: list[str] = []
    values: list[Any] = []
    for name, value in changes.items():
        if name in ("event_types", "metadata"):
            value = json.dumps(value)
        elif name == "filter":
            value = json.dumps(value) if value is not None else None
        elif name == "enabled":
            value = int(bool(value))
            if value:
                assignments.append("disabled_reason = NULL")
        assignments.append(f"{name} = ?")
        values.append(value)
    assignments.append("updated_at = ?")
    values.append(isoformat(now))
    cursor = tx.execute(
        f"UPDATE subscriptions SET {', '.join(assignments)} WHERE account_id = ? AND id = ?",
        (*values, account_id, subscription_id),
    )
    if cursor.rowcount == 0:
        return None
    return get_subscription(tx, account_id, subscription_id)


def rotate_secret(
    tx: Transaction,
    account_id: str,
    subscription_id: str,
    *,
    new_secret: str,
    overlap_until: datetime,
    now: datetime,
) -> SubscriptionRecord | None:
    """Make ``new_secret`` current; the old one keeps signing until ``overlap_until``."""
    cursor = tx.execute(
        "UPDATE subscriptions SET previous_secret = secret, previous_secret_expires_at = ?, secret = ?, "
        "updated_at = ? WHERE account_id = ? AND id = ?",
        (isoformat(overlap_until), new_secret, isoformat(now), account_id, subscription_id),
    )
    if cursor.rowcount == 0:
        return None
    return get_subscription(tx, account_id, subscription_id)


def disable_subscription(tx: Transaction, account_id: str, subscription_id: str, *, reason: str, now: datetime) -> None:
    tx.execute(
        "UPDATE subscriptions SET enabled = 0, disabled_reason = ?, updated_at = ? WHERE account_id = ? AND id = ?",
        (reason, isoformat(now), account_id, subscription_id),
    )


def delete_subscription(tx: Transaction, account_id: str, subscription_id: str) -> bool:
    cursor = tx.execute("DELETE FROM subscriptions WHERE account_id = ? AND id = ?", (account_id, subscription_id))
    return cursor.rowcount > 0


class SqliteSubscriptionStore:
    """`storage.ports.subscriptions.SubscriptionStore` on the group-commit engine: one method, one transaction."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def create(self, account_id: str, subscription: NewSubscription, *, now: datetime) -> SubscriptionRecord:
        def write(tx: Transaction) -> SubscriptionRecord:
            init_fanout_mark(tx, account_id, latest_sequence(tx, account_id))
            return insert_subscription(
                tx,
                account_id=account_id,
                url=subscription.url,
                event_types=subscription.event_types,
                filter_expression=subscription.filter_expression,
                enabled=subscription.enabled,
                max_rps=subscription.max_rps,
                description=subscription.description,
                metadata=subscription.metadata,
                secret=subscription.secret,
                now=now,
            )

        return await self._db.write(write)

    async def get(self, account_id: str, subscription_id: str) -> SubscriptionRecord | None:
        return await self._db.read(lambda tx: get_subscription(tx, account_id, subscription_id))

    async def list_page(self, account_id: str, *, limit: int, before_seq: int | None) -> list[SubscriptionRecord]:
        return await self._db.read(lambda tx: list_subscriptions(tx, account_id, limit=limit, before_seq=before_seq))

    async def enabled(self, account_id: str) -> list[SubscriptionRecord]:
        return await self._db.read(lambda tx: enabled_subscriptions(tx, account_id))

    async def update(
        self, account_id: str, subscription_id: str, changes: Mapping[str, Any], *, now: datetime, discard_reason: str
    ) -> SubscriptionRecord | None:
        def write(tx: Transaction) -> SubscriptionRecord | None:
            updated = update_subscription(tx, account_id, subscription_id, changes, now=now)
            if updated is not None and not updated.enabled:
                discard_active(tx, account_id, subscription_id, reason=discard_reason, now=now)
            return updated

        return await self._db.write(write)

    async def delete(self, account_id: str, subscription_id: str, *, now: datetime, discard_reason: str) -> bool:
        def write(tx: Transaction) -> bool:
            deleted = delete_subscription(tx, account_id, subscription_id)
            if deleted:
                discard_active(tx, account_id, subscription_id, reason=discard_reason, now=now)
            return deleted

        return await self._db.write(write)

    async def rotate_secret(
        self, account_id: str, subscription_id: str, *, new_secret: str, overlap_until: datetime, now: datetime
    ) -> SubscriptionRecord | None:
        return await self._db.write(
            lambda tx: rotate_secret(
                tx, account_id, subscription_id, new_secret=new_secret, overlap_until=overlap_until, now=now
            )
        )
