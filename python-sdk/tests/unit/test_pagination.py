"""Cursor auto-pagination: items across pages, ``.pages()``, filters kept, stop on null cursor."""

from __future__ import annotations

import httpx
import pytest
import respx

from .fakes import BASE_URL, async_client, event_json, sync_client

pytestmark = pytest.mark.anyio


def _paged_router(pages: int = 3, per_page: int = 2) -> tuple[respx.Router, respx.Route]:
    """GET /events serving ``pages`` pages; the cursor is the index of the next page."""

    def serve(request: httpx.Request) -> httpx.Response:
        index = int(request.url.params.get("cursor", "0"))
        data = [event_json(index * per_page + i + 1) for i in range(per_page)]
        next_cursor = str(index + 1) if index + 1 < pages else None
        return httpx.Response(200, json={"data": data, "next_cursor": next_cursor})

    router = respx.Router(base_url=BASE_URL)
    route = router.get("/events").mock(side_effect=serve)
    return router, route


async def test_async_iteration_follows_cursors_and_keeps_filters() -> None:
    router, route = _paged_router()
    client = async_client(router)
    sequences = [event.sequence async for event in client.events.list(type=["order.*"], limit=2)]
    assert sequences == [1, 2, 3, 4, 5, 6]
    assert [call.request.url.params.get("cursor") for call in route.calls] == [None, "1", "2"]
    assert all(call.request.url.params["type"] == "order.*" for call in route.calls)
    assert all(call.request.url.params["limit"] == "2" for call in route.calls)


async def test_async_pages() -> None:
    router, _ = _paged_router(pages=2)
    pages = [page async for page in async_client(router).events.list().pages()]
    assert [len(p.data) for p in pages] == [2, 2]
    assert [p.next_cursor for p in pages] == ["1", None]


async def test_iteration_is_lazy() -> None:
    router, route = _paged_router(pages=5)
    async for event in async_client(router).events.list():
        assert event.sequence == 1
        break
    assert route.call_count == 1


def test_sync_iteration_and_pages() -> None:
    router, route = _paged_router(pages=3, per_page=1)
    client = sync_client(router)
    assert [e.sequence for e in client.events.list()] == [1, 2, 3]
    assert [p.next_cursor for p in client.events.list(cursor="1").pages()] == ["2", None]
    assert client.events.list().first_page().data[0].sequence == 1
    assert route.call_count == 6


def test_empty_page_with_cursor_stops() -> None:
    router = respx.Router(base_url=BASE_URL)
    route = router.get("/subscriptions").mock(
        return_value=httpx.Response(200, json={"data": [], "next_cursor": "stuck"})
    )
    assert list(sync_client(router).subscriptions.list()) == []
    assert route.call_count == 1
