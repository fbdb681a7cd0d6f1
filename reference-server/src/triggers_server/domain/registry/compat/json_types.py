"""The JSON types and values a schema admits: ``type``, ``enum`` and ``const``."""

from __future__ import annotations

import json
from typing import Any

from triggers_server.domain.registry.compat.findings import Incompatibility, pointer
from triggers_server.domain.registry.compat.nodes import Node, keywords
from triggers_server.domain.registry.compat.values import as_array, as_object, canonical, value_type


def type_set(schema: dict[str, Any]) -> frozenset[str] | None:
    """The types ``schema`` declares (None = no ``type`` keyword)."""
    declared = schema.get("type")
    if isinstance(declared, str):
        return frozenset({declared})
    if isinstance(declared, list):
        return frozenset(t for t in as_array(declared) if isinstance(t, str))
    return None


def type_covered(writer_type: str, reader_types: frozenset[str]) -> bool:
    return writer_type in reader_types or (writer_type == "integer" and "number" in reader_types)


def may_be(types: frozenset[str] | None, *kinds: str) -> bool:
    if types is None:
        return True
    wanted = set(kinds)
    if "number" in wanted:
        wanted.add("integer")
    return bool(types & wanted)


def enum_values(schema: dict[str, Any]) -> list[Any] | None:
    """The values ``const`` or ``enum`` allow (None = not restricted to a list)."""
    if "const" in schema:
        return [schema["const"]]
    if isinstance(schema.get("enum"), list):
        return as_array(schema["enum"])
    return None


def writer_types(writer: list[Node]) -> frozenset[str] | None:
    """The JSON types a writer payload can have (None = any), from ``type`` and ``enum``/``const``."""
    result: frozenset[str] | None = None
    for node in writer:
        values = enum_values(keywords(node))
        for types in (
            type_set(keywords(node)),
            frozenset(map(value_type, values)) if values is not None else None,
        ):
            result = _intersect_types(result, types)
    return result


def _intersect_types(result: frozenset[str] | None, types: frozenset[str] | None) -> frozenset[str] | None:
    if types is None:
        return result
    if result is None:
        return types
    merged = {t for t in result if type_covered(t, types)} | {t for t in types if type_covered(t, result)}
    return frozenset(merged)


def check_enum(writer: list[Node], reader: dict[str, Any], path: str) -> list[Incompatibility]:
    """The reader's ``enum``/``const`` must include every value some writer conjunct is limited to."""
    allowed = enum_values(reader)
    if allowed is None:
        return []
    keyword = "const" if "const" in reader else "enum"
    allowed_keys = {canonical(v) for v in allowed}
    for node in writer:
        values = enum_values(keywords(node))
        if values is not None and all(canonical(v) in allowed_keys for v in values):
            return []
    return [
        Incompatibility(pointer(path, keyword), "enum_narrowed", f"values restricted to {json.dumps(allowed)[:200]}")
    ]


def admitted_types(schema: Any) -> frozenset[str] | None:
    """The JSON types a subschema's own ``type``/``enum``/``const`` admit (None = any; ``false``: none)."""
    if schema is False:
        return frozenset()
    obj = as_object(schema)
    if obj is None:
        return None
    values = enum_values(obj)
    return _intersect_types(type_set(obj), frozenset(map(value_type, values)) if values is not None else None)


def provably_disjoint(first: Any, second: Any) -> bool:
    """No instance can match both subschemas: their types or their listed values do not overlap."""
    a, b = admitted_types(first), admitted_types(second)
    if a is not None and b is not None:
        if not any(type_covered(x, b) for x in a) and not any(type_covered(y, a) for y in b):
            return True
    a_values = enum_values(as_object(first) or {})
    b_values = enum_values(as_object(second) or {})
    if a_values is not None and b_values is not None:
        return not {canonical(v) for v in a_values} & {canonical(v) for v in b_values}
    return False


def split_by_type(writer: list[Node]) -> list[str] | None:
    """The writer's JSON types when there are several (so each can be judged on its own), else None."""
    types = writer_types(writer)
    if types is None or len(types) < 2:
        return None
    # an integer is a number: judging "number" covers the integers too
    parts = sorted(t for t in types if not (t == "integer" and "number" in types))
    return parts if len(parts) > 1 else None
