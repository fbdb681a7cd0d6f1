"""Schemas of older dialects rewritten into the 2020-12 keywords the comparison (and its validator) read.

With a dialect, keywords that dialect does not have are dropped (its validators ignore them), keywords next
to ``$ref`` are dropped up to draft-07 (they are ignored there too; ``definitions``/``$defs`` stay, as
references point into them), and the older forms become their 2020-12 equivalents: an ``items`` array is
``prefixItems`` (with ``additionalItems`` as ``items``), ``dependencies`` splits into ``dependentRequired``
and ``dependentSchemas``, draft-04's boolean ``exclusiveMinimum``/``exclusiveMaximum`` become numbers and its
``id`` is ``$id``. Without a dialect (``None``) nothing is dropped and the older forms are translated where
they appear, so a schema that mixes forms is read with every keyword it uses.

Findings on a translated schema name the 2020-12 keyword it was read as (``/prefixItems/0`` for the first
entry of a draft-07 ``items`` array).
"""

from __future__ import annotations

from typing import Any

from triggers_server.domain.registry.compat.values import as_array, as_mapping
from triggers_server.domain.registry.compat.walk import rewrite_subschemas
from triggers_server.domain.registry.dialect import Dialect

_NEWER_THAN_07 = (
    "prefixItems",
    "unevaluatedProperties",
    "unevaluatedItems",
    "dependentRequired",
    "dependentSchemas",
    "minContains",
    "maxContains",
    "$anchor",
    "$dynamicRef",
    "$dynamicAnchor",
    "$recursiveRef",
    "$recursiveAnchor",
)
_FOREIGN: dict[Dialect, tuple[str, ...]] = {
    Dialect.DRAFT_2020_12: ("additionalItems", "dependencies", "$recursiveRef", "$recursiveAnchor"),
    Dialect.DRAFT_2019_09: ("prefixItems", "dependencies", "$dynamicRef", "$dynamicAnchor"),
    Dialect.DRAFT_07: _NEWER_THAN_07,
    Dialect.DRAFT_06: (*_NEWER_THAN_07, "if", "then", "else", "contentMediaType", "contentEncoding"),
    Dialect.DRAFT_04: (
        *_NEWER_THAN_07,
        "if",
        "then",
        "else",
        "contentMediaType",
        "contentEncoding",
        "const",
        "contains",
        "propertyNames",
        "$id",
    ),
}
_CONTAINERS = ("definitions", "$defs")


def to_2020_12(schema: Any, dialect: Dialect | None) -> Any:
    """``schema`` (read in ``dialect``; None: any) as a 2020-12 schema with the same meaning."""

    def rewrite(node: dict[str, Any]) -> dict[str, Any]:
        if dialect is not None:
            for keyword in _FOREIGN[dialect]:
                node.pop(keyword, None)
            if dialect.ignores_ref_siblings and "$ref" in node:
                node = {k: v for k, v in node.items() if k == "$ref" or k in _CONTAINERS}
            if dialect is Dialect.DRAFT_04 and isinstance(node.get("id"), str):
                node["$id"] = node.pop("id")
        _translate_items(node)
        _translate_dependencies(node)
        _translate_exclusive(node, "minimum", "exclusiveMinimum")
        _translate_exclusive(node, "maximum", "exclusiveMaximum")
        return node

    return rewrite_subschemas(schema, rewrite)


def _translate_items(node: dict[str, Any]) -> None:
    items = node.get("items")
    if isinstance(items, list) and "prefixItems" not in node:
        node["prefixItems"] = as_array(node.pop("items"))
        if "additionalItems" in node:
            node["items"] = node.pop("additionalItems")
    node.pop("additionalItems", None)  # without an items array it has no effect


def _translate_dependencies(node: dict[str, Any]) -> None:
    if "dependencies" not in node:
        return
    required = dict(as_mapping(node.get("dependentRequired")))
    schemas = dict(as_mapping(node.get("dependentSchemas")))
    for trigger, value in as_mapping(node.pop("dependencies")).items():
        if isinstance(value, list):
            required[trigger] = [*as_array(required.get(trigger)), *as_array(value)]
        elif isinstance(value, (dict, bool)):
            schemas[trigger] = {"allOf": [schemas[trigger], value]} if trigger in schemas else value
    if required:
        node["dependentRequired"] = required
    if schemas:
        node["dependentSchemas"] = schemas


def _translate_exclusive(node: dict[str, Any], inclusive: str, exclusive: str) -> None:
    """Draft-04: ``exclusiveMinimum: true`` makes ``minimum`` exclusive."""
    flag = node.get(exclusive)
    if not isinstance(flag, bool):
        return
    del node[exclusive]
    if flag and inclusive in node:
        node[exclusive] = node.pop(inclusive)
