"""Replay job rows on PostgreSQL (`ReplayStore`): time range, selection, target, patch, status, progress, and
the copies a job stores (through the grouped ingest transaction, so copies get stream sequences in commit
order like any event)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from triggers_server.clock import isoformat
from triggers_server.ids import new_id
from triggers_server.storage.ports.deliveries import NewDelivery, PayloadOf
from triggers_server.storage.ports.events import EventDraft
from triggers_server.storage.ports.replays import ACTIVE, FINAL, RUNNING, STARTING, NewReplay, ReplayRecord
from triggers_server.storage.postgres.deliveries import advance_fanout_mark, insert_deliveries
from triggers_server.storage.postgres.engine import Conn, IngestContext, PgDatabase, Sql, affected
from triggers_server.storage.postgres.events import events_in_range, get_event, insert_event
from triggers_server.storage.records import replay_record


async def get_replay(conn: Conn, account_id: str, replay_id: str) -> ReplayRecord | None:
    row = await conn.fetchrow("SELECT * FROM replays WHERE account_id = $1 AND id = $2", account_id, replay_id)
    return replay_record(row) if row is not None else None


class PgReplayStore:
    """`storage.ports.replays.ReplayStore` on PostgreSQL: one method, one transaction."""

    def __init__(self, db: PgDatabase) -> None:
        self._db = db

    async def get_event(self, account_id: str, event_id: str, *, now: datetime) -> dict[str, Any] | None:
        return await self._db.read(lambda conn: get_event(conn, account_id, event_id, now))

    async def store_copy(
        self,
        account_id: str,
        draft: EventDraft,
        *,
        inbox: bool,
        subscription_ids: Sequence[str],
        payload_of: PayloadOf,
        now: datetime,
        due_at: datetime,
    ) -> tuple[dict[str, Any], list[str]]:
        async def write(conn: Conn, context: IngestContext) -> tuple[dict[str, Any], list[str]]:
            event = await insert_event(conn, context, account_id, draft, now, inbox=inbox)
            planned = [NewDelivery(event["id"], event["type"], sid, payload_of(event)) for sid in subscription_ids]
            ids = await insert_deliveries(conn, account_id, planned, now=now, due_at=due_at)
            await advance_fanout_mark(conn, account_id, int(event["sequence"]))  # routed here, not by catch-up
            return event, ids

        return await self._db.ingest(write)

    async def create(self, account_id: str, replay: NewReplay, *, now: datetime) -> ReplayRecord:
        async def write(conn: Conn) -> ReplayRecord:
            replay_id = new_id("rpl")
            await conn.execute(
                "INSERT INTO replays (id, account_id, name, range_from, range_to, event_types, filter, target, "
                "data_patch, dry_run, status, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
                replay_id,
                account_id,
                replay.name,
                isoformat(replay.range_from),
                isoformat(replay.range_to),
                json.dumps(replay.event_types),
                json.dumps(replay.filter_expression) if replay.filter_expression is not None else None,
                json.dumps(replay.target),
                json.dumps(replay.data_patch) if replay.data_patch is not None else None,
                int(replay.dry_run),
                STARTING,
                isoformat(now),
            )
            found = await get_replay(conn, account_id, replay_id)
            assert found is not None
            return found

        return await self._db.write(write)

    async def get(self, account_id: str, replay_id: str) -> ReplayRecord | None:
        return await self._db.read(lambda conn: get_replay(conn, account_id, replay_id))

    async def list_page(
        self, account_id: str, *, limit: int, before_seq: int | None, status: str | None
    ) -> list[ReplayRecord]:
        sql = Sql()
        clauses = [f"account_id = {sql(account_id)}", f"seq < {sql(before_seq if before_seq is not None else 2**62)}"]
        if status is not None:
            clauses.append(f"status = {sql(status)}")
        statement = f"SELECT * FROM replays WHERE {' AND '.join(clauses)} ORDER BY seq DESC LIMIT {sql(limit)}"

        async def read(conn: Conn) -> list[ReplayRecord]:
            return [replay_record(row) for row in await conn.fetch(statement, *sql.args)]

        return await self._db.read(read)

    async def active_ids(self) -> list[tuple[str, str]]:
        async def read(conn: Conn) -> list[tuple[str, str]]:
            rows = await conn.fetch(
                "SELECT account_id, id FROM replays WHERE status = ANY($1::text[]) ORDER BY seq", list(ACTIVE)
            )
            return [(row["account_id"], row["id"]) for row in rows]

        return await self._db.read(read)

    async def claim_run(self, replay_id: str, *, runner: str, now: float, lease_until: float) -> bool:
        async def write(conn: Conn) -> bool:
            claimed = await conn.fetchval(
                "UPDATE replays SET runner = $1, lease_until = $2 WHERE id = $3 AND status = ANY($4::text[]) "
                "AND (runner IS NULL OR runner = $1 OR lease_until <= $5) RETURNING id",
                runner,
                lease_until,
                replay_id,
                list(ACTIVE),
                now,
            )
            return claimed is not None

        return await self._db.write(write)

    async def release_run(self, replay_id: str, *, runner: str) -> None:
        async def write(conn: Conn) -> None:
            await conn.execute(
                "UPDATE replays SET runner = NULL, lease_until = NULL WHERE id = $1 AND runner = $2", replay_id, runner
            )

        await self._db.write(write)

    async def set_status(
        self, replay_id: str, status: str, *, now: datetime, expected: tuple[str, ...], error: str | None = None
    ) -> bool:
        sql = Sql()
        assignments = [f"status = {sql(status)}", f"error = COALESCE({sql(error)}::text, error)"]
        if status == RUNNING:
            assignments.append(f"started_at = COALESCE(started_at, {sql(isoformat(now))})")
        elif status in FINAL:
            assignments.append(f"finished_at = {sql(isoformat(now))}")
        statement = (
            f"UPDATE replays SET {', '.join(assignments)} WHERE id = {sql(replay_id)}"
            f" AND status = ANY({sql(list(expected))}::text[])"
        )

        async def write(conn: Conn) -> bool:
            return affected(await conn.execute(statement, *sql.args)) > 0

        return await self._db.write(write)

    async def next_event(self, job: ReplayRecord, *, end: datetime, now: datetime) -> dict[str, Any] | None:
        found = await self._db.read(
            lambda conn: events_in_range(
                conn,
                job.account_id,
                start=job.range_from,
                end=end,
                after_sequence=job.cursor_sequence,
                limit=1,
                now=now,
            )
        )
        return found[0] if found else None

    async def add_progress(
        self, replay_id: str, *, cursor_sequence: int, matched: int, processed: int, delivered: int, filtered: int
    ) -> None:
        async def write(conn: Conn) -> None:
            await conn.execute(
                "UPDATE replays SET cursor_sequence = $1, matched = matched + $2, processed = processed + $3, "
                "delivered = delivered + $4, filtered = filtered + $5 WHERE id = $6",
                cursor_sequence,
                matched,
                processed,
                delivered,
                filtered,
                replay_id,
            )

        await self._db.write(write)
