"""Fan-out of committed events per account, for the SSE stream and inbox long polls, and the stream itself.

The database engine hands every committed event to `StreamHub.on_commit` in commit order, which is
sequence order (one writer assigns sequences). The hub keeps, per account, a bounded ring of those events
with their JSON serialised once, and wakes waiters. A subscriber whose cursor is at or above the ring's
floor reads from memory; an older cursor reads the database (backfill) until it catches up. Either way it
takes events with `sequence > last sent`, so nothing is skipped or repeated.
"""

from __future__ import annotations

import bisect
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import anyio

from triggers_server.clock import Clock
from triggers_server.domain.filters import evaluate
from triggers_server.domain.principal import Principal
from triggers_server.globs import matches_any
from triggers_server.jsoncodec import dumps_text
from triggers_server.storage.ports.events import EventCommitted, EventStore

RING_CAPACITY = 10_000
STREAM_BATCH = 500  # events taken per read, from memory or the database


@dataclass
class RingEntry:
    sequence: int
    event: dict[str, Any]
    _json: str | None = None

    @property
    def json(self) -> str:
        """The event's JSON, serialised on first use and shared by every subscriber."""
        if self._json is None:
            self._json = dumps_text(self.event)
        return self._json


@dataclass
class AccountRing:
    """Every event of one account with `sequence > floor`, in order, up to `capacity` entries."""

    floor: int
    capacity: int = RING_CAPACITY
    sequences: list[int] = field(default_factory=list[int])
    entries: list[RingEntry] = field(default_factory=list[RingEntry])

    def append(self, event: dict[str, Any]) -> None:
        self.sequences.append(event["sequence"])
        self.entries.append(RingEntry(event["sequence"], event))
        if len(self.entries) > 2 * self.capacity:  # trim in halves: amortised O(1) per event
            cut = len(self.entries) - self.capacity
            self.floor = self.sequences[cut - 1]
            del self.sequences[:cut]
            del self.entries[:cut]

    def after(self, sequence: int, limit: int) -> list[RingEntry] | None:
        """Entries with a greater sequence (at most `limit`), or None when the ring cannot vouch for them."""
        if sequence < self.floor:
            return None
        start = bisect.bisect_right(self.sequences, sequence)
        return self.entries[start : start + limit]


class StreamHub:
    def __init__(self, start_sequence: int = 0, *, capacity: int = RING_CAPACITY) -> None:
        """`start_sequence`: the highest sequence committed before this hub started listening;
        `capacity`: events kept in memory per account."""
        self._start = start_sequence
        self.capacity = capacity
        self._signals: dict[str, anyio.Event] = {}
        self._rings: dict[str, AccountRing] = {}
        self.published_total = 0

    def signal(self, account_id: str) -> anyio.Event:
        """The event set at the next commit or publish for `account_id`. Take it *before* reading."""
        current = self._signals.get(account_id)
        if current is None:
            current = self._signals[account_id] = anyio.Event()
        return current

    def on_commit(self, items: Sequence[Any]) -> None:
        """`Backend.listen` listener: record committed events, then wake their accounts."""
        woken: set[str] = set()
        for item in items:
            if isinstance(item, EventCommitted):
                ring = self._rings.get(item.account_id)
                if ring is None:
                    ring = self._rings[item.account_id] = AccountRing(self._start, self.capacity)
                ring.append(item.event)
                woken.add(item.account_id)
                self.published_total += 1
        for account_id in woken:
            self._wake(account_id)

    def publish(self, account_id: str, events: Sequence[Any]) -> None:
        """Wake everyone waiting on `account_id` (e.g. inbox entries became visible again)."""
        self._wake(account_id)

    def recent(self, account_id: str, after_sequence: int, limit: int) -> list[RingEntry] | None:
        """Committed events after `after_sequence` from memory, or None when the caller must read the database."""
        ring = self._rings.get(account_id)
        if ring is None:
            return [] if after_sequence >= self._start else None
        return ring.after(after_sequence, limit)

    def _wake(self, account_id: str) -> None:
        signal = self._signals.pop(account_id, None)
        if signal is not None:
            signal.set()


async def wait_for_signal(signal: anyio.Event, clock: Clock, seconds: float) -> bool:
    """Wait until `signal` is set or `seconds` pass on `clock`; True when signalled."""
    if signal.is_set():
        return True
    if seconds <= 0:
        return False
    signalled = False
    async with anyio.create_task_group() as group:

        async def on_signal() -> None:
            nonlocal signalled
            await signal.wait()
            signalled = True
            group.cancel_scope.cancel()

        async def on_timeout() -> None:
            await clock.sleep(seconds)
            group.cancel_scope.cancel()

        group.start_soon(on_signal)
        group.start_soon(on_timeout)
    return signalled


@dataclass(frozen=True)
class StreamStart:
    """Where a subscriber starts: strictly after `after`; `reset` when its cursor fell behind retention."""

    after: int
    reset: dict[str, Any] | None


class EventStreams:
    """A live, resumable feed of an account's committed events (the SSE route renders it)."""

    def __init__(self, events: EventStore, *, hub: StreamHub, clock: Clock, heartbeat_seconds: float) -> None:
        self._events = events
        self._hub = hub
        self._clock = clock
        self._heartbeat = heartbeat_seconds

    async def start(self, principal: Principal, cursor: int | None) -> StreamStart:
        """No cursor: from now on. A cursor the retention purge passed: a reset, then from the oldest kept."""
        bounds = await self._events.bounds(principal.account_id)
        if cursor is None:
            return StreamStart(bounds.latest, None)
        if cursor >= bounds.purged_through:
            return StreamStart(cursor, None)
        oldest = bounds.oldest if bounds.oldest is not None else bounds.purged_through + 1
        return StreamStart(bounds.purged_through, {"reason": "cursor_expired", "oldest_sequence": oldest})

    async def follow(
        self, principal: Principal, after: int, *, types: Sequence[str], expression: dict[str, Any] | None
    ) -> AsyncIterator[RingEntry | None]:
        """Matching events with `sequence > after`, in order, forever; None when a heartbeat is due.

        Served from the hub's in-memory ring; a cursor older than the ring backfills from the store until it
        catches up. The signal is taken before each read, so no commit between the read and the wait is missed."""
        account_id = principal.account_id
        last = after
        while True:
            signal = self._hub.signal(account_id)
            recent = self._hub.recent(account_id, last, STREAM_BATCH)
            if recent is None:
                rows = await self._events.after(account_id, last, now=self._clock.now(), limit=STREAM_BATCH)
                recent = [RingEntry(event["sequence"], event) for event in rows]
            for entry in recent:
                last = entry.sequence
                if not matches_any(entry.event["type"], types):
                    continue
                if expression is not None and not evaluate(expression, entry.event).matched:
                    continue
                yield entry
            if len(recent) == STREAM_BATCH:
                continue
            if not await wait_for_signal(signal, self._clock, self._heartbeat):
                yield None
