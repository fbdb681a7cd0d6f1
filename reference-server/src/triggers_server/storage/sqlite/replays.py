"""Replay job rows: time range, selection (type globs + filter), target, patch, status, progress."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from triggers_server.clock import isoformat, parse_datetime
from triggers_server.ids import new_id
from triggers_server.storage.sqlite.engine import Transaction

STARTING: Final = "STARTING"
RUNNING: Final = "RUNNING"
COMPLETED: Final = "COMPLETED"
FAILED: Final = "FAILED"
CANCELLING: Final = "CANCELLING"
CANCELLED: Final = "CANCELLED"
ACTIVE: Final = (STARTING, RUNNING, CANCELLING)
FINAL: Final = (COMPLETED, FAILED, CANCELLED)


@dataclass(frozen=True)
class ReplayRecord:
    seq: int
    id: str
    account_id: str
    name: str | None
    range_from: datetime
    range_to: datetime
    event_types: list[str]
    filter: dict[str, Any] | None
    target: dict[str, Any]
    data_patch: dict[str, Any] | None
    dry_run: bool
    status: str
    matched: int
    processed: int
    delivered: int
    filtered: int
    error: str | None
    cursor_sequence: int
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None

    def to_wire(self) -> dict[str, Any]:
        """The contract's ``Replay``."""
        return {
            "id": self.id,
            "name": self.name,
            "status": self.status,
            "from": isoformat(self.range_from),
            "to": isoformat(self.range_to),
            "event_types": list(self.event_types),
            "filter": self.filter,
            "target": self.target,
            "data_patch": self.data_patch,
            "dry_run": self.dry_run,
            "progress": {
                "matched": self.matched,
                "processed": self.processed,
                "delivered": self.delivered,
                "filtered": self.filtered,
            },
            "error": self.error,
            "created_at": isoformat(self.created_at),
            "started_at": isoformat(self.started_at) if self.started_at else None,
            "finished_at": isoformat(self.finished_at) if self.finished_at else None,
        }


def _optional_json(text: str | None) -> Any:
    return json.loads(text) if text is not None else None


def _optional_time(text: str | None) -> datetime | None:
    return parse_datetime(text) if text is not None else None


def _record(row: sqlite3.Row) -> ReplayRecord:
    return ReplayRecord(
        seq=row["seq"],
        id=row["id"],
        account_id=row["account_id"],
        name=row["name"],
        range_from=parse_datetime(row["range_from"]),
        range_to=parse_datetime(row["range_to"]),
        event_types=json.loads(row["event_types"]),
        filter=_optional_json(row["filter"]),
        target=json.loads(row["target"]),
        data_patch=_optional_json(row["data_patch"]),
        dry_run=bool(row["dry_run"]),
        status=row["status"],
        matched=row["matched"],
        processed=row["processed"],
        delivered=row["delivered"],
        filtered=row["filtered"],
        error=row["error"],
        cursor_sequence=row["cursor_sequence"],
        created_at=parse_datetime(row["created_at"]),
        started_at=_optional_time(row["started_at"]),
        finished_at=_optional_time(row["finished_at"]),
    )


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
    return _record(row) if row is not None else None


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
    return [_record(row) for row in rows]


def active_replay_ids(tx: Transaction) -> list[tuple[str, str]]:
    """(account_id, replay_id) of every job not yet final, oldest first (what the runner still has to do)."""
    marks = ",".join("?" for _ in ACTIVE)
    rows = tx.execute(f"SELECT account_id, id FROM replays WHERE status IN ({marks}) ORDER BY seq", ACTIVE)
    return [(row[0], row[1]) for row in rows]


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
