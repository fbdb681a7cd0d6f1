"""End to end over real HTTP: events ingested through the API reach a uvicorn receiver on 127.0.0.1,
which verifies every request with the standardwebhooks PyPI library (an independent implementation)."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import uvicorn
from delivery_harness import START
from reference_verifier import ClockedWebhook
from standardwebhooks.webhooks import WebhookVerificationError

from triggers_server.clock import ManualClock
from triggers_server.config import Settings
from triggers_server.http.app import create_app
from triggers_server.http.services import Services

pytestmark = pytest.mark.anyio

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]


@dataclass
class VerifyingReceiver:
    """ASGI webhook endpoint: verifies each POST against the secrets it knows and answers from a script."""

    now: Callable[[], datetime]
    secrets: list[str] = field(default_factory=list[str])
    answers: list[int] = field(default_factory=list[int])
    verified: list[dict[str, Any]] = field(default_factory=list[dict[str, Any]])
    rejected: list[str] = field(default_factory=list[str])
    arrivals: asyncio.Queue[int] = field(default_factory=asyncio.Queue[int])

    async def __call__(
        self,
        scope: Scope,
        receive: Callable[[], Awaitable[Message]],
        send: Callable[[Message], Awaitable[None]],
    ) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {key.decode("latin-1"): value.decode("latin-1") for key, value in scope["headers"]}
        failures: list[str] = []
        for secret in self.secrets:
            try:
                payload = ClockedWebhook(secret, self.now).verify(body, headers)
            except WebhookVerificationError as error:
                failures.append(str(error))
                continue
            self.verified.append({"secret": secret, "headers": headers, "payload": payload})
        if len(failures) == len(self.secrets):
            self.rejected.append("; ".join(failures))
        status = self.answers.pop(0) if self.answers else 200
        await send({"type": "http.response.start", "status": status, "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": b"received"})
        self.arrivals.put_nowait(status)

    async def next_arrival(self) -> int:
        """Wait (bounded) for the next request to be answered; no fixed sleeps."""
        return await asyncio.wait_for(self.arrivals.get(), timeout=10)


@dataclass
class Loopback:
    api: httpx.AsyncClient
    services: Services
    clock: ManualClock
    receiver: VerifyingReceiver
    url: str
    headers: dict[str, str]


@pytest.fixture
async def loopback(request: pytest.FixtureRequest) -> AsyncIterator[Loopback]:
    clock = ManualClock(START)
    receiver = VerifyingReceiver(now=clock.now)
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    port = listener.getsockname()[1]
    receiver_server = uvicorn.Server(uvicorn.Config(receiver, log_level="warning", lifespan="off"))
    serving = asyncio.create_task(receiver_server.serve(sockets=[listener]))
    background = bool(getattr(request, "param", False))
    settings = Settings(
        db_path=":memory:",
        delivery_worker=background,
        retry_schedule=(0, 5, 300),
        bootstrap_admin_key="tk_loopback_admin_0123456789abcdefghij",
        rate_limit_per_second=1e9,
        rate_limit_burst=10**9,
    )
    webhook_client = httpx.AsyncClient()
    app = create_app(settings, clock, webhook_client=webhook_client)
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://test/v1") as api:
                headers = {"Authorization": f"Bearer {settings.bootstrap_admin_key}"}
                yield Loopback(api, app.state.services, clock, receiver, f"http://127.0.0.1:{port}/hook", headers)
    finally:
        await webhook_client.aclose()
        receiver_server.should_exit = True
        await serving
        listener.close()


async def subscribe(loop: Loopback, **fields: Any) -> dict[str, Any]:
    response = await loop.api.post("/subscriptions", json={"url": loop.url, **fields}, headers=loop.headers)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    loop.receiver.secrets.append(created["secret"])
    return created


async def publish(loop: Loopback, **fields: Any) -> dict[str, Any]:
    response = await loop.api.post("/events", json={"source": "shop", **fields}, headers=loop.headers)
    assert response.status_code == 201, response.text
    event: dict[str, Any] = response.json()
    return event


async def test_every_delivery_verifies_with_the_reference_library(loopback: Loopback) -> None:
    loop = loopback
    subscription = await subscribe(loop, event_types=["order.*"])
    events = [await publish(loop, type="order.created", data={"n": n}) for n in range(3)]
    await publish(loop, type="invoice.paid", data={})
    assert await loop.services.delivery.run_due() == 3
    assert loop.receiver.rejected == [] and len(loop.receiver.verified) == 3
    payloads = sorted((item["payload"] for item in loop.receiver.verified), key=lambda p: p["data"]["data"]["n"])
    assert [p["data"]["id"] for p in payloads] == [event["id"] for event in events]
    assert all(p["type"] == "order.created" for p in payloads)
    deliveries = (await loop.api.get("/deliveries", headers=loop.headers)).json()["data"]
    assert {d["id"] for d in deliveries} == {item["headers"]["webhook-id"] for item in loop.receiver.verified}
    assert {d["status"] for d in deliveries} == {"succeeded"}
    detail = (await loop.api.get(f"/deliveries/{deliveries[0]['id']}", headers=loop.headers)).json()
    [attempt] = detail["attempts"]
    assert attempt["response_status"] == 200 and attempt["response_body"] == "received"
    assert attempt["request_url"] == loop.url and attempt["duration_ms"] >= 0
    assert subscription["id"] == deliveries[0]["subscription_id"]


async def test_retries_keep_the_id_and_re_sign_each_attempt(loopback: Loopback) -> None:
    loop = loopback
    await subscribe(loop)
    loop.receiver.answers = [503, 200]
    await publish(loop, type="order.created", data={})
    await loop.services.delivery.run_due()
    loop.clock.advance(7)
    await loop.services.delivery.run_due()
    first, second = loop.receiver.verified
    assert first["headers"]["webhook-id"] == second["headers"]["webhook-id"]
    assert int(second["headers"]["webhook-timestamp"]) > int(first["headers"]["webhook-timestamp"])
    assert first["payload"] == second["payload"] and loop.receiver.rejected == []


async def test_rotation_overlap_verifies_with_old_and_new_secret(loopback: Loopback) -> None:
    loop = loopback
    subscription = await subscribe(loop)
    rotated = await loop.api.post(
        f"/subscriptions/{subscription['id']}/rotate-secret",
        json={"overlap_seconds": 3600},
        headers=loop.headers,
    )
    loop.receiver.secrets.append(rotated.json()["secret"])
    await publish(loop, type="order.created", data={})
    await loop.services.delivery.run_due()
    assert {item["secret"] for item in loop.receiver.verified} == set(loop.receiver.secrets)
    loop.clock.advance(3601)
    loop.receiver.verified.clear()
    await publish(loop, type="order.created", data={})
    await loop.services.delivery.run_due()
    assert [item["secret"] for item in loop.receiver.verified] == [rotated.json()["secret"]]


async def test_gone_endpoint_disables_the_subscription(loopback: Loopback) -> None:
    loop = loopback
    subscription = await subscribe(loop)
    loop.receiver.answers = [410]
    await publish(loop, type="order.created", data={})
    await loop.services.delivery.run_due()
    stored = (await loop.api.get(f"/subscriptions/{subscription['id']}", headers=loop.headers)).json()
    assert stored["enabled"] is False and stored["disabled_reason"] == "endpoint_gone"
    [entry] = (await loop.api.get("/dlq", headers=loop.headers)).json()["data"]
    assert entry["reason"] == "endpoint_gone" and entry["origin"] == "delivery"


@pytest.mark.parametrize("loopback", [True], indirect=True)
async def test_background_worker_delivers_without_polling(loopback: Loopback) -> None:
    loop = loopback
    await subscribe(loop)
    loop.receiver.answers = [500]
    await publish(loop, type="order.created", data={"n": 1})
    assert await loop.receiver.next_arrival() == 500
    await asyncio.wait_for(loop.services.delivery.idle.wait(), timeout=10)
    loop.clock.advance(10)
    assert await loop.receiver.next_arrival() == 200
    assert len(loop.receiver.verified) == 2 and loop.receiver.rejected == []


def test_clocked_verifier_rejects_stale_and_accepts_fresh() -> None:
    from triggers_server.domain.webhooks.signing import generate_secret, webhook_headers

    secret = generate_secret()
    stamp = int(START.timestamp())
    body = json.dumps({"type": "t", "timestamp": None, "data": {}}).encode()
    headers = webhook_headers([secret], "dlv_1", stamp, body)
    assert ClockedWebhook(secret, lambda: START).verify(body, headers)["type"] == "t"
    late = datetime.fromtimestamp(stamp + 301, tz=UTC)
    with pytest.raises(WebhookVerificationError):
        ClockedWebhook(secret, lambda: late).verify(body, headers)
