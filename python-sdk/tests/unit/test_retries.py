"""Retry policy (docs/runtime-policy.md, "Retries"): matrix, backoff, Retry-After, budget, idempotency."""

from __future__ import annotations

import email.utils

import httpx
import pytest
import respx

from zapier_triggers import (
    APIConnectionError,
    APITimeoutError,
    BadRequestError,
    InternalServerError,
    RateLimitError,
)
from zapier_triggers._base_client import RetryPolicy, backoff_delay, retry_after_seconds

from .fakes import BASE_URL, FakeClock, async_client, event_json, problem, sync_client

pytestmark = pytest.mark.anyio


def _router() -> respx.Router:
    return respx.Router(base_url=BASE_URL, assert_all_called=False)


def _retry_counts(route: respx.Route) -> list[str]:
    return [call.request.headers["X-Triggers-Retry-Count"] for call in route.calls]


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504, 599])
async def test_retryable_statuses_are_retried_then_succeed(status: int) -> None:
    router = _router()
    route = router.get("/events/evt_1").mock(
        side_effect=[httpx.Response(status), httpx.Response(200, json=event_json())]
    )
    event = await async_client(router).events.get("evt_1")
    assert event.sequence == 1
    assert _retry_counts(route) == ["0", "1"]


@pytest.mark.parametrize("status", [400, 401, 403, 404, 405, 409, 413, 415, 422])
async def test_client_errors_are_not_retried(status: int) -> None:
    router = _router()
    route = router.get("/events/evt_1").mock(return_value=httpx.Response(status))
    with pytest.raises(Exception) as caught:
        await async_client(router).events.get("evt_1")
    assert getattr(caught.value, "status_code", None) == status
    assert route.call_count == 1


async def test_idempotency_in_flight_conflict_is_retried() -> None:
    router = _router()
    route = router.post("/events").mock(
        side_effect=[problem(409, "idempotency-in-flight"), httpx.Response(201, json=event_json())]
    )
    await async_client(router).events.create(type="order.created", source="my-app")
    assert route.call_count == 2


async def test_should_retry_header_overrides_status() -> None:
    router = _router()
    no = router.get("/events/no").mock(return_value=httpx.Response(503, headers={"X-Should-Retry": "false"}))
    yes = router.get("/events/yes").mock(
        side_effect=[
            httpx.Response(400, headers={"X-Should-Retry": "true"}),
            httpx.Response(200, json=event_json()),
        ]
    )
    client = async_client(router)
    with pytest.raises(InternalServerError):
        await client.events.get("no")
    await client.events.get("yes")
    assert (no.call_count, yes.call_count) == (1, 2)


async def test_gives_up_after_max_retries_with_exponential_backoff() -> None:
    clock = FakeClock(jitter=0.0)
    router = _router()
    route = router.get("/account").mock(return_value=httpx.Response(500))
    with pytest.raises(InternalServerError):
        await async_client(router, clock).account.get()
    assert route.call_count == 4  # 1 + DEFAULT_MAX_RETRIES (3)
    assert clock.sleeps == [0.5, 1.0, 2.0]
    assert _retry_counts(route) == ["0", "1", "2", "3"]


async def test_backoff_jitter_and_cap() -> None:
    policy = RetryPolicy()
    assert backoff_delay(1, policy, lambda: 1.0) == pytest.approx(0.375)
    assert backoff_delay(3, policy, lambda: 0.5) == pytest.approx(2.0 * 0.875)
    assert backoff_delay(10, policy, lambda: 0.0) == 8.0  # MAX_RETRY_DELAY


async def test_max_retries_option_and_per_client_zero() -> None:
    router = _router()
    route = router.get("/account").mock(return_value=httpx.Response(503))
    with pytest.raises(InternalServerError):
        await async_client(router, max_retries=0).account.get()
    assert route.call_count == 1


async def test_retry_after_seconds_is_honoured_exactly() -> None:
    clock = FakeClock(jitter=0.9)
    router = _router()
    router.get("/events/evt_1").mock(
        side_effect=[
            httpx.Response(429, headers={"Retry-After": "2"}),
            httpx.Response(429, headers={"retry-after-ms": "1500"}),
            httpx.Response(200, json=event_json()),
        ]
    )
    event = await async_client(router, clock).events.get("evt_1")
    assert event.sequence == 1
    assert clock.sleeps == [2.0, 1.5]


async def test_retry_after_http_date() -> None:
    clock = FakeClock()
    when = email.utils.formatdate(clock.wall_clock() + 5, usegmt=True)
    router = _router()
    router.get("/events/evt_1").mock(
        side_effect=[
            httpx.Response(503, headers={"Retry-After": when}),
            httpx.Response(200, json=event_json()),
        ]
    )
    await async_client(router, clock).events.get("evt_1")
    assert clock.sleeps == [pytest.approx(5.0, abs=1.0)]


async def test_retry_after_above_cap_raises_at_once_with_retry_after() -> None:
    clock = FakeClock()
    router = _router()
    route = router.get("/account").mock(
        return_value=httpx.Response(429, headers={"Retry-After": "61"}, json={"title": "slow down"})
    )
    with pytest.raises(RateLimitError) as caught:
        await async_client(router, clock).account.get()
    assert caught.value.retry_after == 61.0
    assert route.call_count == 1
    assert clock.sleeps == []


async def test_retry_after_at_cap_is_slept() -> None:
    clock = FakeClock()
    router = _router()
    router.get("/events/evt_1").mock(
        side_effect=[
            httpx.Response(429, headers={"Retry-After": "60"}),
            httpx.Response(200, json=event_json()),
        ]
    )
    await async_client(router, clock).events.get("evt_1")
    assert clock.sleeps == [60.0]


async def test_retry_budget_stops_before_sleeping_past_it() -> None:
    clock = FakeClock()
    router = _router()
    route = router.get("/account").mock(return_value=httpx.Response(503, headers={"Retry-After": "40"}))
    with pytest.raises(InternalServerError):
        await async_client(router, clock).account.get()
    # 40 s fits in the 60 s budget; a second 40 s would end at 80 s, so the call fails instead.
    assert clock.sleeps == [40.0]
    assert route.call_count == 2


def test_retry_after_parsing() -> None:
    headers = httpx.Headers
    assert retry_after_seconds(headers({"Retry-After": "1.5"}), 0) == 1.5
    assert retry_after_seconds(headers({"Retry-After": "-1"}), 0) is None
    assert retry_after_seconds(headers({"Retry-After": "soon"}), 0) is None
    assert retry_after_seconds(headers({"retry-after-ms": "250", "Retry-After": "9"}), 0) == 0.25
    assert retry_after_seconds(headers({"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}), 1445412475) == 5.0
    assert retry_after_seconds(headers({}), 0) is None


async def test_same_idempotency_key_on_every_retry_and_exposed_on_error() -> None:
    router = _router()
    route = router.post("/events").mock(return_value=httpx.Response(503))
    with pytest.raises(InternalServerError) as caught:
        await async_client(router).events.create(type="order.created", source="my-app")
    keys = {call.request.headers["Idempotency-Key"] for call in route.calls}
    assert len(keys) == 1 and route.call_count == 4
    assert caught.value.idempotency_key == keys.pop()


async def test_caller_idempotency_key_is_used_and_visible_on_raw_response() -> None:
    router = _router()
    route = router.post("/events").mock(
        side_effect=[
            httpx.ConnectError("reset"),
            httpx.Response(200, json=event_json(), headers={"Idempotent-Replayed": "true"}),
        ]
    )
    client = async_client(router)
    raw = await client.with_raw_response.events.create(type="t", source="s", idempotency_key="my-key-1")
    assert [c.request.headers["Idempotency-Key"] for c in route.calls] == ["my-key-1", "my-key-1"]
    assert raw.idempotency_key == "my-key-1"
    assert raw.idempotent_replayed is True
    assert raw.retries_taken == 1
    assert raw.parse().id == event_json()["id"]


async def test_get_has_no_idempotency_key_and_patch_is_not_retried() -> None:
    router = _router()
    get = router.get("/subscriptions/sub_1").mock(return_value=httpx.Response(500))
    patch = router.patch("/subscriptions/sub_1").mock(return_value=httpx.Response(500))
    client = async_client(router)
    with pytest.raises(InternalServerError):
        await client.subscriptions.get("sub_1")
    with pytest.raises(InternalServerError):
        await client.subscriptions.update("sub_1", enabled=False)
    assert "Idempotency-Key" not in get.calls[0].request.headers
    assert "Idempotency-Key" not in patch.calls[0].request.headers
    assert (get.call_count, patch.call_count) == (4, 1)


async def test_delete_is_retried() -> None:
    router = _router()
    route = router.delete("/subscriptions/sub_1").mock(side_effect=[httpx.Response(502), httpx.Response(204)])
    assert await async_client(router).subscriptions.delete("sub_1") is None
    assert route.call_count == 2


async def test_connection_errors_and_timeouts_are_retried_then_raised() -> None:
    router = _router()
    router.get("/account").mock(side_effect=httpx.ConnectError("refused"))
    router.post("/events").mock(side_effect=httpx.ReadTimeout("slow"))
    client = async_client(router)
    with pytest.raises(APIConnectionError) as connect:
        await client.account.get()
    assert not isinstance(connect.value, APITimeoutError)
    with pytest.raises(APITimeoutError) as timeout:
        await client.events.create(type="t", source="s")
    assert timeout.value.idempotency_key is not None
    assert isinstance(timeout.value.request, httpx.Request)


async def test_post_without_key_is_not_retried_when_caller_disables_it() -> None:
    """A POST is only repeated because it carries a key; an explicit empty extra header keeps one."""
    router = _router()
    route = router.post("/events").mock(
        side_effect=[httpx.Response(500), httpx.Response(201, json=event_json())]
    )
    await async_client(router).events.create(type="t", source="s", extra_headers={"Idempotency-Key": "k"})
    assert [c.request.headers["Idempotency-Key"] for c in route.calls] == ["k", "k"]


def test_sync_client_uses_the_same_policy() -> None:
    clock = FakeClock()
    router = _router()
    route = router.post("/events").mock(
        side_effect=[httpx.Response(503), httpx.Response(429), httpx.Response(201, json=event_json())]
    )
    event = sync_client(router, clock).events.create(type="t", source="s")
    assert event.sequence == 1
    assert route.call_count == 3
    assert clock.sleeps == [0.5, 1.0]


def test_sync_client_errors_are_typed() -> None:
    router = _router()
    router.post("/events").mock(return_value=problem(400, "malformed-request"))
    with pytest.raises(BadRequestError) as caught:
        sync_client(router).events.create(type="t", source="s")
    assert caught.value.type == "https://triggers.dev/problems/malformed-request"
