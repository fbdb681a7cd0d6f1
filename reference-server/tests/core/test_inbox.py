"""The pull inbox: leases, visibility timeouts, ack / nack / extend, long polls, dead-lettering."""

from __future__ import annotations

from typing import Any

import anyio
import httpx
import pytest
from core_harness import Server, assert_problem, event

from triggers_server.models._generated import Lease, ReceiptResults

pytestmark = pytest.mark.anyio


async def _ingest(server: Server, count: int, type_: str = "order.created") -> list[dict[str, Any]]:
    return [(await server.admin.post("/events", json=event(type_))).json() for _ in range(count)]


async def _lease(server: Server, **options: Any) -> dict[str, Any]:
    response = await server.admin.post("/inbox/lease", json=options)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    Lease.model_validate(body)
    return body


async def _receipts(server: Server, path: str, receipts: list[str], **extra: Any) -> list[str]:
    response = await server.admin.post(path, json={"receipts": receipts, **extra})
    assert response.status_code == 200, response.text
    ReceiptResults.model_validate(response.json())
    return [item["status"] for item in response.json()["results"]]


async def test_lease_is_oldest_first_and_exclusive(server: Server) -> None:
    created = await _ingest(server, 5)
    lease = await _lease(server, max_events=3, visibility_timeout=60)
    assert [m["event"]["id"] for m in lease["messages"]] == [e["id"] for e in created[:3]]
    assert all(m["delivery_count"] == 1 and m["event"]["status"] == "leased" for m in lease["messages"])
    assert lease["leased_until"] == "2026-11-25T12:01:00.000000Z"
    rest = await _lease(server, max_events=10)
    assert [m["event"]["id"] for m in rest["messages"]] == [e["id"] for e in created[3:]]
    assert (await _lease(server))["messages"] == []


async def test_lease_without_body_uses_defaults(server: Server) -> None:
    await _ingest(server, 12)
    response = await server.admin.post("/inbox/lease")
    assert response.status_code == 200
    assert len(response.json()["messages"]) == 10
    assert response.json()["leased_until"] == "2026-11-25T12:00:30.000000Z"


async def test_unacked_events_come_back_after_the_visibility_timeout(server: Server) -> None:
    [created] = await _ingest(server, 1)
    first = await _lease(server, visibility_timeout=30)
    server.clock.advance(29)
    assert (await _lease(server))["messages"] == []
    server.clock.advance(1)
    second = await _lease(server)
    assert second["messages"][0]["event"]["id"] == created["id"]
    assert second["messages"][0]["delivery_count"] == 2
    old = first["messages"][0]["receipt"]
    assert await _receipts(server, "/inbox/ack", [old]) == ["expired"]
    assert await _receipts(server, "/inbox/ack", [second["messages"][0]["receipt"]]) == ["ok"]


async def test_ack_is_idempotent_with_per_item_results(server: Server) -> None:
    await _ingest(server, 2)
    lease = await _lease(server)
    receipts = [m["receipt"] for m in lease["messages"]]
    assert await _receipts(server, "/inbox/ack", [*receipts, "rcpt_999_x", "garbage"]) == [
        "ok",
        "ok",
        "not_found",
        "not_found",
    ]
    assert await _receipts(server, "/inbox/ack", receipts) == ["ok", "ok"]
    event_id = lease["messages"][0]["event"]["id"]
    assert (await server.admin.get(f"/events/{event_id}")).json()["status"] == "acknowledged"
    server.clock.advance(3600)
    assert (await _lease(server))["messages"] == []


async def test_nack_releases_after_the_delay(server: Server) -> None:
    await _ingest(server, 1)
    receipt = (await _lease(server))["messages"][0]["receipt"]
    assert await _receipts(server, "/inbox/nack", [receipt], delay=10) == ["ok"]
    assert await _receipts(server, "/inbox/nack", [receipt], delay=10) == ["ok"]
    assert (await _lease(server))["messages"] == []
    server.clock.advance(10)
    again = await _lease(server)
    assert again["messages"][0]["delivery_count"] == 2
    assert await _receipts(server, "/inbox/ack", [receipt]) == ["expired"]


async def test_extend_keeps_the_lease(server: Server) -> None:
    await _ingest(server, 1)
    receipt = (await _lease(server, visibility_timeout=10))["messages"][0]["receipt"]
    server.clock.advance(9)
    assert await _receipts(server, "/inbox/extend", [receipt], visibility_timeout=60) == ["ok"]
    server.clock.advance(30)
    assert (await _lease(server))["messages"] == []
    assert await _receipts(server, "/inbox/ack", [receipt]) == ["ok"]
    assert await _receipts(server, "/inbox/extend", [receipt], visibility_timeout=60) == ["expired"]


async def test_events_leased_too_often_are_dead_lettered(server: Server) -> None:
    [created] = await _ingest(server, 1)
    for attempt in range(1, 6):
        lease = await _lease(server, visibility_timeout=1)
        assert lease["messages"][0]["delivery_count"] == attempt
        server.clock.advance(1)
    assert (await _lease(server))["messages"] == []
    stored = (await server.admin.get(f"/events/{created['id']}")).json()
    assert stored["status"] == "dead_lettered" and stored["delivery_count"] == 5
    dlq = (await server.admin.get("/dlq")).json()["data"]
    assert len(dlq) == 1
    assert dlq[0]["origin"] == "inbox" and dlq[0]["reason"] == "max_deliveries_exceeded"
    assert_problem(await server.admin.post(f"/events/{created['id']}/ack"), 409, "conflict")
    assert (await server.admin.get("/inbox")).json()["data"] == []


async def test_type_globs_select_what_is_leased(server: Server) -> None:
    await _ingest(server, 2, "order.created")
    await _ingest(server, 2, "user.signup")
    lease = await _lease(server, types=["user.*"])
    assert {m["event"]["type"] for m in lease["messages"]} == {"user.signup"}
    response = await server.admin.post("/inbox/lease", json={"types": ["bad glob"]})
    body = assert_problem(response, 422, "validation")
    assert body["errors"][0]["pointer"] == "/types/0"


async def test_list_inbox_shows_visible_events_oldest_first(server: Server) -> None:
    created = await _ingest(server, 3)
    await _ingest(server, 1, "user.signup")
    await _lease(server, max_events=1)
    page = (await server.admin.get("/inbox", params={"limit": 1})).json()
    assert [item["id"] for item in page["data"]] == [created[1]["id"]]
    second = (await server.admin.get("/inbox", params={"limit": 5, "cursor": page["next_cursor"]})).json()
    assert second["data"][0]["id"] == created[2]["id"]
    assert second["next_cursor"] is None
    typed = (await server.admin.get("/inbox", params={"type": "user.*"})).json()["data"]
    assert [item["type"] for item in typed] == ["user.signup"]
    assert_problem(await server.admin.get("/inbox", params={"cursor": "x"}), 400, "malformed-request")


async def test_simple_ack_by_event_id(server: Server) -> None:
    [created] = await _ingest(server, 1)
    receipt = (await _lease(server))["messages"][0]["receipt"]
    response = await server.admin.post(f"/events/{created['id']}/ack")
    assert response.status_code == 204 and response.content == b""
    assert (await server.admin.post(f"/events/{created['id']}/ack")).status_code == 204
    assert await _receipts(server, "/inbox/ack", [receipt]) == ["expired"]
    assert_problem(await server.admin.post("/events/evt_nope/ack"), 404, "not-found")


async def test_long_poll_is_woken_by_ingestion(server: Server) -> None:
    result: dict[str, httpx.Response] = {}

    async def poll() -> None:
        result["lease"] = await server.admin.post("/inbox/lease", json={"wait": 20})

    parked = server.clock.sleeper_count
    async with anyio.create_task_group() as group:
        group.start_soon(poll)
        await server.wait_for_sleepers(parked + 1)
        created = (await server.admin.post("/events", json=event())).json()
    messages = result["lease"].json()["messages"]
    assert [m["event"]["id"] for m in messages] == [created["id"]]
    assert server.clock.now().isoformat().startswith("2026-11-25T12:00:00")


async def test_long_poll_returns_empty_when_the_wait_ends(server: Server) -> None:
    result: dict[str, httpx.Response] = {}

    async def poll() -> None:
        result["lease"] = await server.admin.post("/inbox/lease", json={"wait": 5})

    parked = server.clock.sleeper_count
    async with anyio.create_task_group() as group:
        group.start_soon(poll)
        await server.wait_for_sleepers(parked + 1)
        server.clock.advance(5)
    assert result["lease"].status_code == 200
    assert result["lease"].json()["messages"] == []


async def test_long_poll_sees_leases_that_expire_while_waiting(server: Server) -> None:
    await _ingest(server, 1)
    await _lease(server, visibility_timeout=3)
    result: dict[str, httpx.Response] = {}

    async def poll() -> None:
        result["lease"] = await server.admin.post("/inbox/lease", json={"wait": 20})

    parked = server.clock.sleeper_count
    async with anyio.create_task_group() as group:
        group.start_soon(poll)
        await server.wait_for_sleepers(parked + 1)
        server.clock.advance(3)
    assert result["lease"].json()["messages"][0]["delivery_count"] == 2


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/inbox/lease", {"max_events": 0}),
        ("/inbox/lease", {"max_events": 101}),
        ("/inbox/lease", {"visibility_timeout": 3601}),
        ("/inbox/lease", {"wait": 21}),
        ("/inbox/lease", {"surprise": True}),
        ("/inbox/ack", {"receipts": []}),
        ("/inbox/ack", {"receipts": ["r"] * 101}),
        ("/inbox/ack", {}),
        ("/inbox/nack", {"receipts": ["r"], "delay": -1}),
        ("/inbox/extend", {"receipts": ["r"]}),
        ("/inbox/extend", {"receipts": [""], "visibility_timeout": 5}),
    ],
)
async def test_bad_bodies_are_422(server: Server, path: str, body: dict[str, Any]) -> None:
    assert_problem(await server.admin.post(path, json=body), 422, "validation")


async def test_non_json_body_is_415(server: Server) -> None:
    response = await server.admin.post("/inbox/ack", content=b"receipts=1", headers={"content-type": "text/plain"})
    assert_problem(response, 415, "unsupported-media-type")


async def test_consume_scope_is_required(server: Server) -> None:
    async with await server.tenant("events:read", "events:write") as client:
        assert_problem(await client.post("/inbox/lease"), 403, "forbidden")
        assert_problem(await client.get("/inbox"), 403, "forbidden")


@pytest.mark.parametrize(
    "body", [{"max_events": True}, {"max_events": "5"}, {"visibility_timeout": 1.5}, {"types": "order.*"}]
)
async def test_wrong_json_types_are_422_not_coerced(server: Server, body: dict[str, Any]) -> None:
    assert_problem(await server.admin.post("/inbox/lease", json=body), 422, "validation")
