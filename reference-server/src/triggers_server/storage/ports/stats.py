"""Operations and statistics: what a backend counts, and the port (`StatsStore`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Backlog:
    inbox: int  # entries not yet acknowledged (pending or leased)
    dlq: int


@dataclass(frozen=True)
class TypeCount:
    type: str
    count: int


@dataclass(frozen=True)
class ActivityWindow:
    """One account's activity since a moment, read in one snapshot."""

    events: int
    top_types: tuple[TypeCount, ...]
    attempts: int
    succeeded: int
    backlog: Backlog


class StatsStore(Protocol):
    async def ping(self) -> None:
        """Raises when the backend does not answer."""
        ...

    async def backlog(self, account_id: str | None) -> Backlog:
        """One account's backlog, or (None) every account's."""
        ...

    async def activity(self, account_id: str, *, since: str, top: int) -> ActivityWindow:
        """Events and delivery attempts from `since` (RFC 3339), with the `top` most frequent event types."""
        ...
