"""Events on PostgreSQL (`EventStore`): insert under the event lock (sequences in commit order), per-account
`source` + `id` dedupe, wire dicts, list, correlate, purge. Module functions take a connection so other
stores compose them in one transaction (replays, test events, DLQ retries)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from triggers_server.clock import isoformat
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
from triggers_server.storage.postgres.engine import (
    Conn,
    EventRows,
    Finish,
    IngestContext,
    PgDatabase,
    Row,
    Sql,
    add_equals,
    affected,
    glob_clause,
    texts,
)
from triggers_server.storage.postgres.idempotency import store_reply


async def find_originals(
    conn: Conn, account_id: str, keys: Sequence[tuple[str, str]], now: float
) -> dict[tuple[str, str], dict[str, Any]]:
    if not keys:
        return {}
    rows = await conn.fetch(
        SELECT_EVENTS + " JOIN unnest($2::text[], $3::text[]) AS k(source, external_id)"
        " ON e.source = k.source AND e.external_id = k.external_id"
        " WHERE e.account_id = $1 AND e.replay_of IS NULL",
        account_id,
        texts([source for source, _ in keys]),
        texts([external for _, external in keys]),
    )
    return {(row["source"], row["external_id"]): row_to_wire(row, now) for row in rows}


_INSERT_EVENTS = (
    "INSERT INTO events (seq, id, account_id, external_id, type, source, subject, time, data, data_base64, "
    "datacontenttype, dataschema, correlation_id, causation_id, metadata, extensions, schema_version, "
    "replay_of, created_at, size_bytes) "
    "SELECT nextval('events_seq'), c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, c12, c13, c14,"
    " c15, c16, c17, c18, c19 FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], "
    "$6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[], "
    "$14::text[], $15::text[], $16::int[], $17::text[], $18::text[], $19::int[]) WITH ORDINALITY AS "
    "u(c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, c12, c13, c14, c15, c16, c17, c18, c19, ord) "
    "ORDER BY ord RETURNING seq, id"
)
# The events and their pending inbox entries in one statement (one round trip per ingest).
_INSERT_EVENTS_AND_INBOX = (
    "WITH stored AS ("
    + _INSERT_EVENTS.replace("RETURNING seq, id", "RETURNING seq, id, account_id, type, created_at")
    + "), queued AS (INSERT INTO inbox (event_seq, account_id, event_type, state, visible_at, updated_at) "
    "SELECT s.seq, s.account_id, s.type, 'pending', v.visible_at, s.created_at FROM stored s "
    "JOIN unnest($1::text[], $20::float8[]) AS v(id, visible_at) ON v.id = s.id "
    ") SELECT seq, id FROM stored"
)
_COLUMNS = 19
_NUMERIC = (15, 18)  # schema_version and size_bytes: int[]; every other column is text[]


@dataclass
class StagedEvents:
    """Drafts turned into rows (not yet inserted): per draft its outcome, the fresh events awaiting their
    sequences, and the rows for the group's multi-row insert (None when every draft was a duplicate)."""

    account_id: str
    outcomes: list[Outcome]
    fresh: list[dict[str, Any]]
    rows: EventRows | None

    def settle(self, context: IngestContext, sequences: Mapping[str, int]) -> list[Outcome]:
        """Give the fresh events their sequences (from the group's insert) and report them as committed."""
        for event in self.fresh:
            event["sequence"] = sequences[event["id"]]
            context.sequences.append(event["sequence"])
            context.committed.append(EventCommitted(self.account_id, event))
        return self.outcomes


async def stage_events(
    conn: Conn, account_id: str, drafts: Sequence[EventDraft], now: datetime, *, inbox: bool = True
) -> StagedEvents:
    """Per draft, a fresh event or a DuplicateEvent (an original with the same `source` + `id` already
    stored, or earlier in `drafts`); reads only (the dedupe lookup, under the event lock)."""
    stamp = now.timestamp()
    created = isoformat(now)
    keys = [
        (draft.source, draft.external_id)
        for draft in drafts
        if draft.external_id is not None and draft.replay_of is None
    ]
    stored = await find_originals(conn, account_id, keys, stamp)
    outcomes: list[Outcome] = []
    columns: list[list[Any]] = [[] for _ in range(_COLUMNS)]
    fresh: list[dict[str, Any]] = []
    seen: dict[tuple[str, str], dict[str, Any]] = {}
    for draft in drafts:
        key = (draft.source, draft.external_id) if draft.external_id is not None and draft.replay_of is None else None
        if key is not None:
            earlier = seen.get(key) or stored.get(key)
            if earlier is not None:
                outcomes.append(DuplicateEvent(earlier))
                continue
        event_id = new_id("evt")
        occurred = isoformat(draft.time) if draft.time is not None else created
        values = draft_row(draft, event_id=event_id, account_id=account_id, occurred=occurred, created=created)
        for column, value in zip(columns, values, strict=True):
            column.append(value)
        event = fresh_event(draft, event_id=event_id, occurred=occurred, created=created, inbox=inbox)
        if key is not None:
            seen[key] = event
        fresh.append(event)
        outcomes.append(event)
    rows = None
    if fresh:
        arrays = [column if index in _NUMERIC else texts(column) for index, column in enumerate(columns)]
        if inbox:
            arrays.append([stamp] * len(fresh))
        ids = [event["id"] for event in fresh]
        rows = EventRows(_INSERT_EVENTS_AND_INBOX if inbox else _INSERT_EVENTS, arrays, ids)
    return StagedEvents(account_id, outcomes, fresh, rows)


async def insert_events(
    conn: Conn,
    context: IngestContext,
    account_id: str,
    drafts: Sequence[EventDraft],
    now: datetime,
    *,
    inbox: bool = True,
) -> list[Outcome]:
    """Store many events (and by default their pending inbox entries) inside an ingest transaction, on
    their own (replays and test events; ingestion stages them to share the group's insert)."""
    staged = await stage_events(conn, account_id, drafts, now, inbox=inbox)
    sequences: dict[str, int] = {}
    if staged.rows is not None:
        rows = await conn.fetch(staged.rows.statement, *staged.rows.arrays)
        sequences = {row["id"]: int(row["seq"]) for row in rows}
    return staged.settle(context, sequences)


async def insert_event(
    conn: Conn, context: IngestContext, account_id: str, draft: EventDraft, now: datetime, *, inbox: bool = True
) -> dict[str, Any]:
    """Store one event; raises DuplicateEvent when an original with the same `source` + `id` exists."""
    [outcome] = await insert_events(conn, context, account_id, [draft], now, inbox=inbox)
    if isinstance(outcome, DuplicateEvent):
        raise outcome
    return outcome


async def enqueue_inbox(conn: Conn, account_id: str, event_sequence: int, event_type: str, now: datetime) -> None:
    """Put a stored event into the account's pull inbox as `pending` (no-op if it is already there)."""
    await conn.execute(
        "INSERT INTO inbox (event_seq, account_id, event_type, state, visible_at, updated_at)"
        " VALUES ($1, $2, $3, 'pending', $4, $5) ON CONFLICT (event_seq) DO NOTHING",
        event_sequence,
        account_id,
        event_type,
        now.timestamp(),
        isoformat(now),
    )


async def get_event(conn: Conn, account_id: str, event_id: str, now: datetime) -> dict[str, Any] | None:
    row = await conn.fetchrow(SELECT_EVENTS + " WHERE e.id = $1 AND e.account_id = $2", event_id, account_id)
    return row_to_wire(row, now.timestamp()) if row else None


async def get_events_by_ids(
    conn: Conn, account_id: str, event_ids: Sequence[str], now: datetime
) -> dict[str, dict[str, Any]]:
    rows = await conn.fetch(
        SELECT_EVENTS + " WHERE e.account_id = $1 AND e.id = ANY($2::text[])", account_id, texts(event_ids)
    )
    return {row["id"]: row_to_wire(row, now.timestamp()) for row in rows}


def _status_clause(status: str, now: float, sql: Sql) -> str:
    if status == "pending":
        return f"(i.state = 'pending' OR (i.state = 'leased' AND i.visible_at <= {sql(now)}))"
    if status == "leased":
        return f"(i.state = 'leased' AND i.visible_at > {sql(now)})"
    if status == "acknowledged":
        return "(i.state = 'acknowledged' OR i.state IS NULL)"
    return f"i.state = {sql(status)}"


async def list_events(
    conn: Conn, account_id: str, query: EventQuery, *, now: datetime, limit: int, before_sequence: int | None
) -> list[dict[str, Any]]:
    sql = Sql()
    clauses = [f"e.account_id = {sql(account_id)}"]
    stamp = now.timestamp()
    if query.types:
        clauses.append(glob_clause("e.type", query.types, sql))
    add_equals(
        clauses,
        sql,
        (("e.source", query.source), ("e.subject", query.subject), ("e.correlation_id", query.correlation_id)),
    )
    if query.status is not None:
        clauses.append(_status_clause(query.status, stamp, sql))
    if query.since is not None:
        clauses.append(f"e.created_at >= {sql(isoformat(query.since))}")
    if query.until is not None:
        clauses.append(f"e.created_at < {sql(isoformat(query.until))}")
    if before_sequence is not None:
        clauses.append(f"e.seq < {sql(before_sequence)}")
    statement = SELECT_EVENTS + " WHERE " + " AND ".join(clauses) + f" ORDER BY e.seq DESC LIMIT {sql(limit)}"
    return [row_to_wire(row, stamp) for row in await conn.fetch(statement, *sql.args)]


async def events_after(
    conn: Conn, account_id: str, after_sequence: int, *, now: datetime, limit: int
) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        SELECT_EVENTS + " WHERE e.account_id = $1 AND e.seq > $2 ORDER BY e.seq LIMIT $3",
        account_id,
        after_sequence,
        limit,
    )
    return [row_to_wire(row, now.timestamp()) for row in rows]


async def events_in_range(
    conn: Conn,
    account_id: str,
    *,
    start: datetime,
    end: datetime,
    after_sequence: int,
    limit: int,
    now: datetime,
) -> list[dict[str, Any]]:
    """Original events with `start <= created_at < end`, oldest first after `after_sequence` (replay jobs)."""
    rows = await conn.fetch(
        SELECT_EVENTS + " WHERE e.account_id = $1 AND e.created_at >= $2 AND e.created_at < $3 AND e.seq > $4"
        " AND e.replay_of IS NULL ORDER BY e.seq LIMIT $5",
        account_id,
        isoformat(start),
        isoformat(end),
        after_sequence,
        limit,
    )
    return [row_to_wire(row, now.timestamp()) for row in rows]


async def latest_sequence(conn: Conn, account_id: str) -> int:
    return int(await conn.fetchval("SELECT coalesce(max(seq), 0) FROM events WHERE account_id = $1", account_id))


async def stream_bounds(conn: Conn, account_id: str) -> StreamBounds:
    row = await conn.fetchrow(
        "SELECT (SELECT max(seq) FROM events WHERE account_id = $1) AS latest,"
        " (SELECT min(seq) FROM events WHERE account_id = $1) AS oldest,"
        " (SELECT purged_through_seq FROM accounts WHERE id = $1) AS purged",
        account_id,
    )
    assert row is not None
    oldest = row["oldest"]
    return StreamBounds(int(row["latest"] or 0), int(oldest) if oldest is not None else None, int(row["purged"] or 0))


async def committed_range(conn: Conn, first: int, last: int) -> list[Row]:
    """Every event with `first <= seq <= last`, in sequence order (the commit feed reads notified ranges)."""
    return await conn.fetch(SELECT_EVENTS + " WHERE e.seq BETWEEN $1 AND $2 ORDER BY e.seq", first, last)


class PgEventStore:
    """`storage.ports.events.EventStore` on PostgreSQL: writes go through the grouped ingest transaction."""

    def __init__(self, db: PgDatabase) -> None:
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
        async def stage(conn: Conn) -> tuple[EventRows | None, Finish[tuple[dict[str, Any], Reply]]]:
            staged = await stage_events(conn, account_id, [draft], now)
            [outcome] = staged.outcomes
            if isinstance(outcome, DuplicateEvent):
                raise outcome  # nothing written: this job alone fails

            async def finish(
                conn: Conn, context: IngestContext, sequences: Mapping[str, int]
            ) -> tuple[dict[str, Any], Reply]:
                staged.settle(context, sequences)
                reply = respond(outcome)
                if keyed is not None:
                    await store_reply(conn, keyed, reply)
                return outcome, reply

            return staged.rows, finish

        return await self._db.ingest_staged(stage)

    async def create_many(
        self,
        account_id: str,
        drafts: Sequence[EventDraft],
        now: datetime,
        *,
        respond: Callable[[list[Outcome]], Reply],
        keyed: KeyedRequest | None,
    ) -> tuple[list[Outcome], Reply]:
        async def stage(conn: Conn) -> tuple[EventRows | None, Finish[tuple[list[Outcome], Reply]]]:
            staged = await stage_events(conn, account_id, drafts, now)

            async def finish(
                conn: Conn, context: IngestContext, sequences: Mapping[str, int]
            ) -> tuple[list[Outcome], Reply]:
                outcomes = staged.settle(context, sequences)
                reply = respond(outcomes)
                if keyed is not None:
                    await store_reply(conn, keyed, reply)
                return outcomes, reply

            return staged.rows, finish

        return await self._db.ingest_staged(stage)

    async def query(
        self, account_id: str, query: EventQuery, *, now: datetime, limit: int, before_sequence: int | None
    ) -> list[dict[str, Any]]:
        return await self._db.read(
            lambda conn: list_events(conn, account_id, query, now=now, limit=limit, before_sequence=before_sequence)
        )

    async def get(self, account_id: str, event_id: str, now: datetime) -> dict[str, Any] | None:
        return await self._db.read(lambda conn: get_event(conn, account_id, event_id, now))

    async def correlation(self, account_id: str, correlation_id: str, now: datetime) -> list[dict[str, Any]]:
        async def read(conn: Conn) -> list[dict[str, Any]]:
            rows = await conn.fetch(
                SELECT_EVENTS + " WHERE e.account_id = $1 AND e.correlation_id = $2 ORDER BY e.seq LIMIT 10000",
                account_id,
                correlation_id,
            )
            return [row_to_wire(row, now.timestamp()) for row in rows]

        return await self._db.read(read)

    async def after(self, account_id: str, after_sequence: int, *, now: datetime, limit: int) -> list[dict[str, Any]]:
        return await self._db.read(lambda conn: events_after(conn, account_id, after_sequence, now=now, limit=limit))

    async def bounds(self, account_id: str) -> StreamBounds:
        return await self._db.read(lambda conn: stream_bounds(conn, account_id))

    async def max_sequence(self) -> int:
        async def read(conn: Conn) -> int:
            return int(await conn.fetchval("SELECT coalesce(max(seq), 0) FROM events"))

        return await self._db.read(read)

    async def purge_retention(self, now: datetime, retention_seconds: float) -> int:
        cutoff = isoformat(now - timedelta(seconds=retention_seconds))

        async def write(conn: Conn) -> int:
            await conn.execute(
                "UPDATE accounts a SET purged_through_seq = GREATEST(a.purged_through_seq, m.highest)"
                " FROM (SELECT account_id, max(seq) AS highest FROM events WHERE created_at < $1"
                " GROUP BY account_id) m WHERE a.id = m.account_id",
                cutoff,
            )
            await conn.execute(
                "DELETE FROM inbox WHERE event_seq IN (SELECT seq FROM events WHERE created_at < $1)", cutoff
            )
            return affected(await conn.execute("DELETE FROM events WHERE created_at < $1", cutoff))

        return await self._db.write(write)


def committed(rows: Sequence[Row], now: float) -> list[EventCommitted]:
    return [EventCommitted(row["account_id"], row_to_wire(row, now)) for row in rows]
