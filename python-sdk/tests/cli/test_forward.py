"""`triggers forward URL`: signed deliveries to a local receiver; ack on 2xx, nack and redelivery else."""

from __future__ import annotations

import re
import signal
from collections.abc import AsyncGenerator, Awaitable, Callable, MutableMapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from zapier_triggers import TriggersClient
from zapier_triggers.cli.forwarder import new_secret
from zapier_triggers.webhooks import Webhook

from .conftest import Cli, InProcessServer, ndjson, send_events

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


@dataclass
class Delivery:
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """A local webhook endpoint (ASGI) answering with scripted statuses, recording every request."""

    statuses: list[int] = field(default_factory=list[int])
    deliveries: list[Delivery] = field(default_factory=list[Delivery])
    on_request: Callable[[], None] | None = None

    async def __call__(
        self,
        scope: MutableMapping[str, Any],
        receive: Callable[[], Awaitable[MutableMapping[str, Any]]],
        send: Callable[[MutableMapping[str, Any]], Awaitable[None]],
    ) -> None:
        assert scope["type"] == "http" and scope["method"] == "POST" and scope["path"] == "/webhook"
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        self.deliveries.append(Delivery({k.decode(): v.decode() for k, v in scope["headers"]}, body))
        if self.on_request is not None:
            self.on_request()
        status = self.statuses.pop(0) if self.statuses else 200
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    def http(self) -> Callable[[], Any]:
        @asynccontextmanager
        async def open_client() -> AsyncGenerator[httpx.AsyncClient, None]:
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=self)) as client:
                yield client

        return open_client


def inbox_statuses(server: InProcessServer, ids: list[str]) -> list[str]:
    async def fetch(client: TriggersClient) -> list[str]:
        return [str((await client.events.get(event_id)).status.value) for event_id in ids]

    return server.call(fetch)


FORWARD = ("forward", "http://localhost:3000/webhook", "--wait", "0")


def test_forward_posts_verifiable_webhooks_and_acks(cli: Cli, server: InProcessServer) -> None:
    ids = send_events(server, ["order.created", "order.paid"])
    receiver = Receiver()
    result = cli.ok(*FORWARD, "--secret", SECRET, "--max-deliveries", "2", local_http=receiver.http())

    verifier = Webhook(SECRET)
    bodies = [verifier.verify(d.body, d.headers) for d in receiver.deliveries]
    assert [b["data"]["id"] for b in bodies] == ids
    assert [b["type"] for b in bodies] == ["order.created", "order.paid"]
    assert [d.headers["webhook-id"] for d in receiver.deliveries] == ids
    assert all(d.headers["content-type"] == "application/json" for d in receiver.deliveries)

    lines = ndjson(result.stdout)
    assert [(line["event_id"], line["status_code"], line["result"]) for line in lines] == [
        (ids[0], 200, "acked"),
        (ids[1], 200, "acked"),
    ]
    assert all(isinstance(line["latency_ms"], float) for line in lines)
    assert "Done: 2 deliveries (2 acked, 0 nacked)" in result.stderr
    assert SECRET not in result.stderr, "a secret the user passed is not echoed"
    assert inbox_statuses(server, ids) == ["acknowledged", "acknowledged"]


def test_forward_filters_by_type(cli: Cli, server: InProcessServer) -> None:
    ids = send_events(server, ["user.created", "order.created"])
    receiver = Receiver()
    cli.ok(*FORWARD, "--type", "order.*", "--max-deliveries", "1", local_http=receiver.http())
    assert [d.headers["webhook-id"] for d in receiver.deliveries] == [ids[1]]
    assert inbox_statuses(server, ids) == ["pending", "acknowledged"]


def test_failing_receiver_causes_nack_and_redelivery(cli: Cli, server: InProcessServer) -> None:
    [event_id] = send_events(server, ["order.created"])
    receiver = Receiver(statuses=[500])
    result = cli.ok(
        *FORWARD,
        "--secret",
        SECRET,
        "--retry-delay",
        "0",
        "--max-deliveries",
        "2",
        "-o",
        "table",
        local_http=receiver.http(),
    )
    assert [d.headers["webhook-id"] for d in receiver.deliveries] == [event_id, event_id]
    assert [d.headers["x-triggers-attempt"] for d in receiver.deliveries] == ["1", "2"]
    first, second = result.stdout.strip().splitlines()
    assert re.fullmatch(
        rf"\[\d\d:\d\d:\d\d\] {event_id} order.created → 500 Internal Server Error\s+\d+ ms\s+nacked, "
        r"redelivery in 0s",
        first,
    ), first
    assert re.fullmatch(
        rf"\[\d\d:\d\d:\d\d\] {event_id} order.created \(delivery 2\) → 200 OK\s+\d+ ms", second
    )
    assert "Done: 2 deliveries (1 acked, 1 nacked)" in result.stderr
    assert inbox_statuses(server, [event_id]) == ["acknowledged"]


def test_unreachable_local_server_is_reported_and_nacked(cli: Cli, server: InProcessServer) -> None:
    [event_id] = send_events(server, ["order.created"])

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("Connection refused", request=request)

    @asynccontextmanager
    async def refusing() -> AsyncGenerator[httpx.AsyncClient, None]:
        async with httpx.AsyncClient(transport=httpx.MockTransport(refuse)) as client:
            yield client

    result = cli.ok(*FORWARD, "--max-deliveries", "1", local_http=refusing)
    [line] = ndjson(result.stdout)
    assert line["status_code"] is None
    assert line["error"] == "ConnectError: Connection refused"
    assert line["result"] == "nacked"
    assert inbox_statuses(server, [event_id]) == ["pending"]


def test_generated_secret_is_printed_and_verifies(cli: Cli, server: InProcessServer) -> None:
    send_events(server, ["order.created"])
    receiver = Receiver()
    result = cli.ok(*FORWARD, "--max-deliveries", "1", local_http=receiver.http())
    match = re.search(r"Signing secret \(verify with it\): (whsec_\S+)", result.stderr)
    assert match, result.stderr
    Webhook(match.group(1)).verify(receiver.deliveries[0].body, receiver.deliveries[0].headers)


def test_secret_from_environment(cli: Cli, server: InProcessServer) -> None:
    send_events(server, ["order.created"])
    receiver = Receiver()
    secret = new_secret()
    cli.ok(
        *FORWARD, "--max-deliveries", "1", local_http=receiver.http(), env={"TRIGGERS_FORWARD_SECRET": secret}
    )
    Webhook(secret).verify(receiver.deliveries[0].body, receiver.deliveries[0].headers)


def test_ctrl_c_releases_the_lease_and_prints_a_summary(cli: Cli, server: InProcessServer) -> None:
    ids = send_events(server, ["order.created", "order.updated", "order.paid"])
    receiver = Receiver(on_request=lambda: signal.raise_signal(signal.SIGINT))
    result = cli(*FORWARD, "--batch-size", "10", local_http=receiver.http())
    assert result.exit_code == 0, result.stderr
    assert len(receiver.deliveries) == 1, "nothing is posted after Ctrl-C"
    assert "Stopped:" in result.stderr
    assert re.search(r"released [23] leased events back to the inbox", result.stderr), result.stderr
    after = inbox_statuses(server, ids)
    assert after[1:] == ["pending", "pending"], "unsettled events are nacked, not left leased"
    assert after[0] in ("pending", "acknowledged")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("forward", "localhost:3000"), "must start with http"),
        (("forward", "http://localhost:3000", "--secret", "whsec_!!"), "--secret"),
    ],
)
def test_forward_usage_errors(cli: Cli, args: tuple[str, ...], message: str) -> None:
    result = cli(*args)
    assert result.exit_code == 2
    assert message in result.stderr


def test_ctrl_c_while_polling_an_empty_inbox_stops_promptly(cli: Cli, server: InProcessServer) -> None:
    leases = 0

    async def interrupt_first_lease(request: httpx.Request) -> None:
        nonlocal leases
        if request.url.path.endswith("/inbox/lease"):
            leases += 1
            if leases == 1:
                signal.raise_signal(signal.SIGINT)
            assert leases < 20, "forward kept polling after Ctrl-C"

    @asynccontextmanager
    async def api_with_hook() -> AsyncGenerator[httpx.AsyncClient, None]:
        async with server.http() as http:
            http.event_hooks["request"].append(interrupt_first_lease)
            yield http

    receiver = Receiver()
    result = cli(*FORWARD, api_http=api_with_hook, local_http=receiver.http())
    assert result.exit_code == 0, result.stderr
    assert "Stopped: 0 deliveries (0 acked, 0 nacked)." in result.stderr
    assert leases == 1
    assert receiver.deliveries == []


class LeaseOutage(httpx.AsyncBaseTransport):
    """The API refuses the first ``failures`` lease requests, like a dev server being restarted."""

    def __init__(self, inner: httpx.AsyncBaseTransport, failures: int) -> None:
        self.inner = inner
        self.failures = failures

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/inbox/lease") and self.failures:
            self.failures -= 1
            raise httpx.ConnectError("Connection refused", request=request)
        return await self.inner.handle_async_request(request)


def test_forward_waits_out_an_api_outage(cli: Cli, server: InProcessServer) -> None:
    [event_id] = send_events(server, ["order.created"])
    receiver = Receiver()
    # The SDK retries each call 3 times, so 6 refusals make the forwarder's first lease call fail.
    result = cli.ok(
        *FORWARD,
        "--max-deliveries",
        "1",
        api_http=lambda: server.http(lambda inner: LeaseOutage(inner, failures=6)),
        local_http=receiver.http(),
    )
    notice = "API unreachable, could not reach http://triggers.test: Connection refused; trying again in 1s."
    assert notice in result.stderr
    assert [d.headers["webhook-id"] for d in receiver.deliveries] == [event_id]
    assert inbox_statuses(server, [event_id]) == ["acknowledged"]
