"""Bodies are held to the contract's JSON Schemas, not to pydantic's lax coercions."""

from __future__ import annotations

from typing import Any

import pytest
from delivery_harness import Server
from test_subscription_routes import create, problem_of

from triggers_server.http.contract_schemas import contract_errors

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize(
    ("schema", "payload", "pointers"),
    [
        ("SubscriptionUpdate", {"enabled": 0}, ["/enabled"]),
        ("RotateSecretRequest", {"overlap_seconds": False}, ["/overlap_seconds"]),
        ("SubscriptionCreate", {"url": "https://x.example", "max_rps": 284.0}, []),
        ("SubscriptionCreate", {"url": "https://x.example", "filter": {"exact": {"a b": "x"}}}, ["/filter/exact"]),
        ("ReplayCreate", {"from": "2026-01-01T00:00:00Z", "to": "2026-01-02T00:00:00Z", "target": {"kind": "all"}}, []),
        ("ReplayCreate", {"from": "2026-01-01T00:00:00Z", "to": "x", "target": {"kind": "subscription"}}, ["/target"]),
        ("DlqBulkRetryRequest", {"event_type": "order.*", "origin": "inbox"}, []),
        ("DlqBulkRetryRequest", {"origin": "nowhere", "extra": 1}, ["", "/origin"]),
    ],
)
def test_contract_errors(schema: str, payload: Any, pointers: list[str]) -> None:
    assert sorted(error["pointer"] for error in contract_errors(schema, payload)) == pointers


async def test_routes_refuse_lax_coercions_and_accept_integral_floats(server: Server) -> None:
    headers = await server.key()
    created = await create(server, headers, max_rps=5.0)
    assert created["max_rps"] == 5
    path = f"/subscriptions/{created['id']}"
    problem = problem_of(await server.client.patch(path, json={"enabled": 0}, headers=headers), 422, "validation")
    assert problem["errors"] == [{"pointer": "/enabled", "detail": "0 is not of type 'boolean'"}]
    rotate = await server.client.post(f"{path}/rotate-secret", json={"overlap_seconds": False}, headers=headers)
    problem_of(rotate, 422, "validation")
    assert (await server.client.get(path, headers=headers)).json()["enabled"] is True
