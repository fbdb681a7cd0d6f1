"""Table columns and one-line renderings of API objects, shared by the commands."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from rich.text import Text

from .output import Column, compact_json

if TYPE_CHECKING:  # models are only annotations here; importing them costs startup time
    from ..types import Delivery, DlqEntry, Event, SchemaSubject, Subscription

__all__ = [
    "DELIVERY_COLUMNS",
    "DLQ_COLUMNS",
    "EVENT_COLUMNS",
    "INBOX_COLUMNS",
    "SCHEMA_COLUMNS",
    "SUBSCRIPTION_COLUMNS",
    "clock_time",
    "event_line",
]

EVENT_COLUMNS: list[Column[Event]] = [
    Column("ID", lambda e: e.id, no_wrap=True),
    Column("TYPE", lambda e: e.type, no_wrap=True),
    Column("SOURCE", lambda e: e.source),
    Column("STATUS", lambda e: e.status),
    Column("CREATED", lambda e: e.created_at, no_wrap=True),
]
INBOX_COLUMNS: list[Column[Event]] = [
    Column("ID", lambda e: e.id, no_wrap=True),
    Column("TYPE", lambda e: e.type, no_wrap=True),
    Column("STATUS", lambda e: e.status),
    Column("CREATED", lambda e: e.created_at, no_wrap=True),
]
DLQ_COLUMNS: list[Column[DlqEntry]] = [
    Column("ID", lambda d: d.id, no_wrap=True),
    Column("EVENT", lambda d: d.event_id, no_wrap=True),
    Column("TYPE", lambda d: d.event_type, no_wrap=True),
    Column("ORIGIN", lambda d: d.origin),
    Column("REASON", lambda d: d.reason),
    Column("ATTEMPTS", lambda d: d.attempts),
    Column("CREATED", lambda d: d.created_at, no_wrap=True),
]
DELIVERY_COLUMNS: list[Column[Delivery]] = [
    Column("ID", lambda d: d.id, no_wrap=True),
    Column("EVENT", lambda d: d.event_id, no_wrap=True),
    Column("SUBSCRIPTION", lambda d: d.subscription_id, no_wrap=True),
    Column("STATUS", lambda d: d.status),
    Column("ATTEMPTS", lambda d: d.attempt_count),
    Column("LAST", lambda d: d.last_response_status),
    Column("NEXT", lambda d: d.next_attempt_at, no_wrap=True),
    Column("UPDATED", lambda d: d.updated_at, no_wrap=True),
]
SCHEMA_COLUMNS: list[Column[SchemaSubject]] = [
    Column("TYPE", lambda s: s.event_type, no_wrap=True),
    Column("LATEST", lambda s: s.latest_version),
    Column("VERSIONS", lambda s: s.versions),
    Column("COMPATIBILITY", lambda s: s.compatibility),
    Column("UPDATED", lambda s: s.updated_at, no_wrap=True),
]
SUBSCRIPTION_COLUMNS: list[Column[Subscription]] = [
    Column("ID", lambda s: s.id, no_wrap=True),
    Column("URL", lambda s: s.url),
    Column("TYPES", lambda s: s.event_types or ["*"]),
    Column("ENABLED", lambda s: s.enabled),
    Column("CREATED", lambda s: s.created_at, no_wrap=True),
]


def clock_time(moment: datetime) -> str:
    """``12:00:01`` in the viewer's local time zone, the prefix of every live line."""
    return moment.astimezone().strftime("%H:%M:%S")


def event_line(event: Event) -> Text:
    """``[12:00:01] evt_… order.created {"order_id": "123"}``."""
    line = Text()
    line.append(f"[{clock_time(event.created_at)}] ", style="dim")
    line.append(event.id, style="cyan")
    line.append(" ")
    line.append(event.type, style="bold")
    if event.replay_of:
        line.append(f" (replay of {event.replay_of})", style="dim")
    line.append(" ")
    line.append(
        compact_json(event.data) if event.data_base64 is None else f"<{len(event.data_base64)} base64 chars>"
    )
    return line
