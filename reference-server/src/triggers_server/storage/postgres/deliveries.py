"""Delivery rows (one per event x subscription), their attempt log and the fan-out marks, on PostgreSQL.
The worker's claim is `FOR UPDATE SKIP LOCKED`, so concurrent claimers (other instances) never take the same
delivery; a claimed delivery is due again at the end of its lease if its claimer dies."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime

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
from triggers_server.storage.postgres.engine import Conn, Sql, add_equals, affected, texts
from triggers_server.storage.records import attempt_record, delivery_record, optional_time

FANOUT_LOCK = 0x7472_6969  # pg_advisory_xact_lock(FANOUT_LOCK, hashtext(account)) around an account's fan-out
_COLUMNS = (
    "seq, id, account_id, event_id, event_type, subscription_id, payload, status, attempt_count, "
    "next_attempt_at, last_attempt_at, manual_pending, last_response_status, last_error, "
    "created_at, updated_at, resume_status"
)


async def insert_deliveries(
    conn: Conn,
    account_id: str,
    deliveries: Iterable[NewDelivery],
    *,
    now: datetime,
    due_at: datetime | None = None,
    once: bool = False,
) -> list[str]:
    """Create pending deliveries first due at ``due_at`` (default ``now``); returns their ids in order.

    ``once`` (fan-out): skip every (event, subscription) that already has a delivery, so two instances fanning
    out the same events (one at ingestion, one catching up at start) never create it twice. The account's
    fan-out lock serialises them; each statement then sees what the previous holder committed."""
    planned = list(deliveries)
    if not planned:
        return []
    ids = [new_id("dlv") for _ in planned]
    stamp = isoformat(now)
    if once:
        await conn.execute("SELECT pg_advisory_xact_lock($1, hashtext($2))", FANOUT_LOCK, account_id)
    rows = await conn.fetch(
        "INSERT INTO deliveries (id, account_id, event_id, event_type, subscription_id, payload, status, "
        "next_attempt_at, created_at, updated_at) "
        "SELECT u.id, $2, u.event_id, u.event_type, u.subscription_id, u.payload, $7, $8, $9, $9 "
        "FROM unnest($1::text[], $3::text[], $4::text[], $5::text[], $6::text[]) WITH ORDINALITY "
        "AS u(id, event_id, event_type, subscription_id, payload, ord) "
        "WHERE NOT $10::boolean OR NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.account_id = $2 "
        "AND d.event_id = u.event_id AND d.subscription_id = u.subscription_id) ORDER BY u.ord RETURNING id",
        ids,
        account_id,
        texts([d.event_id for d in planned]),
        texts([d.event_type for d in planned]),
        texts([d.subscription_id for d in planned]),
        texts([d.payload for d in planned]),
        PENDING,
        isoformat(due_at or now),
        stamp,
        once,
    )
    if len(rows) == len(ids):
        return ids
    made = {row["id"] for row in rows}
    return [identifier for identifier in ids if identifier in made]


async def get_delivery(conn: Conn, account_id: str, delivery_id: str) -> DeliveryRecord | None:
    row = await conn.fetchrow(
        f"SELECT {_COLUMNS} FROM deliveries WHERE account_id = $1 AND id = $2", account_id, delivery_id
    )
    return delivery_record(row) if row is not None else None


async def list_deliveries(
    conn: Conn,
    account_id: str,
    *,
    limit: int,
    before_seq: int | None = None,
    subscription_id: str | None = None,
    event_id: str | None = None,
    status: str | None = None,
) -> list[DeliveryRecord]:
    sql = Sql()
    clauses = [f"account_id = {sql(account_id)}"]
    if before_seq is not None:
        clauses.append(f"seq < {sql(before_seq)}")
    add_equals(clauses, sql, (("subscription_id", subscription_id), ("event_id", event_id), ("status", status)))
    rows = await conn.fetch(
        f"SELECT {_COLUMNS} FROM deliveries WHERE {' AND '.join(clauses)} ORDER BY seq DESC LIMIT {sql(limit)}",
        *sql.args,
    )
    return [delivery_record(row) for row in rows]


async def list_attempts(conn: Conn, delivery_id: str) -> list[AttemptRecord]:
    rows = await conn.fetch(
        "SELECT * FROM delivery_attempts WHERE delivery_id = $1 ORDER BY attempt_number", delivery_id
    )
    return [attempt_record(row) for row in rows]


async def claim_due(conn: Conn, now: datetime, *, limit: int, lease_until: datetime) -> list[DeliveryRecord]:
    """Due deliveries, oldest first, skipping those another claimer holds; each leased until `lease_until`."""
    rows = await conn.fetch(
        f"SELECT {_COLUMNS} FROM deliveries WHERE next_attempt_at IS NOT NULL AND next_attempt_at <= $1 "
        "ORDER BY next_attempt_at, seq LIMIT $2 FOR UPDATE SKIP LOCKED",
        isoformat(now),
        limit,
    )
    claimed = [delivery_record(row) for row in rows]
    if claimed:
        await conn.execute(
            "UPDATE deliveries SET next_attempt_at = $1 WHERE id = ANY($2::text[])",
            isoformat(lease_until),
            [delivery.id for delivery in claimed],
        )
    return claimed


async def next_due_time(conn: Conn) -> datetime | None:
    value = await conn.fetchval("SELECT MIN(next_attempt_at) FROM deliveries WHERE next_attempt_at IS NOT NULL")
    return optional_time(value)


async def record_attempt(
    conn: Conn,
    delivery: DeliveryRecord,
    outcome: AttemptOutcome,
    *,
    status: str,
    next_attempt_at: datetime | None,
    now: datetime,
) -> int:
    """Append the attempt and move the delivery on; 0 (nothing written) when another claimer already recorded
    this attempt (its claim was taken over after the lease expired), so no attempt is recorded twice."""
    current = await conn.fetchval("SELECT attempt_count FROM deliveries WHERE id = $1 FOR UPDATE", delivery.id)
    if current != delivery.attempt_count:
        return 0
    attempt_number = delivery.attempt_count + 1
    next_text = isoformat(next_attempt_at) if next_attempt_at else None
    await conn.execute(
        "INSERT INTO delivery_attempts (id, delivery_id, account_id, attempt_number, trigger, started_at, "
        "duration_ms, request_url, request_headers, request_body, response_status, response_headers, "
        "response_body, response_body_truncated, error, outcome, next_attempt_at) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)",
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
        next_text,
    )
    await conn.execute(
        "UPDATE deliveries SET status = $1, attempt_count = $2, next_attempt_at = $3, last_attempt_at = $4, "
        "manual_pending = 0, resume_status = NULL, last_response_status = $5, last_error = $6, updated_at = $7 "
        "WHERE id = $8",
        status,
        attempt_number,
        next_text,
        isoformat(outcome.started_at),
        outcome.response_status,
        outcome.error,
        isoformat(now),
        delivery.id,
    )
    return attempt_number


async def set_status(
    conn: Conn, delivery_id: str, status: str, *, now: datetime, last_error: str | None = None
) -> None:
    await conn.execute(
        "UPDATE deliveries SET status = $1, next_attempt_at = NULL, manual_pending = 0, resume_status = NULL, "
        "last_error = COALESCE($2, last_error), updated_at = $3 WHERE id = $4",
        status,
        last_error,
        isoformat(now),
        delivery_id,
    )


async def init_fanout_mark(conn: Conn, account_id: str, sequence: int) -> None:
    await conn.execute(
        "INSERT INTO delivery_fanout (account_id, through_sequence) VALUES ($1, $2)"
        " ON CONFLICT (account_id) DO NOTHING",
        account_id,
        sequence,
    )


async def advance_fanout_mark(conn: Conn, account_id: str, sequence: int) -> None:
    await conn.execute(
        "INSERT INTO delivery_fanout (account_id, through_sequence) VALUES ($1, $2) ON CONFLICT (account_id) "
        "DO UPDATE SET through_sequence = GREATEST(delivery_fanout.through_sequence, excluded.through_sequence)",
        account_id,
        sequence,
    )


async def discard_active(conn: Conn, account_id: str, subscription_id: str, *, reason: str, now: datetime) -> int:
    status = await conn.execute(
        "UPDATE deliveries SET status = $1, next_attempt_at = NULL, manual_pending = 0, resume_status = NULL, "
        "last_error = $2, updated_at = $3 WHERE account_id = $4 AND subscription_id = $5 AND status = ANY($6::text[])",
        DISCARDED,
        reason,
        isoformat(now),
        account_id,
        subscription_id,
        list(ACTIVE_STATUSES),
    )
    return affected(status)


async def schedule_manual_retry(conn: Conn, account_id: str, delivery_id: str, *, now: datetime) -> bool:
    stamp = isoformat(now)
    status = await conn.execute(
        "UPDATE deliveries SET status = $1, manual_pending = 1, next_attempt_at = $2, updated_at = $2, "
        "resume_status = CASE WHEN status = ANY($3::text[]) THEN resume_status ELSE status END "
        "WHERE account_id = $4 AND id = $5 AND status != $6",
        PENDING,
        stamp,
        list(ACTIVE_STATUSES),
        account_id,
        delivery_id,
        SUCCEEDED,
    )
    return affected(status) > 0
