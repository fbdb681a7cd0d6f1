"""Events on SQLite (`EventStore`): insert (with per-account `source` + `id` dedupe), read as wire dicts, list,
correlate, purge.

The functions take a `Transaction` so stores compose them inside one `Database.write` transaction (ingestion
writes the event, its inbox entry and the idempotency record atomically; replay reuses `insert_event` and
`enqueue_inbox`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from triggers_server.clock import isoformat
from triggers_server.globs import sql_clause
from triggers_server.ids import new_id
from triggers_server.storage.event_rows import SELECT_EVENTS, draft_row, fresh_event, row_to_wire
from triggers_server.storage.ports.events import (
    DuplicateEvent,
    EventCommitted,
    EventDraft,
    EventQuery,
    Outcome,
    StreamBounds,
)
from triggers_server.storage.ports.idempotency import KeyedRequest, Reply
from triggers_server.storage.sqlite.engine import Database, Transaction, after_commit
from triggers_server.storage.sqlite.idempotency import store_reply
from triggers_server.storage.sqlite.where import add_equals


def find_original(tx: Transaction, account_id: str, source: str, external_id: str, now: float) -> dict[str, Any] | None:
    row = tx.execute(
        SELECT_EVENTS + " WHERE e.account_id = ? AND e.source = ? AND e.external_id = ? AND e.replay_of IS NULL",
        (account_id, source, external_id),
    ).fetchone()
    return row_to_wire(row, now) if row else None


_INSERT_EVENT = (
    "INSERT INTO events (id, account_id, external_id, type, source, subject, time, data, data_base64, "
    "datacontenttype, dataschema, correlation_id, causation_id, metadata, extensions, schema_version, "
    "replay_of, created_at, size_bytes) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_INSERT_EVENT_RETURNING = _INSERT_EVENT + " RETURNING seq"
_INSERT_INBOX = (
    "INSERT OR IGNORE INTO inbox (event_seq, account_id, event_type, state, visible_at, updated_at) "
    "VALUES (?, ?, ?, 'pending', ?, ?)"
)


def insert_event(
    tx: Transaction, account_id: str, draft: EventDraft, now: datetime, *, inbox: bool = True
) -> dict[str, Any]:
    """Store one event (and by default its pending inbox entry); returns the wire `Event`.
    Raises DuplicateEvent when an original with the same `source` + `id` exists."""
    [outcome] = insert_events(tx, account_id, [draft], now, inbox=inbox)
    if isinstance(outcome, DuplicateEvent):
        raise outcome
    return outcome


def insert_events(
    tx: Transaction, account_id: str, drafts: Sequence[EventDraft], now: datetime, *, inbox: bool = True
) -> list[Outcome]:
    """Store many events with two multi-row statements; per draft, the wire `Event` or a DuplicateEvent
    (an original with the same `source` + `id` already stored, or earlier in `drafts`)."""
    stamp = now.timestamp()
    created = isoformat(now)
    outcomes: list[Outcome] = []
    rows: list[tuple[Any, ...]] = []
    fresh: list[dict[str, Any]] = []
    seen: dict[tuple[str, str], dict[str, Any]] = {}
    for draft in drafts:
        key = (draft.source, draft.external_id) if draft.external_id is not None and draft.replay_of is None else None
        if key is not None:
            earlier = seen.get(key) or find_original(tx, account_id, key[0], key[1], stamp)
            if earlier is not None:
                outcomes.append(DuplicateEvent(earlier))
                continue
        event_id = new_id("evt")
        occurred = isoformat(draft.time) if draft.time is not None else created
        rows.append(draft_row(draft, event_id=event_id, account_id=account_id, occurred=occurred, created=created))
        event = fresh_event(draft, event_id=event_id, occurred=occurred, created=created, inbox=inbox)
        if key is not None:
            seen[key] = event
        fresh.append(event)
        outcomes.append(event)
    if len(rows) == 1:  # a single event (the common request): one statement returns its sequence
        [(sequence,)] = tx.execute(_INSERT_EVENT_RETURNING, rows[0]).fetchall()
        event = fresh[0]
        event["sequence"] = int(sequence)
        after_commit(EventCommitted(account_id, event))
        if inbox:
            tx.execute(_INSERT_INBOX, (event["sequence"], account_id, event["type"], stamp, created))
    elif rows:
        tx.executemany(_INSERT_EVENT, rows)
        for event, sequence in zip(fresh, _sequences(tx, [row[0] for row in rows]), strict=True):
            event["sequence"] = sequence
            after_commit(EventCommitted(account_id, event))
        if inbox:
            tx.executemany(
                _INSERT_INBOX, [(event["sequence"], account_id, event["type"], stamp, created) for event in fresh]
            )
    return outcomes


def _sequences(tx: Transaction, event_ids: list[str]) -> list[int]:
    """Sequences of rows just inserted in order. The single writer assigns them consecutively, which one
    primary-key probe confirms; otherwise they are looked up by id."""
    last = int(tx.execute("SELECT last_insert_rowid()").fetchone()[0])
    first = last - len(event_ids) + 1
    row = tx.execute("SELECT id FROM events WHERE seq = ?", (first,)).fetchone()
    if row is not None and row[0] == event_ids[0]:
        return list(range(first, last + 1))
    found = dict(
        tx.execute(f"SELECT id, seq FROM events WHERE id IN ({','.join('?' for _ in event_ids)})", event_ids).fetchall()
    )
    return [int(found[event_id]) for event_id in event_ids]


def enqueue_inbox(tx: Transaction, account_id: str, event_sequence: int, event_type: str, now: datetime) -> None:
    """Put a stored event into the account's pull inbox as `pending` (no-op if it is already there)."""
    tx.execute(
        "INSERT OR IGNORE INTO inbox (event_seq, account_id, event_type, state, visible_at, updated_at)"
        " VALUES (?, ?, ?, 'pending', ?, ?)",
        (event_sequence, account_id, event_type, now.timestamp(), isoformat(now)),
    )


def get_event(tx: Transaction, account_id: str, event_id: str, now: datetime) -> dict[str, Any] | None:
    row = tx.execute(SELECT_EVENTS + " WHERE e.id = ? AND e.account_id = ?", (event_id, account_id)).fetchone()
    return row_to_wire(row, now.timestamp()) if row else None


def get_events_by_ids(
    tx: Transaction, account_id: str, event_ids: Sequence[str], now: datetime
) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for start in range(0, len(event_ids), 500):
        chunk = list(event_ids[start : start + 500])
        marks = ",".join("?" for _ in chunk)
        for row in tx.execute(SELECT_EVENTS + f" WHERE e.account_id = ? AND e.id IN ({marks})", (account_id, *chunk)):
            found[row["id"]] = row_to_wire(row, now.timestamp())
    return found


def _status_clause(status: str, now: float) -> tuple[str, list[Any]]:
    if status == "pending":
        return "(i.state = 'pending' OR (i.state = 'leased' AND i.visible_at <= ?))", [now]
    if status == "leased":
        return "(i.state = 'leased' AND i.visible_at > ?)", [now]
    if status == "acknowledged":
        return "(i.state = 'acknowledged' OR i.state IS NULL)", []
    return "i.state = ?", [status]


def list_events(
    tx: Transaction,
    account_id: str,
    query: EventQuery,
    *,
    now: datetime,
    limit: int,
    before_sequence: int | None,
) -> list[dict[str, Any]]:
    """Newest first; `before_sequence` continues a page. Returns up to `limit` events."""
    clauses = ["e.account_id = ?"]
    params: list[Any] = [account_id]
    stamp = now.timestamp()
    if query.types:
        clause, values = sql_clause("e.type", query.types)
        clauses.append(clause)
        params.extend(values)
    add_equals(
        clauses,
        params,
        (("e.source", query.source), ("e.subject", query.subject), ("e.correlation_id", query.correlation_id)),
    )
    if query.status is not None:
        clause, values = _status_clause(query.status, stamp)
        clauses.append(clause)
        params.extend(values)
    if query.since is not None:
        clauses.append("e.created_at >= ?")
        params.append(isoformat(query.since))
    if query.until is not None:
        clauses.append("e.created_at < ?")
        params.append(isoformat(query.until))
    if before_sequence is not None:
        clauses.append("e.seq < ?")
        params.append(before_sequence)
    sql = SELECT_EVENTS + " WHERE " + " AND ".join(clauses) + " ORDER BY e.seq DESC LIMIT ?"
    return [row_to_wire(row, stamp) for row in tx.execute(sql, (*params, limit))]


def events_after(
    tx: Transaction, account_id: str, after_sequence: int, *, now: datetime, limit: int
) -> list[dict[str, Any]]:
    """Oldest first, strictly after `after_sequence` (the SSE backfill and live read)."""
    rows = tx.execute(
        SELECT_EVENTS + " WHERE e.account_id = ? AND e.seq > ? ORDER BY e.seq LIMIT ?",
        (account_id, after_sequence, limit),
    )
    return [row_to_wire(row, now.timestamp()) for row in rows]


def events_in_range(
    tx: Transaction,
    account_id: str,
    *,
    start: datetime,
    end: datetime,
    types: Sequence[str],
    after_sequence: int,
    limit: int,
    now: datetime,
    originals_only: bool = True,
) -> list[dict[str, Any]]:
    """Events with `start <= created_at < end`, oldest first by sequence after `after_sequence` (replay jobs)."""
    clauses = ["e.account_id = ?", "e.created_at >= ?", "e.created_at < ?", "e.seq > ?"]
    params: list[Any] = [account_id, isoformat(start), isoformat(end), after_sequence]
    if originals_only:
        clauses.append("e.replay_of IS NULL")
    if types:
        clause, values = sql_clause("e.type", types)
        clauses.append(clause)
        params.extend(values)
    sql = SELECT_EVENTS + " WHERE " + " AND ".join(clauses) + " ORDER BY e.seq LIMIT ?"
    return [row_to_wire(row, now.timestamp()) for row in tx.execute(sql, (*params, limit))]


def latest_sequence(tx: Transaction, account_id: str) -> int:
    row = tx.execute("SELECT max(seq) FROM events WHERE account_id = ?", (account_id,)).fetchone()
    return int(row[0] or 0)


def oldest_sequence(tx: Transaction, account_id: str) -> int | None:
    row = tx.execute("SELECT min(seq) FROM events WHERE account_id = ?", (account_id,)).fetchone()
    return int(row[0]) if row[0] is not None else None


def purged_through(tx: Transaction, account_id: str) -> int:
    row = tx.execute("SELECT purged_through_seq FROM accounts WHERE id = ?", (account_id,)).fetchone()
    return int(row[0]) if row else 0


def correlation_events(tx: Transaction, account_id: str, correlation_id: str, now: datetime) -> list[dict[str, Any]]:
    rows = tx.execute(
        SELECT_EVENTS + " WHERE e.account_id = ? AND e.correlation_id = ? ORDER BY e.seq LIMIT 10000",
        (account_id, correlation_id),
    )
    return [row_to_wire(row, now.timestamp()) for row in rows]


def purge_retention(tx: Transaction, now: datetime, retention_seconds: float) -> int:
    """Delete events created before the retention window (with their inbox entries) and remember, per
    account, the highest purged sequence so a stream cursor at or below it gets a `reset`."""
    cutoff = isoformat(now - timedelta(seconds=retention_seconds))
    marks = tx.execute(
        "SELECT account_id, max(seq) FROM events WHERE created_at < ? GROUP BY account_id", (cutoff,)
    ).fetchall()
    if not marks:
        return 0
    for account_id, highest in marks:
        tx.execute(
            "UPDATE accounts SET purged_through_seq = max(purged_through_seq, ?) WHERE id = ?",
            (highest, account_id),
        )
    tx.execute("DELETE FROM inbox WHERE event_seq IN (SELECT seq FROM events WHERE created_at < ?)", (cutoff,))
    return tx.execute("DELETE FROM events WHERE created_at < ?", (cutoff,)).rowcount


def max_sequence(tx: Transaction) -> int:
    return int(tx.execute("SELECT coalesce(max(seq), 0) FROM events").fetchone()[0])


def stream_bounds(tx: Transaction, account_id: str) -> StreamBounds:
    return StreamBounds(
        latest_sequence(tx, account_id), oldest_sequence(tx, account_id), purged_through(tx, account_id)
    )


class SqliteEventStore:
    """`storage.ports.events.EventStore` on the group-commit engine: one method, one transaction."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def create(
        self,
        account_id: str,
        draft: EventDraft,
        now: datetime,
        *,
        respond: Callable[[dict[str, Any]], Reply],
        keyed: KeyedRequest | None,
    ) -> tuple[dict[str, Any], Reply]:
        def write(tx: Transaction) -> tuple[dict[str, Any], Reply]:
            event = insert_event(tx, account_id, draft, now)
            reply = respond(event)
            if keyed is not None:
                store_reply(tx, keyed, reply)
            return event, reply

        return await self._db.write(write)

    async def create_many(
        self,
        account_id: str,
        drafts: Sequence[EventDraft],
        now: datetime,
        *,
        respond: Callable[[list[Outcome]], Reply],
        keyed: KeyedRequest | None,
    ) -> tuple[list[Outcome], Reply]:
        def write(tx: Transaction) -> tuple[list[Outcome], Reply]:
            outcomes = insert_events(tx, account_id, drafts, now)
            reply = respond(outcomes)
            if keyed is not None:
                store_reply(tx, keyed, reply)
            return outcomes, reply

        return await self._db.write(write)

    async def query(
        self, account_id: str, query: EventQuery, *, now: datetime, limit: int, before_sequence: int | None
    ) -> list[dict[str, Any]]:
        return await self._db.read(
            lambda tx: list_events(tx, account_id, query, now=now, limit=limit, before_sequence=before_sequence)
        )

    async def get(self, account_id: str, event_id: str, now: datetime) -> dict[str, Any] | None:
        return await self._db.read(lambda tx: get_event(tx, account_id, event_id, now))

    async def correlation(self, account_id: str, correlation_id: str, now: datetime) -> list[dict[str, Any]]:
        return await self._db.read(lambda tx: correlation_events(tx, account_id, correlation_id, now))

    async def after(self, account_id: str, after_sequence: int, *, now: datetime, limit: int) -> list[dict[str, Any]]:
        return await self._db.read(lambda tx: events_after(tx, account_id, after_sequence, now=now, limit=limit))

    async def bounds(self, account_id: str) -> StreamBounds:
        return await self._db.read(lambda tx: stream_bounds(tx, account_id))

    async def max_sequence(self) -> int:
        return await self._db.read(max_sequence)

    async def purge_retention(self, now: datetime, retention_seconds: float) -> int:
        return await self._db.write(lambda tx: purge_retention(tx, now, retention_seconds))
