"""Rewriting a schema document subschema by subschema (keyword-aware: values of ``const``/``enum`` and
property names are data, never schemas)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from triggers_server.domain.registry.compat.values import as_array, as_mapping, as_object

# keywords whose value is one subschema, a list of subschemas (or, for ``items``, either), or a map of them
SCHEMA_VALUED = (
    "additionalProperties",
    "unevaluatedProperties",
    "items",
    "additionalItems",
    "unevaluatedItems",
    "contains",
    "propertyNames",
    "not",
    "if",
    "then",
    "else",
    "contentSchema",
)
SCHEMA_LISTS = ("allOf", "anyOf", "oneOf", "prefixItems", "items")
SCHEMA_MAPS = ("properties", "patternProperties", "$defs", "definitions", "dependentSchemas", "dependencies")

Rewrite = Callable[[dict[str, Any]], dict[str, Any]]


def rewrite_subschemas(schema: Any, rewrite: Rewrite) -> Any:
    """A copy of ``schema`` where every object subschema, innermost first, is replaced by ``rewrite(it)``.

    ``rewrite`` receives a fresh dict (its subschemas already rewritten) and may change it in place.
    """
    obj = as_object(schema)
    if obj is None:
        return schema
    out: dict[str, Any] = {}
    for keyword, value in obj.items():
        if keyword in SCHEMA_MAPS and isinstance(value, dict):
            out[keyword] = {name: _child(sub, rewrite) for name, sub in as_mapping(value).items()}
        elif keyword in SCHEMA_LISTS and isinstance(value, list):
            out[keyword] = [_child(sub, rewrite) for sub in as_array(value)]
        elif keyword in SCHEMA_VALUED:
            out[keyword] = _child(value, rewrite)
        else:
            out[keyword] = value
    return rewrite(out)


def _child(value: Any, rewrite: Rewrite) -> Any:
    # `dependencies` maps to string lists as well as to schemas: only objects are subschemas here
    return rewrite_subschemas(value, rewrite) if isinstance(value, dict) else value
