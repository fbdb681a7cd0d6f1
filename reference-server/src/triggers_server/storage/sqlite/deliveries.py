"""Delivery rows (one per event x subscription) and their attempt log, in SQL (records: `storage.ports.deliveries`)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from triggers_server.clock import isoformat
from triggers_server.ids import new_id
from triggers_server.storage.ports.deliveries import (
    ACTIVE_STATUSES,
    DISCARDED,
    FAILED,
    PENDING,
    SUCCEEDED,
    AttemptOutcome,
    AttemptRecord,
    DeliveryRecord,
    NewDelivery,
)
from triggers_server.storage.records import attempt_record, delivery_record, optional_time
from triggers_server.storage.sqlite.engine import Transaction
from triggers_server.storage.sqlite.where import add_equals

_COLUMNS = (
    "seq, id, account_id, event_id, event_type, subscription_id, payload, status, attempt_count, "
    "next_attempt_at, last_attempt_at, manual_pending, last_response_status, last_error, "
    "created_at, updated_at, resume_status"
)


def insert_deliveries(
    tx: Transaction,
    account_id: str,
    deliveries: Iterable[NewDelivery],
    *,
    now: datetime,
    due_at: datetime | None = None,
) -> list[str]:
    """Create pending deliveries first due at ``due_at`` (default ``now``); returns their ids in order."""
    stamp = isoformat(now)
    due = isoformat(due_at or now)
    ids: list[str] = []
    rows: list[tuple[Any, ...]] = []
    for delivery in deliveries:
        delivery_id = new_id("dlv")
        ids.append(delivery_id)
        rows.append(
            (
                delivery_id,
                account_id,
                delivery.event_id,
                delivery.event_type,
                delivery.subscription_id,
                delivery.payload,
                PENDING,
                due,
                stamp,
                stamp,
            )
        )
    tx.executemany(
        "INSERT INTO deliveries (id, account_id, event_id, event_type, subscription_id, payload, status, "
        "next_attempt_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )
    return ids


def get_delivery(tx: Transaction, account_id: str, delivery_id: str) -> DeliveryRecord | None:
    row = tx.execute(
        f"SELECT {_COLUMNS} FROM deliveries WHERE account_id = ? AND id = ?", (account_id, delivery_id)
    ).fetchone()
    return delivery_record(row) if row is not None else None


def list_deliveries(
    tx: Transaction,
    account_id: str,
    *,
    limit: int,
    before_seq: int | None = None,
    subscription_id: str | None = None,
    event_id: str | None = None,
    status: str | None = None,
) -> list[DeliveryRecord]:
    """Newest first; ``before_seq`` continues a page."""
    clauses = ["account_id = ?"]
    values: list[Any] = [account_id]
    if before_seq is not None:
        clauses.append("seq < ?")
        values.append(before_seq)
    add_equals(clauses, values, (("subscription_id", subscription_id), ("event_id", event_id), ("status", status)))
    rows = tx.execute(
        f"SELECT {_COLUMNS} FROM deliveries WHERE {' AND '.join(clauses)} ORDER BY seq DESC LIMIT ?",
        (*values, limit),
    ).fetchall()
    return [delivery_record(row) for row in rows]


def list_attempts(tx: Transaction, delivery_id: str) -> list[AttemptRecord]:
    rows = tx.execute(
        "SELECT * FROM delivery_attempts WHERE delivery_id = ? ORDER BY attempt_number", (delivery_id,)
    ).fetchall()
    return [attempt_record(row) for row in rows]


def claim_due(tx: Transaction, now: datetime, *, limit: int, lease_until: datetime) -> list[DeliveryRecord]:
    """Active deliveries whose next attempt is due, oldest first, leased until `lease_until`."""
    rows = tx.execute(
        f"SELECT {_COLUMNS} FROM deliveries WHERE next_attempt_at IS NOT NULL AND next_attempt_at <= ? "
        "ORDER BY next_attempt_at, seq LIMIT ?",
        (isoformat(now), limit),
    ).fetchall()
    claimed = [delivery_record(row) for row in rows]
    tx.executemany(
        "UPDATE deliveries SET next_attempt_at = ? WHERE id = ?",
        [(isoformat(lease_until), delivery.id) for delivery in claimed],
    )
    return claimed


def next_due_time(tx: Transaction) -> datetime | None:
    row = tx.execute("SELECT MIN(next_attempt_at) FROM deliveries WHERE next_attempt_at IS NOT NULL").fetchone()
    return optional_time(row[0]) if row is not None else None


def record_attempt(
    tx: Transaction,
    delivery: DeliveryRecord,
    outcome: AttemptOutcome,
    *,
    status: str,
    next_attempt_at: datetime | None,
    now: datetime,
) -> int:
    """Append the attempt and move the delivery to ``status``; returns the attempt number."""
    attempt_number = delivery.attempt_count + 1
    tx.execute(
        "INSERT INTO delivery_attempts (id, delivery_id, account_id, attempt_number, trigger, started_at, "
        "duration_ms, request_url, request_headers, request_body, response_status, response_headers, "
        "response_body, response_body_truncated, error, outcome, next_attempt_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            new_id("att"),
            delivery.id,
            delivery.account_id,
            attempt_number,
            outcome.trigger,
            isoformat(outcome.started_at),
            outcome.duration_ms,
            outcome.request_url,
            json.dumps(outcome.request_headers),
            outcome.request_body,
            outcome.response_status,
            json.dumps(outcome.response_headers) if outcome.response_headers is not None else None,
            outcome.response_body,
            int(outcome.response_body_truncated),
            outcome.error,
            SUCCEEDED if outcome.succeeded else FAILED,
            isoformat(next_attempt_at) if next_attempt_at else None,
        ),
    )
    tx.execute(
        "UPDATE deliveries SET status = ?, attempt_count = ?, next_attempt_at = ?, last_attempt_at = ?, "
        "manual_pending = 0, resume_status = NULL, last_response_status = ?, last_error = ?, updated_at = ? "
        "WHERE id = ?",
        (
            status,
            attempt_number,
            isoformat(next_attempt_at) if next_attempt_at else None,
            isoformat(outcome.started_at),
            outcome.response_status,
            outcome.error,
            isoformat(now),
            delivery.id,
        ),
    )
    return attempt_number


def set_status(tx: Transaction, delivery_id: str, status: str, *, now: datetime, last_error: str | None = None) -> None:
    """Terminal transition without an attempt (e.g. discarded because the subscription is gone)."""
    tx.execute(
        "UPDATE deliveries SET status = ?, next_attempt_at = NULL, manual_pending = 0, resume_status = NULL, "
        "last_error = COALESCE(?, last_error), updated_at = ? WHERE id = ?",
        (status, last_error, isoformat(now), delivery_id),
    )


def init_fanout_mark(tx: Transaction, account_id: str, sequence: int) -> None:
    """Start tracking an account's fan-out at ``sequence`` (its latest event) unless already tracked."""
    tx.execute(
        "INSERT OR IGNORE INTO delivery_fanout (account_id, through_sequence) VALUES (?, ?)",
        (account_id, sequence),
    )


def advance_fanout_mark(tx: Transaction, account_id: str, sequence: int) -> None:
    """Record that every event up to ``sequence`` has been fanned out (never moves backwards)."""
    tx.execute(
        "INSERT INTO delivery_fanout (account_id, through_sequence) VALUES (?, ?) ON CONFLICT (account_id) "
        "DO UPDATE SET through_sequence = max(through_sequence, excluded.through_sequence)",
        (account_id, sequence),
    )


def fanout_marks(tx: Transaction) -> dict[str, int]:
    return {row[0]: int(row[1]) for row in tx.execute("SELECT account_id, through_sequence FROM delivery_fanout")}


def discard_active(tx: Transaction, account_id: str, subscription_id: str, *, reason: str, now: datetime) -> int:
    """Discard the subscription's pending and retrying deliveries (it was disabled or deleted)."""
    cursor = tx.execute(
        "UPDATE deliveries SET status = ?, next_attempt_at = NULL, manual_pending = 0, resume_status = NULL, "
        "last_error = ?, updated_at = ? WHERE account_id = ? AND subscription_id = ? AND status IN (?, ?)",
        (DISCARDED, reason, isoformat(now), account_id, subscription_id, *ACTIVE_STATUSES),
    )
    return cursor.rowcount


def schedule_manual_retry(tx: Transaction, account_id: str, delivery_id: str, *, now: datetime) -> bool:
    """Queue one immediate manual attempt: the delivery is `pending` again, due now; a terminal status it
    had is kept in `resume_status` (a failed manual attempt returns there). False when it has succeeded."""
    stamp = isoformat(now)
    cursor = tx.execute(
        "UPDATE deliveries SET status = ?, manual_pending = 1, next_attempt_at = ?, updated_at = ?, "
        "resume_status = CASE WHEN status IN (?, ?) THEN resume_status ELSE status END "
        "WHERE account_id = ? AND id = ? AND status != ?",
        (PENDING, stamp, stamp, *ACTIVE_STATUSES, account_id, delivery_id, SUCCEEDED),
    )
    return cursor.rowcount > 0


def postpone(tx: Transaction, delivery_id: str, until: datetime) -> None:
    """Throttled (``max_rps``): try again at ``until`` without counting an attempt."""
    tx.execute("UPDATE deliveries SET next_attempt_at = ? WHERE id = ?", (isoformat(until), delivery_id))
