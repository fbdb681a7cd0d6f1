"""Accounts and API keys. Keys are stored only as SHA-256 hashes; the secret is shown once at creation."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from dataclasses import dataclass
from datetime import datetime

from triggers_server.clock import isoformat
from triggers_server.ids import new_api_key_secret, new_id

ALL_SCOPES: tuple[str, ...] = (
    "events:write",
    "events:read",
    "inbox:consume",
    "subscriptions:manage",
    "schemas:manage",
    "admin",
)


def hash_key(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class AccountRecord:
    id: str
    name: str
    max_deliveries: int
    created_at: str
    purged_through_seq: int


@dataclass(frozen=True)
class ApiKeyRecord:
    id: str
    account_id: str
    name: str
    prefix: str
    scopes: tuple[str, ...]
    created_at: str
    revoked_at: str | None
    bootstrap: bool = False
    last_used_at: str | None = None


def _account(row: sqlite3.Row) -> AccountRecord:
    return AccountRecord(row["id"], row["name"], row["max_deliveries"], row["created_at"], row["purged_through_seq"])


def _key(row: sqlite3.Row) -> ApiKeyRecord:
    return ApiKeyRecord(
        id=row["id"],
        account_id=row["account_id"],
        name=row["name"],
        prefix=row["prefix"],
        scopes=tuple(json.loads(row["scopes"])),
        created_at=row["created_at"],
        revoked_at=row["revoked_at"],
        bootstrap=bool(row["bootstrap"]),
        last_used_at=row["last_used_at"],
    )


def create_account(conn: sqlite3.Connection, *, name: str, max_deliveries: int, now: datetime) -> AccountRecord:
    account_id = new_id("acct")
    conn.execute(
        "INSERT INTO accounts (id, name, max_deliveries, created_at) VALUES (?, ?, ?, ?)",
        (account_id, name, max_deliveries, isoformat(now)),
    )
    return AccountRecord(account_id, name, max_deliveries, isoformat(now), 0)


def get_account(conn: sqlite3.Connection, account_id: str) -> AccountRecord | None:
    row = conn.execute("SELECT * FROM accounts WHERE id = ?", (account_id,)).fetchone()
    return _account(row) if row else None


def create_api_key(
    conn: sqlite3.Connection,
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
    conn.execute(
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


def find_active_key(conn: sqlite3.Connection, key_hash: str) -> ApiKeyRecord | None:
    row = conn.execute("SELECT * FROM api_keys WHERE key_hash = ? AND revoked_at IS NULL", (key_hash,)).fetchone()
    return _key(row) if row else None


def get_api_key(conn: sqlite3.Connection, account_id: str, key_id: str) -> ApiKeyRecord | None:
    row = conn.execute("SELECT * FROM api_keys WHERE id = ? AND account_id = ?", (key_id, account_id)).fetchone()
    return _key(row) if row else None


def list_api_keys(conn: sqlite3.Connection, account_id: str, *, limit: int, after_id: str | None) -> list[ApiKeyRecord]:
    rows = conn.execute(
        "SELECT * FROM api_keys WHERE account_id = ? AND revoked_at IS NULL AND id > ? ORDER BY id LIMIT ?",
        (account_id, after_id or "", limit),
    ).fetchall()
    return [_key(row) for row in rows]


def revoke_api_key(conn: sqlite3.Connection, account_id: str, key_id: str, now: datetime) -> str | None:
    """Revoke an active key; returns its hash (to evict from caches) or None when absent."""
    row = conn.execute(
        "SELECT key_hash FROM api_keys WHERE id = ? AND account_id = ? AND revoked_at IS NULL",
        (key_id, account_id),
    ).fetchone()
    if row is None:
        return None
    conn.execute("UPDATE api_keys SET revoked_at = ? WHERE id = ?", (isoformat(now), key_id))
    return str(row["key_hash"])


def record_last_used(conn: sqlite3.Connection, used: dict[str, datetime]) -> None:
    for key_id, moment in used.items():
        conn.execute(
            "UPDATE api_keys SET last_used_at = max(coalesce(last_used_at, ''), ?) WHERE id = ?",
            (isoformat(moment), key_id),
        )


def account_usage(conn: sqlite3.Connection, account_id: str, *, day_start: str) -> dict[str, int]:
    def count(sql: str, *params: object) -> int:
        return int(conn.execute(sql, params).fetchone()[0])

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


def count_keys(conn: sqlite3.Connection) -> int:
    return int(conn.execute("SELECT count(*) FROM api_keys").fetchone()[0])


@dataclass(frozen=True)
class BootstrapOutcome:
    """What start-up did to give the operator an admin key (None from `ensure_bootstrap_key`: nothing)."""

    account_id: str
    generated_key: str | None  # a fresh key, to be shown once
    attached: bool  # the given key joined the existing bootstrap account instead of founding one


def _bootstrap_account(conn: sqlite3.Connection) -> str | None:
    """The account the first bootstrap key founded, else the oldest account."""
    row = conn.execute("SELECT account_id FROM api_keys WHERE bootstrap = 1 ORDER BY created_at, id LIMIT 1").fetchone()
    if row is None:
        row = conn.execute("SELECT id FROM accounts ORDER BY created_at, id LIMIT 1").fetchone()
    return str(row[0]) if row is not None else None


def ensure_bootstrap_key(
    conn: sqlite3.Connection, *, secret: str | None, max_deliveries: int, now: datetime
) -> BootstrapOutcome | None:
    """Make sure an admin key exists. With `secret`, that key is registered (idempotently): on a database
    that already has an account it joins the bootstrap account, so the data stays in reach. Without one and
    with an empty database, a fresh key is generated and returned so the CLI can print it once."""
    existing: str | None = None
    if secret is not None:
        if conn.execute("SELECT 1 FROM api_keys WHERE key_hash = ?", (hash_key(secret),)).fetchone():
            return None
        existing = _bootstrap_account(conn)
    elif count_keys(conn) > 0:
        return None
    account_id = existing or create_account(conn, name="default", max_deliveries=max_deliveries, now=now).id
    _, plaintext = create_api_key(
        conn,
        account_id=account_id,
        name="bootstrap admin",
        scopes=("admin",),
        now=now,
        secret=secret,
        bootstrap=True,
    )
    return BootstrapOutcome(account_id, plaintext if secret is None else None, attached=existing is not None)
