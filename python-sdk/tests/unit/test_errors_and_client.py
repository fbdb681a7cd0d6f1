"""Error mapping for every status, lenient/strict decoding, raw responses, headers, config, logging."""

from __future__ import annotations

import logging
import subprocess
import sys

import httpx
import pytest
import respx

import zapier_triggers
import zapier_triggers._models
from zapier_triggers import (
    APIResponseValidationError,
    APIStatusError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    IdempotencyInProgressError,
    IdempotencyKeyReusedError,
    InternalServerError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    SchemaValidationError,
    SyncTriggersClient,
    TriggersClient,
    TriggersError,
    UnprocessableEntityError,
)
from zapier_triggers.types import EventStatus

from .fakes import API_KEY, BASE_URL, async_client, event_json, problem, sync_client

pytestmark = pytest.mark.anyio


def _router() -> respx.Router:
    return respx.Router(base_url=BASE_URL, assert_all_called=False)


@pytest.mark.parametrize(
    ("status", "slug", "expected"),
    [
        (400, "malformed-request", BadRequestError),
        (400, "invalid-idempotency-key", BadRequestError),
        (401, "unauthenticated", AuthenticationError),
        (403, "forbidden", PermissionDeniedError),
        (404, "not-found", NotFoundError),
        (405, "method-not-allowed", APIStatusError),
        (409, "conflict", ConflictError),
        (409, "idempotency-in-flight", IdempotencyInProgressError),
        (409, "schema-incompatible", ConflictError),
        (413, "payload-too-large", APIStatusError),
        (415, "unsupported-media-type", APIStatusError),
        (422, "validation", UnprocessableEntityError),
        (422, "idempotency-key-reuse", IdempotencyKeyReusedError),
        (422, "schema-validation", SchemaValidationError),
        (422, "invalid-schema", UnprocessableEntityError),
        (429, "rate-limited", RateLimitError),
        (500, "internal", InternalServerError),
        (503, "unavailable", InternalServerError),
        (418, "teapot", APIStatusError),
    ],
)
async def test_status_maps_to_typed_error_with_problem_fields(
    status: int, slug: str, expected: type[APIStatusError]
) -> None:
    router = _router()
    router.post("/events").mock(
        return_value=problem(status, slug, errors=[{"pointer": "/data/order_id", "detail": "required"}])
    )
    with pytest.raises(expected) as caught:
        await async_client(router, max_retries=0).events.create(type="t", source="s")
    error = caught.value
    assert type(error) is expected
    assert error.status_code == status
    assert error.type == f"https://triggers.dev/problems/{slug}"
    assert error.title and error.detail == f"detail for {slug}"
    assert error.instance == "/v1/events"
    assert error.request_id == "req_body"  # the body wins over X-Request-Id
    assert error.errors[0].pointer == "/data/order_id"
    assert error.idempotency_key is not None
    assert f"Error code: {status}" in str(error)


async def test_subtype_only_applies_under_its_status() -> None:
    router = _router()
    router.get("/account").mock(return_value=problem(400, "schema-validation"))
    with pytest.raises(BadRequestError):
        await async_client(router, max_retries=0).account.get()


async def test_non_json_error_body_and_header_request_id() -> None:
    router = _router()
    router.get("/account").mock(
        return_value=httpx.Response(502, text="<html>bad gateway</html>", headers={"X-Request-Id": "req_h"})
    )
    with pytest.raises(InternalServerError) as caught:
        await async_client(router, max_retries=0).account.get()
    assert caught.value.body == "<html>bad gateway</html>"
    assert caught.value.request_id == "req_h"
    assert caught.value.type is None and caught.value.errors == []


async def test_problem_extensions_are_exposed() -> None:
    router = _router()
    router.get("/account").mock(return_value=problem(429, "rate-limited", violated_policies=["burst"]))
    with pytest.raises(RateLimitError) as caught:
        await async_client(router, max_retries=0).account.get()
    assert caught.value.extensions == {"violated_policies": ["burst"]}


async def test_text_responses_decode_as_text_in_both_clients() -> None:
    """`/metrics` answers the Prometheus text exposition, not JSON: the SDK hands back the text."""
    exposition = '# TYPE triggers_events_ingested_total counter\ntriggers_events_ingested_total{type="a"} 3\n'
    router = _router()
    router.get("/metrics").mock(
        return_value=httpx.Response(
            200, text=exposition, headers={"content-type": "text/plain; version=0.0.4"}
        )
    )
    assert await async_client(router).ops.metrics() == exposition
    assert sync_client(router).ops.metrics() == exposition


async def test_lenient_decoding_keeps_unknown_fields_and_enum_values() -> None:
    router = _router()
    router.get("/events/evt_1").mock(
        return_value=httpx.Response(200, json=event_json(status="archived", brand_new={"x": 1}))
    )
    event = await async_client(router).events.get("evt_1")
    assert event.status == "archived" and not event.status.is_known
    assert EventStatus("pending").is_known
    assert event.model_extra == {"brand_new": {"x": 1}}
    assert event.to_dict()["brand_new"] == {"x": 1}


async def test_strict_client_fails_on_drift() -> None:
    router = _router()
    router.get("/events/evt_1").mock(return_value=httpx.Response(200, json=event_json(status="archived")))
    router.get("/events/evt_2").mock(return_value=httpx.Response(200, json=event_json(extra_field=True)))
    client = async_client(router, strict=True)
    with pytest.raises(APIResponseValidationError, match="unknown enum value 'archived'"):
        await client.events.get("evt_1")
    with pytest.raises(APIResponseValidationError, match=r"\$\.extra_field: unknown field"):
        await client.events.get("evt_2")


async def test_response_not_matching_the_contract_is_a_typed_error() -> None:
    router = _router()
    router.get("/events/evt_1").mock(return_value=httpx.Response(200, json={"id": 3}))
    with pytest.raises(APIResponseValidationError):
        await async_client(router).events.get("evt_1")


async def test_headers_sent_on_every_request() -> None:
    router = _router()
    route = router.post("/events").mock(return_value=httpx.Response(201, json=event_json()))
    await async_client(router).events.create(type="order.created", source="my-app", data={"n": 1})
    headers = route.calls[0].request.headers
    assert headers["Authorization"] == f"Bearer {API_KEY}"
    assert headers["User-Agent"] == f"zapier-triggers-python/{zapier_triggers.__version__}"
    assert headers["X-Triggers-SDK"].startswith(f"python/{zapier_triggers.__version__}")
    assert headers["Accept"] == "application/json"
    assert headers["X-Triggers-Retry-Count"] == "0"
    assert headers["Content-Type"] == "application/json"


async def test_per_call_options_and_body_serialisation() -> None:
    router = _router()
    route = router.get("/events").mock(
        return_value=httpx.Response(200, json={"data": [], "next_cursor": None})
    )
    replay = router.post("/events/evt%2F1/replay").mock(
        return_value=httpx.Response(200, json={"event_id": "evt/1", "dry_run": True, "outcomes": []})
    )
    client = async_client(router)
    page = await client.events.list(
        type=["order.*", "invoice.*"],
        limit=10,
        extra_query={"debug": True},
        extra_headers={"X-Trace": "t1"},
        timeout=2.5,
    ).first_page()
    assert page.data == []
    request = route.calls[0].request
    assert request.url.params.get_list("type") == ["order.*", "invoice.*"]
    assert request.url.params["limit"] == "10" and request.url.params["debug"] == "true"
    assert request.headers["X-Trace"] == "t1"
    assert request.extensions["timeout"]["read"] == 2.5
    raw = await client.with_raw_response.events.replay("evt/1", target={"kind": "inbox"}, dry_run=True)
    assert raw.status_code == 200
    assert replay.calls[0].request.content == b'{"target":{"kind":"inbox"},"dry_run":true}'


def test_default_timeout_matches_policy() -> None:
    client = SyncTriggersClient(api_key="k")
    timeout = client._api.core.timeout
    assert (timeout.read, timeout.connect) == (30.0, 5.0)
    assert client.max_retries == 3
    assert str(client.base_url) == "http://127.0.0.1:8080/v1/"


def test_configuration_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRIGGERS_API_KEY", "tk_env")
    monkeypatch.setenv("TRIGGERS_BASE_URL", "http://env.test/v2")
    client = TriggersClient()
    assert client._api.core.default_headers["Authorization"] == "Bearer tk_env"
    assert str(client.base_url) == "http://env.test/v2/"
    monkeypatch.delenv("TRIGGERS_API_KEY")
    with pytest.raises(TriggersError, match="TRIGGERS_API_KEY"):
        TriggersClient()


def test_bad_arguments_are_clear_errors() -> None:
    with pytest.raises(ValueError, match="max_retries"):
        SyncTriggersClient(api_key="k", max_retries=-1)
    router = _router()
    with pytest.raises(ValueError, match="event_id"):
        sync_client(router).events.get("")


def test_debug_log_redacts_credentials(caplog: pytest.LogCaptureFixture) -> None:
    router = _router()
    router.post("/subscriptions").mock(return_value=httpx.Response(500))
    caplog.set_level(logging.DEBUG, logger="zapier_triggers")
    with pytest.raises(InternalServerError):
        sync_client(router, max_retries=0).subscriptions.create(
            url="https://example.test/hook", secret="whsec_dontlogme", idempotency_key="idem-visible"
        )
    text = caplog.text
    assert API_KEY not in text and "whsec_dontlogme" not in text
    assert "[REDACTED]" in text and "idem-visible" in text


def test_env_switches_on_debug_handler(monkeypatch: pytest.MonkeyPatch) -> None:
    from zapier_triggers._logging import logger, setup_logging

    monkeypatch.setenv("TRIGGERS_LOG", "debug")
    before = list(logger.handlers)
    try:
        setup_logging()
        setup_logging()
        added = [h for h in logger.handlers if h not in before]
        assert len(added) == 1 and logger.level == logging.DEBUG
    finally:
        for handler in logger.handlers[:]:
            if handler not in before:
                logger.removeHandler(handler)
        logger.setLevel(logging.NOTSET)


def test_import_is_lazy() -> None:
    code = "import sys, zapier_triggers; print('httpx' in sys.modules, 'pydantic' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


def test_unknown_attribute() -> None:
    with pytest.raises(AttributeError):
        _ = zapier_triggers.DoesNotExist  # type: ignore[attr-defined]


def test_user_http_client_defaults_are_kept_but_sdk_headers_win() -> None:
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=event_json())

    http = httpx.Client(
        transport=httpx.MockTransport(handle), headers={"X-Proxy-Token": "p1", "User-Agent": "theirs"}
    )
    SyncTriggersClient(api_key=API_KEY, base_url=BASE_URL, http_client=http).events.get(
        "evt_1", extra_headers={"x-trace": "t"}
    )
    headers = seen[0].headers
    assert headers["X-Proxy-Token"] == "p1"
    assert headers["User-Agent"].startswith("zapier-triggers-python/")
    assert headers.get_list("user-agent") == [headers["User-Agent"]]
    assert headers["X-Trace"] == "t"
    assert str(seen[0].url) == f"{BASE_URL}/events/evt_1"


def _replay_json(target: dict[str, object]) -> dict[str, object]:
    return {
        "id": "rpl_1",
        "name": None,
        "status": "RUNNING",
        "from": "2026-11-25T00:00:00Z",
        "to": "2026-11-25T01:00:00Z",
        "event_types": ["order.*"],
        "filter": None,
        "target": target,
        "data_patch": None,
        "dry_run": False,
        "progress": {"matched": 1, "processed": 0, "delivered": 0, "filtered": 0},
        "error": None,
        "created_at": "2026-11-25T01:00:00Z",
        "started_at": None,
        "finished_at": None,
    }


async def test_unions_decode_known_members_and_keep_unknown_variants() -> None:
    from zapier_triggers.types import InboxReplayTarget, SubscriptionReplayTarget

    router = _router()
    subscription = {"kind": "subscription", "subscription_id": "sub_1"}
    router.get("/replays/rpl_1").mock(return_value=httpx.Response(200, json=_replay_json(subscription)))
    router.get("/replays/rpl_2").mock(return_value=httpx.Response(200, json=_replay_json({"kind": "inbox"})))
    router.get("/replays/rpl_3").mock(
        return_value=httpx.Response(200, json=_replay_json({"kind": "region", "region": "eu"}))
    )
    client = async_client(router)
    first = await client.replays.get("rpl_1")
    assert isinstance(first.target, SubscriptionReplayTarget) and first.target.subscription_id == "sub_1"
    assert first.from_.year == 2026
    assert isinstance((await client.replays.get("rpl_2")).target, InboxReplayTarget)
    unknown = (await client.replays.get("rpl_3")).target
    assert isinstance(unknown, zapier_triggers._models.UnknownVariant)
    assert unknown.model_extra == {"kind": "region", "region": "eu"}
    with pytest.raises(APIResponseValidationError, match="unknown union variant"):
        await async_client(router, strict=True).replays.get("rpl_3")
