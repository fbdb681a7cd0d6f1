"""`triggers schemas …` and `triggers subscriptions …` against the in-process reference server."""

from __future__ import annotations

import json
import re
from pathlib import Path

from .conftest import Cli, ndjson

ORDER_SCHEMA = {
    "type": "object",
    "properties": {"order_id": {"type": "string"}},
    "required": ["order_id"],
}


def write(path: Path, document: object) -> str:
    path.write_text(json.dumps(document))
    return str(path)


def test_register_list_and_validate_events_against_the_schema(cli: Cli, tmp_path: Path) -> None:
    schema = write(tmp_path / "order.json", ORDER_SCHEMA)
    registered = cli.ok("schemas", "register", "order.created", schema, "-o", "table")
    assert re.match(r"Registered order.created version 1 \(\S+\)", registered.stdout)

    listed = ndjson(cli.ok("schemas", "list").stdout)
    assert [(s["event_type"], s["latest_version"]) for s in listed] == [("order.created", 1)]
    table = cli.ok("schemas", "list", "-o", "table").stdout
    assert table.split()[:5] == ["TYPE", "LATEST", "VERSIONS", "COMPATIBILITY", "UPDATED"]

    rejected = cli("events", "send", "-t", "order.created", "-d", '{"order_id": 5}')
    assert rejected.exit_code == 1
    [line] = rejected.stderr.splitlines()
    assert line.startswith("Error: 422 ")
    assert "/data/order_id" in line


def test_check_compatible_exits_0_and_incompatible_exits_4(cli: Cli, tmp_path: Path) -> None:
    cli.ok("schemas", "register", "order.created", write(tmp_path / "v1.json", ORDER_SCHEMA))
    compatible = {"type": "object", "properties": ORDER_SCHEMA["properties"]}  # no longer requires order_id
    ok = cli.ok("schemas", "check", "order.created", write(tmp_path / "ok.json", compatible), "-o", "table")
    assert ok.stdout.startswith("Compatible with order.created")

    narrowed = {**ORDER_SCHEMA, "properties": {"order_id": {"type": "integer"}}}
    result = cli("schemas", "check", "order.created", write(tmp_path / "bad.json", narrowed), "-o", "table")
    assert result.exit_code == 4
    assert result.stdout.startswith("Incompatible with order.created")
    assert "/properties/order_id" in result.stdout
    verdict = json.loads(
        cli("schemas", "check", "order.created", str(tmp_path / "bad.json"), "-o", "json").stdout
    )
    assert verdict["compatible"] is False and verdict["incompatibilities"]


def test_register_rejects_unreadable_and_non_object_files(cli: Cli, tmp_path: Path) -> None:
    missing = cli("schemas", "register", "a.b", str(tmp_path / "nope.json"))
    assert missing.exit_code == 2
    assert "Cannot read" in missing.stderr
    array = cli("schemas", "register", "a.b", write(tmp_path / "array.json", [1]))
    assert array.exit_code == 2
    assert "must be a JSON object" in array.stderr


def test_register_schema_from_stdin(cli: Cli) -> None:
    version = ndjson(cli.ok("schemas", "register", "a.b", "-", input=json.dumps(ORDER_SCHEMA)).stdout)[0]
    assert version["version"] == 1


def test_subscriptions_create_list_delete(cli: Cli) -> None:
    created = cli.ok(
        "subscriptions", "create", "http://localhost:3000/webhook", "--type", "order.*", "-o", "table"
    ).stdout
    match = re.match(
        r"Subscription created: (sub_\w+)\nSigning secret \(shown once\): (whsec_\S+)\n", created
    )
    assert match, created
    subscription_id = match.group(1)

    [listed] = ndjson(cli.ok("subscriptions", "list").stdout)
    assert listed["id"] == subscription_id and listed["event_types"] == ["order.*"]
    table = cli.ok("subscriptions", "list", "-o", "table").stdout
    assert "http://localhost:3000/webhook" in table and "order.*" in table

    deleted = ndjson(cli.ok("subscriptions", "delete", subscription_id).stdout)
    assert deleted == [{"subscription_id": subscription_id, "deleted": True}]
    assert cli.ok("subscriptions", "list").stdout == ""
    again = cli("subscriptions", "delete", subscription_id)
    assert again.exit_code == 1 and again.stderr.startswith("Error: 404 ")


def test_replay_to_a_subscription_schedules_a_delivery(cli: Cli) -> None:
    subscription = ndjson(cli.ok("subscriptions", "create", "http://localhost:3000/hook").stdout)[0]
    event = ndjson(cli.ok("events", "send", "-t", "order.created", "-d", "{}").stdout)[0]
    result = json.loads(
        cli.ok("events", "replay", event["id"], "--to-subscription", subscription["id"], "-o", "json").stdout
    )
    [outcome] = result["outcomes"]
    assert outcome["subscription_id"] == subscription["id"]
    assert outcome["decision"] == "delivered" and outcome["delivery_id"]


def test_subscription_with_invalid_secret_is_rejected_by_the_api(cli: Cli) -> None:
    result = cli("subscriptions", "create", "http://localhost:3000/hook", "--secret", "not-a-secret")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: 422 ")
