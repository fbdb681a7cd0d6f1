"""Every error is problem+json; every response carries X-Request-Id and the rate-limit headers; ops routes."""

from __future__ import annotations

from datetime import UTC, timedelta
from typing import Any

import pytest
import yaml
from core_harness import ADMIN_KEY, Server, assert_problem

from triggers_server.http import idempotency as idempotency_middleware

pytestmark = pytest.mark.anyio


async def test_unknown_route_is_problem_404(server: Server) -> None:
    body = assert_problem(await server.admin.get("/nope"), 404, "not-found")
    assert "/v1/nope" in body["detail"]


async def test_wrong_method_is_problem_405(server: Server) -> None:
    assert_problem(await server.admin.delete("/events"), 405, "method-not-allowed")


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("DELETE", "/events", "GET, POST"),
        ("DELETE", "/events/batch", "POST"),
        ("PUT", "/events/batch", "POST"),
        ("POST", "/events/stream", "GET"),
        ("POST", "/events/evt_1", "GET"),
        ("GET", "/inbox/ack", "POST"),
        ("PUT", "/subscriptions/sub_1", "GET, PATCH, DELETE"),
        ("PUT", "/dlq/retry", "POST"),
        ("POST", "/schemas/order.created/config", "GET, PUT"),
    ],
)
async def test_405_allow_lists_the_methods_of_the_matched_route(
    server: Server, method: str, path: str, allow: str
) -> None:
    response = await server.admin.request(method, path)
    assert_problem(response, 405, "method-not-allowed")
    assert response.headers["allow"] == allow


async def test_malformed_json_is_400(server: Server) -> None:
    response = await server.admin.post(
        "/inbox/ack", content=b'{"receipts": [', headers={"content-type": "application/json"}
    )
    assert_problem(response, 400, "malformed-request")


async def test_body_field_errors_are_422_with_pointers(server: Server) -> None:
    response = await server.admin.post("/inbox/ack", json={"receipts": [], "extra": 1})
    body = assert_problem(response, 422, "validation")
    pointers = {error["pointer"] for error in body["errors"]}
    assert pointers == {"/receipts", "/extra"}


async def test_query_parameter_errors_are_400(server: Server) -> None:
    body = assert_problem(await server.admin.get("/events", params={"limit": "0"}), 400, "malformed-request")
    assert body["errors"][0]["pointer"] == "/query/limit"


async def test_missing_and_unknown_keys_are_401(server: Server) -> None:
    async with server.client(None) as anonymous:
        response = await anonymous.get("/events")
    assert_problem(response, 401, "unauthenticated")
    assert response.headers["www-authenticate"].startswith("Bearer")
    async with server.client("tk_" + "z" * 32) as stranger:
        assert_problem(await stranger.get("/events"), 401, "unauthenticated")


async def test_missing_scope_is_403(server: Server) -> None:
    async with await server.tenant("events:read") as reader:
        assert_problem(await reader.post("/events", json={"type": "a", "source": "b"}), 403, "forbidden")
        assert_problem(await reader.get("/metrics"), 403, "forbidden")


async def test_every_response_has_request_id_and_ratelimit_headers(server: Server) -> None:
    responses = [
        await server.admin.get("/health"),
        await server.admin.get("/nope"),
        await server.admin.post("/events", json={}),
    ]
    ids = {response.headers["x-request-id"] for response in responses}
    assert len(ids) == 3
    for response in responses:
        assert response.headers["ratelimit-policy"].startswith('"default";q=')
        assert response.headers["ratelimit"].startswith('"default";r=')


async def test_health_is_public(server: Server) -> None:
    async with server.client(None) as anonymous:
        response = await anonymous.get("/health")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


async def test_contract_is_served(server: Server) -> None:
    response = await server.admin.get("/openapi.yaml")
    assert response.status_code == 200
    contract = yaml.safe_load(response.text)
    assert contract["openapi"].startswith("3.1")
    assert "/events" in contract["paths"]


async def test_metrics_expose_contract_names(server: Server) -> None:
    await server.admin.post("/events", json={"type": "order.created", "source": "s"})
    response = await server.admin.get("/metrics")
    assert response.status_code == 200
    text = response.text
    for name in (
        "triggers_events_ingested_total",
        "triggers_ingest_latency_seconds",
        "triggers_inbox_depth",
        "triggers_dlq_depth",
        "triggers_pending_deliveries",
        "triggers_http_requests_total",
        "triggers_deliveries_total",
        "triggers_delivery_attempt_duration_seconds",
    ):
        assert name in text
    assert 'triggers_events_ingested_total{type="order.created"} 1.0' in text
    assert ADMIN_KEY not in text


async def test_stats_reflect_recent_ingest(server: Server) -> None:
    for _ in range(3):
        await server.admin.post("/events", json={"type": "a.b", "source": "s"})
    await server.admin.post("/events", json={"type": "c.d", "source": "s"})
    stats = (await server.admin.get("/stats")).json()
    assert stats["window_seconds"] == 300
    assert stats["ingest_rate_per_second"] == pytest.approx(4 / 300)
    assert stats["top_event_types"][0] == {"type": "a.b", "count": 3}
    assert stats["inbox_depth"] == 4
    assert stats["dlq_depth"] == 0
    assert stats["pending_deliveries"] == 0
    assert stats["delivery_errors"] == []
    assert stats["delivery_success_rate"] is None
    assert stats["ingest_latency_ms"]["p99"] >= stats["ingest_latency_ms"]["p50"] >= 0
    server.clock.advance(301)
    later = (await server.admin.get("/stats")).json()
    assert later["ingest_rate_per_second"] == 0
    assert later["top_event_types"] == []


def quarter_start(server: Server) -> str:
    """The start of a 15-minute window ending now, as the API writes times."""
    moment = server.clock.now() - timedelta(seconds=900)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


async def test_stats_windows_and_their_series_count_what_each_window_holds(server: Server) -> None:
    for _ in range(2):
        await server.admin.post("/events", json={"type": "early.one", "source": "s"})
    server.clock.advance(600)
    await server.admin.post("/events", json={"type": "late.one", "source": "s"})
    short = (await server.admin.get("/stats")).json()
    assert (short["window_seconds"], short["bucket_seconds"]) == (300, 10) and len(short["series"]) in (30, 31)
    assert sum(bucket["events"] for bucket in short["series"]) == 1
    assert short["series"][-1]["events"] == 1  # ingested just now: the last bucket
    quarter = (await server.admin.get("/stats", params={"window": 900})).json()
    assert (quarter["window_seconds"], quarter["bucket_seconds"]) == (900, 30)
    assert quarter["ingest_rate_per_second"] == pytest.approx(3 / 900)
    assert [bucket["events"] for bucket in quarter["series"] if bucket["events"]] == [2, 1]
    assert {entry["type"]: entry["count"] for entry in quarter["top_event_types"]} == {"early.one": 2, "late.one": 1}
    # Buckets are contiguous, oldest first, and every one is present.
    starts = [bucket["start"] for bucket in quarter["series"]]
    assert starts == sorted(starts) and len(set(starts)) == len(starts) in (30, 31)
    assert starts[0] <= quarter_start(server) <= starts[1]
    day = (await server.admin.get("/stats", params={"window": 86400})).json()
    assert sum(bucket["events"] for bucket in day["series"]) == 3 and day["bucket_seconds"] == 2880
    assert_problem(await server.admin.get("/stats", params={"window": 60}), 400, "malformed-request")
    assert_problem(await server.admin.get("/stats", params={"window": "hour"}), 400, "malformed-request")


async def test_crashes_become_problem_500_with_request_id(server: Server, monkeypatch: pytest.MonkeyPatch) -> None:
    async def broken(*args: object) -> int:
        raise RuntimeError("registry exploded")

    monkeypatch.setattr(server.services.registry, "validate", broken)
    response = await server.admin.post("/events", json={"type": "a", "source": "s"})
    body = assert_problem(response, 500, "internal")
    assert "exploded" not in body["detail"]
    assert response.headers["ratelimit"].startswith('"default";r=')


def _crash(*args: object, **kwargs: object) -> Any:
    raise RuntimeError("exploded")


async def _async_crash(*args: object, **kwargs: object) -> Any:
    raise RuntimeError("exploded")


@pytest.mark.parametrize("where", ["route", "auth middleware", "rate-limit middleware", "idempotency middleware"])
async def test_a_crash_anywhere_is_the_same_problem_500_with_the_request_id(
    server: Server, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    if where == "route":
        monkeypatch.setattr(server.services.registry, "validate", _async_crash)
    elif where == "auth middleware":
        monkeypatch.setattr(server.services.auth, "resolve", _async_crash)
    elif where == "rate-limit middleware":
        monkeypatch.setattr(server.services.limiter, "check", _crash)
    else:
        monkeypatch.setattr(idempotency_middleware, "fingerprint", _crash)
    response = await server.admin.post(
        "/events", json={"type": "a", "source": "s"}, headers={"Idempotency-Key": "crash-1"}
    )
    body = assert_problem(response, 500, "internal")
    request_id = response.headers["x-request-id"]
    assert body == {
        "type": "https://triggers.dev/problems/internal",
        "title": "Internal server error",
        "status": 500,
        "detail": "An unexpected error occurred.",
        "instance": f"/v1/events#{request_id}",
        "request_id": request_id,
    }
    if where in ("route", "idempotency middleware"):  # the limiter ran: even the crash carries its headers
        assert response.headers["ratelimit"].startswith('"default";r=')


async def test_health_is_503_when_the_database_is_gone(server: Server) -> None:
    await server.services.backend.close()
    async with server.client(None) as anonymous:
        response = await anonymous.get("/health")
    body = assert_problem(response, 503, "unavailable")
    assert response.headers["retry-after"] == "1" and body["retry_after"] == 1


async def test_405_lists_every_allowed_method(server: Server) -> None:
    response = await server.admin.request("OPTIONS", "/api-keys")
    assert_problem(response, 405, "method-not-allowed")
    assert response.headers["allow"] == "GET, POST"
    assert (await server.admin.put("/events/evt_1")).headers["allow"] == "GET"
