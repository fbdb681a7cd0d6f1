"""The /schemas routes over HTTP: every operation, its error paths, scopes and account isolation."""

from __future__ import annotations

from typing import Any

import pytest
from registry_harness import Server

pytestmark = pytest.mark.anyio

PROBLEM = "https://triggers.dev/problems/"
V1: dict[str, Any] = {
    "type": "object",
    "properties": {"order_id": {"type": "string"}, "amount": {"type": "number"}},
    "required": ["order_id"],
}
# Removing a property from an open model and dropping a requirement: backward compatible.
V2: dict[str, Any] = {"type": "object", "properties": {"order_id": {"type": "string"}}}
# Narrowing amount to integer while adding it back: not backward compatible with V2 (open model).
NARROWED: dict[str, Any] = {
    "type": "object",
    "properties": {"order_id": {"type": "string"}, "amount": {"type": "integer"}},
}


async def register(server: Server, headers: dict[str, str], event_type: str, schema: Any) -> Any:
    return await server.client.post(f"/schemas/{event_type}/versions", json={"json_schema": schema}, headers=headers)


def problem(response: Any, status: int, slug: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["type"] == PROBLEM + slug, body
    assert body["status"] == status
    return body


async def test_register_get_list_delete_lifecycle(server: Server, admin: dict[str, str]) -> None:
    created = await register(server, admin, "order.created", V1)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["version"] == 1 and body["event_type"] == "order.created" and body["json_schema"] == V1
    assert body["fingerprint"].startswith("sha256:")
    assert created.headers["location"] == "/v1/schemas/order.created/versions/1"

    again = await register(server, admin, "order.created", dict(reversed(list(V1.items()))))
    assert again.status_code == 200 and again.json()["version"] == 1

    assert (await register(server, admin, "order.created", V2)).json()["version"] == 2
    latest = await server.client.get("/schemas/order.created/versions/latest", headers=admin)
    assert latest.status_code == 200 and latest.json()["version"] == 2
    first = await server.client.get("/schemas/order.created/versions/1", headers=admin)
    assert first.json()["json_schema"] == V1

    versions = await server.client.get("/schemas/order.created/versions", headers=admin)
    assert [v["version"] for v in versions.json()["data"]] == [1, 2]
    assert versions.json()["next_cursor"] is None

    subjects = (await server.client.get("/schemas", headers=admin)).json()
    assert subjects["data"] == [
        {
            "event_type": "order.created",
            "latest_version": 2,
            "versions": 2,
            "compatibility": "BACKWARD",
            "updated_at": "2026-11-25T12:00:00Z",
        }
    ]

    deleted = await server.client.delete("/schemas/order.created/versions/latest", headers=admin)
    assert deleted.status_code == 204
    problem(await server.client.get("/schemas/order.created/versions/2", headers=admin), 404, "not-found")
    problem(await server.client.delete("/schemas/order.created/versions/2", headers=admin), 404, "not-found")
    # the number of a deleted version is never reused
    assert (await register(server, admin, "order.created", {"type": "object"})).json()["version"] == 3
    assert (await server.client.delete("/schemas/order.created/versions/1", headers=admin)).status_code == 204
    assert (await server.client.delete("/schemas/order.created/versions/3", headers=admin)).status_code == 204
    problem(await server.client.get("/schemas/order.created/versions", headers=admin), 404, "not-found")
    assert (await server.client.get("/schemas", headers=admin)).json()["data"] == []


async def test_incompatible_registration_is_409_with_incompatibilities(server: Server, admin: dict[str, str]) -> None:
    await register(server, admin, "order.paid", V2)
    body = problem(await register(server, admin, "order.paid", NARROWED), 409, "schema-incompatible")
    assert body["incompatibilities"] == [
        {
            "path": "/properties/amount",
            "kind": "property_added_to_open_model",
            "detail": "backward check against version 1: property 'amount' is now constrained, "
            "but the writer's open content model allowed any value for it",
            "against_version": 1,
        }
    ]
    versions = await server.client.get("/schemas/order.paid/versions", headers=admin)
    assert len(versions.json()["data"]) == 1


async def test_invalid_schema_is_422_with_pointers(server: Server, admin: dict[str, str]) -> None:
    body = problem(await register(server, admin, "x", {"type": "strng", "minLength": -1}), 422, "invalid-schema")
    pointers = sorted(e["pointer"] for e in body["errors"])
    assert pointers == ["/json_schema/minLength", "/json_schema/type"]
    body = problem(await register(server, admin, "x", {"pattern": "(unclosed"}), 422, "invalid-schema")
    assert body["errors"][0]["pointer"] == "/json_schema/pattern"
    body = problem(
        await register(server, admin, "x", {"$ref": "https://example.com/remote.json"}), 422, "invalid-schema"
    )
    assert "cannot be resolved" in body["errors"][0]["detail"]
    compat = await server.client.post("/schemas/x/compatibility", json={"json_schema": {"type": 5}}, headers=admin)
    problem(compat, 422, "invalid-schema")


async def test_request_validation_errors(server: Server, admin: dict[str, str]) -> None:
    problem(
        await server.client.post("/schemas/x/versions", json={"json_schema": True}, headers=admin),
        422,
        "validation",
    )
    problem(await server.client.post("/schemas/x/versions", json={}, headers=admin), 422, "validation")
    unknown: dict[str, Any] = {"json_schema": {}, "schema_type": "AVRO"}
    problem(await server.client.post("/schemas/x/versions", json=unknown, headers=admin), 422, "validation")
    malformed = await server.client.post(
        "/schemas/x/versions", content=b"{not json", headers={**admin, "content-type": "application/json"}
    )
    problem(malformed, 400, "malformed-request")
    problem(await server.client.get("/schemas/x/versions/0", headers=admin), 400, "malformed-request")
    problem(await server.client.get("/schemas/x/versions/first", headers=admin), 400, "malformed-request")
    problem(await server.client.get("/schemas/x/versions/7", headers=admin), 404, "not-found")
    problem(await server.client.get("/schemas?cursor=bogus", headers=admin), 400, "malformed-request")
    problem(await server.client.get("/schemas?limit=0", headers=admin), 400, "malformed-request")
    problem(await server.client.get("/schemas/x/versions?cursor=bogus", headers=admin), 400, "malformed-request")
    bad_mode = await server.client.put("/schemas/x/config", json={"compatibility": "SIDEWAYS"}, headers=admin)
    problem(bad_mode, 422, "validation")
    problem(await server.client.delete("/schemas/x/versions/abc", headers=admin), 400, "malformed-request")
    long_type = "t" * 256
    problem(await server.client.get(f"/schemas/{long_type}/config", headers=admin), 400, "malformed-request")
    extra = {"compatibility": "FULL", "normalize": True}
    problem(await server.client.put("/schemas/x/config", json=extra, headers=admin), 422, "validation")
    problem(await server.client.put("/schemas/x/config", json={}, headers=admin), 422, "validation")
    bad_check = await server.client.post(
        "/schemas/x/compatibility", json={"json_schema": {}, "mode": "ALL"}, headers=admin
    )
    problem(bad_check, 422, "validation")


async def test_pagination_of_subjects_and_versions(server: Server, admin: dict[str, str]) -> None:
    for name in ("c.type", "a.type", "b.type"):
        await register(server, admin, name, {"type": "object"})
    for maximum in (30, 20, 10):  # narrowing each time: the mode must allow it
        await server.client.put("/schemas/a.type/config", json={"compatibility": "NONE"}, headers=admin)
        assert (
            await register(server, admin, "a.type", {"type": "object", "maxProperties": maximum})
        ).status_code == 201
    page = (await server.client.get("/schemas?limit=2", headers=admin)).json()
    assert [s["event_type"] for s in page["data"]] == ["a.type", "b.type"]
    rest = (await server.client.get(f"/schemas?limit=2&cursor={page['next_cursor']}", headers=admin)).json()
    assert [s["event_type"] for s in rest["data"]] == ["c.type"] and rest["next_cursor"] is None
    versions = (await server.client.get("/schemas/a.type/versions?limit=3", headers=admin)).json()
    assert [v["version"] for v in versions["data"]] == [1, 2, 3]
    cursor = versions["next_cursor"]
    tail = (await server.client.get(f"/schemas/a.type/versions?limit=3&cursor={cursor}", headers=admin)).json()
    assert [v["version"] for v in tail["data"]] == [4] and tail["next_cursor"] is None
    foreign = await server.client.get(f"/schemas?cursor={cursor}", headers=admin)
    problem(foreign, 400, "malformed-request")


async def test_compatibility_dry_run_and_config(server: Server, admin: dict[str, str]) -> None:
    empty = await server.client.post("/schemas/t/compatibility", json={"json_schema": NARROWED}, headers=admin)
    assert empty.json() == {"compatible": True, "mode": "BACKWARD", "incompatibilities": []}
    await register(server, admin, "t", V2)
    verdict = (
        await server.client.post("/schemas/t/compatibility", json={"json_schema": NARROWED}, headers=admin)
    ).json()
    assert verdict["compatible"] is False and verdict["mode"] == "BACKWARD"
    assert [i["kind"] for i in verdict["incompatibilities"]] == ["property_added_to_open_model"]
    forward = await server.client.post(
        "/schemas/t/compatibility", json={"json_schema": NARROWED, "mode": "FORWARD"}, headers=admin
    )
    assert forward.json() == {"compatible": True, "mode": "FORWARD", "incompatibilities": []}
    assert len((await server.client.get("/schemas/t/versions", headers=admin)).json()["data"]) == 1

    config = (await server.client.get("/schemas/t/config", headers=admin)).json()
    assert config == {"compatibility": "BACKWARD", "default_dialect": "2020-12"}
    put = await server.client.put("/schemas/t/config", json={"compatibility": "NONE"}, headers=admin)
    assert put.status_code == 200 and put.json() == {"compatibility": "NONE", "default_dialect": "2020-12"}
    config = (await server.client.get("/schemas/t/config", headers=admin)).json()
    assert config == {"compatibility": "NONE", "default_dialect": "2020-12"}
    assert (await register(server, admin, "t", NARROWED)).status_code == 201
    listed = (await server.client.get("/schemas", headers=admin)).json()["data"]
    assert listed[0]["compatibility"] == "NONE"
    # a mode can be set before the first version exists; the subject is listed only once it has one
    await server.client.put("/schemas/fresh/config", json={"compatibility": "FULL"}, headers=admin)
    assert [s["event_type"] for s in (await server.client.get("/schemas", headers=admin)).json()["data"]] == ["t"]
    fresh = (await server.client.get("/schemas/fresh/config", headers=admin)).json()
    assert fresh == {"compatibility": "FULL", "default_dialect": "2020-12"}


CONFLUENT_STYLE = {
    "type": "object",
    "definitions": {"money": {"type": "number", "minimum": 0}},
    "properties": {
        "pair": {"type": "array", "items": [{"type": "string"}, {"$ref": "#/definitions/money"}]},
        "card": {"type": "string"},
        "billing": {"type": "string"},
    },
    "dependencies": {"card": ["billing"]},
}


async def test_default_dialect_reads_schemas_without_dollar_schema(server: Server, admin: dict[str, str]) -> None:
    refused = await register(server, admin, "pay", CONFLUENT_STYLE)
    assert refused.status_code == 422 and refused.json()["type"].endswith("/invalid-schema")

    put = await server.client.put(
        "/schemas/pay/config", json={"compatibility": "BACKWARD", "default_dialect": "draft-07"}, headers=admin
    )
    assert put.status_code == 200 and put.json() == {"compatibility": "BACKWARD", "default_dialect": "draft-07"}
    again = await server.client.put("/schemas/pay/config", json={"compatibility": "FULL"}, headers=admin)
    assert again.json() == {"compatibility": "FULL", "default_dialect": "draft-07"}
    created = await register(server, admin, "pay", CONFLUENT_STYLE)
    assert created.status_code == 201 and created.json()["dialect"] == "draft-07"
    fetched = (await server.client.get("/schemas/pay/versions/1", headers=admin)).json()
    assert fetched["dialect"] == "draft-07" and fetched["json_schema"] == CONFLUENT_STYLE

    # events are validated in draft-07: the items array is a tuple, dependencies are required together
    ok = {"pair": ["eur", 3], "card": "4111", "billing": "x"}
    assert (await server.client.post("/events", json=_event("pay", ok), headers=admin)).status_code == 201
    for bad, pointer in (({"pair": ["eur", -1]}, "/data/pair/1"), ({"card": "4111"}, "/data")):
        answer = await server.client.post("/events", json=_event("pay", bad), headers=admin)
        assert answer.status_code == 422, answer.text
        assert [e["pointer"] for e in answer.json()["errors"]] == [pointer]

    # compatibility is judged in draft-07 too: the tuple's second item may no longer be negative...
    narrowed = {**CONFLUENT_STYLE, "definitions": {"money": {"type": "number", "minimum": 1}}}
    conflict = await register(server, admin, "pay", narrowed)
    assert conflict.status_code == 409
    found = [(i["path"], i["kind"]) for i in conflict.json()["incompatibilities"]]
    assert found == [("/properties/pair/prefixItems/1/minimum", "minimum_raised")]
    # ...and a 2020-12 schema (named by $schema) is still read as 2020-12 in this subject
    named = {"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object"}
    checked = await server.client.post(
        "/schemas/pay/compatibility", json={"json_schema": named, "mode": "NONE"}, headers=admin
    )
    assert checked.status_code == 200
    versions = (await server.client.get("/schemas/pay/versions", headers=admin)).json()["data"]
    assert [v["dialect"] for v in versions] == ["draft-07"]


async def test_unknown_default_dialect_is_refused(server: Server, admin: dict[str, str]) -> None:
    answer = await server.client.put(
        "/schemas/t/config", json={"compatibility": "BACKWARD", "default_dialect": "draft-03"}, headers=admin
    )
    assert answer.status_code == 422 and answer.headers["content-type"].startswith("application/problem+json")
    assert (await server.client.get("/schemas/t/config", headers=admin)).json()["default_dialect"] == "2020-12"


def _event(event_type: str, data: Any) -> dict[str, Any]:
    return {"type": event_type, "source": "/tests", "data": data}


async def test_transitive_modes_check_every_version(server: Server, admin: dict[str, str]) -> None:
    await register(server, admin, "n", {"type": "integer", "maximum": 10})
    await server.client.put("/schemas/n/config", json={"compatibility": "NONE"}, headers=admin)
    await register(server, admin, "n", {"type": "integer", "maximum": 5})

    async def verdict(schema: dict[str, Any], mode: str) -> dict[str, Any]:
        answer = await server.client.post(
            "/schemas/n/compatibility", json={"json_schema": schema, "mode": mode}, headers=admin
        )
        assert answer.status_code == 200, answer.text
        result: dict[str, Any] = answer.json()
        return result

    six = {"type": "integer", "maximum": 6}
    assert (await verdict(six, "BACKWARD"))["compatible"] is True
    transitive = await verdict(six, "BACKWARD_TRANSITIVE")
    assert [(i["kind"], i["against_version"]) for i in transitive["incompatibilities"]] == [("maximum_lowered", 1)]
    # forward: the registered readers must accept the new writer's data (<= 4 fits both, <= 8 only v1)
    assert (await verdict({"type": "integer", "maximum": 4}, "FORWARD_TRANSITIVE"))["compatible"] is True
    eight = await verdict({"type": "integer", "maximum": 8}, "FORWARD_TRANSITIVE")
    assert [i["against_version"] for i in eight["incompatibilities"]] == [2]
    assert (await verdict({"type": "integer", "maximum": 8}, "FORWARD"))["compatible"] is False
    full = await verdict(six, "FULL")
    assert [i["detail"].split(":")[0] for i in full["incompatibilities"]] == ["forward check against version 2"]
    full_transitive = await verdict(six, "FULL_TRANSITIVE")
    assert len(full_transitive["incompatibilities"]) == 2
    assert (await verdict({"type": "string"}, "NONE")) == {
        "compatible": True,
        "mode": "NONE",
        "incompatibilities": [],
    }

    await server.client.put("/schemas/n/config", json={"compatibility": "BACKWARD_TRANSITIVE"}, headers=admin)
    body = problem(await register(server, admin, "n", six), 409, "schema-incompatible")
    assert body["mode"] == "BACKWARD_TRANSITIVE"
    assert [i["against_version"] for i in body["incompatibilities"]] == [1]


async def test_scopes_and_authentication(server: Server) -> None:
    reader = await server.key("events:read")
    manager = await server.key("schemas:manage")
    problem(await server.client.get("/schemas"), 401, "unauthenticated")
    problem(await register(server, reader, "x", {}), 403, "forbidden")
    problem(await server.client.delete("/schemas/x/versions/1", headers=reader), 403, "forbidden")
    problem(
        await server.client.put("/schemas/x/config", json={"compatibility": "NONE"}, headers=reader),
        403,
        "forbidden",
    )
    problem(
        await server.client.post("/schemas/x/compatibility", json={"json_schema": {}}, headers=reader),
        403,
        "forbidden",
    )
    problem(await server.client.get("/schemas", headers=manager), 403, "forbidden")
    problem(await server.client.get("/schemas/x/config", headers=manager), 403, "forbidden")
    assert (await server.client.get("/schemas", headers=reader)).status_code == 200


async def test_account_isolation(server: Server) -> None:
    alice = await server.key("schemas:manage", "events:read")
    bob = await server.key("schemas:manage", "events:read")
    assert (await register(server, alice, "order.created", V1)).status_code == 201
    await server.client.put("/schemas/order.created/config", json={"compatibility": "NONE"}, headers=alice)
    problem(await server.client.get("/schemas/order.created/versions/1", headers=bob), 404, "not-found")
    problem(await server.client.get("/schemas/order.created/versions", headers=bob), 404, "not-found")
    problem(await server.client.delete("/schemas/order.created/versions/1", headers=bob), 404, "not-found")
    assert (await server.client.get("/schemas", headers=bob)).json()["data"] == []
    assert (await server.client.get("/schemas/order.created/config", headers=bob)).json() == {
        "compatibility": "BACKWARD",
        "default_dialect": "2020-12",
    }
    # bob's first version is his own version 1, unconstrained by alice's
    bobs = await register(server, bob, "order.created", NARROWED)
    assert bobs.status_code == 201 and bobs.json()["version"] == 1
    assert (await server.client.get("/schemas/order.created/versions/1", headers=alice)).json()["json_schema"] == V1


async def test_registration_honours_idempotency_keys(server: Server, admin: dict[str, str]) -> None:
    keyed = {**admin, "Idempotency-Key": "register-order-v1"}
    first = await register(server, keyed, "order.keyed", V1)
    assert first.status_code == 201
    replay = await register(server, keyed, "order.keyed", V1)
    assert replay.status_code == 201 and replay.headers.get("idempotent-replayed") == "true"
    assert replay.json() == first.json()
    problem(await register(server, keyed, "order.keyed", V2), 422, "idempotency-key-reuse")
