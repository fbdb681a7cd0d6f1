"""Replay job rows: time range, selection (type globs + filter), target, patch, status, progress."""

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
from triggers_server.storage.records import replay_record
from triggers_server.storage.sqlite.deliveries import advance_fanout_mark, insert_deliveries
from triggers_server.storage.sqlite.engine import Database, Transaction
from triggers_server.storage.sqlite.events import events_in_range, get_event, insert_event


def insert_replay(
    tx: Transaction,
    *,
    account_id: str,
    name: str | None,
    range_from: datetime,
    range_to: datetime,
    event_types: list[str],
    filter_expression: dict[str, Any] | None,
    target: dict[str, Any],
    data_patch: dict[str, Any] | None,
    dry_run: bool,
    now: datetime,
) -> ReplayRecord:
    replay_id = new_id("rpl")
    tx.execute(
        "INSERT INTO replays (id, account_id, name, range_from, range_to, event_types, filter, target, "
        "data_patch, "
        "dry_run, status, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            replay_id,
            account_id,
            name,
            isoformat(range_from),
            isoformat(range_to),
            json.dumps(event_types),
            json.dumps(filter_expression) if filter_expression is not None else None,
            json.dumps(target),
            json.dumps(data_patch) if data_patch is not None else None,
            int(dry_run),
            STARTING,
            isoformat(now),
        ),
    )
    found = get_replay(tx, account_id, replay_id)
    assert found is not None
    return found


def get_replay(tx: Transaction, account_id: str, replay_id: str) -> ReplayRecord | None:
    row = tx.execute("SELECT * FROM replays WHERE account_id = ? AND id = ?", (account_id, replay_id)).fetchone()
    return replay_record(row) if row is not None else None


def list_replays(
    tx: Transaction,
    account_id: str,
    *,
    limit: int,
    before_seq: int | None = None,
    status: str | None = None,
) -> list[ReplayRecord]:
    """Newest first; ``before_seq`` continues a page."""
    clauses = ["account_id = ?", "seq < ?"]
    values: list[Any] = [account_id, before_seq if before_seq is not None else 2**62]
    if status is not None:
        clauses.append("status = ?")
        values.append(status)
    rows = tx.execute(
        f"SELECT * FROM replays WHERE {' AND '.join(clauses)} ORDER BY seq DESC LIMIT ?", (*values, limit)
    ).fetchall()
    return [replay_record(row) for row in rows]


def active_replay_ids(tx: Transaction) -> list[tuple[str, str]]:
    """(account_id, replay_id) of every job not yet final, oldest first (what the runner still has to do)."""
    marks = ",".join("?" for _ in ACTIVE)
    rows = tx.execute(f"SELECT account_id, id FROM replays WHERE status IN ({marks}) ORDER BY seq", ACTIVE)
    return [(row[0], row[1]) for row in rows]


def claim_run(tx: Transaction, replay_id: str, runner: str, now: float, lease_until: float) -> bool:
    marks = ", ".join("?" for _ in ACTIVE)
    row = tx.execute(
        f"UPDATE replays SET runner = ?, lease_until = ? WHERE id = ? AND status IN ({marks}) "
        "AND (runner IS NULL OR runner = ? OR lease_until <= ?) RETURNING id",
        (runner, lease_until, replay_id, *ACTIVE, runner, now),
    ).fetchone()
    return row is not None


def set_status(
    tx: Transaction,
    replay_id: str,
    status: str,
    *,
    now: datetime,
    error: str | None = None,
    expected: tuple[str, ...] | None = None,
) -> bool:
    """Move a job to ``status`` (only from one of ``expected`` when given); stamps started/finished times."""
    stamps = ""
    if status == RUNNING:
        stamps = ", started_at = COALESCE(started_at, :now)"
    elif status in FINAL:
        stamps = ", finished_at = :now"
    guard = ""
    params: dict[str, Any] = {"status": status, "now": isoformat(now), "error": error, "id": replay_id}
    if expected is not None:
        guard = " AND status IN (" + ",".join(f":expected{i}" for i in range(len(expected))) + ")"
        params.update({f"expected{i}": value for i, value in enumerate(expected)})
    cursor = tx.execute(
        f"UPDATE replays SET status = :status, error = COALESCE(:error, error){stamps} WHERE id = :id{guard}",
        params,
    )
    return cursor.rowcount > 0


def add_progress(
    tx: Transaction,
    replay_id: str,
    *,
    cursor_sequence: int,
    matched: int = 0,
    processed: int = 0,
    delivered: int = 0,
    filtered: int = 0,
) -> None:
    tx.execute(
        "UPDATE replays SET cursor_sequence = ?, matched = matched + ?, processed = processed + ?, "
        "delivered = delivered + ?, filtered = filtered + ? WHERE id = ?",
        (cursor_sequence, matched, processed, delivered, filtered, replay_id),
    )


class SqliteReplayStore:
    """`storage.ports.replays.ReplayStore` on the group-commit engine: one method, one transaction."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def get_event(self, account_id: str, event_id: str, *, now: datetime) -> dict[str, Any] | None:
        return await self._db.read(lambda tx: get_event(tx, account_id, event_id, now))

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
        def write(tx: Transaction) -> tuple[dict[str, Any], list[str]]:
            event = insert_event(tx, account_id, draft, now, inbox=inbox)
            planned = [NewDelivery(event["id"], event["type"], sid, payload_of(event)) for sid in subscription_ids]
            ids = insert_deliveries(tx, account_id, planned, now=now, due_at=due_at) if planned else []
            advance_fanout_mark(tx, account_id, int(event["sequence"]))  # routed here, not by catch-up
            return event, ids

        return await self._db.write(write)

    async def create(self, account_id: str, replay: NewReplay, *, now: datetime) -> ReplayRecord:
        return await self._db.write(
            lambda tx: insert_replay(
                tx,
                account_id=account_id,
                name=replay.name,
                range_from=replay.range_from,
                range_to=replay.range_to,
                event_types=replay.event_types,
                filter_expression=replay.filter_expression,
                target=replay.target,
                data_patch=replay.data_patch,
                dry_run=replay.dry_run,
                now=now,
            )
        )

    async def get(self, account_id: str, replay_id: str) -> ReplayRecord | None:
        return await self._db.read(lambda tx: get_replay(tx, account_id, replay_id))

    async def list_page(
        self, account_id: str, *, limit: int, before_seq: int | None, status: str | None
    ) -> list[ReplayRecord]:
        return await self._db.read(
            lambda tx: list_replays(tx, account_id, limit=limit, before_seq=before_seq, status=status)
        )

    async def active_ids(self) -> list[tuple[str, str]]:
        return await self._db.read(active_replay_ids)

    async def claim_run(self, replay_id: str, *, runner: str, now: float, lease_until: float) -> bool:
        return await self._db.write(lambda tx: claim_run(tx, replay_id, runner, now, lease_until))

    async def release_run(self, replay_id: str, *, runner: str) -> None:
        await self._db.write(
            lambda tx: tx.execute(
                "UPDATE replays SET runner = NULL, lease_until = NULL WHERE id = ? AND runner = ?", (replay_id, runner)
            )
        )

    async def set_status(
        self, replay_id: str, status: str, *, now: datetime, expected: tuple[str, ...], error: str | None = None
    ) -> bool:
        return await self._db.write(
            lambda tx: set_status(tx, replay_id, status, now=now, error=error, expected=expected)
        )

    async def next_event(self, job: ReplayRecord, *, end: datetime, now: datetime) -> dict[str, Any] | None:
        found = await self._db.read(
            lambda tx: events_in_range(
                tx,
                job.account_id,
                start=job.range_from,
                end=end,
                types=[],
                after_sequence=job.cursor_sequence,
                limit=1,
                now=now,
            )
        )
        return found[0] if found else None

    async def add_progress(
        self, replay_id: str, *, cursor_sequence: int, matched: int, processed: int, delivered: int, filtered: int
    ) -> None:
        await self._db.write(
            lambda tx: add_progress(
                tx,
                replay_id,
                cursor_sequence=cursor_sequence,
                matched=matched,
                processed=processed,
                delivered=delivered,
                filtered=filtered,
            )
        )
