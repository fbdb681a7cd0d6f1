"""Fan-out of "new events committed" signals per account, for the SSE stream and inbox long polls.

The database is the source of truth: a woken waiter re-reads `seq > last_seen`. Since one writer assigns
sequences in commit order, that read never skips an event, and signals only have to wake, not carry data.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

import anyio

from .clock import Clock


class StreamHub:
    def __init__(self) -> None:
        self._signals: dict[str, anyio.Event] = {}
        self.latest_sequence: dict[str, int] = {}
        self.published_total = 0

    def signal(self, account_id: str) -> anyio.Event:
        """The event set at the next publish for `account_id`. Take it *before* reading the database."""
        current = self._signals.get(account_id)
        if current is None:
            current = self._signals[account_id] = anyio.Event()
        return current

    def publish(self, account_id: str, events: Sequence[Any]) -> None:
        """Wake everyone waiting on `account_id` (call after the events are committed)."""
        sequences = [seq for seq in (_sequence_of(event) for event in events) if seq is not None]
        if sequences:
            self.latest_sequence[account_id] = max(self.latest_sequence.get(account_id, 0), *sequences)
        self.published_total += len(events)
        signal = self._signals.pop(account_id, None)
        if signal is not None:
            signal.set()


def _sequence_of(event: Any) -> int | None:
    if isinstance(event, dict):
        value: Any = cast("dict[str, Any]", event).get("sequence")
    else:
        value = getattr(event, "sequence", None)
    return value if isinstance(value, int) else None


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
