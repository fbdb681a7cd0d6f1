"""Operations and statistics on PostgreSQL (`StatsStore`); counts cover the whole deployment's database."""

from __future__ import annotations

from triggers_server.storage.ports.stats import ActivityWindow, Backlog, TypeCount
from triggers_server.storage.postgres.engine import Conn, PgDatabase


async def backlog(conn: Conn, account_id: str | None) -> Backlog:
    if account_id is None:
        row = await conn.fetchrow(
            "SELECT (SELECT count(*) FROM inbox WHERE state IN ('pending', 'leased')) AS inbox,"
            " (SELECT count(*) FROM dlq_entries) AS dlq"
        )
    else:
        row = await conn.fetchrow(
            "SELECT (SELECT count(*) FROM inbox WHERE account_id = $1 AND state IN ('pending', 'leased')) AS inbox,"
            " (SELECT count(*) FROM dlq_entries WHERE account_id = $1) AS dlq",
            account_id,
        )
    assert row is not None
    return Backlog(int(row["inbox"]), int(row["dlq"]))


class PgStatsStore:
    """`storage.ports.stats.StatsStore` on PostgreSQL: one method, one read snapshot."""

    def __init__(self, db: PgDatabase) -> None:
        self._db = db

    async def ping(self) -> None:
        async def read(conn: Conn) -> None:
            await conn.fetchval("SELECT 1")

        await self._db.read(read)

    async def backlog(self, account_id: str | None) -> Backlog:
        return await self._db.read(lambda conn: backlog(conn, account_id))

    async def activity(self, account_id: str, *, since: str, top: int) -> ActivityWindow:
        async def read(conn: Conn) -> ActivityWindow:
            total = await conn.fetchval(
                "SELECT count(*) FROM events WHERE account_id = $1 AND created_at >= $2", account_id, since
            )
            types = await conn.fetch(
                "SELECT type, count(*) AS n FROM events WHERE account_id = $1 AND created_at >= $2"
                " GROUP BY type ORDER BY n DESC, type LIMIT $3",
                account_id,
                since,
                top,
            )
            attempts = await conn.fetchrow(
                "SELECT count(*) AS total, count(*) FILTER (WHERE outcome = 'succeeded') AS ok"
                " FROM delivery_attempts WHERE account_id = $1 AND started_at >= $2",
                account_id,
                since,
            )
            assert attempts is not None
            return ActivityWindow(
                events=int(total),
                top_types=tuple(TypeCount(row["type"], int(row["n"])) for row in types),
                attempts=int(attempts["total"] or 0),
                succeeded=int(attempts["ok"] or 0),
                backlog=await backlog(conn, account_id),
            )

        return await self._db.snapshot(read)
