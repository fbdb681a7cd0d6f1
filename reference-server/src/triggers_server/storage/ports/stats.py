"""Operations and statistics: what a backend counts, and the port (`StatsStore`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Backlog:
    inbox: int  # entries not yet acknowledged (pending or leased)
    dlq: int
    deliveries: int  # webhook deliveries not yet settled (ACTIVE_STATUSES)


@dataclass(frozen=True)
class TypeCount:
    type: str
    count: int


@dataclass(frozen=True)
class ErrorCount:
    """Failed delivery attempts of one cause (`http_<status>`, `timeout` or a transport error's name)."""

    cause: str
    count: int


@dataclass(frozen=True)
class ActivityWindow:
    """One account's activity since a moment, read in one snapshot."""

    events: int
    top_types: tuple[TypeCount, ...]
    attempts: int
    succeeded: int
    errors: tuple[ErrorCount, ...]  # failed attempts by cause, most frequent first
    backlog: Backlog


@dataclass(frozen=True)
class BucketCount:
    """Activity in one bucket of a window; bucket `index` starts `index` bucket widths after the first."""

    index: int
    events: int
    attempts: int
    succeeded: int


class StatsStore(Protocol):
    async def ping(self) -> None:
        """Raises when the backend does not answer."""
        ...

    async def backlog(self, account_id: str | None) -> Backlog:
        """One account's backlog, or (None) every account's."""
        ...

    async def activity(self, account_id: str, *, since: str, top: int) -> ActivityWindow:
        """Events and delivery attempts from `since` (RFC 3339), with the `top` most frequent event types and
        the failed attempts by cause."""
        ...

    async def series(
        self, account_id: str, *, since: str, start_epoch: int, bucket_seconds: int, buckets: int
    ) -> list[BucketCount]:
        """Events and delivery attempts from `since` (RFC 3339) counted per bucket of `bucket_seconds`, bucket 0
        starting at `start_epoch` (Unix seconds, at or before `since`) and every later one clamped into the last of
        `buckets`; buckets with nothing are left out."""
        ...
