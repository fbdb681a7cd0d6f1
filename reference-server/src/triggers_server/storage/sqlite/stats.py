"""Operations and statistics on SQLite (`StatsStore`)."""

from __future__ import annotations

from triggers_server.storage.ports.deliveries import ACTIVE_STATUSES
from triggers_server.storage.ports.stats import ActivityWindow, Backlog, BucketCount, ErrorCount, TypeCount
from triggers_server.storage.sqlite.engine import Database, Transaction

# A failed attempt's cause (ports.stats.ErrorCount): the status it was answered with, else the text of `error`
# before its first colon (`timeout` or the transport error's name, ports.deliveries.TIMEOUT_ERROR).
_CAUSE = (
    "CASE WHEN response_status IS NOT NULL THEN 'http_' || response_status"
    " WHEN instr(error, ':') > 0 THEN substr(error, 1, instr(error, ':') - 1)"
    " ELSE coalesce(error, 'unknown') END"
)
_ACTIVE = ", ".join(f"'{status}'" for status in ACTIVE_STATUSES)


def ping(tx: Transaction) -> None:
    tx.execute("SELECT 1").fetchone()


def backlog(tx: Transaction, account_id: str | None) -> Backlog:
    where, params = ("WHERE account_id = ?", (account_id,)) if account_id else ("", ())
    inbox = tx.execute(
        f"SELECT count(*) FROM inbox {where} {'AND' if where else 'WHERE'} state IN ('pending', 'leased')",
        params,
    ).fetchone()[0]
    dlq = tx.execute(f"SELECT count(*) FROM dlq_entries {where}", params).fetchone()[0]
    deliveries = tx.execute(
        f"SELECT count(*) FROM deliveries {where} {'AND' if where else 'WHERE'} status IN ({_ACTIVE})", params
    ).fetchone()[0]
    return Backlog(int(inbox), int(dlq), int(deliveries))


def activity(tx: Transaction, account_id: str, *, since: str, top: int) -> ActivityWindow:
    total = tx.execute(
        "SELECT count(*) FROM events WHERE account_id = ? AND created_at >= ?", (account_id, since)
    ).fetchone()[0]
    types = tx.execute(
        "SELECT type, count(*) AS n FROM events"
        " WHERE account_id = ? AND created_at >= ? GROUP BY type ORDER BY n DESC, type LIMIT ?",
        (account_id, since, top),
    ).fetchall()
    attempts = tx.execute(
        "SELECT count(*), sum(outcome = 'succeeded') FROM delivery_attempts WHERE account_id = ? AND started_at >= ?",
        (account_id, since),
    ).fetchone()
    errors = tx.execute(
        f"SELECT {_CAUSE} AS cause, count(*) AS n FROM delivery_attempts"
        " WHERE account_id = ? AND started_at >= ? AND outcome = 'failed'"
        " GROUP BY cause ORDER BY n DESC, cause LIMIT ?",
        (account_id, since, top),
    ).fetchall()
    return ActivityWindow(
        events=int(total),
        top_types=tuple(TypeCount(row["type"], int(row["n"])) for row in types),
        attempts=int(attempts[0] or 0),
        succeeded=int(attempts[1] or 0),
        errors=tuple(ErrorCount(row["cause"], int(row["n"])) for row in errors),
        backlog=backlog(tx, account_id),
    )


def series(
    tx: Transaction, account_id: str, *, since: str, start_epoch: int, bucket_seconds: int, buckets: int
) -> list[BucketCount]:
    """Per-bucket counts, from whole seconds of the stored RFC 3339 times (`strftime('%s', …)`)."""
    bucket = "min(max((CAST(strftime('%s', {column}) AS INTEGER) - ?) / ?, 0), ?)"
    events = tx.execute(
        f"SELECT {bucket.format(column='created_at')} AS b, count(*) AS n FROM events"
        " WHERE account_id = ? AND created_at >= ? GROUP BY b",
        (start_epoch, bucket_seconds, buckets - 1, account_id, since),
    ).fetchall()
    attempts = tx.execute(
        f"SELECT {bucket.format(column='started_at')} AS b, count(*) AS n, sum(outcome = 'succeeded') AS ok"
        " FROM delivery_attempts WHERE account_id = ? AND started_at >= ? GROUP BY b",
        (start_epoch, bucket_seconds, buckets - 1, account_id, since),
    ).fetchall()
    counts: dict[int, list[int]] = {}
    for row in events:
        counts.setdefault(int(row["b"]), [0, 0, 0])[0] = int(row["n"])
    for row in attempts:
        entry = counts.setdefault(int(row["b"]), [0, 0, 0])
        entry[1], entry[2] = int(row["n"]), int(row["ok"] or 0)
    return [BucketCount(index, *values) for index, values in sorted(counts.items())]


class SqliteStatsStore:
    """`storage.ports.stats.StatsStore` on the engine's readers: one method, one read snapshot."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def ping(self) -> None:
        await self._db.read(ping)

    async def backlog(self, account_id: str | None) -> Backlog:
        return await self._db.read(lambda tx: backlog(tx, account_id))

    async def activity(self, account_id: str, *, since: str, top: int) -> ActivityWindow:
        return await self._db.read(lambda tx: activity(tx, account_id, since=since, top=top))

    async def series(
        self, account_id: str, *, since: str, start_epoch: int, bucket_seconds: int, buckets: int
    ) -> list[BucketCount]:
        return await self._db.read(
            lambda tx: series(
                tx, account_id, since=since, start_epoch=start_epoch, bucket_seconds=bucket_seconds, buckets=buckets
            )
        )
