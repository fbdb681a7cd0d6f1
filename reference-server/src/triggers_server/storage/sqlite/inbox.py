"""The pull inbox on SQLite (`InboxStore`): leases with a visibility timeout, ack / nack / extend by receipt,
dead-lettering after `max_deliveries` leases without an ack (SQS / Pub/Sub semantics).

Receipts are `rcpt_<event sequence>_<random>`: the sequence finds the entry, the whole string must equal
the entry's current receipt. A receipt of an entry that was since re-leased, released or dead-lettered is
`expired`; an unknown one is `not_found`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, Literal

from triggers_server.clock import isoformat
from triggers_server.globs import sql_clause
from triggers_server.ids import new_id
from triggers_server.storage.event_rows import SELECT_EVENTS, row_to_wire
from triggers_server.storage.ports.dlq import ORIGIN_INBOX, REASON_MAX_DELIVERIES
from triggers_server.storage.ports.idempotency import KeyedRequest, Reply
from triggers_server.storage.ports.inbox import LeaseResult, ReceiptOutcome
from triggers_server.storage.receipts import new_receipt, receipt_sequence
from triggers_server.storage.sqlite.dlq import insert_dlq_entry
from triggers_server.storage.sqlite.engine import Database, Transaction
from triggers_server.storage.sqlite.idempotency import store_reply


def _account_max_deliveries(tx: Transaction, account_id: str, default: int) -> int:
    row = tx.execute("SELECT max_deliveries FROM accounts WHERE id = ?", (account_id,)).fetchone()
    return int(row[0]) if row else default


def _dead_letter(tx: Transaction, account_id: str, row: sqlite3.Row, now: datetime) -> None:
    tx.execute(
        "UPDATE inbox SET state = 'dead_lettered', receipt = NULL, lease_id = NULL, updated_at = ? WHERE event_seq = ?",
        (isoformat(now), row["event_seq"]),
    )
    event_id = tx.execute("SELECT id FROM events WHERE seq = ?", (row["event_seq"],)).fetchone()[0]
    insert_dlq_entry(
        tx,
        account_id=account_id,
        origin=ORIGIN_INBOX,
        event_id=event_id,
        event_type=row["event_type"],
        reason=REASON_MAX_DELIVERIES,
        attempts=row["delivery_count"],
        now=now,
        detail=f"leased {row['delivery_count']} times without an ack",
    )


def lease(
    tx: Transaction,
    account_id: str,
    *,
    max_events: int,
    visibility_timeout: int,
    types: Sequence[str],
    now: datetime,
    default_max_deliveries: int,
) -> LeaseResult:
    """Lease up to `max_events` visible entries, oldest first; exhausted entries go to the DLQ instead."""
    stamp = now.timestamp()
    until = now + timedelta(seconds=visibility_timeout)
    lease_id = new_id("lse")
    max_deliveries = _account_max_deliveries(tx, account_id, default_max_deliveries)
    type_clause, type_params = sql_clause("event_type", types) if types else ("1", [])
    leased: list[tuple[int, str, int]] = []
    dead = 0
    while len(leased) < max_events:
        rows = tx.execute(
            "SELECT event_seq, event_type, delivery_count FROM inbox WHERE account_id = ? "
            f"AND state IN ('pending', 'leased') AND visible_at <= ? AND {type_clause} ORDER BY event_seq LIMIT ?",
            (account_id, stamp, *type_params, max_events - len(leased)),
        ).fetchall()
        if not rows:
            break
        for row in rows:
            if row["delivery_count"] >= max_deliveries:
                _dead_letter(tx, account_id, row, now)
                dead += 1
                continue
            receipt = new_receipt(row["event_seq"])
            tx.execute(
                "UPDATE inbox SET state = 'leased', delivery_count = delivery_count + 1, receipt = ?, lease_id = ?, "
                "visible_at = ?, updated_at = ? WHERE event_seq = ?",
                (receipt, lease_id, until.timestamp(), isoformat(now), row["event_seq"]),
            )
            leased.append((row["event_seq"], receipt, row["delivery_count"] + 1))
    messages: list[dict[str, Any]] = []
    if leased:
        marks = ",".join("?" for _ in leased)
        events = {
            row["seq"]: row_to_wire(row, stamp)
            for row in tx.execute(SELECT_EVENTS + f" WHERE e.seq IN ({marks})", [seq for seq, _, _ in leased])
        }
        messages = [
            {"event": events[seq], "receipt": receipt, "delivery_count": count} for seq, receipt, count in leased
        ]
    upcoming = tx.execute(
        f"SELECT min(visible_at) FROM inbox"
        f" WHERE account_id = ? AND state IN ('pending', 'leased') AND visible_at > ? AND {type_clause}",
        (account_id, stamp, *type_params),
    ).fetchone()[0]
    return LeaseResult(lease_id, isoformat(until), messages, dead, upcoming)


def _row_for_receipt(tx: Transaction, account_id: str, receipt: str) -> sqlite3.Row | None:
    sequence = receipt_sequence(receipt)
    if sequence is None:
        return None
    row: sqlite3.Row | None = tx.execute(
        "SELECT * FROM inbox WHERE event_seq = ? AND account_id = ?", (sequence, account_id)
    ).fetchone()
    return row


def _result(receipt: str, status: Literal["ok", "expired", "not_found"], detail: str | None = None) -> ReceiptOutcome:
    return ReceiptOutcome(receipt, status, detail)


_UNKNOWN = "No lease with this receipt exists in this account."
_EXPIRED = "The lease ended (expired, released, re-leased or acknowledged otherwise); the event was not changed."


def _holds_lease(row: sqlite3.Row, receipt: str, now: float) -> bool:
    return bool(row["receipt"] == receipt and row["state"] == "leased" and row["visible_at"] > now)


def ack(tx: Transaction, account_id: str, receipts: Sequence[str], now: datetime) -> list[ReceiptOutcome]:
    results: list[ReceiptOutcome] = []
    stamp = now.timestamp()
    for receipt in receipts:
        row = _row_for_receipt(tx, account_id, receipt)
        if row is None:
            results.append(_result(receipt, "not_found", _UNKNOWN))
        elif row["receipt"] == receipt and row["state"] == "acknowledged":
            results.append(_result(receipt, "ok"))
        elif _holds_lease(row, receipt, stamp):
            tx.execute(
                "UPDATE inbox SET state = 'acknowledged', updated_at = ? WHERE event_seq = ?",
                (isoformat(now), row["event_seq"]),
            )
            results.append(_result(receipt, "ok"))
        else:
            results.append(_result(receipt, "expired", _EXPIRED))
    return results


def nack(tx: Transaction, account_id: str, receipts: Sequence[str], delay: int, now: datetime) -> list[ReceiptOutcome]:
    results: list[ReceiptOutcome] = []
    stamp = now.timestamp()
    for receipt in receipts:
        row = _row_for_receipt(tx, account_id, receipt)
        if row is None:
            results.append(_result(receipt, "not_found", _UNKNOWN))
        elif row["receipt"] == receipt and row["state"] == "pending":
            results.append(_result(receipt, "ok"))  # released already by this receipt
        elif _holds_lease(row, receipt, stamp):
            tx.execute(
                "UPDATE inbox SET state = 'pending', visible_at = ?, updated_at = ? WHERE event_seq = ?",
                (stamp + delay, isoformat(now), row["event_seq"]),
            )
            results.append(_result(receipt, "ok"))
        else:
            results.append(_result(receipt, "expired", _EXPIRED))
    return results


def extend(
    tx: Transaction, account_id: str, receipts: Sequence[str], visibility_timeout: int, now: datetime
) -> list[ReceiptOutcome]:
    results: list[ReceiptOutcome] = []
    stamp = now.timestamp()
    for receipt in receipts:
        row = _row_for_receipt(tx, account_id, receipt)
        if row is None:
            results.append(_result(receipt, "not_found", _UNKNOWN))
        elif _holds_lease(row, receipt, stamp):
            tx.execute(
                "UPDATE inbox SET visible_at = ?, updated_at = ? WHERE event_seq = ?",
                (stamp + visibility_timeout, isoformat(now), row["event_seq"]),
            )
            results.append(_result(receipt, "ok"))
        else:
            results.append(_result(receipt, "expired", _EXPIRED))
    return results


def ack_event(
    tx: Transaction, account_id: str, event_id: str, now: datetime
) -> Literal["ok", "not_found", "dead_lettered"]:
    """PRD-style ack by event id: "ok", "not_found" (no such event) or "dead_lettered"."""
    row = tx.execute(
        "SELECT e.seq, i.state FROM events e LEFT JOIN inbox i ON i.event_seq = e.seq"
        " WHERE e.id = ? AND e.account_id = ?",
        (event_id, account_id),
    ).fetchone()
    if row is None:
        return "not_found"
    if row["state"] == "dead_lettered":
        return "dead_lettered"
    if row["state"] in ("pending", "leased"):
        tx.execute(
            "UPDATE inbox SET state = 'acknowledged', receipt = NULL, lease_id = NULL, updated_at = ?"
            " WHERE event_seq = ?",
            (isoformat(now), row["seq"]),
        )
    return "ok"


def requeue_dead_lettered(tx: Transaction, account_id: str, event_id: str, now: datetime) -> bool:
    """Put a dead-lettered inbox entry back to `pending`, visible now, with a fresh delivery count."""
    cursor = tx.execute(
        "UPDATE inbox SET state = 'pending', visible_at = ?, delivery_count = 0, receipt = NULL, lease_id = NULL, "
        "updated_at = ? WHERE account_id = ? AND event_seq = (SELECT seq FROM events WHERE id = ? AND account_id = ?)",
        (now.timestamp(), isoformat(now), account_id, event_id, account_id),
    )
    return cursor.rowcount > 0


def list_pending(
    tx: Transaction,
    account_id: str,
    *,
    types: Sequence[str],
    after_sequence: int,
    limit: int,
    now: datetime,
) -> list[dict[str, Any]]:
    """Visible (pending, or leased with an ended lease) events, oldest first."""
    stamp = now.timestamp()
    clauses = [
        "i.account_id = ?",
        "i.state IN ('pending', 'leased')",
        "i.visible_at <= ?",
        "i.event_seq > ?",
    ]
    params: list[Any] = [account_id, stamp, after_sequence]
    if types:
        clause, values = sql_clause("i.event_type", types)
        clauses.append(clause)
        params.extend(values)
    sql = (
        "SELECT e.*, i.state AS inbox_state, i.visible_at AS inbox_visible_at, i.delivery_count AS "
        "inbox_delivery_count FROM inbox i JOIN events e ON e.seq = i.event_seq WHERE "
        + " AND ".join(clauses)
        + " ORDER BY i.event_seq LIMIT ?"
    )
    return [row_to_wire(row, stamp) for row in tx.execute(sql, (*params, limit))]


def inbox_depth(tx: Transaction, account_id: str) -> int:
    row = tx.execute(
        "SELECT count(*) FROM inbox WHERE account_id = ? AND state IN ('pending', 'leased')", (account_id,)
    ).fetchone()
    return int(row[0])


class SqliteInboxStore:
    """`storage.ports.inbox.InboxStore` on the group-commit engine: one method, one transaction."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def list_pending(
        self, account_id: str, *, types: Sequence[str], after_sequence: int, limit: int, now: datetime
    ) -> list[dict[str, Any]]:
        return await self._db.read(
            lambda tx: list_pending(tx, account_id, types=types, after_sequence=after_sequence, limit=limit, now=now)
        )

    async def lease(
        self,
        account_id: str,
        *,
        max_events: int,
        visibility_timeout: int,
        types: Sequence[str],
        now: datetime,
        default_max_deliveries: int,
        respond: Callable[[LeaseResult], Reply | None],
        keyed: KeyedRequest | None,
    ) -> tuple[LeaseResult, Reply | None]:
        def write(tx: Transaction) -> tuple[LeaseResult, Reply | None]:
            result = lease(
                tx,
                account_id,
                max_events=max_events,
                visibility_timeout=visibility_timeout,
                types=types,
                now=now,
                default_max_deliveries=default_max_deliveries,
            )
            reply = respond(result)
            if reply is not None and keyed is not None:
                store_reply(tx, keyed, reply)
            return result, reply

        return await self._db.write(write)

    async def ack(self, account_id: str, receipts: Sequence[str], now: datetime) -> list[ReceiptOutcome]:
        return await self._db.write(lambda tx: ack(tx, account_id, receipts, now))

    async def nack(self, account_id: str, receipts: Sequence[str], delay: int, now: datetime) -> list[ReceiptOutcome]:
        return await self._db.write(lambda tx: nack(tx, account_id, receipts, delay, now))

    async def extend(
        self, account_id: str, receipts: Sequence[str], visibility_timeout: int, now: datetime
    ) -> list[ReceiptOutcome]:
        return await self._db.write(lambda tx: extend(tx, account_id, receipts, visibility_timeout, now))

    async def ack_event(
        self, account_id: str, event_id: str, now: datetime
    ) -> Literal["ok", "not_found", "dead_lettered"]:
        return await self._db.write(lambda tx: ack_event(tx, account_id, event_id, now))
