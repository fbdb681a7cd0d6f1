"""The ``triggers.v1`` WebSocket (``GET /events/ws``, asyncapi.yaml) over httpx-ws, for
``events.subscribe`` and ``inbox.stream`` (docs/runtime-policy.md, "WebSocket").

A connection authenticates with the client's Bearer key on the upgrade, waits for ``welcome``, answers the
server's pings and treats a server silent for ``WS_DEAD_AFTER_INTERVALS`` heartbeats as dead. Frames are the
models generated from asyncapi.yaml (``types.frames``). A connection-level ``error`` frame followed by a close
becomes :class:`WebSocketClosedError` (with the problem); an ``error`` frame answering one of our frames
becomes the same typed exception the HTTP API raises for that problem (``PermissionDeniedError``, ...).

Reconnects reuse the SSE stream's sans-IO :class:`ReconnectState` (backoff, jitter, attempt budget from
codegen/policy.yaml); a subscription resumes strictly after the last cursor it yielded, so no event is
skipped or repeated.
"""

from __future__ import annotations

import itertools
import json
import math
import threading
from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AsyncExitStack, ExitStack, suppress
from typing import TYPE_CHECKING, Any, TypeVar, cast

import anyio
import anyio.abc
import httpx
import pydantic
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream
from httpx_ws import (
    AsyncWebSocketSession,
    HTTPXWSException,
    WebSocketDisconnect,
    WebSocketSession,
    WebSocketUpgradeError,
    aconnect_ws,
    connect_ws,
)

from ._constants import (
    WS_CONNECT_TIMEOUT,
    WS_DEAD_AFTER_INTERVALS,
    WS_HEARTBEAT_INTERVAL,
    WS_MAX_FRAME_BYTES,
    WS_PATH,
    WS_SUBPROTOCOL,
)
from ._exceptions import APIConnectionError, APIError, APIStatusError, make_status_error
from ._streaming import ReconnectState, StreamPolicy, StreamReset, connection_error
from .types import Event, ReceiptResults
from .types.frames import (
    RECONNECTABLE_CLOSE_CODES,
    SERVER_FRAME,
    AckedFrame,
    ErrorFrame,
    EventFrame,
    ExtendedFrame,
    MessageFrame,
    NackedFrame,
    PingFrame,
    ResetFrame,
    SubscribedFrame,
    WelcomeFrame,
)

if TYPE_CHECKING:
    from ._base_client import AsyncAPIClient, ClientCore, SyncAPIClient

__all__ = [
    "EventSubscription",
    "InboxStream",
    "SyncEventSubscription",
    "SyncInboxStream",
    "WebSocketClosedError",
]

# What a connection that went away raises, from httpx-ws, httpx, the OS or anyio's streams under them.
_GONE: tuple[type[BaseException], ...] = (
    HTTPXWSException,
    httpx.TransportError,
    OSError,
    anyio.BrokenResourceError,
    anyio.ClosedResourceError,
    anyio.EndOfStream,
)

T = TypeVar("T")


def _gone(error: BaseException) -> bool:
    """Whether ``error`` (or every member of an exception group) says the connection went away."""
    members = getattr(error, "exceptions", None)
    if isinstance(members, tuple) and members:
        return all(_gone(member) for member in cast("tuple[BaseException, ...]", members))
    return isinstance(error, _GONE)


_GONE_OR_CLOSED: tuple[type[BaseException], ...] = (*_GONE, RuntimeError)  # RuntimeError: closed already
Frame = Any  # one of the generated server frame models (types.frames.ServerFrame) or UnknownFrame
_ids = itertools.count(1)


class WebSocketClosedError(APIConnectionError):
    """The server closed the WebSocket: ``code`` (asyncapi.yaml ``x-close-codes``) and the problem it sent."""

    def __init__(
        self, code: int, problem: Mapping[str, Any] | None, *, request: httpx.Request | None
    ) -> None:
        detail = str((problem or {}).get("detail") or "")
        super().__init__(f"WebSocket closed with {code}" + (f": {detail}" if detail else ""), request=request)
        self.code = code
        self.problem = dict(problem) if problem is not None else None

    @property
    def reconnect(self) -> bool:
        """Whether the close code says to reconnect and resume."""
        return self.code in RECONNECTABLE_CLOSE_CODES


def _frame_id(prefix: str) -> str:
    return f"{prefix}-{next(_ids)}"


def _url(core: ClientCore) -> str:
    return str(core.base_url.join(WS_PATH.lstrip("/")))


def _headers(core: ClientCore) -> dict[str, str]:
    """The client's default headers (Bearer key, SDK identification) on the upgrade request."""
    return dict(core.default_headers)


def _problem_error(problem: Mapping[str, Any], request: httpx.Request | None) -> APIStatusError:
    """The HTTP API's typed exception for a problem carried by an ``error`` frame."""
    status = problem.get("status")
    response = httpx.Response(
        status if isinstance(status, int) and 400 <= status <= 599 else 400,
        headers={"content-type": "application/problem+json"},
        content=json.dumps(dict(problem)).encode(),
        request=request or httpx.Request("GET", "ws://invalid/"),
    )
    return make_status_error(response, idempotency_key=None, retry_after=None)


def _closed_error(code: int, problem: dict[str, Any] | None, request: httpx.Request) -> APIError:
    """A close the client must not retry (bad key, missing scope, ...) raises the HTTP API's typed error for
    its problem; a close to reconnect after is a :class:`WebSocketClosedError`."""
    if problem is not None and code not in RECONNECTABLE_CLOSE_CODES:
        return _problem_error(problem, request)
    return WebSocketClosedError(code, problem, request=request)


def _decode(text: str, request: httpx.Request | None) -> Frame:
    try:
        return SERVER_FRAME.validate_json(text)
    except (ValueError, pydantic.ValidationError) as error:
        raise APIConnectionError(
            f"Malformed WebSocket frame from the server: {error}", request=request
        ) from error


def _upgrade_error(error: WebSocketUpgradeError, request: httpx.Request) -> APIError:
    response = error.response
    return connection_error(response, request, _NO_RETRY_AFTER)[0]


class _NoRetryAfter:
    """``connection_error`` reads ``Retry-After`` relative to a wall clock; an upgrade answer carries none."""

    @staticmethod
    def wall_clock() -> float:
        return 0.0


_NO_RETRY_AFTER: Any = _NoRetryAfter()


def _settlement(kind: str, body: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """One settlement (ack, nack, extend) as its in-band frame and its HTTP path: the same body either way."""
    return {"type": kind, "id": _frame_id(kind), **body}, f"/inbox/{kind}"


def _results(frame: AckedFrame | NackedFrame | ExtendedFrame) -> ReceiptResults:
    return ReceiptResults(results=list(frame.results))


# ====================================================================== async
class _AsyncConnection:
    """One open WebSocket: welcome received, pings answered, frames decoded; closed errors typed."""

    def __init__(self, client: AsyncAPIClient) -> None:
        self._client = client
        self._stack = AsyncExitStack()
        self._ws: AsyncWebSocketSession | None = None
        self.request = httpx.Request("GET", _url(client.core))
        self.welcome: WelcomeFrame | None = None
        self._closing_problem: dict[str, Any] | None = None
        self._lock = anyio.Lock()

    async def open(self) -> WelcomeFrame:
        core = self._client.core
        try:
            self._ws = await self._stack.enter_async_context(
                aconnect_ws(
                    _url(core),
                    self._client.http,
                    headers=_headers(core),
                    subprotocols=[WS_SUBPROTOCOL],
                    max_message_size_bytes=WS_MAX_FRAME_BYTES,
                    keepalive_ping_interval_seconds=None,
                )
            )
        except WebSocketUpgradeError as error:
            await self._stack.aclose()
            raise _upgrade_error(error, self.request) from error
        except _GONE as error:
            await self._stack.aclose()
            raise APIConnectionError(f"WebSocket connection failed: {error}", request=self.request) from error
        first = await self.recv(timeout=WS_CONNECT_TIMEOUT)
        if not isinstance(first, WelcomeFrame):
            await self.close()
            raise APIConnectionError(f"Expected a welcome frame, got {first.type!r}", request=self.request)
        self.welcome = first
        return first

    @property
    def _dead_after(self) -> float:
        interval = self.welcome.heartbeat_interval if self.welcome else WS_HEARTBEAT_INTERVAL
        return float(interval) * WS_DEAD_AFTER_INTERVALS

    async def send(self, frame: Mapping[str, Any]) -> None:
        assert self._ws is not None
        try:
            await self._ws.send_text(json.dumps(dict(frame), separators=(",", ":")))
        except _GONE as error:
            raise APIConnectionError(f"WebSocket send failed: {error}", request=self.request) from error

    async def recv(self, timeout: float | None = None) -> Frame:
        """The next frame other than a ping (answered here); a close raises (see ``_closed_error``)."""
        assert self._ws is not None
        while True:
            try:
                text = await self._ws.receive_text(timeout=timeout or self._dead_after)
            except TimeoutError as error:
                raise WebSocketClosedError(
                    4000, {"detail": "the server went silent (two heartbeats)"}, request=self.request
                ) from error
            except WebSocketDisconnect as closed:
                raise _closed_error(closed.code, self._closing_problem, self.request) from closed
            except _GONE as error:
                raise APIConnectionError(
                    f"WebSocket connection lost: {error}", request=self.request
                ) from error
            frame = _decode(text, self.request)
            if isinstance(frame, PingFrame):
                await self.send({"type": "pong", **({"id": frame.id} if frame.id else {})})
                continue
            if isinstance(frame, ErrorFrame) and frame.id is None:
                self._closing_problem = frame.problem.to_dict()  # the reason for the close that follows
                continue
            return frame

    async def close(self) -> None:
        if self._ws is not None:
            try:
                with anyio.CancelScope(shield=True), anyio.move_on_after(WS_CONNECT_TIMEOUT):
                    await self._ws.close()
            except _GONE:
                pass
        try:
            await self._stack.aclose()
        except _GONE:
            pass
        except Exception as error:  # httpx-ws wraps what its task group saw in an exception group
            if not _gone(error):
                raise
        self._ws = None


async def _next_item(items: MemoryObjectReceiveStream[T | BaseException] | None, usage: str) -> T:
    """The next item a background reader handed over: its error re-raised, the end of the stream as
    StopAsyncIteration (`usage` says how to open the iterator when it was not)."""
    if items is None:
        raise RuntimeError(f"use `{usage}` first")
    try:
        item = await items.receive()
    except (anyio.EndOfStream, anyio.ClosedResourceError) as end:
        raise StopAsyncIteration from end
    if isinstance(item, BaseException):
        raise item
    return item


def _retryable(error: APIError) -> bool:
    if isinstance(error, WebSocketClosedError):
        return error.reconnect
    if isinstance(error, APIStatusError):
        return error.status_code >= 500 or error.status_code in (408, 429)
    return isinstance(error, APIConnectionError)


class EventSubscription:
    """``events.subscribe``: an async iterator of events over the WebSocket that reconnects and resumes.

    Use it as an async context manager (its connection runs in a background task). ``cursor`` is the last
    yielded event's cursor (pass it as ``since`` to resume later); ``resets`` lists the server's resets (the
    cursor was older than retention). At most ``buffer`` received events wait for the consumer; a consumer
    slower than that lets the server close the connection as slow, and the subscription resumes after the
    last event it received."""

    def __init__(
        self,
        client: AsyncAPIClient,
        *,
        types: Sequence[str] | None,
        filter: Mapping[str, Any] | None,
        since: str | int | None,
        policy: StreamPolicy | None = None,
        buffer: int = 100,
    ) -> None:
        self._client = client
        self._types = list(types) if types else None
        self._filter = dict(filter) if filter is not None else None
        self.cursor: str | None = str(since) if since is not None else None
        self._received: str | None = self.cursor  # the resume point: the last event taken off the wire
        self.resets: list[StreamReset] = []
        self.state = ReconnectState(policy or StreamPolicy(), random=client.core.random)
        self._buffer = buffer
        self._stack: AsyncExitStack | None = None
        self._group: anyio.abc.TaskGroup | None = None
        self._items: MemoryObjectReceiveStream[Event | BaseException] | None = None
        self._id = _frame_id("sub")

    async def __aenter__(self) -> EventSubscription:
        stack = AsyncExitStack()
        group = await stack.enter_async_context(anyio.create_task_group())
        send, receive = anyio.create_memory_object_stream[Event | BaseException](self._buffer)
        group.start_soon(self._run, send)
        self._stack, self._group, self._items = stack, group, receive
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        if self._group is not None:
            self._group.cancel_scope.cancel()
        if self._stack is not None:
            stack, self._stack = self._stack, None
            await stack.aclose()

    def __aiter__(self) -> EventSubscription:
        return self

    async def __anext__(self) -> Event:
        item = await _next_item(self._items, "async with client.events.subscribe(...) as subscription:")
        self.cursor = str(item.sequence)
        return item

    def _subscribe_frame(self) -> dict[str, Any]:
        frame: dict[str, Any] = {"type": "subscribe", "id": self._id}
        if self._types:
            frame["types"] = self._types
        if self._filter is not None:
            frame["filter"] = self._filter
        if self._received is not None:
            frame["since"] = self._received
        return frame

    async def _run(self, out: MemoryObjectSendStream[Event | BaseException]) -> None:
        async with out:
            try:
                await self._follow(out)
            except APIError as error:
                await out.send(error)

    async def _follow(self, out: MemoryObjectSendStream[Event | BaseException]) -> None:
        while True:
            connection = _AsyncConnection(self._client)
            try:
                await connection.open()
                await connection.send(self._subscribe_frame())
                while True:
                    frame = await connection.recv()
                    if isinstance(frame, SubscribedFrame):
                        self.state.healthy = True
                    elif isinstance(frame, EventFrame):
                        if self._received is not None and int(frame.cursor) <= int(self._received):
                            continue  # received before a reconnect
                        self._received = frame.cursor
                        await out.send(frame.event)
                    elif isinstance(frame, ResetFrame):
                        self.resets.append(StreamReset(frame.reason, frame.oldest_sequence, frame.to_dict()))
                    elif isinstance(frame, ErrorFrame):
                        raise _problem_error(frame.problem.to_dict(), connection.request)
                    # frames of types added to the contract later are ignored
            except APIError as error:
                if not _retryable(error):
                    raise
                delay = self.state.reconnect_delay(error)
                await connection.close()
                await self._client.sleep(delay)
            finally:
                await connection.close()


class InboxStream:
    """``inbox.stream``: a push inbox over the WebSocket; yields :class:`~zapier_triggers.lib.inbox.Message`
    objects whose ``ack()`` / ``nack()`` / ``extend()`` travel over the same connection.

    Use it as an async context manager (a background task reads the connection). A lost connection is
    reopened with backoff and the lease started again; messages leased on the old connection come back after
    their visibility timeout, and settling one of them goes through the HTTP inbox with the same receipt."""

    def __init__(
        self,
        client: AsyncAPIClient,
        *,
        max_in_flight: int,
        visibility_timeout: int,
        types: Sequence[str] | None,
        policy: StreamPolicy | None = None,
    ) -> None:
        if not 1 <= max_in_flight <= 100:
            raise ValueError("max_in_flight must be between 1 and 100")
        self._client = client
        self.max_in_flight = max_in_flight
        self.visibility_timeout = visibility_timeout
        self._types = list(types) if types else None
        self.state = ReconnectState(policy or StreamPolicy(), random=client.core.random)
        self._connection: _AsyncConnection | None = None
        self._lost = anyio.Event()  # set when the current connection ends
        self._replies: dict[str, Frame] = {}
        self._waiting: dict[str, anyio.Event] = {}
        self._stack: AsyncExitStack | None = None
        self._group: anyio.abc.TaskGroup | None = None
        self._items: MemoryObjectReceiveStream[MessageFrame | BaseException] | None = None
        self._reader = anyio.CancelScope()  # the background reader's scope (stop() cancels only it)

    async def __aenter__(self) -> InboxStream:
        stack = AsyncExitStack()
        group = await stack.enter_async_context(anyio.create_task_group())
        send, receive = anyio.create_memory_object_stream[MessageFrame | BaseException](math.inf)
        group.start_soon(self._run, send)
        self._stack, self._group, self._items = stack, group, receive
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def stop(self) -> None:
        """End the iteration (from any task): no new messages; those already yielded are settled over HTTP."""
        self._reader.cancel()

    async def close(self) -> None:
        self.stop()
        if self._stack is not None:
            stack, self._stack = self._stack, None
            await stack.aclose()

    def __aiter__(self) -> InboxStream:
        return self

    async def __anext__(self) -> Any:
        from .lib.inbox import Message

        item = await _next_item(self._items, "async with client.inbox.stream(...) as stream:")
        return Message(_StreamOps(self, self._connection), item.event, item.receipt, item.delivery_count)

    async def _run(self, out: MemoryObjectSendStream[MessageFrame | BaseException]) -> None:
        with self._reader:
            async with out:
                try:
                    await self._read(out)
                except APIError as error:
                    await out.send(error)

    async def _read(self, out: MemoryObjectSendStream[MessageFrame | BaseException]) -> None:
        while True:
            connection = _AsyncConnection(self._client)
            try:
                await connection.open()
                frame: dict[str, Any] = {
                    "type": "lease",
                    "id": _frame_id("lease"),
                    "max_in_flight": self.max_in_flight,
                    "visibility_timeout": self.visibility_timeout,
                }
                if self._types:
                    frame["types"] = self._types
                await connection.send(frame)
                self.state.healthy = True
                self._connection, self._lost = connection, anyio.Event()
                while True:
                    got = await connection.recv()
                    if isinstance(got, MessageFrame):
                        await out.send(got)
                    elif isinstance(got, (AckedFrame, NackedFrame, ExtendedFrame, ErrorFrame)) and got.id:
                        if isinstance(got, ErrorFrame) and got.id not in self._waiting:
                            raise _problem_error(
                                got.problem.to_dict(), connection.request
                            )  # the lease refused
                        self._replies[got.id] = got
                        waiter = self._waiting.pop(got.id, None)
                        if waiter is not None:
                            waiter.set()
            except APIError as error:
                if not _retryable(error):
                    raise
                delay = self.state.reconnect_delay(error)
                await self._drop(connection)
                await self._client.sleep(delay)
            finally:
                await self._drop(connection)

    async def _drop(self, connection: _AsyncConnection) -> None:
        if self._connection is connection:
            self._connection = None
            self._lost.set()
        await connection.close()

    async def over_http(self, path: str, body: dict[str, Any]) -> ReceiptResults:
        """Settle through the HTTP inbox (same receipts), when the message's connection is gone."""
        from ._base_client import RequestOptions

        return await self._client.request(RequestOptions(method="POST", path=path, body=body), ReceiptResults)

    async def in_band(
        self, frame: dict[str, Any], connection: _AsyncConnection | None
    ) -> ReceiptResults | None:
        """Send an ack/nack/extend and wait for its answer; None when its connection is gone (use HTTP)."""
        if connection is None or connection is not self._connection:
            return None
        frame_id = frame["id"]
        arrived = self._waiting[frame_id] = anyio.Event()
        lost = self._lost
        try:
            await connection.send(frame)
        except APIConnectionError:
            self._waiting.pop(frame_id, None)
            return None
        async with anyio.create_task_group() as group:

            async def on(event: anyio.Event) -> None:
                await event.wait()
                group.cancel_scope.cancel()

            group.start_soon(on, arrived)
            group.start_soon(on, lost)
        self._waiting.pop(frame_id, None)
        reply = self._replies.pop(frame_id, None)
        if reply is None:
            return None
        if isinstance(reply, ErrorFrame):
            raise _problem_error(reply.problem.to_dict(), connection.request)
        return _results(reply)


class _StreamOps:
    """The ``_InboxOps`` a Message settles through: in-band while its connection lives, else HTTP."""

    def __init__(self, stream: InboxStream, connection: _AsyncConnection | None) -> None:
        self._stream = stream
        self._generation = connection

    async def _settle(self, kind: str, body: dict[str, Any]) -> ReceiptResults:
        frame, path = _settlement(kind, body)
        return await self._stream.in_band(frame, self._generation) or await self._stream.over_http(path, body)

    async def ack(self, receipts: Sequence[str]) -> ReceiptResults:
        return await self._settle("ack", {"receipts": list(receipts)})

    async def nack(self, *, receipts: Sequence[str], delay: Any = None) -> ReceiptResults:
        seconds = delay if isinstance(delay, int) else 0
        return await self._settle("nack", {"receipts": list(receipts), "delay": seconds})

    async def extend(self, *, receipts: Sequence[str], visibility_timeout: int) -> ReceiptResults:
        body = {"receipts": list(receipts), "visibility_timeout": visibility_timeout}
        return await self._settle("extend", body)


# ====================================================================== sync
class _SyncConnection:
    """The blocking twin of :class:`_AsyncConnection` (httpx-ws's thread-backed session)."""

    def __init__(self, client: SyncAPIClient) -> None:
        self._client = client
        self._stack = ExitStack()
        self._ws: WebSocketSession | None = None
        self.request = httpx.Request("GET", _url(client.core))
        self.welcome: WelcomeFrame | None = None
        self._closing_problem: dict[str, Any] | None = None

    def open(self) -> WelcomeFrame:
        core = self._client.core
        try:
            self._ws = self._stack.enter_context(
                connect_ws(
                    _url(core),
                    self._client.http,
                    headers=_headers(core),
                    subprotocols=[WS_SUBPROTOCOL],
                    max_message_size_bytes=WS_MAX_FRAME_BYTES,
                    keepalive_ping_interval_seconds=None,
                )
            )
        except WebSocketUpgradeError as error:
            self._stack.close()
            raise _upgrade_error(error, self.request) from error
        except _GONE as error:
            self._stack.close()
            raise APIConnectionError(f"WebSocket connection failed: {error}", request=self.request) from error
        first = self.recv(timeout=WS_CONNECT_TIMEOUT)
        if not isinstance(first, WelcomeFrame):
            self.close()
            raise APIConnectionError(f"Expected a welcome frame, got {first.type!r}", request=self.request)
        self.welcome = first
        return first

    def send(self, frame: Mapping[str, Any]) -> None:
        assert self._ws is not None
        try:
            self._ws.send_text(json.dumps(dict(frame), separators=(",", ":")))
        except _GONE as error:
            raise APIConnectionError(f"WebSocket send failed: {error}", request=self.request) from error

    def recv(self, timeout: float | None = None) -> Frame:
        assert self._ws is not None
        interval = self.welcome.heartbeat_interval if self.welcome else WS_HEARTBEAT_INTERVAL
        while True:
            try:
                text = self._ws.receive_text(timeout=timeout or float(interval) * WS_DEAD_AFTER_INTERVALS)
            except TimeoutError as error:
                raise WebSocketClosedError(
                    4000, {"detail": "the server went silent (two heartbeats)"}, request=self.request
                ) from error
            except WebSocketDisconnect as closed:
                raise _closed_error(closed.code, self._closing_problem, self.request) from closed
            except _GONE as error:
                raise APIConnectionError(
                    f"WebSocket connection lost: {error}", request=self.request
                ) from error
            frame = _decode(text, self.request)
            if isinstance(frame, PingFrame):
                self.send({"type": "pong", **({"id": frame.id} if frame.id else {})})
                continue
            if isinstance(frame, ErrorFrame) and frame.id is None:
                self._closing_problem = frame.problem.to_dict()
                continue
            return frame

    def close(self) -> None:
        if self._ws is not None:
            with suppress(*_GONE_OR_CLOSED):
                self._ws.close()
        with suppress(*_GONE_OR_CLOSED):
            self._stack.close()
        self._ws = None


class SyncEventSubscription:
    """The blocking twin of :class:`EventSubscription`."""

    def __init__(
        self,
        client: SyncAPIClient,
        *,
        types: Sequence[str] | None,
        filter: Mapping[str, Any] | None,
        since: str | int | None,
        policy: StreamPolicy | None = None,
    ) -> None:
        self._client = client
        self._types = list(types) if types else None
        self._filter = dict(filter) if filter is not None else None
        self.cursor: str | None = str(since) if since is not None else None
        self.resets: list[StreamReset] = []
        self.state = ReconnectState(policy or StreamPolicy(), random=client.core.random)
        self._connection: _SyncConnection | None = None
        self._closed = False
        self._id = _frame_id("sub")

    def __enter__(self) -> SyncEventSubscription:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._closed = True
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def __iter__(self) -> Iterator[Event]:
        while not self._closed:
            connection = self._connection = _SyncConnection(self._client)
            try:
                connection.open()
                frame: dict[str, Any] = {"type": "subscribe", "id": self._id}
                if self._types:
                    frame["types"] = self._types
                if self._filter is not None:
                    frame["filter"] = self._filter
                if self.cursor is not None:
                    frame["since"] = self.cursor
                connection.send(frame)
                while True:
                    got = connection.recv()
                    if isinstance(got, SubscribedFrame):
                        self.state.healthy = True
                    elif isinstance(got, EventFrame):
                        if self.cursor is not None and int(got.cursor) <= int(self.cursor):
                            continue
                        self.cursor = got.cursor
                        yield got.event
                    elif isinstance(got, ResetFrame):
                        self.resets.append(StreamReset(got.reason, got.oldest_sequence, got.to_dict()))
                    elif isinstance(got, ErrorFrame):
                        raise _problem_error(got.problem.to_dict(), connection.request)
            except APIError as error:
                connection.close()
                self._connection = None
                if self._closed:
                    return
                if not _retryable(error):
                    raise
                self._client.sleep(self.state.reconnect_delay(error))


class SyncInboxStream:
    """The blocking twin of :class:`InboxStream`; settling a message reads frames on the caller's thread
    (one reader at a time), parking the messages that arrive meanwhile."""

    def __init__(
        self,
        client: SyncAPIClient,
        *,
        max_in_flight: int,
        visibility_timeout: int,
        types: Sequence[str] | None,
        policy: StreamPolicy | None = None,
    ) -> None:
        if not 1 <= max_in_flight <= 100:
            raise ValueError("max_in_flight must be between 1 and 100")
        self._client = client
        self.max_in_flight = max_in_flight
        self.visibility_timeout = visibility_timeout
        self._types = list(types) if types else None
        self.state = ReconnectState(policy or StreamPolicy(), random=client.core.random)
        self._connection: _SyncConnection | None = None
        self._generation = 0
        self._closed = False
        self._lock = threading.Lock()
        self._replies: dict[str, Frame] = {}
        self._messages: deque[MessageFrame] = deque()

    def __enter__(self) -> SyncInboxStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._closed = True
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def _connect(self) -> _SyncConnection:
        while True:
            connection = _SyncConnection(self._client)
            try:
                connection.open()
                frame: dict[str, Any] = {
                    "type": "lease",
                    "id": _frame_id("lease"),
                    "max_in_flight": self.max_in_flight,
                    "visibility_timeout": self.visibility_timeout,
                }
                if self._types:
                    frame["types"] = self._types
                connection.send(frame)
                self.state.healthy = True
                self._connection = connection
                self._generation += 1
                return connection
            except APIError as error:
                connection.close()
                if not _retryable(error):
                    raise
                self._client.sleep(self.state.reconnect_delay(error))

    def _pump(self) -> None:
        connection = self._connection or self._connect()
        try:
            frame = connection.recv()
        except APIError as error:
            connection.close()
            if self._connection is connection:
                self._connection = None
            if self._closed or not _retryable(error):
                raise
            self._client.sleep(self.state.reconnect_delay(error))
            return
        if isinstance(frame, MessageFrame):
            self._messages.append(frame)
        elif isinstance(frame, (AckedFrame, NackedFrame, ExtendedFrame, ErrorFrame)) and frame.id is not None:
            self._replies[frame.id] = frame
        elif isinstance(frame, ErrorFrame):
            raise _problem_error(frame.problem.to_dict(), connection.request)

    def _wait(self, ready: Any) -> None:
        while not ready():
            with self._lock:
                if not ready():
                    self._pump()

    def __iter__(self) -> Iterator[Any]:
        from .lib.inbox import SyncMessage

        while not self._closed:
            self._wait(lambda: bool(self._messages) or self._closed)
            while self._messages:
                frame = self._messages.popleft()
                ops = _SyncStreamOps(self, self._generation)
                yield SyncMessage(ops, frame.event, frame.receipt, frame.delivery_count)

    def over_http(self, path: str, body: dict[str, Any]) -> ReceiptResults:
        """Settle through the HTTP inbox (same receipts), when the message's connection is gone."""
        from ._base_client import RequestOptions

        return self._client.request(RequestOptions(method="POST", path=path, body=body), ReceiptResults)

    def in_band(self, frame: dict[str, Any], generation: int) -> ReceiptResults | None:
        connection = self._connection
        if connection is None or generation != self._generation:
            return None
        try:
            connection.send(frame)
        except APIConnectionError:
            return None
        frame_id = frame["id"]
        self._wait(lambda: frame_id in self._replies or self._connection is not connection)
        reply = self._replies.pop(frame_id, None)
        if reply is None:
            return None
        if isinstance(reply, ErrorFrame):
            raise _problem_error(reply.problem.to_dict(), connection.request)
        return _results(reply)


class _SyncStreamOps:
    def __init__(self, stream: SyncInboxStream, generation: int) -> None:
        self._stream = stream
        self._generation = generation

    def _settle(self, kind: str, body: dict[str, Any]) -> ReceiptResults:
        frame, path = _settlement(kind, body)
        return self._stream.in_band(frame, self._generation) or self._stream.over_http(path, body)

    def ack(self, receipts: Sequence[str]) -> ReceiptResults:
        return self._settle("ack", {"receipts": list(receipts)})

    def nack(self, *, receipts: Sequence[str], delay: Any = None) -> ReceiptResults:
        seconds = delay if isinstance(delay, int) else 0
        return self._settle("nack", {"receipts": list(receipts), "delay": seconds})

    def extend(self, *, receipts: Sequence[str], visibility_timeout: int) -> ReceiptResults:
        body = {"receipts": list(receipts), "visibility_timeout": visibility_timeout}
        return self._settle("extend", body)
