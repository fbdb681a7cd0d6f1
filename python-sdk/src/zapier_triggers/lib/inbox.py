"""Pull-inbox consumers: ``iterate()`` and ``consume()`` on top of lease/ack/nack/extend.

Delivery is at-least-once: a message that is neither acked nor nacked before its lease expires is
delivered again. ``consume`` acks when the handler returns, nacks when it raises, and on a graceful
stop finishes the handlers in flight and releases (nacks) leased messages it has not started.

``stream()`` is the push inbox over the WebSocket (``_websocket.InboxStream``): the server sends messages
while fewer than ``max_in_flight`` are open, and ``ack()``/``nack()``/``extend()`` travel over the same
connection; ``consume(..., transport="websocket")`` runs on it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Protocol, cast

import anyio

from .._constants import (
    INBOX_CONSUME_CONCURRENCY,
    INBOX_LEASE_WAIT,
    INBOX_STREAM_MAX_IN_FLIGHT,
    INBOX_STREAM_VISIBILITY_TIMEOUT,
)
from .._deprecation import deprecated_aliases
from .._types import NOT_GIVEN, NotGiven
from .._websocket import InboxStream, SyncInboxStream

if TYPE_CHECKING:
    from .._base_client import AsyncAPIClient, SyncAPIClient
    from ..types import Event, Lease, ReceiptResult, ReceiptResults

Transport = Literal["http", "websocket"]

__all__ = [
    "ConsumeStats",
    "InboxHelpers",
    "Message",
    "StopSignal",
    "SyncInboxHelpers",
    "SyncMessage",
]

logger = logging.getLogger("zapier_triggers")


class StopSignal(Protocol):
    """Anything with ``is_set()``: ``anyio.Event``, ``asyncio.Event``, ``threading.Event``."""

    def is_set(self) -> bool: ...


class _InboxOps(Protocol):
    async def lease(
        self,
        *,
        max_events: int | NotGiven = ...,
        visibility_timeout: int | NotGiven = ...,
        wait: int | NotGiven = ...,
        types: Sequence[str] | NotGiven = ...,
    ) -> Lease: ...
    async def ack(self, receipts: Sequence[str]) -> ReceiptResults: ...
    async def nack(self, *, receipts: Sequence[str], delay: int | NotGiven = ...) -> ReceiptResults: ...
    async def extend(self, *, receipts: Sequence[str], visibility_timeout: int) -> ReceiptResults: ...


class _Settler(Protocol):
    """What a :class:`Message` settles through: the HTTP inbox, or a WebSocket push inbox."""

    async def ack(self, receipts: Sequence[str]) -> ReceiptResults: ...
    async def nack(self, *, receipts: Sequence[str], delay: int | NotGiven = ...) -> ReceiptResults: ...
    async def extend(self, *, receipts: Sequence[str], visibility_timeout: int) -> ReceiptResults: ...


class _SyncSettler(Protocol):
    def ack(self, receipts: Sequence[str]) -> ReceiptResults: ...
    def nack(self, *, receipts: Sequence[str], delay: int | NotGiven = ...) -> ReceiptResults: ...
    def extend(self, *, receipts: Sequence[str], visibility_timeout: int) -> ReceiptResults: ...


class _SyncInboxOps(Protocol):
    def lease(
        self,
        *,
        max_events: int | NotGiven = ...,
        visibility_timeout: int | NotGiven = ...,
        wait: int | NotGiven = ...,
        types: Sequence[str] | NotGiven = ...,
    ) -> Lease: ...
    def ack(self, receipts: Sequence[str]) -> ReceiptResults: ...
    def nack(self, *, receipts: Sequence[str], delay: int | NotGiven = ...) -> ReceiptResults: ...
    def extend(self, *, receipts: Sequence[str], visibility_timeout: int) -> ReceiptResults: ...


@dataclass
class ConsumeStats:
    """What one ``consume`` run did."""

    acked: int = 0
    nacked: int = 0
    failed: int = 0
    released: int = 0


def _first(results: ReceiptResults) -> ReceiptResult:
    return results.results[0]


def _lease_args(
    batch_size: int,
    visibility_timeout: int,
    wait: int | None,
    types: Sequence[str] | None,
    stop_when_empty: bool,
) -> dict[str, Any]:
    """The lease request: ``wait`` defaults to the policy's long poll, or 0 when draining (all SDKs)."""
    if not 1 <= batch_size <= 100:
        raise ValueError("batch_size must be between 1 and 100")
    return {
        "max_events": batch_size,
        "visibility_timeout": visibility_timeout,
        "wait": (0 if stop_when_empty else INBOX_LEASE_WAIT) if wait is None else wait,
        "types": list(types) if types is not None else NOT_GIVEN,
    }


class Message:
    """One leased event; settle it with :meth:`ack` or :meth:`nack` (or let the lease expire)."""

    def __init__(self, inbox: _Settler, event: Event, receipt: str, delivery_count: int) -> None:
        self._inbox = inbox
        self.event = event
        self.receipt = receipt
        self.delivery_count = delivery_count
        self.settled = False

    async def ack(self) -> ReceiptResult:
        """Mark the event processed; it will not be delivered again."""
        self.settled = True
        return _first(await self._inbox.ack([self.receipt]))

    async def nack(self, delay: int | None = None) -> ReceiptResult:
        """Give the event back, visible again after ``delay`` seconds (default: at once)."""
        self.settled = True
        return _first(
            await self._inbox.nack(receipts=[self.receipt], delay=NOT_GIVEN if delay is None else delay)
        )

    async def extend(self, visibility_timeout: int) -> ReceiptResult:
        """Keep the lease for ``visibility_timeout`` more seconds (for slow handlers)."""
        return _first(
            await self._inbox.extend(receipts=[self.receipt], visibility_timeout=visibility_timeout)
        )


class SyncMessage:
    """One leased event (blocking client); settle it with :meth:`ack` or :meth:`nack`."""

    def __init__(self, inbox: _SyncSettler, event: Event, receipt: str, delivery_count: int) -> None:
        self._inbox = inbox
        self.event = event
        self.receipt = receipt
        self.delivery_count = delivery_count
        self.settled = False

    def ack(self) -> ReceiptResult:
        """Mark the event processed; it will not be delivered again."""
        self.settled = True
        return _first(self._inbox.ack([self.receipt]))

    def nack(self, delay: int | None = None) -> ReceiptResult:
        """Give the event back, visible again after ``delay`` seconds (default: at once)."""
        self.settled = True
        return _first(self._inbox.nack(receipts=[self.receipt], delay=NOT_GIVEN if delay is None else delay))

    def extend(self, visibility_timeout: int) -> ReceiptResult:
        """Keep the lease for ``visibility_timeout`` more seconds (for slow handlers)."""
        return _first(self._inbox.extend(receipts=[self.receipt], visibility_timeout=visibility_timeout))


class InboxHelpers:
    """Consumer helpers mixed into the generated ``Inbox`` resource."""

    _client: AsyncAPIClient

    def stream(
        self,
        *,
        max_in_flight: int = INBOX_STREAM_MAX_IN_FLIGHT,
        visibility_timeout: int = INBOX_STREAM_VISIBILITY_TIMEOUT,
        types: Sequence[str] | None = None,
    ) -> InboxStream:
        """A push inbox over the WebSocket: ``async with client.inbox.stream() as s: async for m in s``.

        Yields :class:`Message` objects whose ``ack()``/``nack()``/``extend()`` go over the same connection;
        at most ``max_in_flight`` are unacknowledged at a time. A dropped connection is reopened with the
        stream backoff; its unacknowledged messages return after ``visibility_timeout`` seconds."""
        return InboxStream(
            self._client, max_in_flight=max_in_flight, visibility_timeout=visibility_timeout, types=types
        )

    async def iterate(
        self,
        *,
        batch_size: int = 10,
        visibility_timeout: int = 30,
        wait: int | None = None,
        types: Sequence[str] | None = None,
        stop: StopSignal | None = None,
        stop_when_empty: bool = False,
    ) -> AsyncIterator[Message]:
        """Lease in batches and yield each message until stopped.

        Each lease long-polls ``wait`` seconds (default 20 from codegen/policy.yaml; 0 with
        ``stop_when_empty``, which ends at the first empty lease).
        """
        inbox = cast(_InboxOps, self)
        args = _lease_args(batch_size, visibility_timeout, wait, types, stop_when_empty)
        while stop is None or not stop.is_set():
            lease = await inbox.lease(**args)
            if not lease.messages and stop_when_empty:
                return
            for index, leased in enumerate(lease.messages):
                if stop is not None and stop.is_set():
                    await _release_async(inbox, [m.receipt for m in lease.messages[index:]])
                    return
                yield Message(inbox, leased.event, leased.receipt, leased.delivery_count)

    async def consume(
        self,
        handler: Callable[[Message], Awaitable[object]],
        *,
        concurrency: int = INBOX_CONSUME_CONCURRENCY,
        batch_size: int | None = None,
        visibility_timeout: int = 30,
        wait: int | None = None,
        types: Sequence[str] | None = None,
        nack_delay: int | None = None,
        stop: StopSignal | None = None,
        stop_when_empty: bool = False,
        transport: Transport = "http",
    ) -> ConsumeStats:
        """Run ``handler`` on every message, ``concurrency`` at a time, until ``stop`` is set.

        Returns after the handlers in flight finish; leased messages not yet started are released.
        ``transport="websocket"`` consumes the push inbox (``stream(max_in_flight=concurrency)``) instead
        of leasing over HTTP; ``stop`` is then checked as each handler ends (``stop_when_empty``: HTTP only).
        """
        if concurrency < 1:
            raise ValueError("concurrency must be >= 1")
        stats = ConsumeStats()
        slots = anyio.Semaphore(concurrency)
        inbox = cast(_InboxOps, self)

        pushed: InboxStream | None = None

        async def run(message: Message) -> None:
            try:
                await handler(message)
            except Exception:
                logger.exception("Inbox handler failed for %s; nacking", message.event.id)
                stats.failed += 1
                if not message.settled:
                    await message.nack(nack_delay)
                    stats.nacked += 1
            else:
                if not message.settled:
                    await message.ack()
                    stats.acked += 1
            finally:
                slots.release()
                if pushed is not None and stop is not None and stop.is_set():
                    pushed.stop()  # the push inbox has no lease call to return between: end it here

        if transport == "websocket":
            pushed = self.stream(
                max_in_flight=min(concurrency, 100), visibility_timeout=visibility_timeout, types=types
            )
            async with pushed, anyio.create_task_group() as group:
                async for message in pushed:
                    await slots.acquire()
                    if stop is not None and stop.is_set():
                        slots.release()
                        await message.nack()
                        stats.released += 1
                        break
                    group.start_soon(run, message)
            return stats
        async with anyio.create_task_group() as group:
            async for message in self.iterate(
                batch_size=batch_size or min(concurrency, 100),
                visibility_timeout=visibility_timeout,
                wait=wait,
                types=types,
                stop=stop,
                stop_when_empty=stop_when_empty,
            ):
                await slots.acquire()
                if stop is not None and stop.is_set():
                    slots.release()
                    await _release_async(inbox, [message.receipt])
                    stats.released += 1
                    continue
                group.start_soon(run, message)
        return stats


class SyncInboxHelpers:
    """Consumer helpers mixed into the generated blocking ``SyncInbox`` resource."""

    _client: SyncAPIClient

    def stream(
        self,
        *,
        max_in_flight: int = INBOX_STREAM_MAX_IN_FLIGHT,
        visibility_timeout: int = INBOX_STREAM_VISIBILITY_TIMEOUT,
        types: Sequence[str] | None = None,
    ) -> SyncInboxStream:
        """The blocking push inbox over the WebSocket (see ``Inbox.stream``)."""
        return SyncInboxStream(
            self._client, max_in_flight=max_in_flight, visibility_timeout=visibility_timeout, types=types
        )

    def iterate(
        self,
        *,
        batch_size: int = 10,
        visibility_timeout: int = 30,
        wait: int | None = None,
        types: Sequence[str] | None = None,
        stop: StopSignal | None = None,
        stop_when_empty: bool = False,
    ) -> Iterator[SyncMessage]:
        """Lease in batches and yield each message until stopped.

        Each lease long-polls ``wait`` seconds (default 20 from codegen/policy.yaml; 0 with
        ``stop_when_empty``, which ends at the first empty lease).
        """
        inbox = cast(_SyncInboxOps, self)
        args = _lease_args(batch_size, visibility_timeout, wait, types, stop_when_empty)
        while stop is None or not stop.is_set():
            lease = inbox.lease(**args)
            if not lease.messages and stop_when_empty:
                return
            for index, leased in enumerate(lease.messages):
                if stop is not None and stop.is_set():
                    _release_sync(inbox, [m.receipt for m in lease.messages[index:]])
                    return
                yield SyncMessage(inbox, leased.event, leased.receipt, leased.delivery_count)

    def consume(
        self,
        handler: Callable[[SyncMessage], object],
        *,
        concurrency: int = INBOX_CONSUME_CONCURRENCY,
        batch_size: int | None = None,
        visibility_timeout: int = 30,
        wait: int | None = None,
        types: Sequence[str] | None = None,
        nack_delay: int | None = None,
        stop: StopSignal | None = None,
        stop_when_empty: bool = False,
    ) -> ConsumeStats:
        """Run ``handler`` on every message in ``concurrency`` threads until ``stop`` is set."""
        if concurrency < 1:
            raise ValueError("concurrency must be >= 1")
        stats = ConsumeStats()
        lock = threading.Lock()
        slots = threading.BoundedSemaphore(concurrency)
        inbox = cast(_SyncInboxOps, self)

        def run(message: SyncMessage) -> None:
            try:
                handler(message)
            except Exception:
                logger.exception("Inbox handler failed for %s; nacking", message.event.id)
                with lock:
                    stats.failed += 1
                if not message.settled:
                    message.nack(nack_delay)
                    with lock:
                        stats.nacked += 1
            else:
                if not message.settled:
                    message.ack()
                    with lock:
                        stats.acked += 1
            finally:
                slots.release()

        with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="triggers-inbox") as pool:
            for message in self.iterate(
                batch_size=batch_size or min(concurrency, 100),
                visibility_timeout=visibility_timeout,
                wait=wait,
                types=types,
                stop=stop,
                stop_when_empty=stop_when_empty,
            ):
                slots.acquire()
                if stop is not None and stop.is_set():
                    slots.release()
                    _release_sync(inbox, [message.receipt])
                    stats.released += 1
                    continue
                pool.submit(run, message)
        return stats


async def _release_async(inbox: _InboxOps, receipts: list[str]) -> None:
    if receipts:
        await inbox.nack(receipts=receipts)


def _release_sync(inbox: _SyncInboxOps, receipts: list[str]) -> None:
    if receipts:
        inbox.nack(receipts=receipts)


__getattr__ = deprecated_aliases(
    __name__, globals(), {"AsyncMessage": "Message", "AsyncInboxHelpers": "InboxHelpers"}
)
