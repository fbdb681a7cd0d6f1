"""Examples built from JSON Schemas are valid against them (checked with jsonschema, formats asserted)."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pytest

jsonschema = pytest.importorskip("jsonschema")

from zapier_triggers.cli.examples import ExampleError, example_for  # noqa: E402

NOW = datetime(2026, 12, 3, 10, 0, tzinfo=timezone.utc)

SCHEMAS: dict[str, dict[str, Any]] = {
    "required and optional": {
        "type": "object",
        "required": ["id", "amount"],
        "properties": {"id": {"type": "string"}, "amount": {"type": "number"}, "note": {"type": "string"}},
        "additionalProperties": False,
    },
    "enums and consts": {
        "type": "object",
        "required": ["currency", "kind"],
        "properties": {"currency": {"enum": ["EUR", "USD"]}, "kind": {"const": "refund"}},
    },
    "formats": {
        "type": "object",
        "required": ["at", "on", "email", "site", "ref", "ip"],
        "properties": {
            "at": {"type": "string", "format": "date-time"},
            "on": {"type": "string", "format": "date"},
            "email": {"type": "string", "format": "email"},
            "site": {"type": "string", "format": "uri"},
            "ref": {"type": "string", "format": "uuid"},
            "ip": {"type": "string", "format": "ipv4"},
        },
    },
    "numeric bounds": {
        "type": "object",
        "required": ["qty", "price", "pct", "neg", "step"],
        "properties": {
            "qty": {"type": "integer", "minimum": 3, "maximum": 9},
            "price": {"type": "number", "exclusiveMinimum": 0, "maximum": 0.5},
            "pct": {"type": "integer", "exclusiveMinimum": 99, "maximum": 100},
            "neg": {"type": "integer", "maximum": -5},
            "step": {"type": "number", "minimum": 1.1, "multipleOf": 0.25},
        },
    },
    "string lengths and patterns": {
        "type": "object",
        "required": ["code", "sku", "long", "short", "order"],
        "properties": {
            "code": {"type": "string", "pattern": "^[A-Z]{3}$"},
            "sku": {"type": "string", "pattern": "^sku_[0-9a-f]+$", "minLength": 10},
            "long": {"type": "string", "minLength": 20},
            "short": {"type": "string", "maxLength": 3},
            "order": {"type": "string", "pattern": "^(ord|inv)-\\d{4}(-[a-z]+)?$"},
        },
    },
    "arrays": {
        "type": "object",
        "required": ["tags", "pair", "unique"],
        "properties": {
            "tags": {"type": "array", "items": {"type": "string"}, "minItems": 2},
            "pair": {
                "type": "array",
                "prefixItems": [{"type": "integer"}, {"type": "string"}],
                "items": False,
            },
            "unique": {
                "type": "array",
                "items": {"enum": ["a", "b", "c"]},
                "minItems": 3,
                "uniqueItems": True,
            },
        },
    },
    "refs allOf oneOf nullable": {
        "$defs": {
            "money": {"type": "object", "required": ["cents"], "properties": {"cents": {"type": "integer"}}}
        },
        "type": "object",
        "required": ["total", "who", "maybe", "either"],
        "properties": {
            "total": {"$ref": "#/$defs/money"},
            "who": {
                "allOf": [{"required": ["a"], "properties": {"a": {"type": "string"}}}, {"required": ["b"]}]
            },
            "maybe": {"type": ["null", "integer"], "minimum": 2},
            "either": {"oneOf": [{"type": "boolean"}, {"type": "string"}]},
        },
    },
    "examples and defaults win": {
        "type": "object",
        "required": ["plan", "seats"],
        "properties": {
            "plan": {"type": "string", "examples": ["pro"]},
            "seats": {"type": "integer", "default": 5},
        },
    },
}


@pytest.mark.parametrize("name", SCHEMAS)
def test_the_example_is_valid(name: str) -> None:
    schema = SCHEMAS[name]
    example = example_for(schema, now=NOW)
    validator = jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(example)]
    assert errors == [], (example, errors)


def test_schema_values_are_used_verbatim() -> None:
    example = example_for(SCHEMAS["examples and defaults win"], now=NOW)
    assert example == {"plan": "pro", "seats": 5}
    assert example_for(SCHEMAS["formats"], now=NOW)["at"] == "2026-12-03T10:00:00Z"


def test_an_unbuildable_required_field_names_its_pointer() -> None:
    schema = {
        "type": "object",
        "required": ["n"],
        "properties": {"n": {"type": "integer", "minimum": 5, "maximum": 4}},
    }
    with pytest.raises(ExampleError, match=r"^/properties/n: no integer satisfies"):
        example_for(schema, now=NOW)


def test_an_unbuildable_optional_field_is_left_out() -> None:
    schema = {
        "type": "object",
        "properties": {"back": {"type": "string", "pattern": "(a)\\1"}, "ok": {"type": "string"}},
    }
    assert example_for(schema, now=NOW) == {"ok": "example"}
