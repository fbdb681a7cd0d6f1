"""Events: the draft the domain hands in, what a backend answers (wire `Event` dicts), and the port (`EventStore`).

Events travel as the contract's `Event` object (a dict) because that is what every reader serialises; the
store builds it once per event."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from triggers_server.storage.ports.idempotency import KeyedRequest, Reply


@dataclass
class EventDraft:
    """An event as accepted from any encoding, before the server assigns id, sequence and times. Mutable:
    the schema check records the `schema_version` it validated against."""

    type: str
    source: str
    external_id: str | None = None
    subject: str | None = None
    time: datetime | None = None
    has_data: bool = False
    data: Any = None
    data_base64: str | None = None
    datacontenttype: str | None = None
    dataschema: str | None = None
    correlation_id: str | None = None
    causation_id: str | None = None
    metadata: dict[str, str] = field(default_factory=dict[str, str])
    extensions: dict[str, Any] = field(default_factory=dict[str, Any])
    schema_version: int | None = None
    replay_of: str | None = None


@dataclass(frozen=True)
class EventCommitted:
    """Announced by a backend for every stored event once it is durable, in sequence order (feeds the stream hub)."""

    account_id: str
    event: dict[str, Any]


class DuplicateEvent(Exception):
    """The account already holds an original event with this `source` + `id`."""

    def __init__(self, existing: dict[str, Any]) -> None:
        super().__init__(existing["id"])
        self.existing = existing


@dataclass(frozen=True)
class EventQuery:
    types: Sequence[str] = ()
    source: str | None = None
    subject: str | None = None
    correlation_id: str | None = None
    status: str | None = None
    since: datetime | None = None
    until: datetime | None = None


@dataclass(frozen=True)
class StreamBounds:
    """Where an account's stored events begin and end, read in one snapshot."""

    latest: int
    oldest: int | None
    purged_through: int


# Per draft: the stored wire `Event`, or the original it duplicates.
Outcome = dict[str, Any] | DuplicateEvent


class EventStore(Protocol):
    async def create(
        self,
        account_id: str,
        draft: EventDraft,
        now: datetime,
        *,
        respond: Callable[[dict[str, Any]], Reply],
        keyed: KeyedRequest | None,
    ) -> tuple[dict[str, Any], Reply]:
        """Store one event with its pending inbox entry; `respond` renders the reply inside the transaction
        and, with `keyed`, it is stored there too. Raises DuplicateEvent (nothing is stored)."""
        ...

    async def create_many(
        self,
        account_id: str,
        drafts: Sequence[EventDraft],
        now: datetime,
        *,
        respond: Callable[[list[Outcome]], Reply],
        keyed: KeyedRequest | None,
    ) -> tuple[list[Outcome], Reply]:
        """Store many events in one transaction (duplicates, also within `drafts`, are reported, not stored)."""
        ...

    async def query(
        self, account_id: str, query: EventQuery, *, now: datetime, limit: int, before_sequence: int | None
    ) -> list[dict[str, Any]]:
        """Newest first; `before_sequence` continues a page."""
        ...

    async def get(self, account_id: str, event_id: str, now: datetime) -> dict[str, Any] | None: ...

    async def correlation(self, account_id: str, correlation_id: str, now: datetime) -> list[dict[str, Any]]:
        """Every event of the correlation, in sequence order."""
        ...

    async def after(self, account_id: str, after_sequence: int, *, now: datetime, limit: int) -> list[dict[str, Any]]:
        """Oldest first, strictly after `after_sequence`."""
        ...

    async def bounds(self, account_id: str) -> StreamBounds: ...

    async def max_sequence(self) -> int:
        """The highest sequence stored in any account (0 when empty)."""
        ...

    async def purge_retention(self, now: datetime, retention_seconds: float) -> int:
        """Delete events created before the window (with their inbox entries); returns how many."""
        ...
