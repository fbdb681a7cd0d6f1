"""Dead-letter queue rows: events the inbox (max deliveries) or a webhook delivery (retries) gave up on."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from triggers_server.clock import isoformat, parse_datetime
from triggers_server.globs import sql_clause
from triggers_server.ids import new_id
from triggers_server.storage.sqlite.engine import Transaction
from triggers_server.storage.sqlite.where import add_equals

ORIGIN_INBOX: Final = "inbox"
ORIGIN_DELIVERY: Final = "delivery"
ORIGINS: Final = (ORIGIN_INBOX, ORIGIN_DELIVERY)

REASON_MAX_DELIVERIES: Final = "max_deliveries_exceeded"
REASON_RETRIES_EXHAUSTED: Final = "retries_exhausted"
REASON_ENDPOINT_GONE: Final = "endpoint_gone"
REASONS: Final = (REASON_MAX_DELIVERIES, REASON_RETRIES_EXHAUSTED, REASON_ENDPOINT_GONE)


@dataclass(frozen=True)
class DlqRecord:
    seq: int
    id: str
    account_id: str
    origin: str
    event_id: str
    event_type: str
    subscription_id: str | None
    delivery_id: str | None
    reason: str
    detail: str | None
    attempts: int
    created_at: datetime

    def to_wire(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "origin": self.origin,
            "event_id": self.event_id,
            "event_type": self.event_type,
            "subscription_id": self.subscription_id,
            "delivery_id": self.delivery_id,
            "reason": self.reason,
            "detail": self.detail,
            "attempts": self.attempts,
            "created_at": isoformat(self.created_at),
        }


@dataclass(frozen=True)
class DlqFilter:
    """Query filters shared by listing and bulk retry."""

    event_type: str | None = None
    subscription_id: str | None = None
    origin: str | None = None
    reason: str | None = None

    def where(self, account_id: str) -> tuple[str, list[Any]]:
        """SQL condition and parameters; ``event_type`` is a validated type glob."""
        clauses = ["account_id = ?"]
        values: list[Any] = [account_id]
        if self.event_type is not None:
            clause, globs = sql_clause("event_type", [self.event_type])
            clauses.append(clause)
            values.extend(globs)
        add_equals(
            clauses,
            values,
            (("subscription_id", self.subscription_id), ("origin", self.origin), ("reason", self.reason)),
        )
        return " AND ".join(clauses), values


def _record(row: sqlite3.Row) -> DlqRecord:
    return DlqRecord(
        seq=row["seq"],
        id=row["id"],
        account_id=row["account_id"],
        origin=row["origin"],
        event_id=row["event_id"],
        event_type=row["event_type"],
        subscription_id=row["subscription_id"],
        delivery_id=row["delivery_id"],
        reason=row["reason"],
        detail=row["detail"],
        attempts=row["attempts"],
        created_at=parse_datetime(row["created_at"]),
    )


def insert_dlq_entry(
    tx: Transaction,
    *,
    account_id: str,
    origin: str,
    event_id: str,
    event_type: str,
    reason: str,
    attempts: int,
    now: datetime,
    detail: str | None = None,
    subscription_id: str | None = None,
    delivery_id: str | None = None,
) -> str:
    """Dead-letter one event; called by the inbox (origin "inbox") and the delivery worker. Returns the id."""
    if origin not in ORIGINS:
        raise ValueError(f"unknown DLQ origin {origin!r}")
    entry_id = new_id("dlq")
    tx.execute(
        "INSERT INTO dlq_entries (id, account_id, origin, event_id, event_type, subscription_id, "
        "delivery_id, "
        "reason, detail, attempts, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            entry_id,
            account_id,
            origin,
            event_id,
            event_type,
            subscription_id,
            delivery_id,
            reason,
            detail,
            attempts,
            isoformat(now),
        ),
    )
    return entry_id


def get_dlq_entry(tx: Transaction, account_id: str, entry_id: str) -> DlqRecord | None:
    row = tx.execute("SELECT * FROM dlq_entries WHERE account_id = ? AND id = ?", (account_id, entry_id)).fetchone()
    return _record(row) if row is not None else None


def list_dlq_entries(
    tx: Transaction, account_id: str, query: DlqFilter, *, limit: int, before_seq: int | None = None
) -> list[DlqRecord]:
    """Newest first; ``before_seq`` continues a page."""
    where, values = query.where(account_id)
    rows = tx.execute(
        f"SELECT * FROM dlq_entries WHERE {where} AND seq < ? ORDER BY seq DESC LIMIT ?",
        (*values, before_seq if before_seq is not None else 2**62, limit),
    ).fetchall()
    return [_record(row) for row in rows]


def delete_dlq_entry(tx: Transaction, account_id: str, entry_id: str) -> bool:
    cursor = tx.execute("DELETE FROM dlq_entries WHERE account_id = ? AND id = ?", (account_id, entry_id))
    return cursor.rowcount > 0
