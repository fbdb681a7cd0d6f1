"""Idempotency records on PostgreSQL (`IdempotencyStore`); `store_reply` also runs inside other areas' writes."""

from __future__ import annotations

from triggers_server.clock import isoformat
from triggers_server.storage.ports.idempotency import InFlightClaim, KeyedRequest, Reply, StoredResponse
from triggers_server.storage.postgres.engine import Conn, PgDatabase, affected
from triggers_server.storage.records import idempotency_row, stored_response

_UPSERT = (
    "INSERT INTO idempotency_keys (account_id, key, method, path, route, fingerprint, status_code, "
    "response_headers, response_body, resource_id, created_at, expires_at, replay_status) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) "
    "ON CONFLICT (account_id, key, method, path) DO UPDATE SET route = excluded.route, "
    "fingerprint = excluded.fingerprint, status_code = excluded.status_code, "
    "response_headers = excluded.response_headers, response_body = excluded.response_body, "
    "resource_id = excluded.resource_id, created_at = excluded.created_at, expires_at = excluded.expires_at, "
    "replay_status = excluded.replay_status"
)

_CLAIM = (
    "INSERT INTO idempotency_in_flight "
    "(account_id, key, method, path, fingerprint, token, created_at, lease_until) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8) "
    "ON CONFLICT (account_id, key, method, path) DO UPDATE SET fingerprint = excluded.fingerprint, "
    "token = excluded.token, created_at = excluded.created_at, lease_until = excluded.lease_until "
    "WHERE idempotency_in_flight.lease_until <= $9 RETURNING token"
)


async def store_reply(conn: Conn, keyed: KeyedRequest, reply: Reply) -> None:
    await conn.execute(_UPSERT, *idempotency_row(keyed, reply))


class PgIdempotencyStore:
    """`storage.ports.idempotency.IdempotencyStore` on PostgreSQL: one method, one transaction."""

    def __init__(self, db: PgDatabase) -> None:
        self._db = db

    async def claim(self, keyed: KeyedRequest, *, token: str, now: float, lease_until: float) -> bool:
        async def write(conn: Conn) -> bool:
            claimed = await conn.fetchval(
                _CLAIM,
                keyed.account_id,
                keyed.key,
                keyed.method,
                keyed.path,
                keyed.fingerprint,
                token,
                isoformat(keyed.created_at),
                lease_until,
                now,
            )
            return claimed is not None

        return await self._db.write(write)

    async def release(self, keyed: KeyedRequest, *, token: str) -> None:
        async def write(conn: Conn) -> None:
            await conn.execute(
                "DELETE FROM idempotency_in_flight"
                " WHERE account_id = $1 AND key = $2 AND method = $3 AND path = $4 AND token = $5",
                keyed.account_id,
                keyed.key,
                keyed.method,
                keyed.path,
                token,
            )

        await self._db.write(write)

    async def in_flight_for_key(self, account_id: str, key: str, now: float) -> InFlightClaim | None:
        async def read(conn: Conn) -> InFlightClaim | None:
            row = await conn.fetchrow(
                "SELECT account_id, key, method, path, fingerprint, created_at, lease_until"
                " FROM idempotency_in_flight WHERE account_id = $1 AND key = $2 AND lease_until > $3"
                " ORDER BY created_at DESC LIMIT 1",
                account_id,
                key,
                now,
            )
            return InFlightClaim(**dict(row)) if row else None

        return await self._db.read(read)

    async def lookup(self, account_id: str, key: str, method: str, path: str, now: float) -> StoredResponse | None:
        async def read(conn: Conn) -> StoredResponse | None:
            row = await conn.fetchrow(
                "SELECT * FROM idempotency_keys"
                " WHERE account_id = $1 AND key = $2 AND method = $3 AND path = $4 AND expires_at > $5",
                account_id,
                key,
                method,
                path,
                now,
            )
            return stored_response(row) if row else None

        return await self._db.read(read)

    async def latest_for_key(self, account_id: str, key: str, now: float) -> StoredResponse | None:
        async def read(conn: Conn) -> StoredResponse | None:
            row = await conn.fetchrow(
                "SELECT * FROM idempotency_keys"
                " WHERE account_id = $1 AND key = $2 AND expires_at > $3 ORDER BY created_at DESC LIMIT 1",
                account_id,
                key,
                now,
            )
            return stored_response(row) if row else None

        return await self._db.read(read)

    async def record(self, keyed: KeyedRequest, reply: Reply) -> None:
        await self._db.write(lambda conn: store_reply(conn, keyed, reply))

    async def purge_expired(self, now: float) -> int:
        async def write(conn: Conn) -> int:
            await conn.execute("DELETE FROM idempotency_in_flight WHERE lease_until <= $1", now)
            return affected(await conn.execute("DELETE FROM idempotency_keys WHERE expires_at <= $1", now))

        return await self._db.write(write)
