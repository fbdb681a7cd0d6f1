"""Token bucket per API key with IETF RateLimit headers; 429 + Retry-After when empty."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from core_harness import Server, assert_problem, open_server, settings

pytestmark = pytest.mark.anyio


@pytest.fixture
async def limited(anyio_backend: str) -> AsyncIterator[Server]:
    async for running in open_server(settings(rate_limit_per_second=2.0, rate_limit_burst=3)):
        yield running


async def test_bucket_empties_then_refills(limited: Server) -> None:
    headers = []
    for _ in range(3):
        response = await limited.admin.get("/events")
        assert response.status_code == 200
        headers.append(response.headers["ratelimit"])
    assert headers == ['"default";r=2;t=1', '"default";r=1;t=1', '"default";r=0;t=2']
    assert (await limited.admin.get("/events")).headers["ratelimit-policy"] == '"default";q=3;w=2'
    refused = await limited.admin.get("/events")
    body = assert_problem(refused, 429, "rate-limited")
    assert refused.headers["retry-after"] == "1" and body["retry_after"] == 1
    assert body["violated_policies"] == ["default"]
    limited.clock.advance(0.5)
    assert (await limited.admin.get("/events")).status_code == 200
    limited.clock.advance(10)
    assert (await limited.admin.get("/events")).headers["ratelimit"] == '"default";r=2;t=1'


async def test_buckets_are_per_key(limited: Server) -> None:
    for _ in range(4):
        await limited.admin.get("/events")
    assert (await limited.admin.get("/events")).status_code == 429
    async with await limited.tenant("events:read") as other:
        assert (await other.get("/events")).status_code == 200
