"""How an event is laid out in storage, for every backend: the row a draft becomes, the wire `Event` a fresh
draft and a stored row (`SELECT_EVENTS`) render as. Both backends keep the same columns, so the mapping is
written once here and each backend only says how to run the SQL."""

from __future__ import annotations

from typing import Any, Protocol

from triggers_server.jsoncodec import dumps_text, loads
from triggers_server.storage.ports.events import EventDraft

SPECVERSION = "1.0"
EMPTY_OBJECT = "{}"  # metadata / extensions when empty (stored as text, skipped on read)
SELECT_EVENTS = (
    "SELECT e.*, i.state AS inbox_state, i.visible_at AS inbox_visible_at, "
    "i.delivery_count AS inbox_delivery_count FROM events e LEFT JOIN inbox i ON i.event_seq = e.seq"
)


class ColumnRow(Protocol):
    """A stored row read by column name: `sqlite3.Row` and asyncpg's `Record` both are."""

    def __getitem__(self, key: str, /) -> Any: ...


def status_of(state: str | None, visible_at: float | None, now: float) -> str:
    if state is None:
        return "acknowledged"
    if state == "leased" and visible_at is not None and visible_at <= now:
        return "pending"
    return state


def row_to_wire(row: ColumnRow, now: float) -> dict[str, Any]:
    """The contract's `Event` object for a row of `SELECT_EVENTS`."""
    data_text = row["data"]
    return {
        "id": row["id"],
        "external_id": row["external_id"],
        "type": row["type"],
        "source": row["source"],
        "subject": row["subject"],
        "time": row["time"],
        "data": loads(data_text) if data_text is not None else None,
        "data_base64": row["data_base64"],
        "datacontenttype": row["datacontenttype"],
        "dataschema": row["dataschema"],
        "specversion": SPECVERSION,
        "correlation_id": row["correlation_id"],
        "causation_id": row["causation_id"],
        "metadata": loads(row["metadata"]) if row["metadata"] != EMPTY_OBJECT else {},
        "extensions": loads(row["extensions"]) if row["extensions"] != EMPTY_OBJECT else {},
        "status": status_of(row["inbox_state"], row["inbox_visible_at"], now),
        "sequence": int(row["seq"]),
        "schema_version": row["schema_version"],
        "replay_of": row["replay_of"],
        "delivery_count": row["inbox_delivery_count"] or 0,
        "created_at": row["created_at"],
    }


def draft_row(draft: EventDraft, *, event_id: str, account_id: str, occurred: str, created: str) -> tuple[Any, ...]:
    """The `events` columns of a draft, in the order both backends' inserts name them (`seq` is assigned)."""
    data_text = dumps_text(draft.data) if draft.has_data else None
    return (
        event_id,
        account_id,
        draft.external_id,
        draft.type,
        draft.source,
        draft.subject,
        occurred,
        data_text,
        draft.data_base64,
        draft.datacontenttype,
        draft.dataschema,
        draft.correlation_id,
        draft.causation_id,
        dumps_text(draft.metadata) if draft.metadata else EMPTY_OBJECT,
        dumps_text(draft.extensions) if draft.extensions else EMPTY_OBJECT,
        draft.schema_version,
        draft.replay_of,
        created,
        len(data_text or draft.data_base64 or ""),
    )


def fresh_event(draft: EventDraft, *, event_id: str, occurred: str, created: str, inbox: bool) -> dict[str, Any]:
    """The wire `Event` of a draft just stored (its `sequence` is filled in once the insert returns it)."""
    return {
        "id": event_id,
        "external_id": draft.external_id,
        "type": draft.type,
        "source": draft.source,
        "subject": draft.subject,
        "time": occurred,
        "data": draft.data if draft.has_data else None,
        "data_base64": draft.data_base64,
        "datacontenttype": draft.datacontenttype,
        "dataschema": draft.dataschema,
        "specversion": SPECVERSION,
        "correlation_id": draft.correlation_id,
        "causation_id": draft.causation_id,
        "metadata": dict(draft.metadata),
        "extensions": dict(draft.extensions),
        "status": "pending" if inbox else "acknowledged",
        "sequence": 0,
        "schema_version": draft.schema_version,
        "replay_of": draft.replay_of,
        "delivery_count": 0,
        "created_at": created,
    }
