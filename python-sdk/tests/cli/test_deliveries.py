"""`triggers deliveries list/get/retry`: every attempt's request and response."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx

from zapier_triggers import TriggersClient

from .conftest import Cli, InProcessServer, ndjson

HOOK = "https://receiver.test/hook"


def failing_then_ok(
    statuses: list[int],
) -> tuple[list[httpx.Request], Callable[[httpx.Request], httpx.Response]]:
    seen: list[httpx.Request] = []

    def receive(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        status = statuses[min(len(seen), len(statuses)) - 1]
        return httpx.Response(
            status, headers={"x-receiver": f"attempt-{len(seen)}"}, json={"ok": status < 300}
        )

    return seen, receive


def one_delivery(server: InProcessServer) -> tuple[str, str]:
    """A subscription and one event for it; returns (delivery id, event id)."""

    async def setup(client: TriggersClient) -> tuple[str, str]:
        await client.subscriptions.create(url=HOOK, event_types=["order.*"])
        event = await client.events.create(type="order.created", source="shop", data={"order_id": "o-1"})
        [delivery] = [d async for d in client.deliveries.list(event_id=event.id)]
        return delivery.id, event.id

    return server.call(setup)


def test_get_shows_every_attempt_with_headers_and_bodies(cli: Cli, server: InProcessServer) -> None:
    delivery_id, event_id = one_delivery(server)
    seen, receive = failing_then_ok([500, 200])
    assert server.deliver_due(receive) == 1

    retried = cli.ok("deliveries", "retry", delivery_id, "-o", "table")
    assert retried.stdout.startswith(
        f"Retry scheduled for {delivery_id}: now pending after 1 attempt, next attempt"
    )
    assert server.deliver_due(receive) == 1

    piped = ndjson(cli.ok("deliveries", "get", delivery_id).stdout)[0]
    assert piped["status"] == "succeeded"
    first, second = piped["attempts"]
    assert (first["response_status"], second["response_status"]) == (500, 200)
    assert first["request_headers"]["webhook-id"] == seen[0].headers["webhook-id"]
    assert json.loads(first["request_body"])["data"]["data"] == {"order_id": "o-1"}
    assert first["response_headers"]["x-receiver"] == "attempt-1"
    assert json.loads(second["response_body"]) == {"ok": True}

    table = cli.ok("deliveries", "get", delivery_id, "-o", "table").stdout
    assert "Attempt 1" in table and "Attempt 2" in table
    assert f"POST {HOOK}" in table
    assert "x-receiver: attempt-1" in table and "x-receiver: attempt-2" in table
    assert "webhook-signature: v1," in table, "request headers (signatures included) are shown"
    assert '{"ok":false}' in table.replace(" ", "") and "o-1" in table
    assert event_id in table


def test_list_filters_and_pages(cli: Cli, server: InProcessServer) -> None:
    delivery_id, event_id = one_delivery(server)
    _, receive = failing_then_ok([503])
    server.deliver_due(receive)
    [row] = ndjson(cli.ok("deliveries", "list", "--event", event_id).stdout)
    assert (row["id"], row["status"], row["last_response_status"]) == (delivery_id, "failed", 503)
    assert ndjson(cli.ok("deliveries", "list", "--status", "succeeded").stdout) == []
    header, line = cli.ok("deliveries", "list", "-o", "table").stdout.strip().splitlines()
    assert header.split() == ["ID", "EVENT", "SUBSCRIPTION", "STATUS", "ATTEMPTS", "LAST", "NEXT", "UPDATED"]
    assert line.split()[:6] == [delivery_id, event_id, line.split()[2], "failed", "1", "503"]


def test_retry_prints_the_new_state_as_json_when_piped(cli: Cli, server: InProcessServer) -> None:
    delivery_id, _ = one_delivery(server)
    _, receive = failing_then_ok([500])
    server.deliver_due(receive)
    [state] = ndjson(cli.ok("deliveries", "retry", delivery_id).stdout)
    assert (state["id"], state["status"], state["attempt_count"]) == (delivery_id, "pending", 1)
    assert state["next_attempt_at"] is not None, "the extra attempt is due now"


def test_retrying_to_a_disabled_subscription_is_one_line_and_exit_1(
    cli: Cli, server: InProcessServer
) -> None:
    delivery_id, _ = one_delivery(server)

    async def disable(client: TriggersClient) -> None:
        [subscription] = [s async for s in client.subscriptions.list()]
        await client.subscriptions.update(subscription.id, enabled=False)

    server.call(disable)
    result = cli("deliveries", "retry", delivery_id)
    assert result.exit_code == 1
    [line] = result.stderr.splitlines()
    assert line.startswith("Error: 409 ") and "disabled" in line
    assert result.stdout == ""


def test_an_unknown_delivery_is_one_line_and_exit_1(cli: Cli) -> None:
    result = cli("deliveries", "get", "dlv_missing")
    assert result.exit_code == 1
    [line] = result.stderr.splitlines()
    assert line.startswith("Error: 404 ")
