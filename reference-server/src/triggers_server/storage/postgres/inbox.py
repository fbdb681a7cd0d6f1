"""The pull inbox on PostgreSQL (`InboxStore`): batched lease claims with `FOR UPDATE SKIP LOCKED` (pgmq's
visibility timeout: concurrent consumers on any instance never receive the same entry while its lease is
live), ack / nack / extend by receipt, dead-lettering after `max_deliveries` leases without an ack.

Receipts are `rcpt_<event sequence>_<random>`: the sequence finds the entry (locked for the decision), the
whole string must equal the entry's current receipt, so only the current lease holder can ack, nack or
extend; an older receipt is `expired`, an unknown one `not_found`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, Literal

from triggers_server.clock import isoformat
from triggers_server.ids import new_id
from triggers_server.storage.event_rows import SELECT_EVENTS, row_to_wire
from triggers_server.storage.ports.dlq import ORIGIN_INBOX, REASON_MAX_DELIVERIES, NewDeadLetter
from triggers_server.storage.ports.idempotency import KeyedRequest, Reply
from triggers_server.storage.ports.inbox import LeaseResult, ReceiptOutcome
from triggers_server.storage.postgres.dlq import add_dead_letter
from triggers_server.storage.postgres.engine import Conn, PgDatabase, Row, Sql, glob_clause
from triggers_server.storage.postgres.idempotency import store_reply
from triggers_server.storage.receipts import new_receipt, receipt_sequence

_UNKNOWN = "No lease with this receipt exists in this account."
_EXPIRED = "The lease ended (expired, released, re-leased or acknowledged otherwise); the event was not changed."


async def lease(
    conn: Conn,
    account_id: str,
    *,
    max_events: int,
    visibility_timeout: int,
    types: Sequence[str],
    now: datetime,
    default_max_deliveries: int,
) -> LeaseResult:
    stamp = now.timestamp()
    until = now + timedelta(seconds=visibility_timeout)
    lease_id = new_id("lse")
    found = await conn.fetchval("SELECT max_deliveries FROM accounts WHERE id = $1", account_id)
    max_deliveries = int(found) if found is not None else default_max_deliveries
    sql = Sql()
    where = (
        f"i.account_id = {sql(account_id)} AND i.state IN ('pending', 'leased') AND i.visible_at <= {sql(stamp)}"
        + (f" AND {glob_clause('i.event_type', types, sql)}" if types else "")
    )
    leased: list[tuple[int, str, int]] = []
    dead = 0
    while len(leased) < max_events:
        rows = await conn.fetch(
            "SELECT i.event_seq, i.event_type, i.delivery_count, e.id AS event_id FROM inbox i"
            f" JOIN events e ON e.seq = i.event_seq WHERE {where}"
            f" ORDER BY i.event_seq LIMIT {max_events - len(leased)} FOR UPDATE OF i SKIP LOCKED",
            *sql.args,
        )
        if not rows:
            break
        claim = [row for row in rows if row["delivery_count"] < max_deliveries]
        for row in rows:
            if row["delivery_count"] >= max_deliveries:
                await _dead_letter(conn, account_id, row, now)
                dead += 1
        if claim:
            receipts = [new_receipt(int(row["event_seq"])) for row in claim]
            await conn.execute(
                "UPDATE inbox SET state = 'leased', delivery_count = delivery_count + 1, receipt = u.receipt,"
                " lease_id = $1, visible_at = $2, updated_at = $3"
                " FROM unnest($4::bigint[], $5::text[]) AS u(seq, receipt) WHERE inbox.event_seq = u.seq",
                lease_id,
                until.timestamp(),
                isoformat(now),
                [int(row["event_seq"]) for row in claim],
                receipts,
            )
            leased += [
                (int(row["event_seq"]), receipt, int(row["delivery_count"]) + 1)
                for row, receipt in zip(claim, receipts, strict=True)
            ]
    messages: list[dict[str, Any]] = []
    if leased:
        events = {
            int(row["seq"]): row_to_wire(row, stamp)
            for row in await conn.fetch(SELECT_EVENTS + " WHERE e.seq = ANY($1::bigint[])", [s for s, _, _ in leased])
        }
        messages = [{"event": events[s], "receipt": receipt, "delivery_count": n} for s, receipt, n in leased]
    later = Sql()
    upcoming = await conn.fetchval(
        f"SELECT min(visible_at) FROM inbox WHERE account_id = {later(account_id)}"
        f" AND state IN ('pending', 'leased') AND visible_at > {later(stamp)}"
        + (f" AND {glob_clause('event_type', types, later)}" if types else ""),
        *later.args,
    )
    return LeaseResult(lease_id, isoformat(until), messages, dead, upcoming)


async def _dead_letter(conn: Conn, account_id: str, row: Row, now: datetime) -> None:
    await conn.execute(
        "UPDATE inbox SET state = 'dead_lettered', receipt = NULL, lease_id = NULL, updated_at = $1"
        " WHERE event_seq = $2",
        isoformat(now),
        row["event_seq"],
    )
    count = int(row["delivery_count"])
    await add_dead_letter(
        conn,
        NewDeadLetter(
            account_id=account_id,
            origin=ORIGIN_INBOX,
            event_id=row["event_id"],
            event_type=row["event_type"],
            reason=REASON_MAX_DELIVERIES,
            attempts=count,
            detail=f"leased {count} times without an ack",
        ),
        now,
    )


async def _locked_entries(conn: Conn, account_id: str, receipts: Sequence[str]) -> dict[int, Row]:
    sequences = sorted({s for s in map(receipt_sequence, receipts) if s is not None})
    if not sequences:
        return {}
    rows = await conn.fetch(
        "SELECT * FROM inbox WHERE account_id = $1 AND event_seq = ANY($2::bigint[]) ORDER BY event_seq FOR UPDATE",
        account_id,
        sequences,
    )
    return {int(row["event_seq"]): row for row in rows}


def _holds_lease(row: Row, receipt: str, now: float) -> bool:
    return bool(row["receipt"] == receipt and row["state"] == "leased" and row["visible_at"] > now)


Decide = Callable[[Row, str], Literal["change", "ok", "expired"]]


async def _per_receipt(
    conn: Conn, account_id: str, receipts: Sequence[str], decide: Decide
) -> tuple[list[ReceiptOutcome], list[int]]:
    """Outcomes per receipt, and the entries to change (their current lease holder asked)."""
    entries = await _locked_entries(conn, account_id, receipts)
    results: list[ReceiptOutcome] = []
    change: list[int] = []
    for receipt in receipts:
        sequence = receipt_sequence(receipt)
        row = entries.get(sequence) if sequence is not None else None
        if row is None:
            results.append(ReceiptOutcome(receipt, "not_found", _UNKNOWN))
            continue
        verdict = decide(row, receipt)
        if verdict == "expired":
            results.append(ReceiptOutcome(receipt, "expired", _EXPIRED))
        else:
            results.append(ReceiptOutcome(receipt, "ok"))
            if verdict == "change":
                change.append(int(row["event_seq"]))
    return results, change


class PgInboxStore:
    """`storage.ports.inbox.InboxStore` on PostgreSQL: one method, one transaction."""

    def __init__(self, db: PgDatabase) -> None:
        self._db = db

    async def list_pending(
        self, account_id: str, *, types: Sequence[str], after_sequence: int, limit: int, now: datetime
    ) -> list[dict[str, Any]]:
        stamp = now.timestamp()
        sql = Sql()
        clauses = [
            f"i.account_id = {sql(account_id)}",
            "i.state IN ('pending', 'leased')",
            f"i.visible_at <= {sql(stamp)}",
            f"i.event_seq > {sql(after_sequence)}",
        ]
        if types:
            clauses.append(glob_clause("i.event_type", types, sql))
        statement = (
            "SELECT e.*, i.state AS inbox_state, i.visible_at AS inbox_visible_at, i.delivery_count AS "
            "inbox_delivery_count FROM inbox i JOIN events e ON e.seq = i.event_seq WHERE "
            + " AND ".join(clauses)
            + f" ORDER BY i.event_seq LIMIT {sql(limit)}"
        )

        async def read(conn: Conn) -> list[dict[str, Any]]:
            return [row_to_wire(row, stamp) for row in await conn.fetch(statement, *sql.args)]

        return await self._db.read(read)

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
        async def write(conn: Conn) -> tuple[LeaseResult, Reply | None]:
            result = await lease(
                conn,
                account_id,
                max_events=max_events,
                visibility_timeout=visibility_timeout,
                types=types,
                now=now,
                default_max_deliveries=default_max_deliveries,
            )
            reply = respond(result)
            if reply is not None and keyed is not None:
                await store_reply(conn, keyed, reply)
            return result, reply

        return await self._db.write(write)

    async def ack(self, account_id: str, receipts: Sequence[str], now: datetime) -> list[ReceiptOutcome]:
        stamp = now.timestamp()

        def decide(row: Row, receipt: str) -> Literal["change", "ok", "expired"]:
            if row["receipt"] == receipt and row["state"] == "acknowledged":
                return "ok"
            return "change" if _holds_lease(row, receipt, stamp) else "expired"

        async def write(conn: Conn) -> list[ReceiptOutcome]:
            results, change = await _per_receipt(conn, account_id, receipts, decide)
            if change:
                await conn.execute(
                    "UPDATE inbox SET state = 'acknowledged', updated_at = $1 WHERE event_seq = ANY($2::bigint[])",
                    isoformat(now),
                    change,
                )
            return results

        return await self._db.write(write)

    async def nack(self, account_id: str, receipts: Sequence[str], delay: int, now: datetime) -> list[ReceiptOutcome]:
        stamp = now.timestamp()

        def decide(row: Row, receipt: str) -> Literal["change", "ok", "expired"]:
            if row["receipt"] == receipt and row["state"] == "pending":
                return "ok"  # released already by this receipt
            return "change" if _holds_lease(row, receipt, stamp) else "expired"

        async def write(conn: Conn) -> list[ReceiptOutcome]:
            results, change = await _per_receipt(conn, account_id, receipts, decide)
            if change:
                await conn.execute(
                    "UPDATE inbox SET state = 'pending', visible_at = $1, updated_at = $2"
                    " WHERE event_seq = ANY($3::bigint[])",
                    stamp + delay,
                    isoformat(now),
                    change,
                )
            return results

        return await self._db.write(write)

    async def extend(
        self, account_id: str, receipts: Sequence[str], visibility_timeout: int, now: datetime
    ) -> list[ReceiptOutcome]:
        stamp = now.timestamp()

        def decide(row: Row, receipt: str) -> Literal["change", "ok", "expired"]:
            return "change" if _holds_lease(row, receipt, stamp) else "expired"

        async def write(conn: Conn) -> list[ReceiptOutcome]:
            results, change = await _per_receipt(conn, account_id, receipts, decide)
            if change:
                await conn.execute(
                    "UPDATE inbox SET visible_at = $1, updated_at = $2 WHERE event_seq = ANY($3::bigint[])",
                    stamp + visibility_timeout,
                    isoformat(now),
                    change,
                )
            return results

        return await self._db.write(write)

    async def ack_event(
        self, account_id: str, event_id: str, now: datetime
    ) -> Literal["ok", "not_found", "dead_lettered"]:
        async def write(conn: Conn) -> Literal["ok", "not_found", "dead_lettered"]:
            sequence = await conn.fetchval(
                "SELECT seq FROM events WHERE id = $1 AND account_id = $2", event_id, account_id
            )
            if sequence is None:
                return "not_found"
            row = await conn.fetchrow("SELECT event_seq, state FROM inbox WHERE event_seq = $1 FOR UPDATE", sequence)
            if row is None:
                return "ok"  # not in the inbox (acknowledged long ago, or never queued)
            if row["state"] == "dead_lettered":
                return "dead_lettered"
            if row["state"] in ("pending", "leased"):
                await conn.execute(
                    "UPDATE inbox SET state = 'acknowledged', receipt = NULL, lease_id = NULL, updated_at = $1"
                    " WHERE event_seq = $2",
                    isoformat(now),
                    sequence,
                )
            return "ok"

        return await self._db.write(write)
