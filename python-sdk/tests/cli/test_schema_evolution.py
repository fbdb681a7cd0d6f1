"""Schema evolution docs: field-level changes between consecutive versions, and `triggers schemas docs`."""

from __future__ import annotations

import json
from pathlib import Path

from zapier_triggers.cli.evolution import Change, Version, changes, fields, markdown

from .conftest import Cli

V1 = {
    "type": "object",
    "properties": {
        "order_id": {"type": "string"},
        "status": {"enum": ["open", "paid"]},
        "customer": {"type": "object", "properties": {"email": {"type": "string", "format": "email"}}},
    },
    "required": ["order_id"],
}
V2 = {
    "type": "object",
    "properties": {
        "order_id": {"type": "string"},
        "status": {"enum": ["open", "paid", "refunded"]},
        "customer": {"type": "object", "properties": {"email": {"type": "string"}}},
        "lines": {"type": "array", "items": {"type": "object", "properties": {"sku": {"type": "string"}}}},
        "amount": {"type": ["number", "null"]},
    },
    "required": ["order_id", "amount"],
}


def test_fields_walk_nested_objects_and_array_items() -> None:
    found = fields(V2)
    assert sorted(found) == [
        "amount",
        "customer",
        "customer.email",
        "lines",
        "lines[].sku",
        "order_id",
        "status",
    ]
    assert found["amount"].type == "number | null" and found["amount"].required
    assert found["status"].values == ('"open"', '"paid"', '"refunded"') and found["status"].type == "any"


def test_changes_name_each_field_that_changed() -> None:
    assert changes(V1, V2) == [
        Change("amount", "added: required, `number | null`"),
        Change("customer.email", "format `email` → `none`"),
        Change("lines", "added: optional, `array`"),
        Change("lines[].sku", "added: optional, `string`"),
        Change("status", 'values: added `"refunded"`'),
    ]
    assert changes(V2, V1)[0] == Change("amount", "removed")
    narrowed = {**V1, "properties": {**V1["properties"], "order_id": {"type": "integer"}}, "required": []}
    assert changes(V1, narrowed) == [
        Change("order_id", "type `string` → `integer`"),
        Change("order_id", "no longer required"),
    ]


def test_markdown_lists_the_first_versions_fields_then_each_change() -> None:
    page = markdown("order.created", [Version(2, "t2", V2), Version(1, "t1", V1), Version(3, "t3", V2)])
    assert page.startswith("# `order.created`: schema evolution\n")
    assert page.index("## Version 1 (t1)") < page.index("## Version 2 (t2)") < page.index("## Version 3 (t3)")
    assert "| `customer.email` | optional, `string`, format `email` |" in page
    assert "| `amount` | added: required, `number \\| null` |" in page  # a pipe in a cell is escaped
    assert page.rstrip().endswith("No field changes.")


def test_the_command_writes_the_evolution_of_registered_versions(cli: Cli, tmp_path: Path) -> None:
    # Registrable under the default BACKWARD mode (a new property would not be: the content model is open).
    properties = {**V1["properties"], "status": {"enum": ["open", "paid", "refunded"]}}
    backward = {**V1, "properties": properties}
    for number, schema in enumerate((V1, backward), start=1):
        path = tmp_path / f"v{number}.json"
        path.write_text(json.dumps(schema))
        cli.ok("schemas", "register", "order.created", str(path))
    page = cli.ok("schemas", "docs", "order.created").stdout
    assert "## Version 1 (" in page and "## Version 2 (" in page
    assert '| `status` | values: added `"refunded"` |' in page
    out = tmp_path / "EVOLUTION.md"
    written = cli.ok("schemas", "docs", "order.created", "--out", str(out))
    assert out.read_text() == page and "2 versions of order.created" in written.stderr


def test_an_event_type_without_schemas_is_one_line_and_exit_1(cli: Cli) -> None:
    result = cli("schemas", "docs", "nothing.here")
    assert result.exit_code == 1
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("Error: 404 ") and "nothing.here" in line
