"""Injectable time, so leases, retries, idempotency expiry and long polls are testable without sleeping."""

from __future__ import annotations

import heapq
import itertools
from datetime import UTC, datetime, timedelta
from typing import Protocol

import anyio


class Clock(Protocol):
    def now(self) -> datetime:
        """Current time, timezone-aware UTC."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Wait until `seconds` have passed on this clock."""
        ...


class SystemClock:
    """Wall-clock time and real sleeping."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    async def sleep(self, seconds: float) -> None:
        await anyio.sleep(max(0.0, seconds))


class ManualClock:
    """A clock that only moves when a test calls `advance`; sleepers wake when their deadline passes."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 1, 1, tzinfo=UTC)
        self._sleepers: list[tuple[datetime, int, anyio.Event]] = []
        self._counter = itertools.count()

    def now(self) -> datetime:
        return self._now

    def advance(self, seconds: float) -> None:
        self._now += timedelta(seconds=seconds)
        while self._sleepers and self._sleepers[0][0] <= self._now:
            _, _, event = heapq.heappop(self._sleepers)
            event.set()

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            await anyio.lowlevel.checkpoint()
            return
        event = anyio.Event()
        heapq.heappush(self._sleepers, (self._now + timedelta(seconds=seconds), next(self._counter), event))
        await event.wait()

    @property
    def sleeper_count(self) -> int:
        """How many tasks are waiting on this clock (lets tests wait until a long poll is parked)."""
        return sum(1 for _, _, event in self._sleepers if not event.is_set())


def to_epoch(moment: datetime) -> float:
    return moment.timestamp()


def isoformat(moment: datetime) -> str:
    """RFC 3339 UTC with microseconds and a `Z`: fixed width, so stored strings sort chronologically."""
    utc = moment.astimezone(UTC)
    return (
        f"{utc.year:04d}-{utc.month:02d}-{utc.day:02d}T{utc.hour:02d}:{utc.minute:02d}:{utc.second:02d}"
        f".{utc.microsecond:06d}Z"
    )


def parse_datetime(value: str) -> datetime:
    """Parse RFC 3339; naive values are taken as UTC. Raises ValueError on anything else."""
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    parsed = datetime.fromisoformat(text)
    if "T" not in value and "t" not in value and " " not in value:
        raise ValueError("a date-time needs a time part")
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)
