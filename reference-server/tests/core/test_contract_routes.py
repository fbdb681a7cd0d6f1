"""Every contract operation has exactly one route, guarded by the scope the contract declares
(`x-required-scope`, read from the generated contract facts)."""

from __future__ import annotations

import re

import pytest
import yaml
from core_harness import Server
from fastapi.routing import APIRoute

from triggers_server.contract import contract_text
from triggers_server.contract_facts import API_PREFIX, OPERATIONS, Operation
from triggers_server.http.app import ROUTERS

pytestmark = pytest.mark.anyio

UNDOCUMENTED = {("GET", "/v1/openapi.yaml")}  # serves the contract file itself


def _api_routes() -> list[tuple[str, str]]:
    """(method, path) of every route the app factory mounts."""
    return [
        (method, API_PREFIX + route.path)
        for router in ROUTERS
        for route in router.routes
        if isinstance(route, APIRoute)
        for method in route.methods
    ]


def test_generated_operations_match_the_contract() -> None:
    doc = yaml.safe_load(contract_text())
    declared = {
        op["operationId"]: (method.upper(), path, op.get("x-required-scope"))
        for path, item in doc["paths"].items()
        for method, op in item.items()
        if method in ("get", "post", "put", "patch", "delete")
    }
    assert {key: (op.method, op.path, op.scope) for key, op in OPERATIONS.items()} == declared


def test_every_operation_has_exactly_one_route() -> None:
    routes = _api_routes()
    for op in OPERATIONS.values():
        assert routes.count((op.method, API_PREFIX + op.path)) == 1, op
    contract = {(op.method, API_PREFIX + op.path) for op in OPERATIONS.values()}
    assert set(routes) - contract == UNDOCUMENTED


def _request_target(op: Operation) -> str:
    path = re.sub(r"\{[^}]+\}", "x", op.path)
    # A stream that is allowed would never end; an invalid cursor answers before it starts.
    return path + ("?last_event_id=not-a-number" if op.operation_id == "streamEvents" else "")


async def test_every_route_requires_the_declared_scope(server: Server) -> None:
    scopes = {op.scope for op in OPERATIONS.values() if op.scope is not None}
    non_admin = scopes - {"admin"}
    for op in OPERATIONS.values():
        target = _request_target(op)
        body = {} if op.method in ("POST", "PUT", "PATCH") else None
        if op.scope is not None:
            secret, _ = await server.new_key(*sorted(non_admin - {op.scope}))
            async with server.client(secret) as lacking:
                refused = await lacking.request(op.method, target, json=body)
            assert refused.status_code == 403, (op, refused.text)
        secret, _ = await server.new_key(op.scope or "events:read")
        async with server.client(secret) as holding:
            allowed = await holding.request(op.method, target, json=body)
        assert allowed.status_code not in (401, 403), (op, allowed.text)
