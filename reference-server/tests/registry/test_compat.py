"""Rule-based compatibility: one rule per test, plus the seven modes over version histories."""

from __future__ import annotations

from typing import Any

import pytest

from triggers_server.domain.registry.compat import (
    CompatibilityMode,
    PreviousVersion,
    check_compatibility,
    find_incompatibilities,
)


def kinds(writer: Any, reader: Any) -> list[str]:
    """Kinds of the reasons data written with ``writer`` may be rejected by ``reader``."""
    return [found.kind for found in find_incompatibilities(writer, reader)]


OPEN = {"type": "object", "properties": {"a": {"type": "string"}}}
CLOSED = {**OPEN, "additionalProperties": False}


@pytest.mark.parametrize(
    ("writer", "reader", "expected"),
    [
        ({"type": "integer"}, {"type": "number"}, []),
        ({"type": "number"}, {"type": "integer"}, ["type_narrowed"]),
        ({}, {"type": "string"}, ["type_narrowed"]),
        ({"type": ["string", "null"]}, {"type": "string"}, ["type_narrowed"]),
        ({"type": "string", "maxLength": 3}, {"type": "string", "maxLength": 2}, ["string_length_narrowed"]),
        ({"minimum": 0, "exclusiveMaximum": 10}, {"maximum": 10}, []),
        ({"maximum": 10}, {"exclusiveMaximum": 10}, ["maximum_lowered"]),
        ({"minimum": 1}, {"exclusiveMinimum": 0}, []),
        ({"type": "integer"}, {"type": "integer", "multipleOf": 1}, []),
        ({"multipleOf": 0.5}, {"multipleOf": 0.25}, []),
        ({"multipleOf": 0.25}, {"multipleOf": 0.5}, ["multiple_of_changed"]),
        ({"enum": ["a"]}, {"enum": ["a", "b"]}, []),
        ({"enum": ["a", "c"]}, {"enum": ["a", "b"]}, ["enum_narrowed"]),
        ({"const": 1}, {"enum": [1.0, 2]}, []),
        ({"type": "string"}, {"type": "string", "format": "email"}, ["format_changed"]),
        ({"type": "array"}, {"type": "array", "uniqueItems": True}, ["unique_items_added"]),
        ({"type": "array"}, {"type": "array", "items": {"type": "string"}}, ["items_narrowed"]),
        (
            {"prefixItems": [{"type": "string"}], "items": False},
            {"prefixItems": [{"type": "string"}, {"type": "integer"}]},
            [],
        ),
        ({"prefixItems": [{"type": "integer"}]}, {"prefixItems": [{"type": "string"}]}, ["type_narrowed"]),
        ({"type": "array"}, {"type": "array", "contains": {"type": "string"}}, ["contains_added"]),
        (
            {"contains": {"const": 1}, "minContains": 2},
            {"contains": {"type": "integer"}, "minContains": 1},
            [],
        ),
        ({"type": "object"}, {"type": "object", "required": ["a"]}, ["required_added"]),
        (
            OPEN,
            {**OPEN, "properties": {"a": {"type": "string"}, "b": {"type": "integer"}}},
            ["property_added_to_open_model"],
        ),
        (OPEN, {**OPEN, "properties": {"a": {"type": "string"}, "b": True}}, []),
        (CLOSED, {**CLOSED, "properties": {"a": {"type": "string"}, "b": {"type": "integer"}}}, []),
        (CLOSED, {"type": "object", "additionalProperties": False}, ["property_removed_from_closed_model"]),
        (CLOSED, {"type": "object", "additionalProperties": {"type": "string"}}, []),
        (
            CLOSED,
            {
                "type": "object",
                "patternProperties": {"^a$": {"type": "string"}},
                "additionalProperties": False,
            },
            [],
        ),
        (OPEN, CLOSED, ["additional_properties_narrowed"]),
        (
            {"type": "object"},
            {"type": "object", "patternProperties": {"^x": {"type": "string"}}},
            ["pattern_property_narrowed"],
        ),
        (
            {"type": "object"},
            {"type": "object", "propertyNames": {"maxLength": 3}},
            ["property_names_narrowed"],
        ),
        ({"type": "object"}, {"dependentRequired": {"a": ["b"]}}, ["dependent_required_added"]),
        ({"dependentRequired": {"a": ["b", "c"]}}, {"dependentRequired": {"a": ["b"]}}, []),
        ({"type": "object"}, {"dependentSchemas": {"a": {"required": ["b"]}}}, ["dependent_schema_added"]),
        ({"type": "object"}, {"type": "object", "unevaluatedProperties": False}, ["unevaluated_narrowed"]),
        ({"type": "string"}, {"not": {"type": "null"}}, []),
        ({}, {"not": {"type": "null"}}, ["not_narrowed"]),
        ({"anyOf": [{"type": "string"}, {"type": "integer"}]}, {"type": ["string", "number"]}, []),
        ({"anyOf": [{"type": "string"}, {"type": "null"}]}, {"type": "string"}, ["type_narrowed"]),
        ({"type": "string"}, {"oneOf": [{"type": "string"}, {"type": "null"}]}, []),
        (
            {"anyOf": [{"type": "string"}, {"maxLength": 3}]},
            {"oneOf": [{"type": "string"}, {"maxLength": 3}]},
            ["composition_narrowed", "composition_narrowed"],
        ),
        ({"type": "integer"}, {"oneOf": [{"type": "string"}, {"type": "null"}]}, ["composition_narrowed"]),
        ({"allOf": [{"type": "string"}, {"maxLength": 3}]}, {"type": "string", "maxLength": 5}, []),
        (
            {"if": {"type": "string"}, "then": {"minLength": 1}},
            {"if": {"type": "integer"}, "then": {}},
            ["conditional_changed"],
        ),
        ({}, False, ["rejects_all"]),
        (False, {"type": "null"}, []),
        ({"$ref": "https://elsewhere/x.json"}, {"$ref": "https://elsewhere/x.json"}, []),
        ({}, {"$ref": "https://elsewhere/x.json"}, ["reference_unresolvable"]),
    ],
)
def test_rule(writer: Any, reader: Any, expected: list[str]) -> None:
    assert kinds(writer, reader) == expected


def test_paths_point_into_the_schema() -> None:
    found = find_incompatibilities(
        {"properties": {"a/b": {"type": "object", "properties": {"n": {"type": "number"}}}}},
        {"properties": {"a/b": {"type": "object", "properties": {"n": {"type": "integer"}}}}},
    )
    assert [(f.path, f.kind) for f in found] == [("/properties/a~1b/properties/n/type", "type_narrowed")]


def test_recursive_references_terminate_and_are_compared() -> None:
    tree = {
        "$defs": {
            "node": {
                "type": "object",
                "properties": {
                    "value": {"type": "integer"},
                    "children": {"type": "array", "items": {"$ref": "#/$defs/node"}},
                },
            }
        },
        "$ref": "#/$defs/node",
    }
    narrowed = {
        "$defs": {
            "node": {
                "type": "object",
                "properties": {
                    "value": {"type": "integer", "minimum": 0},
                    "children": {"type": "array", "items": {"$ref": "#/$defs/node"}},
                },
            }
        },
        "$ref": "#/$defs/node",
    }
    assert find_incompatibilities(tree, tree) == []
    assert find_incompatibilities(narrowed, tree) == []
    found = sorted((f.path, f.kind) for f in find_incompatibilities(tree, narrowed))
    # the cycle is followed once below the root, where the narrowed node is first met again
    assert found == [
        ("/properties/children/items/properties/value/minimum", "minimum_raised"),
        ("/properties/value/minimum", "minimum_raised"),
    ]


HISTORY = [
    PreviousVersion(1, {"type": "integer", "maximum": 10}),
    PreviousVersion(2, {"type": "integer", "maximum": 5}),
]


@pytest.mark.parametrize(
    ("candidate", "mode", "against"),
    [
        ({"type": "integer", "maximum": 6}, CompatibilityMode.BACKWARD, []),
        ({"type": "integer", "maximum": 6}, CompatibilityMode.BACKWARD_TRANSITIVE, [1]),
        ({"type": "integer", "maximum": 6}, CompatibilityMode.FORWARD, [2]),
        ({"type": "integer", "maximum": 6}, CompatibilityMode.FORWARD_TRANSITIVE, [2]),
        ({"type": "integer", "maximum": 6}, CompatibilityMode.FULL, [2]),
        ({"type": "integer", "maximum": 6}, CompatibilityMode.FULL_TRANSITIVE, [2, 1]),
        ({"type": "integer", "maximum": 4}, CompatibilityMode.FORWARD_TRANSITIVE, []),
        ({"type": "string"}, CompatibilityMode.NONE, []),
    ],
)
def test_modes(candidate: Any, mode: CompatibilityMode, against: list[int]) -> None:
    assert [f.against_version for f in check_compatibility(candidate, HISTORY, mode)] == against


def test_first_version_is_always_compatible() -> None:
    assert check_compatibility({"type": "string"}, [], CompatibilityMode.FULL_TRANSITIVE) == []


def test_mode_properties() -> None:
    assert [m.value for m in CompatibilityMode if m.checks_backward] == [
        "BACKWARD",
        "BACKWARD_TRANSITIVE",
        "FULL",
        "FULL_TRANSITIVE",
    ]
    assert [m.value for m in CompatibilityMode if m.checks_forward] == [
        "FORWARD",
        "FORWARD_TRANSITIVE",
        "FULL",
        "FULL_TRANSITIVE",
    ]
    assert [m.value for m in CompatibilityMode if m.transitive] == [
        "BACKWARD_TRANSITIVE",
        "FORWARD_TRANSITIVE",
        "FULL_TRANSITIVE",
    ]


def test_pattern_properties_match_names_by_ecma_262() -> None:
    writer = {"type": "object", "properties": {"π": {"type": "integer"}}, "additionalProperties": False}
    reader = {
        "type": "object",
        "patternProperties": {r"^\p{Letter}+$": {"type": "number"}},
        "additionalProperties": False,
    }
    assert find_incompatibilities(writer, reader) == []


def test_runaway_comparisons_are_reported_not_run() -> None:
    unions: Any = {"type": "string"}
    for _ in range(6):
        unions = {"anyOf": [unions, {"type": "integer"}, {"type": "null"}]}
    found = find_incompatibilities(unions, {"type": "boolean"}, budget=10)
    assert [f.kind for f in found] == ["too_complex"]
    deep: Any = {"type": "object"}
    for _ in range(5000):
        deep = {"properties": {"x": deep}}
    assert [f.kind for f in find_incompatibilities(deep, deep)] == ["too_complex"]
