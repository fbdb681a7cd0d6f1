"""Idempotency records on SQLite (`IdempotencyStore`); `store_reply` also runs inside other areas' writes."""

from __future__ import annotations

from triggers_server.clock import isoformat
from triggers_server.storage.ports.idempotency import InFlightClaim, KeyedRequest, Reply, StoredResponse
from triggers_server.storage.records import idempotency_row, stored_response
from triggers_server.storage.sqlite.engine import Database, Transaction

_INSERT = (
    "INSERT OR REPLACE INTO idempotency_keys (account_id, key, method, path, route, fingerprint, status_code, "
    "response_headers, response_body, resource_id, created_at, expires_at, replay_status) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)

_CLAIM = (
    "INSERT INTO idempotency_in_flight "
    "(account_id, key, method, path, fingerprint, token, created_at, lease_until) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (account_id, key, method, path) DO UPDATE SET fingerprint = excluded.fingerprint, "
    "token = excluded.token, created_at = excluded.created_at, lease_until = excluded.lease_until "
    "WHERE idempotency_in_flight.lease_until <= ? RETURNING token"
)


def store_reply(tx: Transaction, keyed: KeyedRequest, reply: Reply) -> None:
    tx.execute(_INSERT, idempotency_row(keyed, reply))


def lookup(tx: Transaction, account_id: str, key: str, method: str, path: str, now: float) -> StoredResponse | None:
    row = tx.execute(
        "SELECT * FROM idempotency_keys"
        " WHERE account_id = ? AND key = ? AND method = ? AND path = ? AND expires_at > ?",
        (account_id, key, method, path, now),
    ).fetchone()
    return stored_response(row) if row else None


def latest_for_key(tx: Transaction, account_id: str, key: str, now: float) -> StoredResponse | None:
    row = tx.execute(
        "SELECT * FROM idempotency_keys"
        " WHERE account_id = ? AND key = ? AND expires_at > ? ORDER BY created_at DESC LIMIT 1",
        (account_id, key, now),
    ).fetchone()
    return stored_response(row) if row else None


def claim(tx: Transaction, keyed: KeyedRequest, token: str, now: float, lease_until: float) -> bool:
    row = tx.execute(
        _CLAIM,
        (
            keyed.account_id,
            keyed.key,
            keyed.method,
            keyed.path,
            keyed.fingerprint,
            token,
            isoformat(keyed.created_at),
            lease_until,
            now,
        ),
    ).fetchone()
    return row is not None


def release(tx: Transaction, keyed: KeyedRequest, token: str) -> None:
    tx.execute(
        "DELETE FROM idempotency_in_flight WHERE account_id = ? AND key = ? AND method = ? AND path = ? AND token = ?",
        (keyed.account_id, keyed.key, keyed.method, keyed.path, token),
    )


def in_flight_for_key(tx: Transaction, account_id: str, key: str, now: float) -> InFlightClaim | None:
    row = tx.execute(
        "SELECT account_id, key, method, path, fingerprint, created_at, lease_until FROM idempotency_in_flight"
        " WHERE account_id = ? AND key = ? AND lease_until > ? ORDER BY created_at DESC LIMIT 1",
        (account_id, key, now),
    ).fetchone()
    return InFlightClaim(**{name: row[name] for name in row.keys()}) if row else None


def purge_expired(tx: Transaction, now: float) -> int:
    tx.execute("DELETE FROM idempotency_in_flight WHERE lease_until <= ?", (now,))
    return tx.execute("DELETE FROM idempotency_keys WHERE expires_at <= ?", (now,)).rowcount


class SqliteIdempotencyStore:
    """`storage.ports.idempotency.IdempotencyStore` on the group-commit engine: one method, one transaction."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def claim(self, keyed: KeyedRequest, *, token: str, now: float, lease_until: float) -> bool:
        return await self._db.write(lambda tx: claim(tx, keyed, token, now, lease_until))

    async def release(self, keyed: KeyedRequest, *, token: str) -> None:
        await self._db.write(lambda tx: release(tx, keyed, token))

    async def in_flight_for_key(self, account_id: str, key: str, now: float) -> InFlightClaim | None:
        return await self._db.read(lambda tx: in_flight_for_key(tx, account_id, key, now))

    async def lookup(self, account_id: str, key: str, method: str, path: str, now: float) -> StoredResponse | None:
        return await self._db.read(lambda tx: lookup(tx, account_id, key, method, path, now))

    async def latest_for_key(self, account_id: str, key: str, now: float) -> StoredResponse | None:
        return await self._db.read(lambda tx: latest_for_key(tx, account_id, key, now))

    async def record(self, keyed: KeyedRequest, reply: Reply) -> None:
        await self._db.write(lambda tx: store_reply(tx, keyed, reply))

    async def purge_expired(self, now: float) -> int:
        return await self._db.write(lambda tx: purge_expired(tx, now))
