"""Idempotency-Key per the IETF draft: replay, reuse (422), in flight (409), invalid (400), 24 h expiry."""

from __future__ import annotations

import anyio
import httpx
import pytest
from core_harness import Server, assert_problem, event

from triggers_server.models._generated import IdempotencyKeyStatus

pytestmark = pytest.mark.anyio


async def test_replay_returns_the_stored_response_with_replayed_header(server: Server) -> None:
    first = await server.admin.post("/events", json=event(), headers={"Idempotency-Key": "k-1"})
    assert first.status_code == 201 and "idempotent-replayed" not in first.headers
    again = await server.admin.post("/events", json=event(), headers={"Idempotency-Key": "k-1"})
    assert again.status_code == 200
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    assert again.headers["x-request-id"] != first.headers["x-request-id"]
    assert len((await server.admin.get("/events")).json()["data"]) == 1


async def test_key_order_and_whitespace_of_the_body_do_not_matter(server: Server) -> None:
    headers = {"Idempotency-Key": "k-json", "content-type": "application/json"}
    first = await server.admin.post("/events", content=b'{"type":"a","source":"s"}', headers=headers)
    again = await server.admin.post("/events", content=b'{ "source": "s", "type": "a" }', headers=headers)
    assert first.status_code == 201 and again.status_code == 200


async def test_same_key_different_body_is_422(server: Server) -> None:
    await server.admin.post("/events", json=event(), headers={"Idempotency-Key": "k-2"})
    response = await server.admin.post("/events", json=event(data=2), headers={"Idempotency-Key": "k-2"})
    assert_problem(response, 422, "idempotency-key-reuse")


async def test_keys_are_scoped_per_route_and_account(server: Server) -> None:
    await server.admin.post("/events", json=event(), headers={"Idempotency-Key": "shared"})
    batch = await server.admin.post("/events/batch", json={"events": [event()]}, headers={"Idempotency-Key": "shared"})
    assert batch.status_code == 200 and "idempotent-replayed" not in batch.headers
    async with await server.tenant("events:write") as other:
        response = await other.post("/events", json=event(), headers={"Idempotency-Key": "shared"})
    assert response.status_code == 201


async def test_sf_string_quoted_form_is_the_same_key(server: Server) -> None:
    await server.admin.post("/events", json=event(), headers={"Idempotency-Key": "abc"})
    again = await server.admin.post("/events", json=event(), headers={"Idempotency-Key": '"abc"'})
    assert again.status_code == 200 and again.headers["idempotent-replayed"] == "true"


@pytest.mark.parametrize("key", ["", '""', "x" * 256, "tab\there", '"bad\\escape"'])
async def test_invalid_keys_are_400(server: Server, key: str) -> None:
    response = await server.admin.post("/events", json=event(), headers={"Idempotency-Key": key})
    assert_problem(response, 400, "invalid-idempotency-key")


async def test_non_ascii_key_is_400(server: Server) -> None:
    response = await server.admin.post("/events", json=event(), headers=[(b"Idempotency-Key", "clé".encode())])
    assert_problem(response, 400, "invalid-idempotency-key")


async def test_validation_failures_are_not_stored(server: Server) -> None:
    bad = await server.admin.post("/events", json={"type": "a"}, headers={"Idempotency-Key": "k-3"})
    assert bad.status_code == 422
    fixed = await server.admin.post("/events", json={"type": "a"}, headers={"Idempotency-Key": "k-3"})
    assert fixed.status_code == 422 and "idempotent-replayed" not in fixed.headers
    assert_problem(await server.admin.get("/idempotency-keys/k-3"), 404, "not-found")


async def test_duplicate_conflicts_are_stored_and_replayed(server: Server) -> None:
    await server.admin.post("/events", json=event(id="x"))
    conflict = await server.admin.post("/events", json=event(id="x"), headers={"Idempotency-Key": "k-4"})
    assert conflict.status_code == 409
    again = await server.admin.post("/events", json=event(id="x"), headers={"Idempotency-Key": "k-4"})
    assert again.status_code == 409 and again.headers["idempotent-replayed"] == "true"


async def test_keys_expire_after_24_hours(server: Server) -> None:
    await server.admin.post("/events", json=event(), headers={"Idempotency-Key": "k-5"})
    server.clock.advance(24 * 3600 - 1)
    assert (await server.admin.post("/events", json=event(), headers={"Idempotency-Key": "k-5"})).status_code == 200
    server.clock.advance(2)
    fresh = await server.admin.post("/events", json=event(), headers={"Idempotency-Key": "k-5"})
    assert fresh.status_code == 201
    assert len((await server.admin.get("/events")).json()["data"]) == 2


async def test_key_status_completed(server: Server) -> None:
    created = (await server.admin.post("/events", json=event(), headers={"Idempotency-Key": "k-6"})).json()
    response = await server.admin.get("/idempotency-keys/k-6")
    assert response.status_code == 200
    status = response.json()
    IdempotencyKeyStatus.model_validate(status)
    assert status["status"] == "completed"
    assert (status["method"], status["route"]) == ("POST", "/events")
    assert status["resource_id"] == created["id"]
    assert status["response_status"] == 201  # the first response's; a replay answers 200
    assert status["created_at"] == "2026-11-25T12:00:00.000000Z"
    assert status["expires_at"] == "2026-11-26T12:00:00.000000Z"
    assert len(status["fingerprint"]) == 64
    async with await server.tenant("events:read") as other:
        assert_problem(await other.get("/idempotency-keys/k-6"), 404, "not-found")


async def test_in_flight_duplicate_is_409_then_replays(server: Server) -> None:
    """A long-polling lease stays in flight until the clock moves: a second call with its key is a 409."""
    headers = {"Idempotency-Key": "lease-1"}
    results: dict[str, httpx.Response] = {}

    async def first() -> None:
        results["first"] = await server.admin.post("/inbox/lease", json={"wait": 10}, headers=headers)

    parked = server.clock.sleeper_count
    async with anyio.create_task_group() as group:
        group.start_soon(first)
        await server.wait_for_sleepers(parked + 1)
        second = await server.admin.post("/inbox/lease", json={"wait": 10}, headers=headers)
        body = assert_problem(second, 409, "idempotency-in-flight")
        assert second.headers["retry-after"] == "1" and body["retry_after"] == 1
        status = (await server.admin.get("/idempotency-keys/lease-1")).json()
        assert status["status"] == "in_progress" and status["response_status"] is None
        server.clock.advance(10)
    assert results["first"].status_code == 200
    replay = await server.admin.post("/inbox/lease", json={"wait": 10}, headers=headers)
    assert replay.headers["idempotent-replayed"] == "true"
    assert replay.json()["lease_id"] == results["first"].json()["lease_id"]


async def test_keys_on_other_posts_are_honoured(server: Server) -> None:
    first = await server.admin.post(
        "/api-keys", json={"name": "ci", "scopes": ["events:read"]}, headers={"Idempotency-Key": "key-create"}
    )
    again = await server.admin.post(
        "/api-keys", json={"name": "ci", "scopes": ["events:read"]}, headers={"Idempotency-Key": "key-create"}
    )
    assert first.status_code == 201 and again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]


async def test_not_found_outcomes_are_stored(server: Server) -> None:
    first = await server.admin.post("/events/evt_missing/ack", headers={"Idempotency-Key": "k-404"})
    assert first.status_code == 404
    again = await server.admin.post("/events/evt_missing/ack", headers={"Idempotency-Key": "k-404"})
    assert again.status_code == 404 and again.headers["idempotent-replayed"] == "true"
