"""Subscriptions, deliveries and filter-test routes through the ASGI app, including error paths."""

from __future__ import annotations

from typing import Any

import pytest
from backend_harness import store_event
from delivery_harness import Server

from triggers_server.domain.webhooks.signing import verify
from triggers_server.models._generated import (
    Delivery,
    DeliveryList,
    FilterTestResult,
    Subscription,
    SubscriptionList,
)
from triggers_server.storage.ports.events import EventDraft

pytestmark = pytest.mark.anyio

PROBLEM = "https://triggers.dev/problems/"


def problem_of(response: Any, status: int, slug: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["type"] == PROBLEM + slug
    return body


async def create(server: Server, headers: dict[str, str], **fields: Any) -> dict[str, Any]:
    body = {"url": "https://hooks.example/in", **fields}
    response = await server.client.post("/subscriptions", json=body, headers=headers)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def test_create_returns_secret_once_and_location(server: Server) -> None:
    headers = await server.key()
    response = await server.client.post(
        "/subscriptions",
        json={
            "url": "https://hooks.example/in",
            "event_types": ["order.*"],
            "filter": {"exact": {"data.country": "DE"}},
            "max_rps": 5,
            "description": "warehouse",
            "metadata": {"team": "ops"},
        },
        headers=headers,
    )
    assert response.status_code == 201
    body = Subscription.model_validate(response.json())
    assert response.headers["location"] == f"/v1/subscriptions/{body.id}"
    assert body.secret is not None and body.secret.startswith("whsec_")
    assert body.enabled and body.max_rps == 5 and body.metadata == {"team": "ops"}
    assert response.json()["filter"] == {"exact": {"data.country": "DE"}}
    fetched = await server.client.get(f"/subscriptions/{body.id}", headers=headers)
    assert fetched.status_code == 200 and fetched.json()["secret"] is None
    assert fetched.json()["filter"] == {"exact": {"data.country": "DE"}}


async def test_given_secret_is_used(server: Server) -> None:
    headers = await server.key()
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    assert (await create(server, headers, secret=secret))["secret"] == secret


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        ({"url": "ftp://x.example/in"}, "/url"),
        ({"url": "https://x.example/" + "a" * 2048}, "/url"),
        ({"url": "https://x.example", "filter": {"regex": {"type": "x"}}}, "/filter/regex"),
        ({"url": "https://x.example", "filter": {"sql": "type = 'a'"}}, "/filter/sql"),
        ({"url": "https://x.example", "filter": {}}, "/filter"),
        (
            {"url": "https://x.example", "filter": {"exact": {"type": "a"}, "prefix": {"type": "b"}}},
            "/filter",
        ),
        ({"url": "https://x.example", "filter": {"all": []}}, "/filter/all"),
        ({"url": "https://x.example", "filter": {"exact": {"data.n": 1}}}, "/filter/exact/data.n"),
        ({"url": "https://x.example", "event_types": ["bad glob"]}, "/event_types/0"),
        ({"url": "https://x.example", "max_rps": 0}, "/max_rps"),
        ({"url": "https://x.example", "secret": "nope"}, "/secret"),
        ({"url": "https://x.example", "unknown": 1}, "/unknown"),
        ({"url": "https://x.example", "enabled": 0}, "/enabled"),
        ({"url": "https://x.example", "max_rps": True}, "/max_rps"),
        ({"url": "https://x.example", "event_types": None}, "/event_types"),
        ({"url": "https://x.example", "metadata": {f"k{i}": "v" for i in range(51)}}, "/metadata"),
        ({}, "/url"),
    ],
)
async def test_create_validation(server: Server, body: dict[str, Any], pointer: str) -> None:
    headers = await server.key()
    problem = problem_of(await server.client.post("/subscriptions", json=body, headers=headers), 422, "validation")
    assert pointer in [error["pointer"] for error in problem["errors"]], problem


async def test_malformed_json_is_400(server: Server) -> None:
    headers = {**(await server.key()), "content-type": "application/json"}
    problem_of(await server.client.post("/subscriptions", content=b"{", headers=headers), 400, "malformed-request")


async def test_scopes_and_auth(server: Server) -> None:
    problem_of(await server.client.get("/subscriptions"), 401, "unauthenticated")
    reader = await server.key("events:read")
    problem_of(await server.client.get("/subscriptions", headers=reader), 403, "forbidden")
    problem_of(await server.client.get("/deliveries", headers=reader), 403, "forbidden")


async def test_list_is_newest_first_and_paginates(server: Server) -> None:
    headers = await server.key()
    ids = [(await create(server, headers, description=str(n)))["id"] for n in range(5)]
    first = await server.client.get("/subscriptions", params={"limit": 2}, headers=headers)
    page = SubscriptionList.model_validate(first.json())
    assert [item.id for item in page.data] == ids[::-1][:2] and page.next_cursor
    assert all(item.secret is None for item in page.data)
    seen = [item.id for item in page.data]
    cursor: str | None = page.next_cursor
    while cursor:
        response = await server.client.get("/subscriptions", params={"limit": 2, "cursor": cursor}, headers=headers)
        next_page = SubscriptionList.model_validate(response.json())
        seen.extend(item.id for item in next_page.data)
        cursor = next_page.next_cursor
    assert seen == ids[::-1]
    problem_of(
        await server.client.get("/subscriptions", params={"cursor": "garbage"}, headers=headers),
        400,
        "malformed-request",
    )
    problem_of(
        await server.client.get("/subscriptions", params={"limit": 0}, headers=headers),
        400,
        "malformed-request",
    )


async def test_patch_semantics(server: Server) -> None:
    headers = await server.key()
    created = await create(server, headers, filter={"exact": {"type": "a"}}, max_rps=3, description="d")
    path = f"/subscriptions/{created['id']}"
    response = await server.client.patch(path, json={"description": "new"}, headers=headers)
    assert response.status_code == 200
    body = response.json()
    assert body["description"] == "new" and body["filter"] == {"exact": {"type": "a"}} and body["max_rps"] == 3
    assert body["enabled"] is True and body["secret"] is None
    body = (await server.client.patch(path, json={"filter": None, "max_rps": None}, headers=headers)).json()
    assert body["filter"] is None and body["max_rps"] is None
    body = (
        await server.client.patch(path, json={"filter": {"not": {"prefix": {"type": "x"}}}}, headers=headers)
    ).json()
    assert body["filter"] == {"not": {"prefix": {"type": "x"}}}
    problem_of(await server.client.patch(path, json={"filter": {"nope": 1}}, headers=headers), 422, "validation")
    problem_of(await server.client.patch(path, json={"url": None}, headers=headers), 422, "validation")
    problem_of(await server.client.patch("/subscriptions/sub_missing", json={}, headers=headers), 404, "not-found")


async def test_disable_discards_pending_and_reenable_clears_reason(server: Server) -> None:
    headers = await server.key()
    created = await create(server, headers)
    event = await server.ingest(headers, data={"n": 1})
    response = await server.client.patch(f"/subscriptions/{created['id']}", json={"enabled": False}, headers=headers)
    assert response.json()["enabled"] is False
    deliveries = (await server.client.get("/deliveries", params={"event_id": event["id"]}, headers=headers)).json()
    assert [d["status"] for d in deliveries["data"]] == ["discarded"]
    assert await server.run_due() == 0
    assert (await server.ingest(headers, data={"n": 2})) and await server.run_due() == 0
    response = await server.client.patch(f"/subscriptions/{created['id']}", json={"enabled": True}, headers=headers)
    assert response.json()["enabled"] is True and response.json()["disabled_reason"] is None


async def test_delete(server: Server) -> None:
    headers = await server.key()
    created = await create(server, headers)
    await server.ingest(headers, data={})
    assert (await server.client.delete(f"/subscriptions/{created['id']}", headers=headers)).status_code == 204
    problem_of(await server.client.get(f"/subscriptions/{created['id']}", headers=headers), 404, "not-found")
    problem_of(await server.client.delete(f"/subscriptions/{created['id']}", headers=headers), 404, "not-found")
    deliveries = (await server.client.get("/deliveries", headers=headers)).json()["data"]
    assert [d["status"] for d in deliveries] == ["discarded"]


async def test_rotate_secret_signs_with_both_during_overlap(server: Server) -> None:
    headers = await server.key()
    created = await create(server, headers)
    old_secret = created["secret"]
    response = await server.client.post(
        f"/subscriptions/{created['id']}/rotate-secret", json={"overlap_seconds": 600}, headers=headers
    )
    assert response.status_code == 200
    new_secret = response.json()["secret"]
    assert new_secret.startswith("whsec_") and new_secret != old_secret
    await server.ingest(headers, data={"n": 1})
    await server.run_due()
    request = server.receiver.requests[-1]
    now = int(server.clock.now().timestamp())
    assert len(request.headers["webhook-signature"].split(" ")) == 2
    for secret in (old_secret, new_secret):
        verify(secret, request.content, dict(request.headers), now=now)
    server.clock.advance(601)
    await server.ingest(headers, data={"n": 2})
    await server.run_due()
    assert len(server.receiver.requests[-1].headers["webhook-signature"].split(" ")) == 1
    no_body = await server.client.post(f"/subscriptions/{created['id']}/rotate-secret", headers=headers)
    assert no_body.status_code == 200 and no_body.json()["secret"] != new_secret
    problem_of(
        await server.client.post(
            f"/subscriptions/{created['id']}/rotate-secret", json={"overlap_seconds": -1}, headers=headers
        ),
        422,
        "validation",
    )
    problem_of(await server.client.post("/subscriptions/sub_nope/rotate-secret", headers=headers), 404, "not-found")


async def test_test_send_bypasses_filters(server: Server) -> None:
    headers = await server.key()
    created = await create(server, headers, event_types=["order.*"], filter={"exact": {"type": "order.created"}})
    response = await server.client.post(
        f"/subscriptions/{created['id']}/test", json={"data": {"hello": "world"}}, headers=headers
    )
    assert response.status_code == 201, response.text
    delivery = Delivery.model_validate(response.json())
    assert delivery.status.value == "pending" and response.headers["location"] == f"/v1/deliveries/{delivery.id}"
    assert await server.run_due() == 1
    [request] = server.receiver.requests
    envelope = request.read()
    verify(created["secret"], envelope, dict(request.headers), now=int(server.clock.now().timestamp()))
    import json

    body = json.loads(envelope)
    assert body["type"] == "triggers.test" and body["data"]["data"] == {"hello": "world"}
    assert request.headers["webhook-id"] == delivery.id
    default = await server.client.post(f"/subscriptions/{created['id']}/test", headers=headers)
    assert default.status_code == 201
    problem_of(await server.client.post("/subscriptions/sub_nope/test", headers=headers), 404, "not-found")
    await server.client.patch(f"/subscriptions/{created['id']}", json={"enabled": False}, headers=headers)
    problem_of(await server.client.post(f"/subscriptions/{created['id']}/test", headers=headers), 409, "conflict")
    problem_of(
        await server.client.post(f"/subscriptions/{created['id']}/test", json={"type": ""}, headers=headers),
        422,
        "validation",
    )


async def test_deliveries_routes(server: Server) -> None:
    headers = await server.key()
    created = await create(server, headers)
    server.receiver.answers = [(500, {"x-debug": "1"}, b"broken")]
    event = await server.ingest(headers, data={"n": 1})
    await server.run_due()
    listing = DeliveryList.model_validate((await server.client.get("/deliveries", headers=headers)).json())
    [item] = listing.data
    assert item.status.value == "failed" and item.attempts == [] and item.next_attempt_at is not None
    one = await server.client.get(f"/deliveries/{item.id}", headers=headers)
    detail = Delivery.model_validate(one.json())
    [attempt] = detail.attempts
    assert attempt.response_status == 500 and attempt.response_body == "broken" and not attempt.succeeded
    assert attempt.response_headers["x-debug"] == "1" and attempt.request_headers["webhook-id"] == item.id
    for params, expected in (
        ({"subscription_id": created["id"]}, 1),
        ({"subscription_id": "sub_other"}, 0),
        ({"event_id": event["id"]}, 1),
        ({"status": "failed"}, 1),
        ({"status": "succeeded"}, 0),
    ):
        response = await server.client.get("/deliveries", params=params, headers=headers)
        assert len(response.json()["data"]) == expected, params
    problem_of(
        await server.client.get("/deliveries", params={"status": "weird"}, headers=headers),
        400,
        "malformed-request",
    )
    by_event = await server.client.get(f"/events/{event['id']}/deliveries", headers=headers)
    assert [d["id"] for d in by_event.json()["data"]] == [item.id]
    problem_of(await server.client.get("/events/evt_nope/deliveries", headers=headers), 404, "not-found")
    retried = await server.client.post(f"/deliveries/{item.id}/retry", headers=headers)
    assert retried.status_code == 202 and retried.json()["next_attempt_at"] is not None
    assert await server.run_due() == 1
    final = (await server.client.get(f"/deliveries/{item.id}", headers=headers)).json()
    assert final["status"] == "succeeded" and final["attempt_count"] == 2 and final["last_attempt_at"] is not None
    problem_of(await server.client.get("/deliveries/dlv_nope", headers=headers), 404, "not-found")
    problem_of(await server.client.post("/deliveries/dlv_nope/retry", headers=headers), 404, "not-found")
    await server.client.patch(f"/subscriptions/{created['id']}", json={"enabled": False}, headers=headers)
    problem_of(await server.client.post(f"/deliveries/{item.id}/retry", headers=headers), 409, "conflict")


async def test_filter_test_route(server: Server) -> None:
    headers = await server.key("events:read")
    body: dict[str, Any] = {
        "filter": {"all": [{"exact": {"type": "order.created"}}, {"prefix": {"data.country": "D"}}]},
        "event_types": ["order.*"],
        "event": {"type": "order.created", "source": "my-app", "id": "A-1", "data": {"country": "DE"}},
    }
    response = await server.client.post("/filters/test", json=body, headers=headers)
    assert response.status_code == 200, response.text
    result = FilterTestResult.model_validate(response.json())
    assert result.matched
    assert [(entry.path, entry.dialect) for entry in result.trace] == [
        ("", "event_types"),
        ("/all", "all"),
        ("/all/0/exact", "exact"),
        ("/all/1/prefix", "prefix"),
    ]
    assert result.trace[3].actual == "DE"
    by_id = {"filter": {"exact": {"id": "A-1"}}, "event": body["event"]}
    assert (await server.client.post("/filters/test", json=by_id, headers=headers)).json()["matched"] is True
    no_match = {**body, "event_types": ["invoice.*"]}
    assert (await server.client.post("/filters/test", json=no_match, headers=headers)).json()["matched"] is False
    bad: dict[str, Any] = {**body, "filter": {"any": [{"wat": {}}]}}
    problem = problem_of(await server.client.post("/filters/test", json=bad, headers=headers), 422, "validation")
    assert problem["errors"][0]["pointer"].startswith("/filter/any/0")
    problem_of(
        await server.client.post("/filters/test", json={"filter": {"exact": {"type": "x"}}}, headers=headers),
        422,
        "validation",
    )
    problem_of(
        await server.client.post("/filters/test", json={**body, "event_types": ["a b"]}, headers=headers),
        422,
        "validation",
    )
    problem_of(await server.client.post("/filters/test", json=body), 401, "unauthenticated")


async def test_tenant_isolation(server: Server) -> None:
    owner = await server.key()
    intruder = await server.key()
    created = await create(server, owner)
    event = await server.ingest(owner, data={})
    await server.run_due()
    delivery_id = (await server.client.get("/deliveries", headers=owner)).json()["data"][0]["id"]
    sub = f"/subscriptions/{created['id']}"
    requests: tuple[tuple[str, str, dict[str, Any] | None], ...] = (
        ("GET", sub, None),
        ("PATCH", sub, {}),
        ("DELETE", sub, None),
        ("POST", f"{sub}/rotate-secret", None),
        ("POST", f"{sub}/test", None),
        ("GET", f"/deliveries/{delivery_id}", None),
        ("POST", f"/deliveries/{delivery_id}/retry", None),
        ("GET", f"/events/{event['id']}/deliveries", None),
    )
    for method, path, body in requests:
        response = await server.client.request(method, path, json=body, headers=intruder)
        problem_of(response, 404, "not-found")
    assert (await server.client.get("/subscriptions", headers=intruder)).json()["data"] == []
    assert (await server.client.get("/deliveries", headers=intruder)).json()["data"] == []
    assert (await server.client.get(sub, headers=owner)).status_code == 200


async def test_idempotent_create_makes_one_subscription(server: Server) -> None:
    headers = {**(await server.key()), "Idempotency-Key": "create-sub-1"}
    body = {"url": "https://hooks.example/in"}
    first = await server.client.post("/subscriptions", json=body, headers=headers)
    again = await server.client.post("/subscriptions", json=body, headers=headers)
    assert first.status_code == 201 and again.status_code in (200, 201)
    assert again.json()["id"] == first.json()["id"] and again.headers.get("idempotent-replayed") == "true"
    listing = (await server.client.get("/subscriptions", headers=headers)).json()["data"]
    assert [item["id"] for item in listing] == [first.json()["id"]]
    reused = await server.client.post("/subscriptions", json={"url": "https://other.example"}, headers=headers)
    problem_of(reused, 422, "idempotency-key-reuse")


async def test_body_media_type_and_shape_errors(server: Server) -> None:
    headers = await server.key()
    created = await create(server, headers)
    text = {**headers, "content-type": "text/plain"}
    response = await server.client.post("/subscriptions", content=b'{"url": "https://x.example"}', headers=text)
    problem_of(response, 415, "unsupported-media-type")
    as_json = {**headers, "content-type": "application/json"}
    for path in (
        f"/subscriptions/{created['id']}/test",
        f"/subscriptions/{created['id']}/rotate-secret",
        "/dlq/retry",
    ):
        problem_of(await server.client.post(path, content=b"null", headers=as_json), 422, "validation")
        problem_of(await server.client.post(path, content=b"[1]", headers=as_json), 422, "validation")
    problem_of(await server.client.post("/filters/test", content=b"", headers=as_json), 422, "validation")


async def test_catch_up_fans_out_events_a_crash_left_behind(server: Server) -> None:
    """An event committed whose fan-out never ran (crash in between) is delivered once on the next start;
    events older than the subscription are not."""
    headers = await server.key()
    before = await server.ingest(headers, data={"n": 0})
    await create(server, headers)
    delivered = await server.ingest(headers, data={"n": 1})
    account_id = await server.account_of(headers)
    now = server.clock.now()
    draft = EventDraft(type="order.created", source="shop", has_data=True, data={"n": 2})
    orphan = await store_event(server.services.stores, account_id, draft, now)
    assert await server.services.delivery.catch_up() == 1
    assert await server.services.delivery.catch_up() == 0
    subscription_id = (await server.client.get("/subscriptions", headers=headers)).json()["data"][0]["id"]
    replayed = await server.client.post(
        f"/events/{delivered['id']}/replay", json={"target": {"kind": "inbox"}}, headers=headers
    )
    assert replayed.status_code == 200
    assert await server.services.delivery.catch_up() == 0, "replay copies route themselves"
    tested = await server.client.post(f"/subscriptions/{subscription_id}/test", headers=headers)
    assert tested.status_code == 201
    assert await server.services.delivery.catch_up() == 0, "a test send goes to its subscription only"
    by_event = {}
    for event in (before, delivered, orphan):
        response = await server.client.get("/deliveries", params={"event_id": event["id"]}, headers=headers)
        by_event[event["id"]] = len(response.json()["data"])
    assert by_event == {before["id"]: 0, delivered["id"]: 1, orphan["id"]: 1}


async def test_oversized_body_is_413(server: Server) -> None:
    headers = {**(await server.key()), "content-type": "application/json"}
    huge = b'{"url": "https://x.example", "description": "' + b"a" * (1024 * 1024) + b'"}'
    problem_of(await server.client.post("/subscriptions", content=huge, headers=headers), 413, "payload-too-large")


async def test_retry_of_a_succeeded_delivery_is_409_and_sends_nothing(server: Server) -> None:
    """Issue 10 §2.4: the contract allows a retry in any state but `succeeded`; the 202 body is the delivery,
    pending (scheduled now)."""
    headers = await server.key()
    await create(server, headers)
    await server.ingest(headers, data={"n": 1})
    assert await server.run_due() == 1
    [done] = (await server.client.get("/deliveries", headers=headers)).json()["data"]
    assert done["status"] == "succeeded"
    problem_of(await server.client.post(f"/deliveries/{done['id']}/retry", headers=headers), 409, "conflict")
    assert await server.run_due() == 0 and len(server.receiver.requests) == 1
    again = (await server.client.get(f"/deliveries/{done['id']}", headers=headers)).json()
    assert again["status"] == "succeeded" and again["attempt_count"] == 1


async def test_retry_answers_the_delivery_pending_and_a_failed_manual_attempt_keeps_its_end(server: Server) -> None:
    headers = await server.key()
    await create(server, headers)
    server.receiver.answers = [(500, {}, b""), (500, {}, b""), (500, {}, b""), (500, {}, b"")]
    await server.ingest(headers, data={"n": 1})
    for _ in range(3):
        await server.run_due()
        server.clock.advance(400)
    [dead] = (await server.client.get("/deliveries", headers=headers)).json()["data"]
    assert dead["status"] == "dead_lettered" and dead["next_attempt_at"] is None
    retried = await server.client.post(f"/deliveries/{dead['id']}/retry", headers=headers)
    assert retried.status_code == 202, retried.text
    body = Delivery.model_validate(retried.json())
    assert body.status.value == "pending" and body.next_attempt_at is not None
    assert await server.run_due() == 1
    after = (await server.client.get(f"/deliveries/{dead['id']}", headers=headers)).json()
    assert after["status"] == "dead_lettered" and after["next_attempt_at"] is None and after["attempt_count"] == 4


async def test_delivery_metrics_are_recorded(server: Server) -> None:
    """Issue 10 §2.9: real deliveries show up as samples in /metrics (outcomes by status, attempt durations)."""
    headers = await server.key()
    admin = await server.key("admin")
    await create(server, headers)
    server.receiver.answers = [(200, {}, b""), (410, {}, b"gone")]
    await server.ingest(headers, data={"n": 1})
    await server.ingest(headers, data={"n": 2})
    assert await server.run_due() == 2
    text = (await server.client.get("/metrics", headers=admin)).text
    assert 'triggers_deliveries_total{status="succeeded"} 1.0' in text
    assert 'triggers_deliveries_total{status="dead_lettered"} 1.0' in text
    assert "triggers_delivery_attempt_duration_seconds_count 2.0" in text
    assert 'triggers_delivery_attempt_duration_seconds_bucket{le="+Inf"} 2.0' in text
