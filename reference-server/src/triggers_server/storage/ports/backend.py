"""A storage backend as the app factory sees it: its ports, a feed of what it committed, and its lifetime."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

from triggers_server.storage.ports.events import EventCommitted
from triggers_server.storage.ports.stores import Stores

CommitListener = Callable[[Sequence[EventCommitted]], None]


class Backend(Protocol):
    @property
    def stores(self) -> Stores: ...

    def listen(self, listener: CommitListener) -> None:
        """Hand every durably committed event to `listener`, in commit order, on the event loop (the stream
        hub and long polls wake from this, never from polling)."""
        ...

    @property
    def closed(self) -> bool: ...

    async def close(self) -> None: ...
