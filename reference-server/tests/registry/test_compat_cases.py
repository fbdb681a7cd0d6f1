"""The compatibility cases third-party suites found the checker got wrong (issue 10 §3), explicit and generated.

Each generated test states the verdict the case must get and checks it against the validator: for a
"compatible" verdict, payloads valid under the old schema stay valid under the new one; for an
"incompatible" one, a payload written with the old schema is shown that the new one rejects.
"""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft7Validator, Draft202012Validator

from triggers_server.domain.registry.compat import (
    CompatibilityMode,
    PreviousVersion,
    check_compatibility,
    find_incompatibilities,
)
from triggers_server.domain.registry.dialect import Dialect

STRING = {"type": "string"}
INTEGER = {"type": "integer"}
NUMBER = {"type": "number"}

leaf_schemas: st.SearchStrategy[dict[str, Any]] = st.one_of(
    st.fixed_dictionaries({"type": st.just("string")}, optional={"maxLength": st.integers(0, 3)}),
    st.fixed_dictionaries({"type": st.sampled_from(["integer", "number"])}, optional={"minimum": st.integers(0, 2)}),
    st.fixed_dictionaries({"type": st.sampled_from(["null", "boolean"])}),
)
scalars = st.one_of(st.none(), st.booleans(), st.integers(-2, 2), st.sampled_from(["", "a", "abcd"]))
names = st.sampled_from(["a", "b", "c", "d"])


def findings(writer: Any, reader: Any) -> list[tuple[str, str]]:
    return [(found.path, found.kind) for found in find_incompatibilities(writer, reader)]


def assert_keeps(writer: Any, reader: Any, payloads: list[Any]) -> None:
    old, new = Draft202012Validator(writer), Draft202012Validator(reader)
    for payload in payloads:
        if old.is_valid(payload):
            assert new.is_valid(payload), payload


# -- unevaluatedProperties / unevaluatedItems -------------------------------------------------------


def test_an_optional_property_under_unevaluated_properties_false_is_compatible() -> None:
    old = {"type": "object", "properties": {"a": STRING}, "unevaluatedProperties": False}
    new = {"type": "object", "properties": {"a": STRING, "b": INTEGER}, "unevaluatedProperties": False}
    assert findings(old, new) == []


def test_an_optional_property_under_typed_unevaluated_properties_is_judged_by_that_type() -> None:
    old = {"type": "object", "properties": {"a": STRING}, "unevaluatedProperties": STRING}
    assert findings(old, {**old, "properties": {"a": STRING, "b": {"type": "string", "maxLength": 9}}}) == [
        ("/properties/b/maxLength", "string_length_narrowed")
    ]
    assert findings(old, {**old, "properties": {"a": STRING, "b": STRING}}) == []
    assert findings(old, {**old, "properties": {"a": STRING, "b": INTEGER}}) == [
        ("/properties/b/type", "type_narrowed")
    ]


def test_unevaluated_properties_behind_an_applicator_is_still_judged_conservatively() -> None:
    new = {"allOf": [{"properties": {"a": STRING}}], "unevaluatedProperties": False}
    assert ("/unevaluatedProperties", "unevaluated_narrowed") in findings({"type": "object"}, new)


def test_a_prefix_item_unevaluated_items_covers_is_compatible() -> None:
    old = {"type": "array", "unevaluatedItems": STRING}
    assert findings(old, {"type": "array", "prefixItems": [STRING], "unevaluatedItems": STRING}) == []


def test_removing_a_number_prefix_item_where_unevaluated_items_is_string_is_incompatible() -> None:
    old = {"type": "array", "prefixItems": [NUMBER], "unevaluatedItems": STRING}
    new = {"type": "array", "unevaluatedItems": STRING}
    assert findings(old, new) == [("/unevaluatedItems/type", "type_narrowed")]
    assert Draft202012Validator(old).is_valid([1]) and not Draft202012Validator(new).is_valid([1])


@settings(max_examples=150, deadline=None)
@given(
    declared=st.dictionaries(names, leaf_schemas, max_size=2),
    unevaluated=st.one_of(st.just(False), leaf_schemas),
    added=names,
    payloads=st.lists(st.dictionaries(names, scalars, max_size=4), min_size=5, max_size=20),
)
def test_generated_optional_property_under_unevaluated_properties(
    declared: dict[str, Any], unevaluated: Any, added: str, payloads: list[Any]
) -> None:
    """A property the old unevaluatedProperties already admitted, with that same schema, is compatible."""
    old = {"type": "object", "properties": declared, "unevaluatedProperties": unevaluated}
    schema = declared.get(added, unevaluated if unevaluated is not False else INTEGER)
    new = {**old, "properties": {**declared, added: schema}}
    assert findings(old, new) == []
    assert_keeps(old, new, payloads)


@settings(max_examples=150, deadline=None)
@given(
    prefix=st.lists(leaf_schemas, max_size=2),
    unevaluated=leaf_schemas,
    payloads=st.lists(st.lists(scalars, max_size=4), min_size=5, max_size=20),
)
def test_generated_prefix_items_and_unevaluated_items(prefix: list[Any], unevaluated: Any, payloads: list[Any]) -> None:
    old = (
        {"type": "array", "prefixItems": prefix, "unevaluatedItems": unevaluated}
        if prefix
        else {
            "type": "array",
            "unevaluatedItems": unevaluated,
        }
    )
    added = {"type": "array", "prefixItems": [*prefix, unevaluated], "unevaluatedItems": unevaluated}
    assert findings(old, added) == []
    assert_keeps(old, added, payloads)
    # removing a number item where the rest must be strings: [..., 1] is old data the new schema rejects
    with_number = {"type": "array", "prefixItems": [*prefix, NUMBER], "unevaluatedItems": STRING}
    without = {"type": "array", "prefixItems": prefix, "unevaluatedItems": STRING}
    assert findings(with_number, without)


# -- anyOf / oneOf ------------------------------------------------------------------------------------


def test_any_of_to_one_of_with_disjoint_branches_is_compatible() -> None:
    assert findings({"anyOf": [STRING, INTEGER]}, {"oneOf": [INTEGER, STRING]}) == []


def test_any_of_to_one_of_with_overlapping_branches_narrows() -> None:
    assert findings({"anyOf": [STRING, {"maxLength": 3}]}, {"oneOf": [STRING, {"maxLength": 3}]}) != []


def test_any_of_lists_equal_up_to_order_or_subsumption_compare_equal() -> None:
    nullable = {"anyOf": [{"type": ["string", "null"]}]}
    split = {"anyOf": [{"type": "null"}, STRING]}
    assert findings(nullable, split) == [] and findings(split, nullable) == []
    subsumed = {"anyOf": [STRING, {"type": "string", "maxLength": 3}, INTEGER]}
    assert findings(subsumed, {"oneOf": [INTEGER, STRING]}) == []
    reordered = {"oneOf": [{"maxLength": 5}, STRING]}
    assert findings({"oneOf": [STRING, {"maxLength": 5}]}, reordered) == []


@settings(max_examples=150, deadline=None)
@given(
    branches=st.lists(leaf_schemas, min_size=1, max_size=4, unique_by=lambda s: s["type"]).filter(
        lambda bs: not {"integer", "number"} <= {b["type"] for b in bs}
    ),
    order=st.randoms(use_true_random=False),
    payloads=st.lists(scalars, min_size=5, max_size=20),
)
def test_generated_any_of_to_one_of_of_distinct_types(branches: list[Any], order: Any, payloads: list[Any]) -> None:
    shuffled = list(branches)
    order.shuffle(shuffled)
    old, new = {"anyOf": branches}, {"oneOf": shuffled}
    assert findings(old, new) == []
    assert_keeps(old, new, payloads)
    assert findings({"anyOf": [*branches, {**branches[0], "const": None}]}, {"anyOf": shuffled}) == []


# -- const ----------------------------------------------------------------------------------------------


def test_an_old_const_decides_compatibility() -> None:
    old = {"const": {"key": "value"}}
    assert findings(old, {"type": "object", "properties": {"key": {"const": "value"}}, "required": ["key"]}) == []
    assert findings(old, {"type": "object", "properties": {"key": {"const": "other"}}}) != []


@settings(max_examples=150, deadline=None)
@given(value=st.dictionaries(names, scalars, min_size=1, max_size=4), data=st.data())
def test_generated_const_objects(value: dict[str, Any], data: st.DataObject) -> None:
    kept = data.draw(st.lists(st.sampled_from(sorted(value)), min_size=1, unique=True))
    new = {
        "type": "object",
        "properties": {name: {"const": value[name]} for name in kept},
        "required": kept,
        "additionalProperties": False if data.draw(st.booleans()) and len(kept) == len(value) else True,
    }
    assert findings({"const": value}, new) == []
    changed = data.draw(st.sampled_from(kept))
    other = {**new, "properties": {**new["properties"], changed: {"const": [value[changed]]}}}
    assert findings({"const": value}, other) != []
    assert not Draft202012Validator(other).is_valid(value)


# -- dialects ---------------------------------------------------------------------------------------------


def test_draft_07_ignores_keywords_next_to_ref() -> None:
    writer = {"definitions": {"s": STRING}, "$ref": "#/definitions/s", "maxLength": 3}
    reader = {"type": "string", "maxLength": 3}
    assert find_incompatibilities(writer, reader, writer_dialect=Dialect.DRAFT_07) != []
    assert find_incompatibilities(writer, reader, writer_dialect=Dialect.DRAFT_2020_12) == []
    assert Draft7Validator(writer).is_valid("long") and not Draft7Validator(reader).is_valid("long")


def test_keywords_a_dialect_does_not_have_are_ignored() -> None:
    tuple_07 = {"type": "array", "items": [STRING], "additionalItems": False, "prefixItems": [INTEGER]}
    found = find_incompatibilities(
        {"type": "array", "items": [STRING], "additionalItems": False},
        tuple_07,
        writer_dialect=Dialect.DRAFT_07,
        reader_dialect=Dialect.DRAFT_07,
    )
    assert found == []  # `prefixItems` means nothing in draft-07
    draft_04 = {"type": "number", "minimum": 0, "exclusiveMinimum": True}
    assert (
        find_incompatibilities(draft_04, {"type": "number", "exclusiveMinimum": 0}, writer_dialect=Dialect.DRAFT_04)
        == []
    )
    assert find_incompatibilities({"type": "number", "minimum": 0}, draft_04, reader_dialect=Dialect.DRAFT_04) != []


def test_versions_are_compared_each_in_its_own_dialect() -> None:
    draft_07 = PreviousVersion(
        1, {"type": "array", "items": [STRING, NUMBER], "additionalItems": False}, Dialect.DRAFT_07
    )
    same_in_2020 = {"type": "array", "prefixItems": [STRING, NUMBER], "items": False}
    assert check_compatibility(same_in_2020, [draft_07], CompatibilityMode.FULL, Dialect.DRAFT_2020_12) == []
    narrowed = {"type": "array", "prefixItems": [STRING, INTEGER], "items": False}
    assert check_compatibility(narrowed, [draft_07], CompatibilityMode.BACKWARD, Dialect.DRAFT_2020_12) != []


draft_07_arrays = st.fixed_dictionaries(
    {"type": st.just("array")},
    optional={
        "items": st.one_of(leaf_schemas, st.lists(leaf_schemas, max_size=3)),
        "additionalItems": st.one_of(st.booleans(), leaf_schemas),
        "maxItems": st.integers(0, 3),
    },
)


@settings(max_examples=200, deadline=None)
@given(
    writer=draft_07_arrays,
    reader=draft_07_arrays,
    payloads=st.lists(st.lists(scalars, max_size=4), min_size=10, max_size=30),
)
def test_generated_draft_07_item_arrays_are_judged_soundly(writer: Any, reader: Any, payloads: list[Any]) -> None:
    """Confluent-style tuples (``items`` arrays with ``additionalItems``), read and validated as draft-07."""
    if find_incompatibilities(writer, reader, writer_dialect=Dialect.DRAFT_07, reader_dialect=Dialect.DRAFT_07):
        return
    old, new = Draft7Validator(writer), Draft7Validator(reader)
    for payload in payloads:
        if old.is_valid(payload):
            assert new.is_valid(payload), payload
