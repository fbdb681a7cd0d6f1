"""Ingestion through the API validates `data` against the registry and records `schema_version`."""

from __future__ import annotations

from typing import Any

import pytest
from registry_harness import Server

pytestmark = pytest.mark.anyio
SCHEMA_VALIDATION = "https://triggers.dev/problems/schema-validation"
ORDER: dict[str, Any] = {
    "type": "object",
    "properties": {"order_id": {"type": "string"}, "placed_at": {"type": "string", "format": "date-time"}},
    "required": ["order_id"],
}


async def post_event(server: Server, headers: dict[str, str], **fields: Any) -> Any:
    body = {"type": "order.created", "source": "/shop", **fields}
    return await server.client.post("/events", json=body, headers=headers)


async def test_events_are_validated_and_record_the_version(server: Server, admin: dict[str, str]) -> None:
    untyped = await post_event(server, admin, data={"free": "form"})
    assert untyped.status_code == 201 and untyped.json()["schema_version"] is None

    await server.client.post("/schemas/order.created/versions", json={"json_schema": ORDER}, headers=admin)
    accepted = await post_event(server, admin, data={"order_id": "o-1"})
    assert accepted.status_code == 201, accepted.text
    assert accepted.json()["schema_version"] == 1

    rejected = await post_event(server, admin, data={"placed_at": "soon"})
    assert rejected.status_code == 422
    problem = rejected.json()
    assert problem["type"] == SCHEMA_VALIDATION
    assert problem["errors"] == [
        {"pointer": "/data", "detail": "'order_id' is a required property"},
        {"pointer": "/data/placed_at", "detail": "'soon' is not a 'date-time'"},
    ]


async def test_dataschema_pins_a_version_over_http(server: Server, admin: dict[str, str]) -> None:
    await server.client.post("/schemas/order.created/versions", json={"json_schema": ORDER}, headers=admin)
    relaxed = {"type": "object", "properties": {"order_id": {"type": "string"}}}
    await server.client.post("/schemas/order.created/versions", json={"json_schema": relaxed}, headers=admin)
    assert (await post_event(server, admin, data={})).json()["schema_version"] == 2
    pinned = await post_event(server, admin, data={}, dataschema="1")
    assert pinned.status_code == 422 and pinned.json()["type"] == SCHEMA_VALIDATION
    uri = "http://test/v1/schemas/order.created/versions/1"
    ok = await post_event(server, admin, data={"order_id": "o-2"}, dataschema=uri)
    assert ok.status_code == 201 and ok.json()["schema_version"] == 1 and ok.json()["dataschema"] == uri
    missing = await post_event(server, admin, data={"order_id": "o-3"}, dataschema="9")
    assert missing.status_code == 422
    assert missing.json()["type"] == "https://triggers.dev/problems/validation"
    assert missing.json()["errors"][0]["pointer"] == "/dataschema"


async def test_schemas_are_per_account(server: Server, admin: dict[str, str]) -> None:
    other = await server.key("events:write", "events:read")
    await server.client.post("/schemas/order.created/versions", json={"json_schema": ORDER}, headers=admin)
    free = await post_event(server, other, data={"anything": 1})
    assert free.status_code == 201 and free.json()["schema_version"] is None
