"""Ctrl-C: graceful for long-running commands (stream, forward), immediate for one-shot ones.

For long-running commands the first SIGINT/SIGTERM cancels the work scope so the command can release
leases and print a summary; the signal handler is removed at that point, so a second Ctrl-C
interrupts at once. One-shot commands run under ``interrupt_raises``.
"""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import AsyncGenerator, Generator
from contextlib import asynccontextmanager, contextmanager
from types import FrameType

import anyio
from anyio.abc import TaskStatus

__all__ = ["GracefulStop", "graceful_stop", "interrupt_raises"]


class GracefulStop:
    """``with stop.scope:`` around the work; ``stop.requested`` afterwards tells why it ended."""

    def __init__(self) -> None:
        self.scope = anyio.CancelScope()
        self.requested = False

    def request(self) -> None:
        self.requested = True
        self.scope.cancel()


@asynccontextmanager
async def graceful_stop() -> AsyncGenerator[GracefulStop, None]:
    stop = GracefulStop()
    async with anyio.create_task_group() as group:
        await group.start(_watch_signals, stop)
        try:
            yield stop
        finally:
            group.cancel_scope.cancel()


async def _watch_signals(stop: GracefulStop, *, task_status: TaskStatus[None]) -> None:
    if sys.platform == "win32" or threading.current_thread() is not threading.main_thread():
        # No loop signal handlers there: Ctrl-C raises KeyboardInterrupt instead (exit code 130).
        task_status.started()
        return
    with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        task_status.started()
        async for _ in signals:
            stop.request()
            return


@contextmanager
def interrupt_raises() -> Generator[None]:
    """Ctrl-C raises KeyboardInterrupt where the command is (exit code 130).

    Without it asyncio turns SIGINT into a cancellation of the main task, which a cancel scope
    closing at that moment can absorb, so an interrupted command could finish and exit 0.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGINT, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
