"""`Forwarder` on its own: lease extension for slow receivers, and leases that expire before the ack."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import anyio
import httpx

from zapier_triggers import TriggersClient
from zapier_triggers.cli.forwarder import DeliveryOutcome, Forwarder, ForwardSettings, ForwardStats
from zapier_triggers.cli.interrupts import GracefulStop

from .conftest import ADMIN_KEY, BASE_URL, InProcessServer, no_sleep, send_events

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

Hook = Callable[[dict[str, str]], Awaitable[None]]


def receiver(hook: Hook | None = None) -> httpx.AsyncClient:
    """A local endpoint answering 204, optionally running ``hook`` with the request headers first."""

    async def app(
        scope: MutableMapping[str, Any],
        receive: Callable[[], Awaitable[MutableMapping[str, Any]]],
        send: Callable[[MutableMapping[str, Any]], Awaitable[None]],
    ) -> None:
        await receive()
        if hook is not None:
            await hook({k.decode(): v.decode() for k, v in scope["headers"]})
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app))


def forward(
    server: InProcessServer,
    settings: ForwardSettings,
    *,
    wall_clock: Callable[[], float] = time.time,
    hook: Callable[[TriggersClient], Hook] | None = None,
) -> tuple[ForwardStats, list[DeliveryOutcome], list[str]]:
    """Run a Forwarder against the in-process server; returns its stats, outcomes and API paths called."""
    outcomes: list[DeliveryOutcome] = []
    paths: list[str] = []

    async def record(request: httpx.Request) -> None:
        paths.append(request.url.path.removeprefix("/v1"))

    async def main() -> ForwardStats:
        async with server.http() as http:
            http.event_hooks["request"].append(record)
            client = TriggersClient(api_key=ADMIN_KEY, base_url=BASE_URL, http_client=http, sleep=no_sleep)
            async with receiver(hook(client) if hook else None) as local:
                forwarder = Forwarder(
                    client, local, settings, on_delivery=outcomes.append, wall_clock=wall_clock
                )
                return await forwarder.run(GracefulStop())

    return anyio.run(main), outcomes, paths


def test_lease_is_extended_when_it_could_expire_during_the_next_post(server: InProcessServer) -> None:
    send_events(server, ["order.created", "order.paid"])
    settings = ForwardSettings(
        url="http://localhost:3000/webhook",
        secret=SECRET,
        wait=0,
        visibility_timeout=30,
        request_timeout=10,
        max_deliveries=2,
    )
    late = time.time() + 20  # 10 s of lease left: less than one request timeout plus the margin
    stats, outcomes, paths = forward(server, settings, wall_clock=lambda: late)
    assert [o.result for o in outcomes] == ["acked", "acked"]
    assert stats.acked == 2
    assert paths == ["/inbox/lease", "/inbox/extend", "/inbox/ack", "/inbox/ack"], (
        "one extension covers the batch"
    )


def test_no_extension_while_the_lease_has_time_left(server: InProcessServer) -> None:
    send_events(server, ["order.created"])
    settings = ForwardSettings(url="http://localhost:3000/webhook", secret=SECRET, wait=0, max_deliveries=1)
    _, _, paths = forward(server, settings)
    assert "/inbox/extend" not in paths


def test_an_ack_that_comes_too_late_is_reported_not_counted_as_acked(server: InProcessServer) -> None:
    [event_id] = send_events(server, ["order.created"])
    settings = ForwardSettings(url="http://localhost:3000/webhook", secret=SECRET, wait=0, max_deliveries=1)

    def settle_elsewhere(client: TriggersClient) -> Hook:
        async def hook(headers: dict[str, str]) -> None:
            await client.inbox.acknowledge(headers["webhook-id"])  # the receipt is no longer valid after this

        return hook

    stats, [outcome], _ = forward(server, settings, hook=settle_elsewhere)
    assert outcome.event.id == event_id
    assert outcome.status_code == 204
    assert outcome.result == "lease_expired"
    assert (stats.acked, stats.expired) == (0, 1)
    assert outcome.as_json()["result"] == "lease_expired"
