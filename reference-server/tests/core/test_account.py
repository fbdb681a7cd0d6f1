"""Account, API keys, and tenant isolation for every CORE endpoint."""

from __future__ import annotations

import pytest
from core_harness import ADMIN_KEY, Server, assert_problem, event

from triggers_server.models._generated import Account, ApiKey, ApiKeyList

pytestmark = pytest.mark.anyio


async def test_account_reports_limits_and_usage(server: Server) -> None:
    await server.admin.post("/events", json=event())
    response = await server.admin.get("/account")
    assert response.status_code == 200
    body = response.json()
    Account.model_validate(body)
    assert body["name"] == "default"
    assert body["limits"]["max_event_bytes"] == 256 * 1024
    assert body["limits"]["max_batch_events"] == 1000
    assert body["limits"]["max_deliveries"] == 5
    assert body["limits"]["retention_days"] == 7
    assert body["usage"] == {
        "events_total": 1,
        "events_today": 1,
        "inbox_depth": 1,
        "dlq_depth": 0,
        "subscriptions": 0,
    }


async def test_api_key_lifecycle(server: Server) -> None:
    created = await server.admin.post("/api-keys", json={"name": "ci", "scopes": ["events:read", "events:read"]})
    assert created.status_code == 201
    key = created.json()
    ApiKey.model_validate(key)
    assert key["key"].startswith("tk_") and len(key["key"]) == 35
    assert key["prefix"] == key["key"][:7] and key["scopes"] == ["events:read"]
    assert created.headers["location"] == f"/v1/api-keys/{key['id']}"
    async with server.client(key["key"]) as ci:
        assert (await ci.get("/events")).status_code == 200
        assert_problem(await ci.post("/events", json=event()), 403, "forbidden")
    listed = (await server.admin.get("/api-keys")).json()
    ApiKeyList.model_validate(listed)
    by_id = {item["id"]: item for item in listed["data"]}
    assert by_id[key["id"]]["key"] is None
    assert by_id[key["id"]]["last_used_at"] == "2026-11-25T12:00:00.000000Z"
    assert (await server.admin.delete(f"/api-keys/{key['id']}")).status_code == 204
    async with server.client(key["key"]) as ci:
        assert_problem(await ci.get("/events"), 401, "unauthenticated")
    assert_problem(await server.admin.delete(f"/api-keys/{key['id']}"), 404, "not-found")


async def test_api_key_pages(server: Server) -> None:
    for index in range(3):
        await server.admin.post("/api-keys", json={"name": f"k{index}", "scopes": ["events:read"]})
    first = (await server.admin.get("/api-keys", params={"limit": 2})).json()
    second = (await server.admin.get("/api-keys", params={"limit": 2, "cursor": first["next_cursor"]})).json()
    ids = [item["id"] for item in first["data"] + second["data"]]
    assert len(ids) == 4 and len(set(ids)) == 4 and second["next_cursor"] is None


async def test_a_key_cannot_revoke_itself(server: Server) -> None:
    own = next(
        item for item in (await server.admin.get("/api-keys")).json()["data"] if item["name"] == "bootstrap admin"
    )
    assert_problem(await server.admin.delete(f"/api-keys/{own['id']}"), 409, "conflict")


async def test_only_the_bootstrap_key_creates_accounts(server: Server) -> None:
    response = await server.admin.post(
        "/api-keys", json={"name": "tenant-b", "scopes": ["admin"], "new_account": "Tenant B"}
    )
    assert response.status_code == 201
    tenant = response.json()
    assert tenant["account_id"] != (await server.admin.get("/account")).json()["id"]
    async with server.client(tenant["key"]) as other:
        assert (await other.get("/account")).json()["name"] == "Tenant B"
        refused = await other.post("/api-keys", json={"name": "x", "scopes": ["admin"], "new_account": "C"})
        assert_problem(refused, 403, "forbidden")


@pytest.mark.parametrize(
    "body",
    [
        {"name": "x"},
        {"name": "", "scopes": ["admin"]},
        {"name": "x", "scopes": []},
        {"name": "x", "scopes": ["root"]},
    ],
)
async def test_bad_key_requests_are_422(server: Server, body: dict[str, object]) -> None:
    assert_problem(await server.admin.post("/api-keys", json=body), 422, "validation")


async def test_tenant_isolation(server: Server) -> None:
    """Account B sees none of account A's resources: each is a 404 or absent from lists."""
    created = (
        await server.admin.post("/events", json=event(correlation_id="wf-a"), headers={"Idempotency-Key": "a-key"})
    ).json()
    lease = (await server.admin.post("/inbox/lease", json={"visibility_timeout": 60})).json()
    receipt = lease["messages"][0]["receipt"]
    own_key = (await server.admin.get("/api-keys")).json()["data"][0]["id"]
    async with await server.tenant() as other:
        assert_problem(await other.get(f"/events/{created['id']}"), 404, "not-found")
        assert_problem(await other.get("/correlations/wf-a"), 404, "not-found")
        assert_problem(await other.post(f"/events/{created['id']}/ack"), 404, "not-found")
        assert_problem(await other.get("/idempotency-keys/a-key"), 404, "not-found")
        assert_problem(await other.delete(f"/api-keys/{own_key}"), 404, "not-found")
        assert (await other.get("/events")).json()["data"] == []
        assert (await other.get("/inbox")).json()["data"] == []
        assert (await other.post("/inbox/lease")).json()["messages"] == []
        for path in ("/inbox/ack", "/inbox/nack"):
            result = (await other.post(path, json={"receipts": [receipt]})).json()["results"]
            assert result[0]["status"] == "not_found"
        extended = await other.post("/inbox/extend", json={"receipts": [receipt], "visibility_timeout": 5})
        assert extended.json()["results"][0]["status"] == "not_found"
        assert (await other.get("/account")).json()["usage"]["events_total"] == 0
        assert (await other.get("/stats")).json()["inbox_depth"] == 0
        assert all(item["name"] != "bootstrap admin" for item in (await other.get("/api-keys")).json()["data"])
    acked = (await server.admin.post("/inbox/ack", json={"receipts": [receipt]})).json()["results"]
    assert acked[0]["status"] == "ok"


async def test_bootstrap_key_survives_restart_semantics(server: Server) -> None:
    async with server.client(ADMIN_KEY) as admin:
        assert (await admin.get("/account")).status_code == 200
    bootstrap = server.services.bootstrap
    assert bootstrap is not None and bootstrap.generated_key is None  # a given key is never echoed
