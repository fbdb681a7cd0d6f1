"""Accounts and API keys on PostgreSQL (`AccountStore`). Keys are stored only as SHA-256 hashes."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime

from triggers_server.clock import isoformat
from triggers_server.ids import hash_key, new_api_key_secret, new_id
from triggers_server.storage.ports.accounts import AccountRecord, ApiKeyRecord, BootstrapOutcome
from triggers_server.storage.postgres.engine import Conn, PgDatabase, texts
from triggers_server.storage.records import account_record, api_key_record

BOOTSTRAP_LOCK = 0x7472_6969  # serialises ensure_bootstrap_key between instances starting together


async def create_account(conn: Conn, *, name: str, max_deliveries: int, now: datetime) -> AccountRecord:
    account_id = new_id("acct")
    await conn.execute(
        "INSERT INTO accounts (id, name, max_deliveries, created_at) VALUES ($1, $2, $3, $4)",
        account_id,
        name,
        max_deliveries,
        isoformat(now),
    )
    return AccountRecord(account_id, name, max_deliveries, isoformat(now), 0)


async def create_api_key(
    conn: Conn,
    *,
    account_id: str,
    name: str,
    scopes: tuple[str, ...],
    now: datetime,
    secret: str | None = None,
    bootstrap: bool = False,
) -> tuple[ApiKeyRecord, str]:
    plaintext = secret or new_api_key_secret()
    key_id = new_id("key")
    prefix = plaintext[:7]
    await conn.execute(
        "INSERT INTO api_keys (id, account_id, name, prefix, key_hash, scopes, bootstrap, created_at)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        key_id,
        account_id,
        name,
        prefix,
        hash_key(plaintext),
        json.dumps(list(scopes)),
        int(bootstrap),
        isoformat(now),
    )
    return ApiKeyRecord(key_id, account_id, name, prefix, scopes, isoformat(now), None, bootstrap), plaintext


async def _count(conn: Conn, sql: str, *args: object) -> int:
    return int(await conn.fetchval(sql, *args))


_ACCOUNT_WITH_USAGE = (
    "SELECT a.*,"
    " (SELECT count(*) FROM events WHERE account_id = $1) AS events_total,"
    " (SELECT count(*) FROM events WHERE account_id = $1 AND created_at >= $2) AS events_today,"
    " (SELECT count(*) FROM inbox WHERE account_id = $1 AND state IN ('pending', 'leased')) AS inbox_depth,"
    " (SELECT count(*) FROM dlq_entries WHERE account_id = $1) AS dlq_depth,"
    " (SELECT count(*) FROM subscriptions WHERE account_id = $1) AS subscriptions"
    " FROM (SELECT 1) AS one LEFT JOIN accounts a ON a.id = $1"
)
_USAGE = ("events_total", "events_today", "inbox_depth", "dlq_depth", "subscriptions")


async def ensure_bootstrap_key(
    conn: Conn, *, secret: str | None, max_deliveries: int, now: datetime
) -> BootstrapOutcome | None:
    """As on SQLite: a given key joins the bootstrap account (idempotently); with no key and an empty
    database a fresh one is generated. Serialised across instances by an advisory lock."""
    await conn.execute("SELECT pg_advisory_xact_lock($1)", BOOTSTRAP_LOCK)
    existing: str | None = None
    if secret is not None:
        if await conn.fetchval("SELECT 1 FROM api_keys WHERE key_hash = $1", hash_key(secret)):
            return None
        existing = await conn.fetchval(
            "SELECT account_id FROM api_keys WHERE bootstrap = 1 ORDER BY created_at, id LIMIT 1"
        )
        if existing is None:
            existing = await conn.fetchval("SELECT id FROM accounts ORDER BY created_at, id LIMIT 1")
    elif await _count(conn, "SELECT count(*) FROM api_keys") > 0:
        return None
    account_id = existing or (await create_account(conn, name="default", max_deliveries=max_deliveries, now=now)).id
    _, plaintext = await create_api_key(
        conn,
        account_id=account_id,
        name="bootstrap admin",
        scopes=("admin",),
        now=now,
        secret=secret,
        bootstrap=True,
    )
    return BootstrapOutcome(account_id, plaintext if secret is None else None, attached=existing is not None)


class PgAccountStore:
    """`storage.ports.accounts.AccountStore` on PostgreSQL: one method, one transaction."""

    def __init__(self, db: PgDatabase) -> None:
        self._db = db

    async def account_with_usage(
        self, account_id: str, *, day_start: str
    ) -> tuple[AccountRecord | None, dict[str, int]]:
        async def read(conn: Conn) -> tuple[AccountRecord | None, dict[str, int]]:
            row = await conn.fetchrow(_ACCOUNT_WITH_USAGE, account_id, day_start)  # one statement, one snapshot
            assert row is not None
            account = account_record(row) if row["id"] is not None else None
            return account, {name: int(row[name]) for name in _USAGE}

        return await self._db.read(read)

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
        async def write(conn: Conn) -> tuple[ApiKeyRecord, str]:
            owner = account_id
            if new_account is not None:
                owner = (await create_account(conn, name=new_account, max_deliveries=max_deliveries, now=now)).id
            return await create_api_key(conn, account_id=owner, name=name, scopes=scopes, now=now)

        return await self._db.write(write)

    async def find_active_key(self, key_hash: str) -> ApiKeyRecord | None:
        async def read(conn: Conn) -> ApiKeyRecord | None:
            row = await conn.fetchrow("SELECT * FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL", key_hash)
            return api_key_record(row) if row else None

        return await self._db.read(read)

    async def bootstrap_account_id(self) -> str | None:
        async def read(conn: Conn) -> str | None:
            value = await conn.fetchval(
                "SELECT account_id FROM api_keys WHERE bootstrap = 1 ORDER BY created_at LIMIT 1"
            )
            return None if value is None else str(value)

        return await self._db.read(read)

    async def list_keys(self, account_id: str, *, limit: int, after_id: str | None) -> list[ApiKeyRecord]:
        async def read(conn: Conn) -> list[ApiKeyRecord]:
            rows = await conn.fetch(
                "SELECT * FROM api_keys WHERE account_id = $1 AND revoked_at IS NULL AND id > $2 ORDER BY id LIMIT $3",
                account_id,
                after_id or "",
                limit,
            )
            return [api_key_record(row) for row in rows]

        return await self._db.read(read)

    async def revoke_key(self, account_id: str, key_id: str, now: datetime) -> str | None:
        async def write(conn: Conn) -> str | None:
            value = await conn.fetchval(
                "UPDATE api_keys SET revoked_at = $3 WHERE id = $1 AND account_id = $2 AND revoked_at IS NULL"
                " RETURNING key_hash",
                key_id,
                account_id,
                isoformat(now),
            )
            return None if value is None else str(value)

        return await self._db.write(write)

    async def record_last_used(self, used: Mapping[str, datetime]) -> None:
        async def write(conn: Conn) -> None:
            await conn.execute(
                "UPDATE api_keys k SET last_used_at = GREATEST(coalesce(k.last_used_at, ''), u.stamp)"
                " FROM unnest($1::text[], $2::text[]) AS u(id, stamp) WHERE k.id = u.id",
                texts(list(used)),
                texts([isoformat(moment) for moment in used.values()]),
            )

        await self._db.write(write)

    async def ensure_bootstrap_key(
        self, *, secret: str | None, max_deliveries: int, now: datetime
    ) -> BootstrapOutcome | None:
        return await self._db.write(
            lambda conn: ensure_bootstrap_key(conn, secret=secret, max_deliveries=max_deliveries, now=now)
        )
