"""events.subscribe and inbox.stream over the triggers.v1 WebSocket, against the real reference server
in-process (zapier_triggers.testing), under asyncio and trio."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import anyio
import pytest

from zapier_triggers import AuthenticationError, BadRequestError, PermissionDeniedError, TriggersClient
from zapier_triggers.lib.inbox import Message
from zapier_triggers.testing import triggers_server

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"  # the reference server runs on asyncio (test_websocket_peer.py covers trio)


@pytest.fixture
async def client() -> AsyncIterator[TriggersClient]:
    async with triggers_server(delivery_worker=False) as admin:
        yield admin


def _as(client: TriggersClient, api_key: str) -> TriggersClient:
    """Another key on the same in-process server (the admin client's transport)."""
    return TriggersClient(api_key=api_key, base_url=client.base_url, http_client=client._api.http)


async def _post(client: TriggersClient, count: int, type_: str = "order.created", **fields: Any) -> list[Any]:
    return [
        await client.events.create(type=type_, source=fields.get("source", "shop"), data={"i": i})
        for i in range(count)
    ]


async def _take(subscription: Any, count: int) -> list[Any]:
    got = []
    with anyio.fail_after(10):
        async for event in subscription:
            got.append(event)
            if len(got) == count:
                break
    return got


async def test_subscribe_yields_events_in_commit_order(client: TriggersClient) -> None:
    async with client.events.subscribe(types=["order.*"], since=0) as subscription:
        created = await _post(client, 3)
        await _post(client, 1, "invoice.paid")
        got = await _take(subscription, 3)
    assert [e.id for e in got] == [e.id for e in created]
    assert subscription.cursor == str(created[-1].sequence)


async def test_resume_from_a_cursor_has_no_gap_and_no_duplicate(client: TriggersClient) -> None:
    created = await _post(client, 6)
    async with client.events.subscribe(since=0) as first:
        head = await _take(first, 2)
    async with client.events.subscribe(since=first.cursor) as second:
        tail = await _take(second, 4)
    assert [e.id for e in head + tail] == [e.id for e in created]


async def test_filter_selects_events(client: TriggersClient) -> None:
    async with client.events.subscribe(filter={"exact": {"source": "b"}}, since=0) as subscription:
        await _post(client, 2, source="a")
        wanted = await _post(client, 1, source="b")
        got = await _take(subscription, 1)
    assert got[0].id == wanted[0].id


async def test_a_bad_filter_raises_the_http_apis_error(client: TriggersClient) -> None:
    with pytest.raises(BadRequestError) as info:
        async with client.events.subscribe(filter={"nope": {}}) as subscription:
            await _take(subscription, 1)
    assert info.value.type == "https://triggers.dev/problems/malformed-request"


async def test_an_unknown_key_raises_authentication_error(client: TriggersClient) -> None:
    stranger = _as(client, "tk_" + "x" * 32)
    with pytest.raises(AuthenticationError):
        async with stranger.events.subscribe() as subscription:
            await _take(subscription, 1)


async def test_a_missing_scope_raises_permission_denied(client: TriggersClient) -> None:
    key = await client.api_keys.create(name="reader", scopes=["events:read"])
    assert key.key is not None
    reader = _as(client, key.key)
    with pytest.raises(PermissionDeniedError):
        async with reader.inbox.stream() as stream:
            async for _ in stream:
                break


async def test_inbox_stream_acks_nacks_and_extends_in_band(client: TriggersClient) -> None:
    created = await _post(client, 3)
    seen: list[Message] = []
    async with client.inbox.stream(max_in_flight=2, visibility_timeout=30) as stream:
        with anyio.fail_after(10):
            async for message in stream:
                seen.append(message)
                if len(seen) == 1:
                    assert (await message.extend(60)).status == "ok"
                    assert (await message.nack()).status == "ok"  # comes back, counted
                elif len(seen) == 4:
                    assert (await message.ack()).status == "ok"
                    break
                else:
                    assert (await message.ack()).status == "ok"
    assert seen[0].event.id == created[0].id and seen[0].delivery_count == 1
    redelivered = [m for m in seen[1:] if m.event.id == created[0].id]
    assert redelivered and redelivered[0].delivery_count == 2
    assert {m.event.id for m in seen} == {e.id for e in created}
    assert (await client.inbox.list().first_page()).data == []


async def test_consume_in_websocket_mode(client: TriggersClient) -> None:
    created = await _post(client, 5)
    handled: list[str] = []
    stop = anyio.Event()

    async def handler(message: Message) -> None:
        handled.append(message.event.id)
        if len(handled) == 3:
            raise RuntimeError("fails once")  # nacked, delivered again
        if len(set(handled)) == 5:
            stop.set()

    with anyio.fail_after(15):
        stats = await client.inbox.consume(handler, concurrency=2, transport="websocket", stop=stop)
    assert set(handled) == {e.id for e in created}
    assert stats.failed == 1 and stats.nacked >= 1
    assert stats.acked >= 4
