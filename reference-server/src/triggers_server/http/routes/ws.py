"""`GET /events/ws`: the `triggers.v1` WebSocket (asyncapi.yaml, channel `eventsWs`).

One connection multiplexes live subscriptions (`domain.streaming.EventStreams`, the SSE stream's feed: same
cursors, commit order, filters and resets) and push inboxes (`domain.push_inbox.PushLease` over the HTTP
inbox's `InboxService`). Frames are validated with the models generated from asyncapi.yaml
(`models/_frames.py`); a bad frame is answered with an `error` frame carrying the HTTP API's problem+json and
the connection stays open. Only the documented close codes end it, each after an `error` frame.

Outgoing frames go through one bounded queue per connection drained by a single sender task; a producer that
finds it full waits up to a heartbeat interval, then the consumer is closed as slow (4429) and resumes from
its last cursor. The server pings every heartbeat interval and closes a peer silent for two (4000).
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, cast

import anyio
import anyio.abc
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream
from fastapi import APIRouter, Request, WebSocket
from pydantic import TypeAdapter, ValidationError
from starlette.websockets import WebSocketDisconnect, WebSocketState

from triggers_server.domain.filters import validate_filter
from triggers_server.domain.principal import Principal
from triggers_server.domain.push_inbox import PushLease
from triggers_server.globs import InvalidGlob, validate_globs
from triggers_server.http.auth import authorize, bearer_secret
from triggers_server.http.middleware import error_log, internal_error
from triggers_server.http.services import Services
from triggers_server.ids import new_id
from triggers_server.jsoncodec import dumps_text, loads
from triggers_server.models._frames import (
    PATH,
    SUBPROTOCOL,
    AckFrame,
    ClientFrame,
    CloseCode,
    ExtendFrame,
    HelloFrame,
    LeaseFrame,
    NackFrame,
    PingFrame,
    PongFrame,
    SubscribeFrame,
    UnsubscribeFrame,
)
from triggers_server.problems import ProblemError
from triggers_server.storage.ports.inbox import ReceiptOutcome

router = APIRouter()
_FRAMES: TypeAdapter[Any] = TypeAdapter(ClientFrame)
_INSTANCE = "/v1" + PATH
_FINAL_SEND_SECONDS = 5.0  # a close never waits longer than this on a peer that stopped reading


@dataclass(frozen=True)
class WsLimits:
    heartbeat_seconds: float
    max_frame_bytes: int
    send_queue: int
    hello_timeout_seconds: float


def ws_limits(services: Services) -> WsLimits:
    settings = services.settings
    return WsLimits(
        heartbeat_seconds=settings.heartbeat_seconds,
        max_frame_bytes=settings.ws_max_frame_bytes,
        send_queue=settings.ws_send_queue,
        hello_timeout_seconds=settings.ws_hello_timeout_seconds,
    )


@router.get("/events/ws")
async def websocket_upgrade_required(request: Request) -> None:
    """A plain GET of the WebSocket route: the key is checked like any request, then 426."""
    authorize(request, "events:read")
    raise ProblemError(
        426,
        "upgrade-required",
        f"GET /v1{PATH} is a WebSocket endpoint: upgrade with `Upgrade: websocket` and subprotocol {SUBPROTOCOL}.",
        headers={"Upgrade": "websocket"},
    )


@router.websocket("/events/ws")
async def events_websocket(websocket: WebSocket) -> None:
    services = cast(Services, websocket.app.state.services)
    await Connection(websocket, services, ws_limits(services)).run()


class _Close(Exception):
    """Raised inside the connection to end it with a documented close code after an error frame."""

    def __init__(self, code: CloseCode, problem: ProblemError | None, frame_id: str | None = None) -> None:
        super().__init__(code.name)
        self.code = code
        self.problem = problem
        self.frame_id = frame_id


def _problem_frame(problem: ProblemError, frame_id: str | None) -> str:
    request_id = new_id("req")
    body = problem.body(instance=f"{_INSTANCE}#{request_id}", request_id=request_id)
    return dumps_text({"type": "error", "id": frame_id, "problem": body})


def _malformed(detail: str, errors: list[dict[str, str]] | None = None) -> ProblemError:
    return ProblemError(400, "malformed-request", detail, errors=errors)


def _results(outcomes: list[ReceiptOutcome]) -> list[dict[str, Any]]:
    return [{"receipt": o.receipt, "status": o.status, "detail": o.detail} for o in outcomes]


@dataclass
class _Feed:
    """A running subscription or push lease: its cancel scope, and the lease window for push inboxes."""

    scope: anyio.CancelScope = field(default_factory=anyio.CancelScope)
    push: PushLease | None = None


class Connection:
    def __init__(self, websocket: WebSocket, services: Services, limits: WsLimits) -> None:
        self.ws = websocket
        self.services = services
        self.clock = services.clock
        self.limits = limits
        self.connection_id = new_id("wsc")
        self.principal: Principal | None = None
        self.feeds: dict[str, _Feed] = {}
        self.last_heard = self.clock.now().timestamp()
        self.closing: _Close | None = None
        send, receive = anyio.create_memory_object_stream[str](max_buffer_size=limits.send_queue)
        self._out: MemoryObjectSendStream[str] = send
        self._out_receive: MemoryObjectReceiveStream[str] = receive
        self._group: anyio.abc.TaskGroup | None = None

    # ------------------------------------------------------------ lifecycle
    async def run(self) -> None:
        offered = list(self.ws.scope.get("subprotocols") or [])
        await self.ws.accept(subprotocol=SUBPROTOCOL if SUBPROTOCOL in offered else None)
        try:
            if SUBPROTOCOL not in offered:
                raise _Close(
                    CloseCode.PROTOCOL_VIOLATION,
                    _malformed(f"Offer the WebSocket subprotocol {SUBPROTOCOL} (Sec-WebSocket-Protocol)."),
                )
            self.principal = await self._authenticate()
            async with anyio.create_task_group() as group:
                self._group = group
                group.start_soon(self._sender)
                group.start_soon(self._heartbeat)
                await self.emit(self._welcome())
                await self._receive_loop()
                group.cancel_scope.cancel()
        except _Close as close:
            self.closing = close
        except WebSocketDisconnect:
            return
        await self._finish()

    async def _finish(self) -> None:
        close = self.closing
        if close is None or self.ws.client_state != WebSocketState.CONNECTED:
            return
        with anyio.move_on_after(_FINAL_SEND_SECONDS):
            try:
                if close.problem is not None:
                    await self.ws.send_text(_problem_frame(close.problem, close.frame_id))
                await self.ws.close(int(close.code))
            except (WebSocketDisconnect, RuntimeError, OSError):
                return  # the peer is gone already

    def _fail(self, close: _Close) -> None:
        """End the connection from any task: cancel everything, then `_finish` sends the error and close."""
        if self.closing is None:
            self.closing = close
        if self._group is not None:
            self._group.cancel_scope.cancel()

    # ------------------------------------------------------------ authentication
    async def _authenticate(self) -> Principal:
        secret = bearer_secret(self.ws.headers.get("authorization"))
        if secret is None:
            secret = await self._hello()
        principal = await self.services.auth.resolve(secret)
        if principal is None:
            raise _Close(CloseCode.UNAUTHENTICATED, ProblemError(401, "unauthenticated", "Unknown API key."))
        if not (principal.allows("events:read") or principal.allows("inbox:consume")):
            raise _Close(
                CloseCode.FORBIDDEN,
                ProblemError(403, "forbidden", "This API key lacks both the `events:read` and `inbox:consume` scopes."),
            )
        return principal

    async def _hello(self) -> str:
        received: list[Any] = []
        async with anyio.create_task_group() as group:

            async def first_frame() -> None:
                received.append(await self.ws.receive())
                group.cancel_scope.cancel()

            group.start_soon(first_frame)
            await self.clock.sleep(self.limits.hello_timeout_seconds)
            group.cancel_scope.cancel()
        if not received:
            raise _Close(
                CloseCode.HELLO_TIMEOUT,
                ProblemError(
                    401,
                    "unauthenticated",
                    f"No `Authorization` header and no hello frame within {self.limits.hello_timeout_seconds:g} s.",
                ),
            )
        message = received[0]
        if message["type"] == "websocket.disconnect":
            raise WebSocketDisconnect(int(message.get("code") or 1000))
        frame = self._decode(message, authenticated=False)
        if not isinstance(frame, HelloFrame):
            raise _Close(
                CloseCode.UNAUTHENTICATED,
                ProblemError(
                    401,
                    "unauthenticated",
                    "Authenticate first: send `Authorization: Bearer <key>` on the upgrade or a hello frame.",
                ),
            )
        return frame.api_key

    def _welcome(self) -> str:
        assert self.principal is not None
        return dumps_text(
            {
                "type": "welcome",
                "connection_id": self.connection_id,
                "account_id": self.principal.account_id,
                "scopes": sorted(self.principal.scopes),
                "heartbeat_interval": max(1, math.ceil(self.limits.heartbeat_seconds)),
                "max_frame_bytes": self.limits.max_frame_bytes,
                "send_queue_limit": self.limits.send_queue,
            }
        )

    # ------------------------------------------------------------ outgoing
    async def emit(self, text: str) -> None:
        """Queue one frame; a queue that stays full for a heartbeat interval closes the consumer as slow."""
        try:
            self._out.send_nowait(text)
            return
        except anyio.WouldBlock:
            pass
        queued = False
        async with anyio.create_task_group() as group:

            async def put() -> None:
                nonlocal queued
                await self._out.send(text)
                queued = True
                group.cancel_scope.cancel()

            async def give_up() -> None:
                await self.clock.sleep(self.limits.heartbeat_seconds)
                group.cancel_scope.cancel()

            group.start_soon(put)
            group.start_soon(give_up)
        if not queued:
            self._fail(
                _Close(
                    CloseCode.SLOW_CONSUMER,
                    ProblemError(
                        429,
                        "rate-limited",
                        f"The connection's send queue ({self.limits.send_queue} frames) stayed full for "
                        f"{self.limits.heartbeat_seconds:g} s: reconnect and resume from the last cursor.",
                    ),
                )
            )
            await anyio.lowlevel.checkpoint()  # the cancellation lands here

    async def _sender(self) -> None:
        try:
            async with self._out_receive:
                async for text in self._out_receive:
                    await self.ws.send_text(text)
        except (WebSocketDisconnect, RuntimeError, OSError):
            self._fail(_Close(CloseCode.NORMAL, None))  # the peer is gone: stop everything, nothing to say

    async def _heartbeat(self) -> None:
        interval = self.limits.heartbeat_seconds
        while True:
            await self.clock.sleep(interval)
            if self.clock.now().timestamp() - self.last_heard >= 2 * interval:
                self._fail(
                    _Close(
                        CloseCode.HEARTBEAT_TIMEOUT,
                        ProblemError(
                            408, "malformed-request", f"Nothing was heard for {2 * interval:g} s (two heartbeats)."
                        ),
                    )
                )
                return
            await self.emit('{"type":"ping"}')

    async def error(self, problem: ProblemError, frame_id: str | None) -> None:
        await self.emit(_problem_frame(problem, frame_id))

    # ------------------------------------------------------------ incoming
    async def _receive_loop(self) -> None:
        while True:
            message = await self.ws.receive()
            if message["type"] == "websocket.disconnect":
                return
            self.last_heard = self.clock.now().timestamp()
            try:
                frame = self._decode(message, authenticated=True)
            except _Close as close:
                self._fail(close)
                return
            except _Frame as refused:
                await self.error(refused.problem, refused.frame_id)
                continue
            raw_id = getattr(frame, "id", None)
            try:
                await self._dispatch(frame)
            except _Frame as refused:
                await self.error(refused.problem, refused.frame_id)
            except ProblemError as problem:
                await self.error(problem, raw_id)
            except Exception:
                self._crashed(raw_id)
                return

    def _crashed(self, frame_id: str | None) -> None:
        """An unexpected failure behind a frame: logged with the connection id, then close 1011 after the
        same problem a crashed HTTP request answers (the client reconnects and resumes)."""
        error_log.exception("websocket frame failed", extra={"connection_id": self.connection_id})
        self._fail(_Close(CloseCode.INTERNAL_ERROR, internal_error(), frame_id))

    def _decode(self, message: Mapping[str, Any], *, authenticated: bool) -> Any:
        text = message.get("text")
        if text is None:
            raise _Frame(_malformed("Binary messages are not part of triggers.v1: send JSON text frames."))
        size = len(text.encode("utf-8"))
        if size > self.limits.max_frame_bytes:
            raise _Close(
                CloseCode.MESSAGE_TOO_BIG,
                ProblemError(
                    413, "payload-too-large", f"A frame of {size} bytes exceeds {self.limits.max_frame_bytes}."
                ),
            )
        try:
            parsed: Any = loads(text)
        except ValueError as error:
            raise _Frame(_malformed(f"The frame is not JSON: {error}")) from error
        if not isinstance(parsed, dict):
            raise _Frame(_malformed("A frame is a JSON object with a string `type`."))
        data = cast("dict[str, Any]", parsed)
        raw_id = data.get("id")
        frame_id = raw_id if isinstance(raw_id, str) else None
        if not isinstance(data.get("type"), str):
            raise _Frame(_malformed("A frame is a JSON object with a string `type`."), frame_id)
        try:
            frame = _FRAMES.validate_python(data)
        except ValidationError as invalid:
            errors = [
                {"pointer": "/" + "/".join(str(part) for part in err["loc"][1:]), "detail": err["msg"]}
                for err in invalid.errors()
            ]
            if any(err["type"] == "union_tag_invalid" for err in invalid.errors()):
                raise _Frame(_malformed(f"Unknown frame type {data['type']!r}."), frame_id) from invalid
            detail = "; ".join(f"{e['pointer']}: {e['detail']}" for e in errors[:5])
            raise _Frame(_malformed(f"Invalid {data['type']} frame: {detail}", errors), frame_id) from invalid
        if authenticated and isinstance(frame, HelloFrame):
            raise _Close(CloseCode.PROTOCOL_VIOLATION, _malformed("The connection is authenticated already."), frame_id)
        return frame

    async def _dispatch(self, frame: Any) -> None:
        handlers: dict[type[Any], Callable[[Any], Awaitable[None]]] = {
            SubscribeFrame: self._subscribe,
            UnsubscribeFrame: self._unsubscribe,
            LeaseFrame: self._lease,
            AckFrame: self._ack,
            NackFrame: self._nack,
            ExtendFrame: self._extend,
            PingFrame: self._ping,
            PongFrame: self._pong,
        }
        await handlers[type(frame)](frame)

    def _require(self, scope: str, frame_id: str) -> Principal:
        assert self.principal is not None
        if not self.principal.allows(scope):
            raise _Frame(ProblemError(403, "forbidden", f"This API key lacks the `{scope}` scope."), frame_id)
        return self.principal

    def _claim(self, frame_id: str) -> _Feed:
        if frame_id in self.feeds:
            raise _Frame(
                ProblemError(409, "conflict", f"A subscription or lease {frame_id!r} is active on this connection."),
                frame_id,
            )
        feed = self.feeds[frame_id] = _Feed()
        return feed

    def _spawn(self, feed: _Feed, frame_id: str, body: Callable[[], Awaitable[None]]) -> None:
        async def runner() -> None:
            with feed.scope:
                try:
                    await body()
                except Exception:
                    self._crashed(frame_id)
            if self.feeds.get(frame_id) is feed:
                del self.feeds[frame_id]

        assert self._group is not None
        self._group.start_soon(runner)

    async def _subscribe(self, frame: SubscribeFrame) -> None:
        principal = self._require("events:read", frame.id)
        try:
            globs = validate_globs(frame.types or [], field="types")
        except InvalidGlob as error:
            raise _Frame(_malformed(str(error), [{"pointer": "/types", "detail": str(error)}]), frame.id) from error
        if frame.filter is not None:
            problems = validate_filter(frame.filter, "/filter")
            if problems:
                raise _Frame(
                    _malformed(
                        "; ".join(f"{e.pointer}: {e.detail}" for e in problems[:5]),
                        [{"pointer": e.pointer, "detail": e.detail} for e in problems],
                    ),
                    frame.id,
                )
        feed = self._claim(frame.id)
        streams = self.services.stream
        start = await streams.start(principal, int(frame.since) if frame.since is not None else None)
        subscription = dumps_text(frame.id)
        await self.emit(dumps_text({"type": "subscribed", "id": frame.id, "cursor": str(start.after)}))
        if start.reset is not None:
            await self.emit(dumps_text({"type": "reset", "subscription": frame.id, **start.reset}))
        expression = frame.filter

        async def follow() -> None:
            async for entry in streams.follow(principal, start.after, types=globs, expression=expression):
                if entry is not None:
                    await self.emit(
                        f'{{"type":"event","subscription":{subscription},"cursor":"{entry.sequence}",'
                        f'"event":{entry.json}}}'
                    )

        self._spawn(feed, frame.id, follow)

    async def _unsubscribe(self, frame: UnsubscribeFrame) -> None:
        feed = self.feeds.pop(frame.id, None)
        if feed is not None:
            feed.scope.cancel()

    async def _lease(self, frame: LeaseFrame) -> None:
        principal = self._require("inbox:consume", frame.id)
        try:
            globs = validate_globs(frame.types or [], field="types")
        except InvalidGlob as error:
            raise _Frame(_malformed(str(error), [{"pointer": "/types", "detail": str(error)}]), frame.id) from error
        feed = self._claim(frame.id)
        push = feed.push = PushLease(
            self.services.inbox,
            principal,
            self.clock,
            max_in_flight=frame.max_in_flight,
            visibility_timeout=frame.visibility_timeout,
            types=globs,
        )
        lease = dumps_text(frame.id)

        async def deliver() -> None:
            async for message in push.messages():
                await self.emit(
                    f'{{"type":"message","lease":{lease},"receipt":{dumps_text(message["receipt"])},'
                    f'"delivery_count":{int(message["delivery_count"])},"event":{dumps_text(message["event"])}}}'
                )

        self._spawn(feed, frame.id, deliver)

    def _pushes(self) -> list[PushLease]:
        return [feed.push for feed in self.feeds.values() if feed.push is not None]

    async def _ack(self, frame: AckFrame) -> None:
        principal = self._require("inbox:consume", frame.id)
        outcomes = await self.services.inbox.ack(principal, frame.receipts)
        for push in self._pushes():
            push.settle(outcomes)
        await self.emit(dumps_text({"type": "acked", "id": frame.id, "results": _results(outcomes)}))

    async def _nack(self, frame: NackFrame) -> None:
        principal = self._require("inbox:consume", frame.id)
        outcomes = await self.services.inbox.nack(principal, frame.receipts, frame.delay)
        for push in self._pushes():
            push.settle(outcomes)
        await self.emit(dumps_text({"type": "nacked", "id": frame.id, "results": _results(outcomes)}))

    async def _extend(self, frame: ExtendFrame) -> None:
        principal = self._require("inbox:consume", frame.id)
        outcomes = await self.services.inbox.extend(principal, frame.receipts, frame.visibility_timeout)
        for push in self._pushes():
            push.extended(outcomes, frame.visibility_timeout)
        await self.emit(dumps_text({"type": "extended", "id": frame.id, "results": _results(outcomes)}))

    async def _ping(self, frame: PingFrame) -> None:
        await self.emit(dumps_text({"type": "pong", "id": frame.id}) if frame.id else '{"type":"pong"}')

    async def _pong(self, frame: PongFrame) -> None:
        return None  # its arrival already counted as a sign of life


class _Frame(Exception):
    """A refused frame: answered with an error frame, the connection stays open."""

    def __init__(self, problem: ProblemError, frame_id: str | None = None) -> None:
        super().__init__(problem.detail)
        self.problem = problem
        self.frame_id = frame_id
