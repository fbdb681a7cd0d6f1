"""Operations and statistics on PostgreSQL (`StatsStore`); counts cover the whole deployment's database."""

from __future__ import annotations

from triggers_server.storage.ports.deliveries import ACTIVE_STATUSES
from triggers_server.storage.ports.stats import ActivityWindow, Backlog, BucketCount, ErrorCount, TypeCount
from triggers_server.storage.postgres.engine import Conn, PgDatabase

# A failed attempt's cause (ports.stats.ErrorCount): the status it was answered with, else the text of `error`
# before its first colon (`timeout` or the transport error's name, ports.deliveries.TIMEOUT_ERROR).
_CAUSE = (
    "CASE WHEN response_status IS NOT NULL THEN 'http_' || response_status"
    " WHEN strpos(error, ':') > 0 THEN split_part(error, ':', 1)"
    " ELSE coalesce(error, 'unknown') END"
)


async def backlog(conn: Conn, account_id: str | None) -> Backlog:
    if account_id is None:
        row = await conn.fetchrow(
            "SELECT (SELECT count(*) FROM inbox WHERE state IN ('pending', 'leased')) AS inbox,"
            " (SELECT count(*) FROM dlq_entries) AS dlq,"
            " (SELECT count(*) FROM deliveries WHERE status = ANY($1::text[])) AS deliveries",
            list(ACTIVE_STATUSES),
        )
    else:
        row = await conn.fetchrow(
            "SELECT (SELECT count(*) FROM inbox WHERE account_id = $1 AND state IN ('pending', 'leased')) AS inbox,"
            " (SELECT count(*) FROM dlq_entries WHERE account_id = $1) AS dlq,"
            " (SELECT count(*) FROM deliveries WHERE account_id = $1 AND status = ANY($2::text[])) AS deliveries",
            account_id,
            list(ACTIVE_STATUSES),
        )
    assert row is not None
    return Backlog(int(row["inbox"]), int(row["dlq"]), int(row["deliveries"]))


# The bucket of a stored RFC 3339 time: whole seconds since `start_epoch` over `bucket_seconds`, clamped into range.
_BUCKET = "LEAST(GREATEST((floor(extract(epoch FROM {column}::timestamptz))::bigint - $3) / $4, 0), $5)"


async def series(
    conn: Conn, account_id: str, *, since: str, start_epoch: int, bucket_seconds: int, buckets: int
) -> list[BucketCount]:
    """Per-bucket counts of events and delivery attempts (the same buckets as SQLite's `strftime('%s', …)`)."""
    args = (account_id, since, start_epoch, bucket_seconds, buckets - 1)
    events = await conn.fetch(
        f"SELECT {_BUCKET.format(column='created_at')} AS b, count(*) AS n FROM events"
        " WHERE account_id = $1 AND created_at >= $2 GROUP BY b",
        *args,
    )
    attempts = await conn.fetch(
        f"SELECT {_BUCKET.format(column='started_at')} AS b, count(*) AS n,"
        " count(*) FILTER (WHERE outcome = 'succeeded') AS ok"
        " FROM delivery_attempts WHERE account_id = $1 AND started_at >= $2 GROUP BY b",
        *args,
    )
    counts: dict[int, list[int]] = {}
    for row in events:
        counts.setdefault(int(row["b"]), [0, 0, 0])[0] = int(row["n"])
    for row in attempts:
        entry = counts.setdefault(int(row["b"]), [0, 0, 0])
        entry[1], entry[2] = int(row["n"]), int(row["ok"] or 0)
    return [BucketCount(index, *values) for index, values in sorted(counts.items())]


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
            errors = await conn.fetch(
                f"SELECT {_CAUSE} AS cause, count(*) AS n FROM delivery_attempts"
                " WHERE account_id = $1 AND started_at >= $2 AND outcome = 'failed'"
                " GROUP BY cause ORDER BY n DESC, cause LIMIT $3",
                account_id,
                since,
                top,
            )
            return ActivityWindow(
                events=int(total),
                top_types=tuple(TypeCount(row["type"], int(row["n"])) for row in types),
                attempts=int(attempts["total"] or 0),
                succeeded=int(attempts["ok"] or 0),
                errors=tuple(ErrorCount(row["cause"], int(row["n"])) for row in errors),
                backlog=await backlog(conn, account_id),
            )

        return await self._db.snapshot(read)

    async def series(
        self, account_id: str, *, since: str, start_epoch: int, bucket_seconds: int, buckets: int
    ) -> list[BucketCount]:
        return await self._db.snapshot(
            lambda conn: series(
                conn, account_id, since=since, start_epoch=start_epoch, bucket_seconds=bucket_seconds, buckets=buckets
            )
        )
