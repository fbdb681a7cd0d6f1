"""Resumable Server-Sent Events for ``GET /events/stream`` (docs/runtime-policy.md, "Streaming").

:class:`SSEDecoder` turns bytes into ``httpx_sse.ServerSentEvent`` objects following the WHATWG
event-stream rules. It is our own because httpx-sse 0.4.3's decoder fails 4 of the 36 shared
conformance cases (leading BOM, id-only and invalid-retry blocks dispatching empty events).
:class:`ReconnectState` is the sans-IO reconnection logic (resume cursor, dedupe, backoff, attempt
counter); :class:`EventStream` and :class:`SyncEventStream` are thin drivers around it.
"""

from __future__ import annotations

import codecs
import json
import logging
import random as _random
import re
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast

import httpx
import pydantic
from httpx_sse import ServerSentEvent

from ._base_client import AsyncAPIClient, RequestOptions, SyncAPIClient, retry_after_seconds
from ._constants import (
    DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_TIMEOUT,
    HEADER_LAST_EVENT_ID,
    RETRY_AFTER_CAP,
    RETRY_JITTER,
    STREAM_IDLE_TIMEOUT,
    STREAM_MAX_RECONNECT_ATTEMPTS,
    STREAM_MAX_RECONNECT_DELAY,
    STREAM_MAX_REDIRECTS,
    STREAM_RECONNECT_DELAY,
)
from ._exceptions import (
    APIConnectionError,
    APIError,
    APIResponseValidationError,
    APITimeoutError,
    StreamRedirectError,
    as_object,
    make_status_error,
)
from ._models import find_drift

if TYPE_CHECKING:
    from ._base_client import ClientCore

__all__ = [
    "Comment",
    "EventStream",
    "RawEventStream",
    "ReconnectState",
    "Retry",
    "SSEDecoder",
    "StreamMessage",
    "StreamPolicy",
    "StreamReset",
    "SyncEventStream",
    "SyncRawEventStream",
]

logger = logging.getLogger("zapier_triggers")
T = TypeVar("T")
ClientT = TypeVar("ClientT", bound="SyncAPIClient | AsyncAPIClient")
SyncStreamT = TypeVar("SyncStreamT", bound="_SyncStreamBase")
AsyncStreamT = TypeVar("AsyncStreamT", bound="_AsyncStreamBase")

_END_OF_LINE = re.compile(r"\r\n|\r|\n")
_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})


@dataclass(frozen=True)
class Comment:
    """A ``:`` line (the server's ``: ping`` heartbeat)."""

    text: str


@dataclass(frozen=True)
class Retry:
    """A valid ``retry:`` field, in milliseconds."""

    milliseconds: int


class SSEDecoder:
    """Incremental WHATWG event-stream decoder; ``feed`` bytes, get events/comments/retries."""

    def __init__(self, last_event_id: str = "") -> None:
        self._text = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._started = False
        self._partial = ""
        self._skip_lf = False
        self._event_type = ""
        self._data: list[str] | None = None
        # Seeded with the stream's resume point, as browsers do, so an event without ``id:`` on a new
        # connection inherits it rather than clearing it.
        self.last_event_id = last_event_id

    def feed(self, chunk: bytes, *, final: bool = False) -> list[ServerSentEvent | Comment | Retry]:
        text = self._text.decode(chunk, final=final)
        if not self._started and text:
            self._started = True
            text = text.removeprefix("\ufeff")
        items: list[ServerSentEvent | Comment | Retry] = []
        for line in self._lines(text):
            item = self._line(line)
            if item is not None:
                items.append(item)
        return items

    def _lines(self, text: str) -> list[str]:
        if self._skip_lf and text.startswith("\n"):
            text = text[1:]
        if text:
            self._skip_lf = False
        lines: list[str] = []
        start = 0
        for match in _END_OF_LINE.finditer(text):
            lines.append(self._partial + text[start : match.start()])
            self._partial = ""
            start = match.end()
            if match.group() == "\r" and match.end() == len(text):
                self._skip_lf = True
        self._partial += text[start:]
        return lines

    def _line(self, line: str) -> ServerSentEvent | Comment | Retry | None:
        if not line:
            return self._dispatch()
        if line.startswith(":"):
            return Comment(line[1:])
        name, colon, value = line.partition(":")
        if colon and value.startswith(" "):
            value = value[1:]
        if name == "event":
            self._event_type = value
        elif name == "data":
            self._data = [*(self._data or []), value]
        elif name == "id":
            if "\0" not in value:
                self.last_event_id = value
        elif name == "retry" and value.isascii() and value.isdigit():
            return Retry(int(value))
        return None

    def _dispatch(self) -> ServerSentEvent | None:
        data, event_type = self._data, self._event_type
        self._data, self._event_type = None, ""
        if data is None:
            return None
        return ServerSentEvent(event=event_type or "message", data="\n".join(data), id=self.last_event_id)


@dataclass(frozen=True)
class StreamMessage:
    """One SSE message as sent, for :meth:`events.stream_raw`: nothing decoded or dropped.

    ``event`` is the ``event:`` type ("message" when absent), ``id`` the last event id in effect
    ("" = none) and ``retry`` a ``retry:`` (milliseconds) the server sent since the previous message.
    """

    event: str
    data: str
    id: str
    retry: int | None = None


@dataclass(frozen=True)
class StreamReset:
    """The server's ``event: reset``: our cursor was older than retention, events were skipped."""

    reason: str
    oldest_sequence: int | None
    raw: dict[str, object]


@dataclass(frozen=True)
class StreamPolicy:
    """Reconnection numbers; defaults come from ``_constants`` (rendered from policy.yaml)."""

    reconnect_delay: float = STREAM_RECONNECT_DELAY
    max_reconnect_delay: float = STREAM_MAX_RECONNECT_DELAY
    max_reconnect_attempts: int = STREAM_MAX_RECONNECT_ATTEMPTS
    idle_timeout: float = STREAM_IDLE_TIMEOUT
    jitter: float = RETRY_JITTER


@dataclass
class ReconnectState:
    """Sans-IO stream bookkeeping shared by the sync and async drivers: resume point, backoff."""

    policy: StreamPolicy = field(default_factory=StreamPolicy)
    random: Callable[[], float] = _random.random
    last_event_id: str | None = None
    server_retry: float | None = None
    failures: int = 0
    healthy: bool = False
    _pending_retry: int | None = None
    _decoder: SSEDecoder = field(default_factory=SSEDecoder)

    def connect_options(self, options: RequestOptions) -> RequestOptions:
        """The options for the next connection: resume from the last event id, if any."""
        self.healthy = False
        self._decoder = SSEDecoder(self.last_event_id or "")
        headers = {**(options.headers or {}), "Cache-Control": "no-cache"}
        query = {k: v for k, v in (options.query or {}).items() if k != "last_event_id"}
        if self.last_event_id:
            headers[HEADER_LAST_EVENT_ID] = self.last_event_id
            query["last_event_id"] = self.last_event_id
        timeout = httpx.Timeout(
            DEFAULT_TIMEOUT, connect=DEFAULT_CONNECT_TIMEOUT, read=self.policy.idle_timeout
        )
        return replace(
            options,
            headers=headers,
            query=query,
            stream=True,
            accept="text/event-stream",
            timeout=timeout,
            max_retries=0,
        )

    def feed(self, chunk: bytes) -> list[StreamMessage]:
        """Decode a chunk into messages; each dispatched message moves the resume point to its id
        (an empty ``id:`` clears it, so the next connection sends no ``Last-Event-ID``)."""
        messages: list[StreamMessage] = []
        for item in self._decoder.feed(chunk):
            if isinstance(item, Retry):
                self.server_retry = item.milliseconds / 1000.0
                self._pending_retry = item.milliseconds
            elif isinstance(item, Comment):
                self.healthy = True
            else:
                self.healthy = True
                self.last_event_id = item.id or None
                messages.append(StreamMessage(item.event, item.data, item.id, self._pending_retry))
                self._pending_retry = None
        return messages

    def redirect(self, request: httpx.Request, response: httpx.Response, hops: int) -> httpx.Request:
        """The request for a 3xx's ``Location``; ``Authorization`` is dropped on a cross-origin hop.

        Raises :class:`StreamRedirectError` without a usable ``Location`` or after too many hops.
        """
        location = response.headers.get("location", "").strip()
        problem = ""
        target = request.url
        if hops >= STREAM_MAX_REDIRECTS:
            problem = f"more than {STREAM_MAX_REDIRECTS} redirects"
        elif not location:
            problem = "a redirect without a Location header"
        else:
            try:
                target = request.url.join(location)
            except httpx.InvalidURL:
                problem = f"a redirect to an invalid Location {location!r}"
            else:
                if target.scheme not in ("http", "https") or not target.host:
                    problem = f"a redirect to an unusable Location {location!r}"
        if problem:
            raise StreamRedirectError(
                f"Event stream got {response.status_code} with {problem}",
                request=request,
                status_code=response.status_code,
                location=location or None,
            )
        headers = request.headers.copy()
        del headers["host"]
        if _origin(target) != _origin(request.url):
            headers.pop("authorization", None)
        return httpx.Request("GET", target, headers=headers, extensions=request.extensions)

    def reconnect_delay(self, error: APIError, retry_after: float | None = None) -> float:
        """Delay before the next connection, or raise ``error`` when the attempts are spent.

        A server's ``Retry-After`` within the cap wins; otherwise ``retry:`` (or 1 s) doubling per
        consecutive failure up to 30 s, jittered.
        """
        if self.healthy:
            self.failures = 0
        self.failures += 1
        if self.failures > self.policy.max_reconnect_attempts:
            raise error
        if retry_after is not None and retry_after <= RETRY_AFTER_CAP:
            delay = retry_after
        else:
            base = self.server_retry if self.server_retry is not None else self.policy.reconnect_delay
            delay = min(base * 2.0 ** (self.failures - 1), self.policy.max_reconnect_delay)
            delay *= 1 - self.policy.jitter * self.random()
        logger.info("Event stream disconnected (%s); reconnecting in %.3fs", error.message, delay)
        return delay


@dataclass
class TypedEvents(Generic[T]):
    """Turns messages into typed items: reset notices out, duplicates dropped by the item's own
    ``sequence`` (never by the inherited last event id), contract checks when ``strict``."""

    item_type: type[T]
    strict: bool = False
    last_sequence: int | None = None
    resets: list[StreamReset] = field(default_factory=lambda: list[StreamReset]())
    on_reset: Callable[[StreamReset], None] | None = None

    def accept(self, sse: StreamMessage) -> T | None:
        if sse.event == "reset":
            self._reset(sse)
            return None
        try:
            event = cast(Any, self.item_type).model_validate_json(sse.data)
        except pydantic.ValidationError as exc:
            raise APIResponseValidationError(
                f"Stream event {sse.id!r} is not a valid {self.item_type.__name__}: {exc}"
            ) from exc
        sequence = getattr(event, "sequence", None)
        if isinstance(sequence, int):
            if self.last_sequence is not None and sequence <= self.last_sequence:
                return None
            self.last_sequence = sequence
        if self.strict:
            drift = find_drift(event)
            if drift:
                raise APIResponseValidationError(f"Stream event {sse.id!r} drifted: " + "; ".join(drift))
        return cast(T, event)

    def _reset(self, sse: StreamMessage) -> None:
        try:
            raw = as_object(json.loads(sse.data))
        except ValueError:
            raw = {}
        oldest = raw.get("oldest_sequence")
        reset = StreamReset(
            reason=str(raw.get("reason", "")),
            oldest_sequence=oldest if isinstance(oldest, int) else None,
            raw=raw,
        )
        self.resets.append(reset)
        if self.on_reset is not None:
            self.on_reset(reset)
        else:
            logger.warning("Event stream reset (%s); resuming from sequence %s", reset.reason, oldest)


def _send(http: httpx.Client, request: httpx.Request) -> httpx.Response:
    """``http.send`` without following redirects (we follow them, bounded)."""
    try:
        return http.send(request, stream=True, follow_redirects=False)
    except httpx.InvalidURL as exc:
        raise _invalid_location(request, exc) from exc


async def _asend(http: httpx.AsyncClient, request: httpx.Request) -> httpx.Response:
    """Async :func:`_send`."""
    try:
        return await http.send(request, stream=True, follow_redirects=False)
    except httpx.InvalidURL as exc:
        raise _invalid_location(request, exc) from exc


def _invalid_location(request: httpx.Request, exc: httpx.InvalidURL) -> StreamRedirectError:
    # httpx parses a 3xx's Location eagerly, so a malformed one surfaces from send().
    return StreamRedirectError(
        f"Event stream got a redirect to an invalid Location: {exc}",
        request=request,
        status_code=None,
        location=None,
    )


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    default = {"http": 80, "https": 443}.get(url.scheme)
    return url.scheme, url.host, url.port or default


def connection_error(
    outcome: httpx.Response | httpx.TransportError | None,
    request: httpx.Request | None,
    core: ClientCore,
) -> tuple[APIError, float | None]:
    """The error for a failed connection and the server's Retry-After; raises at once on a 4xx
    other than 408/429 (retrying cannot fix it)."""
    if isinstance(outcome, httpx.Response):
        retry_after = retry_after_seconds(outcome.headers, core.wall_clock())
        error = make_status_error(outcome, idempotency_key=None, retry_after=retry_after)
        if outcome.status_code < 500 and outcome.status_code not in (408, 429):
            raise error
        return error, retry_after
    if isinstance(outcome, httpx.TimeoutException):
        return APITimeoutError(request=request), None
    if outcome is None:
        return APIConnectionError("Event stream ended.", request=request), None
    return APIConnectionError(f"Event stream connection lost: {outcome}", request=request), None


class _StreamBase(Generic[ClientT]):
    """What every stream driver shares: the sans-IO reconnect state and the resume accessor."""

    def __init__(
        self, client: ClientT, options: RequestOptions, *, idle_timeout: float = STREAM_IDLE_TIMEOUT
    ) -> None:
        cursor = (options.query or {}).get("last_event_id")
        self._client = client
        self._options = options
        self.connection = ReconnectState(
            StreamPolicy(idle_timeout=idle_timeout),
            random=client.core.random,
            last_event_id=cursor if isinstance(cursor, str) and cursor else None,
        )
        self._response: httpx.Response | None = None
        self._closed = False

    @property
    def last_event_id(self) -> str | None:
        """The resume point (the last event id the server set): pass it as ``last_event_id`` later."""
        return self.connection.last_event_id

    def _request(self) -> httpx.Request:
        return self._client.core.build_request(
            self.connection.connect_options(self._options),
            idempotency_key=None,
            retry_count=self.connection.failures,
            client_headers=self._client.client_headers,
        )


class _SyncStreamBase(_StreamBase[SyncAPIClient]):
    def __enter__(self: SyncStreamT) -> SyncStreamT:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._closed = True
        if self._response is not None:
            self._response.close()

    def _messages(self) -> Iterator[StreamMessage]:
        """Connect, follow redirects, yield messages, reconnect; a 204 ends the stream."""
        while not self._closed:
            request = self._request()
            outcome: httpx.Response | httpx.TransportError | None = None
            try:
                self._response = response = _send(self._client.http, request)
                hops = 0
                while response.status_code in _REDIRECT_STATUSES:
                    response.close()
                    request = self.connection.redirect(request, response, hops)
                    hops += 1
                    self._response = response = _send(self._client.http, request)
                if response.status_code == 204:
                    return
                if response.status_code >= 300:
                    response.read()
                    outcome = response
                else:
                    for chunk in response.iter_bytes():
                        yield from self.connection.feed(chunk)
            except httpx.TransportError as exc:
                outcome = exc
            finally:
                if self._response is not None:
                    self._response.close()
            if self._closed:
                return
            delay = self.connection.reconnect_delay(*connection_error(outcome, request, self._client.core))
            self._client.sleep(delay)


class _AsyncStreamBase(_StreamBase[AsyncAPIClient]):
    async def __aenter__(self: AsyncStreamT) -> AsyncStreamT:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        self._closed = True
        if self._response is not None:
            await self._response.aclose()

    async def _messages(self) -> AsyncIterator[StreamMessage]:
        """Connect, follow redirects, yield messages, reconnect; a 204 ends the stream."""
        while not self._closed:
            request = self._request()
            outcome: httpx.Response | httpx.TransportError | None = None
            try:
                self._response = response = await _asend(self._client.http, request)
                hops = 0
                while response.status_code in _REDIRECT_STATUSES:
                    await response.aclose()
                    request = self.connection.redirect(request, response, hops)
                    hops += 1
                    self._response = response = await _asend(self._client.http, request)
                if response.status_code == 204:
                    return
                if response.status_code >= 300:
                    await response.aread()
                    outcome = response
                else:
                    async for chunk in response.aiter_bytes():
                        for message in self.connection.feed(chunk):
                            yield message
            except httpx.TransportError as exc:
                outcome = exc
            finally:
                if self._response is not None:
                    await self._response.aclose()
            if self._closed:
                return
            delay = self.connection.reconnect_delay(*connection_error(outcome, request, self._client.core))
            await self._client.sleep(delay)


class _TypedMixin(Generic[T]):
    events: TypedEvents[T]

    @property
    def on_reset(self) -> Callable[[StreamReset], None] | None:
        """Called with each :class:`StreamReset` (events were skipped because the cursor expired)."""
        return self.events.on_reset

    @on_reset.setter
    def on_reset(self, callback: Callable[[StreamReset], None] | None) -> None:
        self.events.on_reset = callback

    @property
    def resets(self) -> list[StreamReset]:
        """Every reset notice seen so far."""
        return self.events.resets


def _typed_events(
    client: SyncAPIClient | AsyncAPIClient,
    options: RequestOptions,
    item_type: type[T],
    on_reset: Callable[[StreamReset], None] | None,
) -> TypedEvents[T]:
    cursor = (options.query or {}).get("last_event_id")
    return TypedEvents(
        item_type,
        strict=client.core.strict,
        last_sequence=int(cursor) if isinstance(cursor, str) and cursor.isdigit() else None,
        on_reset=on_reset,
    )


class SyncEventStream(_TypedMixin[T], _SyncStreamBase):
    """``with client.events.stream(...) as stream: for event in stream`` — reconnects by itself.

    ``idle_timeout``: seconds without a byte (events or heartbeats) before reconnecting.
    """

    def __init__(
        self,
        client: SyncAPIClient,
        options: RequestOptions,
        item_type: type[T],
        *,
        on_reset: Callable[[StreamReset], None] | None = None,
        idle_timeout: float = STREAM_IDLE_TIMEOUT,
    ) -> None:
        super().__init__(client, options, idle_timeout=idle_timeout)
        self.events = _typed_events(client, options, item_type, on_reset)

    def __iter__(self) -> Iterator[T]:
        for message in self._messages():
            event = self.events.accept(message)
            if event is not None:
                yield event


class EventStream(_TypedMixin[T], _AsyncStreamBase):
    """``async with client.events.stream(...) as stream: async for event in stream`` — resumable.

    ``idle_timeout``: seconds without a byte (events or heartbeats) before reconnecting.
    """

    def __init__(
        self,
        client: AsyncAPIClient,
        options: RequestOptions,
        item_type: type[T],
        *,
        on_reset: Callable[[StreamReset], None] | None = None,
        idle_timeout: float = STREAM_IDLE_TIMEOUT,
    ) -> None:
        super().__init__(client, options, idle_timeout=idle_timeout)
        self.events = _typed_events(client, options, item_type, on_reset)

    async def __aiter__(self) -> AsyncIterator[T]:
        async for message in self._messages():
            event = self.events.accept(message)
            if event is not None:
                yield event


class SyncRawEventStream(_SyncStreamBase):
    """``events.stream_raw(...)``: every :class:`StreamMessage` (type, data, id, retry) as sent,
    resets included, with the same reconnect, resume and redirect handling; nothing is dropped."""

    def __iter__(self) -> Iterator[StreamMessage]:
        return self._messages()


class RawEventStream(_AsyncStreamBase):
    """Async ``events.stream_raw(...)``: every :class:`StreamMessage` as sent (see the sync twin)."""

    def __aiter__(self) -> AsyncIterator[StreamMessage]:
        return self._messages()
