"""``unevaluatedProperties`` and ``unevaluatedItems`` where they mean exactly ``additionalProperties``/``items``.

An ``unevaluated*`` keyword sees the properties (items) that the keywords of its own schema object and its
in-place applicators evaluated. When the object has no in-place applicator that could evaluate any (no
``allOf``/``anyOf``/``oneOf``/``$ref``/``if``…, and for items no ``contains``), only the object's own
``properties``/``patternProperties`` (``prefixItems``) evaluate, so ``unevaluatedProperties: U`` is
``additionalProperties: U`` (and ``unevaluatedItems: U`` is ``items: U`` after the prefix). When the object has
``additionalProperties`` (``items`` after the prefix) itself, everything is evaluated and the keyword is a no-op.

Both documents are rewritten into the plain form before comparing (the writer's conjuncts are flattened
later, which would hide the applicators); findings name the keyword as written.
"""

from __future__ import annotations

from typing import Any

from triggers_server.domain.registry.compat.walk import rewrite_subschemas

_IN_PLACE = ("allOf", "anyOf", "oneOf", "if", "then", "else", "dependentSchemas", "dependencies", "$ref", "$dynamicRef")


def _applies_in_place(schema: dict[str, Any], *also: str) -> bool:
    return any(keyword in schema for keyword in (*_IN_PLACE, *also))


def as_additional_properties(schema: dict[str, Any]) -> bool:
    """``schema``'s ``unevaluatedProperties`` means ``additionalProperties`` (see the module docstring)."""
    return "unevaluatedProperties" in schema and "additionalProperties" not in schema and not _applies_in_place(schema)


def as_further_items(schema: dict[str, Any]) -> bool:
    """``schema``'s ``unevaluatedItems`` means the items after the prefix."""
    return "unevaluatedItems" in schema and "items" not in schema and not _applies_in_place(schema, "contains")


def is_no_op(schema: dict[str, Any], keyword: str) -> bool:
    """Everything is evaluated by the object's own keywords, so ``keyword`` never applies."""
    if keyword == "unevaluatedProperties":
        return "additionalProperties" in schema
    return "items" in schema


Aliases = dict[int, tuple[dict[str, Any], dict[str, str]]]
"""Per lowered object (by id, kept alive with it): the plain keyword → the ``unevaluated*`` keyword written."""


def lower(schema: Any, aliases: Aliases) -> Any:
    """``schema`` with every ``unevaluated*`` that means a plain keyword replaced by that keyword."""

    def lower_one(node: dict[str, Any]) -> dict[str, Any]:
        renamed: dict[str, str] = {}
        if as_additional_properties(node):
            node["additionalProperties"] = node.pop("unevaluatedProperties")
            renamed["additionalProperties"] = "unevaluatedProperties"
        if as_further_items(node):
            node["items"] = node.pop("unevaluatedItems")
            renamed["items"] = "unevaluatedItems"
        if renamed:
            aliases[id(node)] = (node, renamed)
        return node

    return rewrite_subschemas(schema, lower_one)
