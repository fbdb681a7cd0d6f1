"""Dead-letter queue rows: events the inbox (max deliveries) or a webhook delivery (retries) gave up on."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from triggers_server.clock import isoformat
from triggers_server.globs import sql_clause
from triggers_server.ids import new_id
from triggers_server.storage.ports.dlq import ORIGINS, DlqFilter, DlqRecord, NewDeadLetter
from triggers_server.storage.records import dead_letter_record
from triggers_server.storage.sqlite.engine import Transaction
from triggers_server.storage.sqlite.where import add_equals


def _where(account_id: str, query: DlqFilter) -> tuple[str, list[Any]]:
    """SQL condition and parameters of a DLQ filter."""
    clauses = ["account_id = ?"]
    values: list[Any] = [account_id]
    if query.event_type is not None:
        clause, globs = sql_clause("event_type", [query.event_type])
        clauses.append(clause)
        values.extend(globs)
    add_equals(
        clauses,
        values,
        (("subscription_id", query.subscription_id), ("origin", query.origin), ("reason", query.reason)),
    )
    return " AND ".join(clauses), values


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


def add_dead_letter(tx: Transaction, letter: NewDeadLetter, now: datetime) -> str:
    return insert_dlq_entry(
        tx,
        account_id=letter.account_id,
        origin=letter.origin,
        event_id=letter.event_id,
        event_type=letter.event_type,
        reason=letter.reason,
        attempts=letter.attempts,
        now=now,
        detail=letter.detail,
        subscription_id=letter.subscription_id,
        delivery_id=letter.delivery_id,
    )


def get_dlq_entry(tx: Transaction, account_id: str, entry_id: str) -> DlqRecord | None:
    row = tx.execute("SELECT * FROM dlq_entries WHERE account_id = ? AND id = ?", (account_id, entry_id)).fetchone()
    return dead_letter_record(row) if row is not None else None


def list_dlq_entries(
    tx: Transaction, account_id: str, query: DlqFilter, *, limit: int, before_seq: int | None = None
) -> list[DlqRecord]:
    """Newest first; ``before_seq`` continues a page."""
    where, values = _where(account_id, query)
    rows = tx.execute(
        f"SELECT * FROM dlq_entries WHERE {where} AND seq < ? ORDER BY seq DESC LIMIT ?",
        (*values, before_seq if before_seq is not None else 2**62, limit),
    ).fetchall()
    return [dead_letter_record(row) for row in rows]


def delete_dlq_entry(tx: Transaction, account_id: str, entry_id: str) -> bool:
    cursor = tx.execute("DELETE FROM dlq_entries WHERE account_id = ? AND id = ?", (account_id, entry_id))
    return cursor.rowcount > 0
