"""Resumable SSE: WHATWG parsing vectors, reconnect/resume/dedupe, backoff, idle timeout, resets."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from zapier_triggers import AuthenticationError, InternalServerError, StreamRedirectError, StreamReset
from zapier_triggers._constants import STREAM_MAX_REDIRECTS
from zapier_triggers._streaming import Comment, Retry, SSEDecoder

from ..conftest import conformance_file
from .fakes import FakeClock, async_client, event_json, sync_client

pytestmark = pytest.mark.anyio


# --------------------------------------------------------------------------- parsing vectors
def _surfaced(decoder: SSEDecoder, chunks: list[bytes]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for chunk in chunks:
        for item in decoder.feed(chunk):
            if isinstance(item, Comment):
                out.append({"kind": "comment", "comment": item.text})
            elif isinstance(item, Retry):
                out.append({"kind": "retry", "value": item.milliseconds})
            else:
                out.append({"kind": "event", "type": item.event, "data": item.data, "id": item.id})
    return out


def _normalise(entry: dict[str, Any]) -> dict[str, Any]:
    if entry["kind"] == "event" and entry.get("type") in ("", None):
        return {**entry, "type": "message"}
    return entry


def _cases() -> list[dict[str, Any]]:
    path = conformance_file("sse", "parsing-cases.json")
    cases: list[dict[str, Any]] = json.loads(path.read_text())["cases"]
    return cases


def test_sse_parsing_conformance_vectors() -> None:
    cases = _cases()
    assert len(cases) >= 36
    failures = []
    for case in cases:
        chunks = (
            [bytes.fromhex(h) for h in case["chunks_hex"]]
            if "chunks_hex" in case
            else [c.encode() for c in case["chunks"]]
        )
        got = _surfaced(SSEDecoder(), chunks)
        expected = [_normalise(e) for e in case["expect"]]
        if case["match"] == "events-only":
            got = [e for e in got if e["kind"] == "event"]
            expected = [e for e in expected if e["kind"] == "event"]
        if got != expected:
            failures.append(case["id"])
    assert failures == []


def test_decoder_splits_multibyte_and_crlf_across_chunks() -> None:
    decoder = SSEDecoder()
    snowman = "data: \u2603\r\n\r\n".encode()
    items = [item for i in range(len(snowman)) for item in decoder.feed(snowman[i : i + 1])]
    assert [(getattr(x, "data", None)) for x in items] == ["\u2603"]


# --------------------------------------------------------------------------- reconnecting stream
class ScriptedBody(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A response body that yields chunks then ends cleanly or raises ``error``."""

    def __init__(self, chunks: list[bytes], error: Exception | None = None) -> None:
        self.chunks = chunks
        self.error = error

    def __iter__(self) -> Iterator[bytes]:
        yield from self.chunks
        if self.error is not None:
            raise self.error

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self.chunks:
            yield chunk
        if self.error is not None:
            raise self.error


@dataclass
class StreamServer:
    """Serves one scripted connection per request and records the requests."""

    script: list[httpx.Response | Exception | tuple[list[bytes], Exception | None]]
    requests: list[httpx.Request] = field(default_factory=list)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        step = self.script.pop(0) if self.script else ([], None)
        if isinstance(step, Exception):
            raise step
        if isinstance(step, httpx.Response):
            return step
        chunks, error = step
        return httpx.Response(
            200, headers={"content-type": "text/event-stream"}, stream=ScriptedBody(chunks, error)
        )

    async def handle_async(self, request: httpx.Request) -> httpx.Response:
        return self(request)


def frame(sequence: int, event_type: str = "order.created") -> bytes:
    data = json.dumps(event_json(sequence, type=event_type))
    return f"id: {sequence}\nevent: {event_type}\ndata: {data}\n\n".encode()


async def _collect(server: StreamServer, count: int, clock: FakeClock, **kwargs: Any) -> list[int]:
    client = async_client(server.handle_async, clock)
    seen: list[int] = []
    async with client.events.stream(**kwargs) as stream:
        async for event in stream:
            seen.append(event.sequence)
            if len(seen) == count:
                break
    return seen


async def test_reconnects_on_clean_end_with_last_event_id_and_drops_duplicates() -> None:
    server = StreamServer(
        [
            ([b"retry: 3000\n\n", frame(1), frame(2)], None),
            ([frame(2), frame(3)], None),
            ([frame(4)], None),
        ]
    )
    clock = FakeClock()
    assert await _collect(server, 4, clock, types=["order.*"]) == [1, 2, 3, 4]
    first, second, third = server.requests
    assert first.headers["Accept"] == "text/event-stream"
    assert "Last-Event-ID" not in first.headers
    assert first.url.params.get_list("types") == ["order.*"]
    assert second.headers["Last-Event-ID"] == "2" and second.url.params["last_event_id"] == "2"
    assert third.headers["Last-Event-ID"] == "3"
    assert clock.sleeps == [3.0, 3.0]  # the server's retry:, counter reset by each healthy connection


async def test_resume_from_caller_cursor() -> None:
    server = StreamServer([([frame(41), frame(42)], None)])
    assert await _collect(server, 1, FakeClock(), last_event_id="41") == [42]
    assert server.requests[0].url.params["last_event_id"] == "41"


async def test_backoff_doubles_on_consecutive_failures_and_resets_after_healthy_connection() -> None:
    server = StreamServer(
        [
            ([frame(1)], None),
            httpx.Response(503),
            httpx.ConnectError("refused"),
            ([b": ping\n\n"], httpx.RemoteProtocolError("peer closed")),
            ([frame(2)], None),
        ]
    )
    clock = FakeClock()
    assert await _collect(server, 2, clock) == [1, 2]
    # healthy EOF → 1 s; 503 → 2 s; refused → 4 s; the ping made that connection healthy → 1 s again.
    assert clock.sleeps == [1.0, 2.0, 4.0, 1.0]


async def test_jitter_and_cap() -> None:
    server = StreamServer([httpx.Response(500)] * 8 + [([frame(1)], None)])
    clock = FakeClock(jitter=1.0)
    assert await _collect(server, 1, clock) == [1]
    assert clock.sleeps == [0.75, 1.5, 3.0, 6.0, 12.0, 22.5, 22.5, 22.5]


async def test_gives_up_after_max_consecutive_failures_with_last_error() -> None:
    server = StreamServer([httpx.Response(503)] * 20)
    clock = FakeClock()
    with pytest.raises(InternalServerError):
        await _collect(server, 1, clock)
    assert len(server.requests) == 11  # the first connection + 10 reconnect attempts, as in TS and Go
    assert len(clock.sleeps) == 10 and clock.sleeps[-1] == 30.0


async def test_retry_after_on_a_failed_connection_is_honoured() -> None:
    server = StreamServer([httpx.Response(429, headers={"Retry-After": "7"}), ([frame(1)], None)])
    clock = FakeClock()
    assert await _collect(server, 1, clock) == [1]
    assert clock.sleeps == [7.0]


async def test_client_errors_are_not_retried() -> None:
    server = StreamServer(
        [httpx.Response(401, json={"type": "https://triggers.dev/problems/unauthenticated"})]
    )
    with pytest.raises(AuthenticationError):
        await _collect(server, 1, FakeClock())
    assert len(server.requests) == 1


async def test_idle_timeout_reconnects() -> None:
    server = StreamServer([([frame(1)], httpx.ReadTimeout("no bytes for 45 s")), ([frame(2)], None)])
    assert await _collect(server, 2, FakeClock()) == [1, 2]
    assert server.requests[0].extensions["timeout"]["read"] == 45.0
    assert server.requests[1].headers["Last-Event-ID"] == "1"


async def test_reset_notice_is_surfaced_then_streaming_continues() -> None:
    reset = b'event: reset\ndata: {"reason": "cursor_expired", "oldest_sequence": 50}\n\n'
    server = StreamServer([([reset, frame(50)], None)])
    client = async_client(server.handle_async, FakeClock())
    notices: list[StreamReset] = []
    async with client.events.stream(last_event_id="3", on_reset=notices.append) as stream:
        async for event in stream:
            assert event.sequence == 50
            break
    assert notices == [StreamReset("cursor_expired", 50, {"reason": "cursor_expired", "oldest_sequence": 50})]
    assert stream.resets == notices
    assert stream.last_event_id == "50"


async def test_close_stops_iteration() -> None:
    server = StreamServer([([frame(1), frame(2)], None)])
    client = async_client(server.handle_async, FakeClock())
    seen = []
    async with client.events.stream() as stream:
        async for event in stream:
            seen.append(event.sequence)
            await stream.close()
    assert seen == [1, 2]  # events already decoded from the chunk are still delivered
    assert len(server.requests) == 1


def test_sync_stream_reconnects_and_dedupes() -> None:
    server = StreamServer([([frame(1), frame(2)], httpx.ReadError("reset")), ([frame(2), frame(3)], None)])
    clock = FakeClock()
    seen = []
    with sync_client(server, clock).events.stream() as stream:
        for event in stream:
            seen.append(event.sequence)
            if len(seen) == 3:
                break
    assert seen == [1, 2, 3]
    assert server.requests[1].headers["Last-Event-ID"] == "2"
    assert clock.sleeps == [1.0]


# --------------------------------------------------------------------------- issue 11: EventSource model
def plain(data: str, *, id_line: str | None = None, event: str | None = None) -> bytes:
    lines = ([id_line] if id_line is not None else []) + ([f"event: {event}"] if event else [])
    return ("\n".join([*lines, f"data: {data}"]) + "\n\n").encode()


async def test_stream_requests_ask_for_an_uncached_event_stream() -> None:
    server = StreamServer([([frame(1)], None)])
    await _collect(server, 1, FakeClock())
    assert server.requests[0].headers["Cache-Control"] == "no-cache"
    assert server.requests[0].headers["Accept"] == "text/event-stream"


async def test_204_ends_the_stream_without_reconnecting() -> None:
    server = StreamServer([([frame(1)], None), httpx.Response(204)])
    clock = FakeClock()
    assert await _collect(server, 99, clock) == [1]
    assert len(server.requests) == 2 and clock.sleeps == [1.0]


async def test_redirects_are_followed_and_authorization_stays_on_the_same_origin_only() -> None:
    server = StreamServer(
        [
            httpx.Response(307, headers={"Location": "/v1/events/stream2"}),
            httpx.Response(301, headers={"Location": "http://other.test/stream"}),
            ([frame(1)], None),
        ]
    )
    assert await _collect(server, 1, FakeClock()) == [1]
    first, same, other = server.requests
    assert (
        same.url.path == "/v1/events/stream2"
        and same.headers["Authorization"] == first.headers["Authorization"]
    )
    assert str(other.url) == "http://other.test/stream" and "Authorization" not in other.headers
    assert other.headers["Cache-Control"] == "no-cache"


@pytest.mark.parametrize("location", [None, "", "mailto:x@y.test"])
async def test_redirect_without_usable_location_raises(location: str | None) -> None:
    headers = {} if location is None else {"Location": location}
    server = StreamServer([httpx.Response(302, headers=headers)] * 3)
    with pytest.raises(StreamRedirectError) as info:
        await _collect(server, 1, FakeClock())
    assert info.value.status_code in (302, None) and len(server.requests) == 1


async def test_redirects_are_bounded_by_policy() -> None:
    server = StreamServer([httpx.Response(308, headers={"Location": "/v1/loop"})] * 20)
    with pytest.raises(StreamRedirectError, match=f"more than {STREAM_MAX_REDIRECTS}"):
        await _collect(server, 1, FakeClock())
    assert len(server.requests) == STREAM_MAX_REDIRECTS + 1


async def test_event_without_id_after_one_with_id_is_delivered() -> None:
    second = json.dumps(event_json(2))
    server = StreamServer([([frame(1), plain(second)], None)])
    assert await _collect(server, 2, FakeClock()) == [1, 2]


async def test_empty_id_line_resets_the_resume_point() -> None:
    server = StreamServer(
        [([frame(1), plain(json.dumps(event_json(2)), id_line="id:")], None), ([frame(3)], None)]
    )
    client = async_client(server.handle_async, FakeClock())
    async with client.events.stream(last_event_id="0") as stream:
        seen = []
        async for event in stream:
            seen.append(event.sequence)
            if len(seen) == 2:
                assert stream.last_event_id is None
            if len(seen) == 3:
                break
    assert seen == [1, 2, 3]
    assert "Last-Event-ID" not in server.requests[1].headers
    assert "last_event_id" not in server.requests[1].url.params


async def test_raw_stream_exposes_type_data_id_and_retry() -> None:
    reset = b'event: reset\ndata: {"reason": "cursor_expired", "oldest_sequence": 5}\n\n'
    server = StreamServer([([b"retry: 3000\n\n", reset, frame(5), b"event: future.kind\ndata: x\n\n"], None)])
    client = async_client(server.handle_async, FakeClock())
    async with client.events.stream_raw(last_event_id="1") as stream:
        got = []
        async for message in stream:
            got.append(message)
            if len(got) == 3:
                break
    assert [(m.event, m.id, m.retry) for m in got] == [
        ("reset", "1", 3000),
        ("order.created", "5", None),
        ("future.kind", "5", None),
    ]
    assert got[2].data == "x" and json.loads(got[1].data)["sequence"] == 5
    assert server.requests[0].headers["Last-Event-ID"] == "1"


async def test_idle_timeout_is_a_stream_parameter() -> None:
    server = StreamServer([([frame(1)], None)])
    await _collect(server, 1, FakeClock(), idle_timeout=2.5)
    assert server.requests[0].extensions["timeout"]["read"] == 2.5


def test_sync_twin_follows_redirects_ends_on_204_and_streams_raw() -> None:
    server = StreamServer(
        [httpx.Response(302, headers={"Location": "/v1/x"}), ([frame(1)], None), httpx.Response(204)]
    )
    client = sync_client(server, FakeClock())
    with client.events.stream_raw(idle_timeout=3.0) as stream:
        assert [m.id for m in stream] == ["1"]
    assert server.requests[1].url.path == "/v1/x"
    assert server.requests[0].extensions["timeout"]["read"] == 3.0
    with pytest.raises(StreamRedirectError):
        list(sync_client(StreamServer([httpx.Response(301)]), FakeClock()).events.stream())
