"""Accounts and API keys on SQLite (`AccountStore`). Keys are stored only as SHA-256 hashes."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime

from triggers_server.clock import isoformat
from triggers_server.ids import hash_key, new_api_key_secret, new_id
from triggers_server.storage.ports.accounts import AccountRecord, ApiKeyRecord, BootstrapOutcome
from triggers_server.storage.records import account_record, api_key_record
from triggers_server.storage.sqlite.engine import Database, Transaction


def create_account(tx: Transaction, *, name: str, max_deliveries: int, now: datetime) -> AccountRecord:
    account_id = new_id("acct")
    tx.execute(
        "INSERT INTO accounts (id, name, max_deliveries, created_at) VALUES (?, ?, ?, ?)",
        (account_id, name, max_deliveries, isoformat(now)),
    )
    return AccountRecord(account_id, name, max_deliveries, isoformat(now), 0)


def get_account(tx: Transaction, account_id: str) -> AccountRecord | None:
    row = tx.execute("SELECT * FROM accounts WHERE id = ?", (account_id,)).fetchone()
    return account_record(row) if row else None


def create_api_key(
    tx: Transaction,
    *,
    account_id: str,
    name: str,
    scopes: tuple[str, ...],
    now: datetime,
    secret: str | None = None,
    bootstrap: bool = False,
) -> tuple[ApiKeyRecord, str]:
    """Insert a key; returns the record and the plaintext secret (never stored)."""
    plaintext = secret or new_api_key_secret()
    key_id = new_id("key")
    prefix = plaintext[:7]
    tx.execute(
        "INSERT INTO api_keys (id, account_id, name, prefix, key_hash, scopes, bootstrap, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            key_id,
            account_id,
            name,
            prefix,
            hash_key(plaintext),
            json.dumps(list(scopes)),
            int(bootstrap),
            isoformat(now),
        ),
    )
    record = ApiKeyRecord(key_id, account_id, name, prefix, scopes, isoformat(now), None, bootstrap)
    return record, plaintext


def find_active_key(tx: Transaction, key_hash: str) -> ApiKeyRecord | None:
    row = tx.execute("SELECT * FROM api_keys WHERE key_hash = ? AND revoked_at IS NULL", (key_hash,)).fetchone()
    return api_key_record(row) if row else None


def bootstrap_account_id(tx: Transaction) -> str | None:
    row = tx.execute("SELECT account_id FROM api_keys WHERE bootstrap = 1 ORDER BY created_at LIMIT 1").fetchone()
    return None if row is None else str(row["account_id"])


def get_api_key(tx: Transaction, account_id: str, key_id: str) -> ApiKeyRecord | None:
    row = tx.execute("SELECT * FROM api_keys WHERE id = ? AND account_id = ?", (key_id, account_id)).fetchone()
    return api_key_record(row) if row else None


def list_api_keys(tx: Transaction, account_id: str, *, limit: int, after_id: str | None) -> list[ApiKeyRecord]:
    rows = tx.execute(
        "SELECT * FROM api_keys WHERE account_id = ? AND revoked_at IS NULL AND id > ? ORDER BY id LIMIT ?",
        (account_id, after_id or "", limit),
    ).fetchall()
    return [api_key_record(row) for row in rows]


def revoke_api_key(tx: Transaction, account_id: str, key_id: str, now: datetime) -> str | None:
    """Revoke an active key; returns its hash (to evict from caches) or None when absent."""
    row = tx.execute(
        "SELECT key_hash FROM api_keys WHERE id = ? AND account_id = ? AND revoked_at IS NULL",
        (key_id, account_id),
    ).fetchone()
    if row is None:
        return None
    tx.execute("UPDATE api_keys SET revoked_at = ? WHERE id = ?", (isoformat(now), key_id))
    return str(row["key_hash"])


def record_last_used(tx: Transaction, used: Mapping[str, datetime]) -> None:
    for key_id, moment in used.items():
        tx.execute(
            "UPDATE api_keys SET last_used_at = max(coalesce(last_used_at, ''), ?) WHERE id = ?",
            (isoformat(moment), key_id),
        )


def account_usage(tx: Transaction, account_id: str, *, day_start: str) -> dict[str, int]:
    def count(sql: str, *params: object) -> int:
        return int(tx.execute(sql, params).fetchone()[0])

    return {
        "events_total": count("SELECT count(*) FROM events WHERE account_id = ?", account_id),
        "events_today": count(
            "SELECT count(*) FROM events WHERE account_id = ? AND created_at >= ?", account_id, day_start
        ),
        "inbox_depth": count(
            "SELECT count(*) FROM inbox WHERE account_id = ? AND state IN ('pending', 'leased')", account_id
        ),
        "dlq_depth": count("SELECT count(*) FROM dlq_entries WHERE account_id = ?", account_id),
        "subscriptions": count("SELECT count(*) FROM subscriptions WHERE account_id = ?", account_id),
    }


def count_keys(tx: Transaction) -> int:
    return int(tx.execute("SELECT count(*) FROM api_keys").fetchone()[0])


def _bootstrap_account(tx: Transaction) -> str | None:
    """The account the first bootstrap key founded, else the oldest account."""
    row = tx.execute("SELECT account_id FROM api_keys WHERE bootstrap = 1 ORDER BY created_at, id LIMIT 1").fetchone()
    if row is None:
        row = tx.execute("SELECT id FROM accounts ORDER BY created_at, id LIMIT 1").fetchone()
    return str(row[0]) if row is not None else None


def ensure_bootstrap_key(
    tx: Transaction, *, secret: str | None, max_deliveries: int, now: datetime
) -> BootstrapOutcome | None:
    """Make sure an admin key exists. With `secret`, that key is registered (idempotently): on a database
    that already has an account it joins the bootstrap account, so the data stays in reach. Without one and
    with an empty database, a fresh key is generated and returned so the CLI can print it once."""
    existing: str | None = None
    if secret is not None:
        if tx.execute("SELECT 1 FROM api_keys WHERE key_hash = ?", (hash_key(secret),)).fetchone():
            return None
        existing = _bootstrap_account(tx)
    elif count_keys(tx) > 0:
        return None
    account_id = existing or create_account(tx, name="default", max_deliveries=max_deliveries, now=now).id
    _, plaintext = create_api_key(
        tx,
        account_id=account_id,
        name="bootstrap admin",
        scopes=("admin",),
        now=now,
        secret=secret,
        bootstrap=True,
    )
    return BootstrapOutcome(account_id, plaintext if secret is None else None, attached=existing is not None)


class SqliteAccountStore:
    """`storage.ports.accounts.AccountStore` on the group-commit engine: one method, one transaction."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def account_with_usage(
        self, account_id: str, *, day_start: str
    ) -> tuple[AccountRecord | None, dict[str, int]]:
        return await self._db.read(
            lambda tx: (get_account(tx, account_id), account_usage(tx, account_id, day_start=day_start))
        )

    async def create_key(
        self,
        *,
        account_id: str,
        new_account: str | None,
        max_deliveries: int,
        name: str,
        scopes: tuple[str, ...],
        now: datetime,
    ) -> tuple[ApiKeyRecord, str]:
        def write(tx: Transaction) -> tuple[ApiKeyRecord, str]:
            owner = account_id
            if new_account is not None:
                owner = create_account(tx, name=new_account, max_deliveries=max_deliveries, now=now).id
            return create_api_key(tx, account_id=owner, name=name, scopes=scopes, now=now)

        return await self._db.write(write)

    async def find_active_key(self, key_hash: str) -> ApiKeyRecord | None:
        return await self._db.read(lambda tx: find_active_key(tx, key_hash))

    async def bootstrap_account_id(self) -> str | None:
        return await self._db.read(bootstrap_account_id)

    async def list_keys(self, account_id: str, *, limit: int, after_id: str | None) -> list[ApiKeyRecord]:
        return await self._db.read(lambda tx: list_api_keys(tx, account_id, limit=limit, after_id=after_id))

    async def revoke_key(self, account_id: str, key_id: str, now: datetime) -> str | None:
        return await self._db.write(lambda tx: revoke_api_key(tx, account_id, key_id, now))

    async def record_last_used(self, used: Mapping[str, datetime]) -> None:
        await self._db.write(lambda tx: record_last_used(tx, used))

    async def ensure_bootstrap_key(
        self, *, secret: str | None, max_deliveries: int, now: datetime
    ) -> BootstrapOutcome | None:
        return await self._db.write(
            lambda tx: ensure_bootstrap_key(tx, secret=secret, max_deliveries=max_deliveries, now=now)
        )
