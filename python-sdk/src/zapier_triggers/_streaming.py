"""Resumable Server-Sent Events for ``GET /events/stream`` (docs/runtime-policy.md, "Streaming").

:class:`SSEDecoder` turns bytes into ``httpx_sse.ServerSentEvent`` objects following the WHATWG
event-stream rules. It is our own because httpx-sse 0.4.3's decoder fails 4 of the 36 shared
conformance cases (leading BOM, id-only and invalid-retry blocks dispatching empty events).
:class:`ReconnectState` is the sans-IO reconnection logic (resume cursor, dedupe, backoff, attempt
counter); :class:`EventStream` and :class:`SyncEventStream` are thin drivers around it.
"""

from __future__ import annotations

import codecs
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
    STREAM_RECONNECT_DELAY,
)
from ._exceptions import (
    APIConnectionError,
    APIError,
    APIResponseValidationError,
    APITimeoutError,
    as_object,
    make_status_error,
)
from ._models import find_drift

if TYPE_CHECKING:
    from ._base_client import ClientCore

__all__ = [
    "Comment",
    "EventStream",
    "ReconnectState",
    "Retry",
    "SSEDecoder",
    "StreamPolicy",
    "StreamReset",
    "SyncEventStream",
]

logger = logging.getLogger("zapier_triggers")
T = TypeVar("T")
ClientT = TypeVar("ClientT", bound="SyncAPIClient | AsyncAPIClient")

_END_OF_LINE = re.compile(r"\r\n|\r|\n")


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

    def __init__(self) -> None:
        self._text = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._started = False
        self._partial = ""
        self._skip_lf = False
        self._event_type = ""
        self._data: list[str] | None = None
        self.last_event_id = ""

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
class ReconnectState(Generic[T]):
    """Sans-IO stream bookkeeping shared by the sync and async drivers."""

    item_type: type[T]
    policy: StreamPolicy = field(default_factory=StreamPolicy)
    random: Callable[[], float] = _random.random
    strict: bool = False
    last_event_id: str | None = None
    server_retry: float | None = None
    failures: int = 0
    healthy: bool = False
    resets: list[StreamReset] = field(default_factory=lambda: list[StreamReset]())
    on_reset: Callable[[StreamReset], None] | None = None
    _decoder: SSEDecoder = field(default_factory=SSEDecoder)

    def connect_options(self, options: RequestOptions) -> RequestOptions:
        """The options for the next connection: resume from the last delivered id."""
        self.healthy = False
        self._decoder = SSEDecoder()
        headers = dict(options.headers or {})
        query = dict(options.query or {})
        if self.last_event_id is not None:
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

    def feed(self, chunk: bytes) -> list[T]:
        """Decode a chunk into new, typed, not-yet-delivered events."""
        delivered: list[T] = []
        for item in self._decoder.feed(chunk):
            if isinstance(item, Retry):
                self.server_retry = item.milliseconds / 1000.0
            elif isinstance(item, Comment):
                self.healthy = True
            else:
                self.healthy = True
                event = self._accept(item)
                if event is not None:
                    delivered.append(event)
        return delivered

    def _accept(self, sse: ServerSentEvent) -> T | None:
        if sse.event == "reset":
            self._reset(sse)
            return None
        if sse.id and self._already_delivered(sse.id):
            return None
        try:
            event = cast(Any, self.item_type).model_validate_json(sse.data)
        except pydantic.ValidationError as exc:
            raise APIResponseValidationError(
                f"Stream event {sse.id!r} is not a valid {self.item_type.__name__}: {exc}"
            ) from exc
        if self.strict:
            drift = find_drift(event)
            if drift:
                raise APIResponseValidationError(f"Stream event {sse.id!r} drifted: " + "; ".join(drift))
        if sse.id:
            self.last_event_id = sse.id
        return cast(T, event)

    def _already_delivered(self, event_id: str) -> bool:
        if self.last_event_id is None:
            return False
        try:
            return int(event_id) <= int(self.last_event_id)
        except ValueError:
            return event_id == self.last_event_id

    def _reset(self, sse: ServerSentEvent) -> None:
        try:
            raw = as_object(sse.json())
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


def initial_state(options: RequestOptions, item_type: type[T], core: ClientCore) -> ReconnectState[T]:
    """State for a new stream, resuming from the caller's ``last_event_id`` if given."""
    cursor = (options.query or {}).get("last_event_id")
    return ReconnectState(
        item_type,
        random=core.random,
        strict=core.strict,
        last_event_id=cursor if isinstance(cursor, str) else None,
    )


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


class _EventStreamBase(Generic[ClientT, T]):
    """What both stream drivers share: the sans-IO reconnect state and its public accessors."""

    def __init__(
        self,
        client: ClientT,
        options: RequestOptions,
        item_type: type[T],
        *,
        on_reset: Callable[[StreamReset], None] | None = None,
    ) -> None:
        self._client = client
        self._options = options
        self.state = initial_state(options, item_type, client.core)
        self.state.on_reset = on_reset
        self._response: httpx.Response | None = None
        self._closed = False

    @property
    def last_event_id(self) -> str | None:
        """The id of the last event delivered: pass it as ``last_event_id`` to resume later."""
        return self.state.last_event_id

    @property
    def on_reset(self) -> Callable[[StreamReset], None] | None:
        """Called with each :class:`StreamReset` (events were skipped because the cursor expired)."""
        return self.state.on_reset

    @on_reset.setter
    def on_reset(self, callback: Callable[[StreamReset], None] | None) -> None:
        self.state.on_reset = callback


class SyncEventStream(_EventStreamBase[SyncAPIClient, T]):
    """``with client.events.stream(...) as stream: for event in stream`` — reconnects by itself."""

    def __enter__(self) -> SyncEventStream[T]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._closed = True
        if self._response is not None:
            self._response.close()

    def __iter__(self) -> Iterator[T]:
        while not self._closed:
            options = self.state.connect_options(self._options)
            request = self._client.core.build_request(
                options,
                idempotency_key=None,
                retry_count=self.state.failures,
                client_headers=self._client.client_headers,
            )
            outcome: httpx.Response | httpx.TransportError | None = None
            try:
                self._response = response = self._client.http.send(request, stream=True)
                if response.status_code >= 400:
                    response.read()
                    outcome = response
                else:
                    for chunk in response.iter_bytes():
                        yield from self.state.feed(chunk)
            except httpx.TransportError as exc:
                outcome = exc
            finally:
                if self._response is not None:
                    self._response.close()
            if self._closed:
                return
            delay = self.state.reconnect_delay(*connection_error(outcome, request, self._client.core))
            self._client.sleep(delay)


class EventStream(_EventStreamBase[AsyncAPIClient, T]):
    """``async with client.events.stream(...) as stream: async for event in stream`` — resumable."""

    async def __aenter__(self) -> EventStream[T]:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        self._closed = True
        if self._response is not None:
            await self._response.aclose()

    async def __aiter__(self) -> AsyncIterator[T]:
        while not self._closed:
            options = self.state.connect_options(self._options)
            request = self._client.core.build_request(
                options,
                idempotency_key=None,
                retry_count=self.state.failures,
                client_headers=self._client.client_headers,
            )
            outcome: httpx.Response | httpx.TransportError | None = None
            try:
                self._response = response = await self._client.http.send(request, stream=True)
                if response.status_code >= 400:
                    await response.aread()
                    outcome = response
                else:
                    async for chunk in response.aiter_bytes():
                        for event in self.state.feed(chunk):
                            yield event
            except httpx.TransportError as exc:
                outcome = exc
            finally:
                if self._response is not None:
                    await self._response.aclose()
            if self._closed:
                return
            delay = self.state.reconnect_delay(*connection_error(outcome, request, self._client.core))
            await self._client.sleep(delay)
