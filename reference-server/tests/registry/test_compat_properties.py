"""Property tests of the compatibility rules, judged by the jsonschema validator itself.

Soundness: whenever the checker says a reader accepts everything a writer accepts, no generated
payload valid under the writer may be rejected by the reader. Reflexivity: a schema is compatible
with itself. (`oneOf` is generated only with branches of distinct types: like Confluent and Apicurio,
the checker compares a `oneOf` with overlapping branches branch-wise as a union, which is not sound.)
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any, cast

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from jsonschema.protocols import Validator

from triggers_server.domain.registry.compat import find_incompatibilities

NAMES = ["a", "b", "ab"]
STRINGS = ["", "a", "ab", "abc", "b"]
NUMBERS = [-1, 0, 0.5, 1, 2, 10]

scalars = st.one_of(st.none(), st.booleans(), st.sampled_from(NUMBERS), st.sampled_from(STRINGS))
payloads = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.sampled_from([*NAMES, "c"]), inner, max_size=3),
    ),
    max_leaves=8,
)


def _keyword(name: str) -> Callable[[Any], dict[str, Any]]:
    def build(value: Any) -> dict[str, Any]:
        return {name: value}

    return build


def _leaf() -> st.SearchStrategy[dict[str, Any]]:
    number = st.fixed_dictionaries(
        {"type": st.sampled_from(["number", "integer"])},
        optional={
            "minimum": st.sampled_from(NUMBERS),
            "maximum": st.sampled_from(NUMBERS),
            "exclusiveMinimum": st.sampled_from(NUMBERS),
            "multipleOf": st.sampled_from([0.5, 1, 2]),
        },
    )
    string = st.fixed_dictionaries(
        {"type": st.just("string")},
        optional={
            "minLength": st.integers(0, 3),
            "maxLength": st.integers(0, 3),
            "pattern": st.sampled_from(["^a", "b$"]),
        },
    )
    other = st.fixed_dictionaries({"type": st.sampled_from(["null", "boolean"])})
    enum = st.builds(_keyword("enum"), st.lists(scalars, min_size=1, max_size=3, unique_by=repr))
    const = st.builds(_keyword("const"), payloads)
    untyped = st.fixed_dictionaries(
        {},
        optional={"type": st.lists(st.sampled_from(["string", "number", "null"]), min_size=1, max_size=2, unique=True)},
    )
    return st.one_of(number, string, other, enum, const, untyped)


TYPES = ["string", "number", "null", "boolean", "object", "array"]


def _typed_branches(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[list[Any]]:
    """``oneOf`` branches that are provably disjoint: each gets its own ``type``."""

    def typed(types: list[str]) -> st.SearchStrategy[list[Any]]:
        return st.tuples(*(st.builds(_with_type, inner, st.just(t)) for t in types)).map(list)

    return st.lists(st.sampled_from(TYPES), min_size=1, max_size=3, unique=True).flatmap(typed)


def _with_type(schema: Any, type_name: str) -> dict[str, Any]:
    return {**schema, "type": type_name} if isinstance(schema, dict) else {"type": type_name}


def _compound(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    obj = st.fixed_dictionaries(
        {"type": st.just("object")},
        optional={
            "properties": st.dictionaries(st.sampled_from(NAMES), inner, max_size=2),
            "required": st.lists(st.sampled_from(NAMES), max_size=2, unique=True),
            "additionalProperties": st.one_of(st.booleans(), inner),
            "patternProperties": st.dictionaries(st.sampled_from(["^a", "b$"]), inner, max_size=1),
            "unevaluatedProperties": st.one_of(st.booleans(), inner),
            "maxProperties": st.integers(0, 3),
        },
    )
    array = st.fixed_dictionaries(
        {"type": st.just("array")},
        optional={
            "items": st.one_of(st.booleans(), inner),
            "prefixItems": st.lists(inner, min_size=1, max_size=2),
            "unevaluatedItems": st.one_of(st.booleans(), inner),
            "minItems": st.integers(0, 2),
            "maxItems": st.integers(0, 3),
            "uniqueItems": st.booleans(),
        },
    )
    combined = st.one_of(
        st.builds(_keyword("anyOf"), st.lists(inner, min_size=1, max_size=3)),
        st.builds(_keyword("allOf"), st.lists(inner, min_size=1, max_size=2)),
        st.builds(_keyword("not"), inner),
        st.builds(_keyword("oneOf"), _typed_branches(inner)),
    )
    return st.one_of(obj, array, combined)


EMPTY: dict[str, Any] = {}
schemas = st.recursive(st.one_of(_leaf(), st.booleans(), st.just(EMPTY)), _compound, max_leaves=6)


def _subschemas(value: object) -> list[dict[str, Any]]:
    """Every object inside ``value``, itself included (the places a one-keyword edit can go)."""
    if isinstance(value, dict):
        node = cast("dict[str, Any]", value)
        return [node, *(found for child in node.values() for found in _subschemas(child))]
    if isinstance(value, list):
        return [found for child in cast("list[object]", value) for found in _subschemas(child)]
    return []


@st.composite
def related_pairs(draw: st.DrawFn) -> tuple[Any, Any]:
    """A schema and a one-edit variant of it: the pairs where "compatible" verdicts are not trivial."""
    writer = draw(schemas)
    reader = copy.deepcopy(writer)
    nodes = _subschemas(reader)
    if not nodes:
        return writer, draw(schemas)
    node = draw(st.sampled_from(nodes))
    edit = draw(st.sampled_from(["drop", "number", "replace", "required", "enum", "property", "prefix"]))
    if edit == "drop" and node:
        del node[draw(st.sampled_from(sorted(node)))]
    elif edit == "number":
        node[draw(st.sampled_from(["minimum", "maximum", "minLength", "maxItems", "maxProperties"]))] = draw(
            st.integers(0, 3)
        )
    elif edit == "replace":
        keyword = draw(
            st.sampled_from(["items", "additionalProperties", "not", "unevaluatedProperties", "unevaluatedItems"])
        )
        node[keyword] = draw(schemas)
    elif edit == "property" and isinstance(node.get("properties", {}), dict):
        node.setdefault("properties", {})[draw(st.sampled_from(NAMES))] = draw(schemas)
    elif edit == "prefix" and isinstance(node.get("prefixItems", []), list):
        node.setdefault("prefixItems", []).append(draw(schemas))
    elif edit == "required":
        node["required"] = draw(st.lists(st.sampled_from(NAMES), max_size=2, unique=True))
    else:
        node["enum"] = draw(st.lists(scalars, min_size=1, max_size=4, unique_by=repr))
    return (writer, reader) if draw(st.booleans()) else (reader, writer)


def _validator(schema: Any) -> Validator:
    return Draft202012Validator(schema)


META = _validator(Draft202012Validator.META_SCHEMA)


def _assert_sound(writer: Any, reader: Any, samples: list[Any]) -> None:
    assume(META.is_valid(writer) and META.is_valid(reader))
    if find_incompatibilities(writer, reader):
        return
    writes, reads = _validator(writer), _validator(reader)
    for payload in samples:
        if writes.is_valid(payload):
            assert reads.is_valid(payload), payload


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(writer=schemas, reader=schemas, samples=st.lists(payloads, min_size=10, max_size=30))
def test_compatible_verdicts_are_sound(writer: Any, reader: Any, samples: list[Any]) -> None:
    _assert_sound(writer, reader, samples)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pair=related_pairs(), samples=st.lists(payloads, min_size=10, max_size=30))
def test_compatible_verdicts_on_related_schemas_are_sound(pair: tuple[Any, Any], samples: list[Any]) -> None:
    _assert_sound(*pair, samples)


@settings(max_examples=300, deadline=None)
@given(schema=schemas)
def test_every_schema_is_compatible_with_itself(schema: Any) -> None:
    assert find_incompatibilities(schema, schema) == []
