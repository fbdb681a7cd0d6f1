"""DLQ routes: listing filters, get with event, dismiss, retry (inbox and delivery origin), bulk retry."""

from __future__ import annotations

from typing import Any

import pytest
from delivery_harness import Server
from test_subscription_routes import create, problem_of

from triggers_server.models._generated import DlqEntry, DlqEntryList, DlqRetryResult

pytestmark = pytest.mark.anyio


async def dead_letter_delivery(server: Server, headers: dict[str, str], **event: Any) -> tuple[dict[str, Any], str]:
    """A subscription whose endpoint fails every attempt of the (0, 5, 300) schedule → one DLQ entry."""
    subscription = await create(server, headers)
    server.receiver.answers = [(500, {}, b"")] * 3
    await server.ingest(headers, data={"n": 1}, **event)
    for _ in range(3):
        await server.run_due()
        server.clock.advance(400)
    listing = (await server.client.get("/dlq", headers=headers)).json()["data"]
    return subscription, listing[0]["id"]


async def dead_letter_inbox(server: Server, headers: dict[str, str], event_type: str = "order.created") -> str:
    """What CORE's inbox does after max_deliveries (5) leases without an ack, through the inbox port: the sixth
    lease dead-letters the entry instead. Returns the inbox-origin DLQ entry's id."""
    event = await server.ingest(headers, type=event_type, data={})
    account_id = await server.account_of(headers)
    for _ in range(6):
        await server.services.stores.inbox.lease(
            account_id,
            max_events=1000,
            visibility_timeout=1,
            types=[event_type],
            now=server.clock.now(),
            default_max_deliveries=5,
            respond=lambda _: None,
            keyed=None,
        )
        server.clock.advance(2)
    listing = (await server.client.get("/dlq", headers=headers)).json()["data"]
    return str(next(entry["id"] for entry in listing if entry["event_id"] == event["id"]))


async def test_exhausted_delivery_lands_in_dlq_and_retry_makes_new_delivery(server: Server) -> None:
    headers = await server.key()
    subscription, entry_id = await dead_letter_delivery(server, headers)
    entry = DlqEntry.model_validate((await server.client.get(f"/dlq/{entry_id}", headers=headers)).json())
    assert entry.origin.value == "delivery" and entry.reason.value == "retries_exhausted" and entry.attempts == 3
    assert entry.subscription_id == subscription["id"] and entry.event.id == entry.event_id
    assert entry.detail == "last response status 500"
    server.receiver.answers = []
    response = await server.client.post(f"/dlq/{entry_id}/retry", headers=headers)
    assert response.status_code == 200
    result = DlqRetryResult.model_validate(response.json())
    assert result.delivery_id is not None and result.event_id == entry.event_id
    assert await server.run_due() == 1
    delivery = (await server.client.get(f"/deliveries/{result.delivery_id}", headers=headers)).json()
    assert delivery["status"] == "succeeded"
    problem_of(await server.client.get(f"/dlq/{entry_id}", headers=headers), 404, "not-found")
    problem_of(await server.client.post(f"/dlq/{entry_id}/retry", headers=headers), 404, "not-found")


async def test_retry_refused_when_subscription_disabled(server: Server) -> None:
    headers = await server.key()
    subscription, entry_id = await dead_letter_delivery(server, headers)
    await server.client.patch(f"/subscriptions/{subscription['id']}", json={"enabled": False}, headers=headers)
    problem_of(await server.client.post(f"/dlq/{entry_id}/retry", headers=headers), 409, "conflict")
    assert (await server.client.post("/dlq/retry", json={}, headers=headers)).json() == {"retried": 0}
    assert (await server.client.get(f"/dlq/{entry_id}", headers=headers)).status_code == 200
    await server.client.delete(f"/subscriptions/{subscription['id']}", headers=headers)
    problem_of(await server.client.post(f"/dlq/{entry_id}/retry", headers=headers), 409, "conflict")


async def test_inbox_origin_retry_requeues_with_count_reset(server: Server) -> None:
    headers = await server.key()
    entry_id = await dead_letter_inbox(server, headers)
    entry = (await server.client.get(f"/dlq/{entry_id}", headers=headers)).json()
    assert entry["origin"] == "inbox" and entry["event"]["status"] == "dead_lettered"
    result = (await server.client.post(f"/dlq/{entry_id}/retry", headers=headers)).json()
    assert result == {"entry_id": entry_id, "event_id": entry["event_id"], "delivery_id": None}
    account_id = await server.account_of(headers)
    now = server.clock.now()
    event = await server.services.stores.events.get(account_id, entry["event_id"], now)
    assert event is not None and event["status"] == "pending" and event["delivery_count"] == 0


async def test_list_filters_and_pagination(server: Server) -> None:
    headers = await server.key()
    first = await dead_letter_inbox(server, headers, "order.created")
    second = await dead_letter_inbox(server, headers, "invoice.paid")
    subscription, third = await dead_letter_delivery(server, headers, type="order.shipped")
    listing = DlqEntryList.model_validate((await server.client.get("/dlq", headers=headers)).json())
    assert [item.id for item in listing.data] == [third, second, first]
    cases: list[tuple[dict[str, str], list[str]]] = [
        ({"event_type": "order.*"}, [third, first]),
        ({"event_type": "invoice.paid"}, [second]),
        ({"origin": "inbox"}, [second, first]),
        ({"origin": "delivery"}, [third]),
        ({"reason": "retries_exhausted"}, [third]),
        ({"reason": "max_deliveries_exceeded", "event_type": "order.*"}, [first]),
        ({"subscription_id": subscription["id"]}, [third]),
    ]
    for params, expected in cases:
        got = (await server.client.get("/dlq", params=params, headers=headers)).json()["data"]
        assert [item["id"] for item in got] == expected, params
    page = (await server.client.get("/dlq", params={"limit": 2}, headers=headers)).json()
    rest = (await server.client.get("/dlq", params={"limit": 2, "cursor": page["next_cursor"]}, headers=headers)).json()
    assert [item["id"] for item in page["data"] + rest["data"]] == [third, second, first] and rest[
        "next_cursor"
    ] is None
    problem_of(
        await server.client.get("/dlq", params={"event_type": "a[b]"}, headers=headers),
        400,
        "malformed-request",
    )
    problem_of(
        await server.client.get("/dlq", params={"origin": "elsewhere"}, headers=headers),
        400,
        "malformed-request",
    )
    problem_of(await server.client.get("/dlq", params={"cursor": "x"}, headers=headers), 400, "malformed-request")


async def test_bulk_retry_by_filter_and_dismiss(server: Server) -> None:
    headers = await server.key()
    await dead_letter_inbox(server, headers, "order.created")
    await dead_letter_inbox(server, headers, "order.updated")
    keep = await dead_letter_inbox(server, headers, "invoice.paid")
    response = await server.client.post(
        "/dlq/retry", json={"event_type": "order.*", "origin": "inbox"}, headers=headers
    )
    assert response.status_code == 200 and response.json() == {"retried": 2}
    remaining = (await server.client.get("/dlq", headers=headers)).json()["data"]
    assert [item["id"] for item in remaining] == [keep]
    assert (await server.client.delete(f"/dlq/{keep}", headers=headers)).status_code == 204
    problem_of(await server.client.delete(f"/dlq/{keep}", headers=headers), 404, "not-found")
    assert (await server.client.post("/dlq/retry", headers=headers)).json() == {"retried": 0}
    problem_of(await server.client.post("/dlq/retry", json={"origin": "nowhere"}, headers=headers), 422, "validation")
    problem_of(
        await server.client.post("/dlq/retry", json={"event_type": "a b"}, headers=headers),
        422,
        "validation",
    )


async def test_scope_and_tenant_isolation(server: Server) -> None:
    owner = await server.key()
    intruder = await server.key()
    entry_id = await dead_letter_inbox(server, owner)
    for method, path in (
        ("GET", f"/dlq/{entry_id}"),
        ("DELETE", f"/dlq/{entry_id}"),
        ("POST", f"/dlq/{entry_id}/retry"),
    ):
        problem_of(await server.client.request(method, path, headers=intruder), 404, "not-found")
    assert (await server.client.get("/dlq", headers=intruder)).json()["data"] == []
    assert (await server.client.post("/dlq/retry", headers=intruder)).json() == {"retried": 0}
    assert (await server.client.get(f"/dlq/{entry_id}", headers=owner)).status_code == 200
    problem_of(await server.client.get("/dlq", headers=await server.key("events:read")), 403, "forbidden")


async def test_inbox_max_deliveries_flows_through_dlq_and_back(server: Server) -> None:
    """CORE's inbox dead-letters after max_deliveries leases; a DLQ retry puts it back, count reset."""
    headers = await server.key()
    created = await server.client.post("/events", json={"type": "order.created", "source": "shop"}, headers=headers)
    event_id = created.json()["id"]
    entries: list[dict[str, Any]] = []
    for _ in range(10):
        await server.client.post("/inbox/lease", json={"visibility_timeout": 1}, headers=headers)
        server.clock.advance(2)
        entries = (await server.client.get("/dlq", params={"origin": "inbox"}, headers=headers)).json()["data"]
        if entries:
            break
    [entry] = entries
    assert entry["event_id"] == event_id and entry["reason"] == "max_deliveries_exceeded" and entry["attempts"] >= 5
    assert (await server.client.post(f"/dlq/{entry['id']}/retry", headers=headers)).status_code == 200
    lease = (await server.client.post("/inbox/lease", json={}, headers=headers)).json()
    assert [(m["event"]["id"], m["delivery_count"]) for m in lease["messages"]] == [(event_id, 1)]
