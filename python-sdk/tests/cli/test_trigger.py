"""`triggers trigger`: built-in fixtures and examples from the registered schema, sent to the server."""

from __future__ import annotations

import re
from typing import Any

from zapier_triggers import TriggersClient

from .conftest import Cli, InProcessServer, ndjson

ORDER_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["order_id", "status", "total", "placed_at", "contact", "lines"],
    "properties": {
        "order_id": {"type": "string", "pattern": "^ord_[0-9a-z]{8}$"},
        "status": {"enum": ["placed", "paid", "shipped"]},
        "total": {"type": "number", "exclusiveMinimum": 0, "maximum": 10000},
        "quantity": {"type": "integer", "minimum": 1, "maximum": 99},
        "placed_at": {"type": "string", "format": "date-time"},
        "contact": {
            "type": "object",
            "required": ["email"],
            "properties": {"email": {"type": "string", "format": "email"}},
            "additionalProperties": False,
        },
        "lines": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/line"}},
    },
    "$defs": {
        "line": {
            "type": "object",
            "required": ["sku"],
            "properties": {"sku": {"type": "string", "minLength": 3, "maxLength": 12}},
        }
    },
    "additionalProperties": False,
}


def test_list_shows_the_common_fixtures(cli: Cli) -> None:
    names = [row["fixture"] for row in ndjson(cli.ok("trigger", "--list").stdout)]
    for common in ("order.created", "user.signed_up", "payment.failed"):
        assert common in names
    table = cli.ok("trigger", "--list", "-o", "table", env={"TRIGGERS_API_KEY": None}).stdout
    assert re.search(r"^payment\.failed\s+A card payment was declined\.\s*$", table, re.MULTILINE)


def test_a_fixture_is_sent_and_its_id_printed(cli: Cli, server: InProcessServer) -> None:
    result = cli.ok("trigger", "payment.failed", "-o", "table")
    match = re.fullmatch(r"Triggered payment\.failed \(fixture\): (evt_\w+)\n", result.stdout)
    assert match, result.stdout
    event = server.call(lambda client: client.events.get(match.group(1)))
    assert event.type == "payment.failed"
    assert event.source == "triggers-cli"
    assert isinstance(event.data, dict) and event.data["failure"]["code"] == "card_declined"
    assert event.subject == f"payment/{event.data['payment_id']}"


def test_two_triggers_are_two_events_and_overrides_apply(cli: Cli) -> None:
    first = ndjson(cli.ok("trigger", "order.created", "--override", "total_cents=99").stdout)[0]
    second = ndjson(cli.ok("trigger", "order.created", "--override", "meta.channel=web").stdout)[0]
    assert first["id"] != second["id"] and first["data"]["order_id"] != second["data"]["order_id"]
    assert first["data"]["total_cents"] == 99
    assert second["data"]["meta"] == {"channel": "web"}


def test_from_schema_sends_a_valid_example(cli: Cli, server: InProcessServer) -> None:
    server.call(lambda client: client.schemas.register("order.placed", ORDER_SCHEMA))
    result = cli.ok("trigger", "--from-schema", "order.placed", "-o", "table")
    match = re.fullmatch(
        r"Triggered order\.placed \(example of schema version 1\): (evt_\w+)\n", result.stdout
    )
    assert match, result.stdout
    event = server.call(lambda client: client.events.get(match.group(1)))
    assert event.schema_version == 1, "the server validated it against the registered schema"
    data = event.data
    assert isinstance(data, dict)
    assert re.fullmatch(r"ord_[0-9a-z]{8}", data["order_id"])
    assert data["status"] == "placed"
    assert 0 < data["total"] <= 10000 and 1 <= data["quantity"] <= 99
    assert data["contact"] == {"email": "user@example.com"}
    assert 3 <= len(data["lines"][0]["sku"]) <= 12


def test_from_schema_follows_the_latest_version(cli: Cli, server: InProcessServer) -> None:
    async def register(client: TriggersClient) -> None:
        await client.schemas.register(
            "user.renamed",
            {"type": "object", "properties": {"a": {"type": "string"}}, "additionalProperties": False},
        )
        await client.schemas.register(
            "user.renamed",
            {
                "type": "object",
                "properties": {"a": {"type": "string"}, "b": {"type": "integer", "default": 7}},
            },
        )

    server.call(register)
    event = ndjson(cli.ok("trigger", "--from-schema", "user.renamed").stdout)[0]
    assert event["data"] == {"a": "example", "b": 7}
    assert event["schema_version"] == 2


def test_dry_run_prints_without_sending(cli: Cli, server: InProcessServer) -> None:
    [body] = ndjson(cli.ok("trigger", "user.signed_up", "--dry-run", env={"TRIGGERS_API_KEY": None}).stdout)
    assert body["type"] == "user.signed_up" and body["data"]["email"] == "new.user@example.com"
    assert ndjson(cli.ok("events", "list").stdout) == []


def test_errors_are_one_line(cli: Cli, server: InProcessServer) -> None:
    unknown = cli("trigger", "nope.nothing")
    assert unknown.exit_code == 2
    assert unknown.stderr == "Error: no fixture 'nope.nothing'; `triggers trigger --list` shows them\n"

    missing = cli("trigger", "--from-schema", "no.schema")
    assert missing.exit_code == 1
    [line] = missing.stderr.splitlines()
    assert line.startswith("Error: 404 ")

    server.call(
        lambda client: client.schemas.register(
            "odd.one",
            {
                "type": "object",
                "required": ["x"],
                "properties": {"x": {"type": "string", "pattern": "(a)\\1"}},
            },
        )
    )
    odd = cli("trigger", "--from-schema", "odd.one")
    assert odd.exit_code == 2
    assert odd.stderr.startswith(
        "Error: cannot build an example of odd.one (schema version 1) at /properties/x:"
    )

    assert cli("trigger").exit_code == 2
    assert cli("trigger", "order.created", "--from-schema", "a.b").exit_code == 2
