"""Typed views of decoded JSON (schemas arrive as ``Any``) and value-level equality."""

from __future__ import annotations

import json
from typing import Any, cast

from regress import RegressError

from triggers_server.domain.registry.ecma import search


def as_object(value: Any) -> dict[str, Any] | None:
    return cast("dict[str, Any]", value) if isinstance(value, dict) else None


def as_array(value: Any) -> list[Any]:
    # list[object], not list[Any]: mypy calls a cast to list[Any] redundant, pyright needs one
    return cast("list[object]", value) if isinstance(value, list) else []


def as_mapping(value: Any) -> dict[str, Any]:
    return as_object(value) or {}


def as_strings(value: Any) -> list[str]:
    return [v for v in as_array(value) if isinstance(v, str)]


def canonical(value: Any) -> str:
    """JSON text used for equality: key order ignored, 1 == 1.0, but true != 1."""

    def normalise(v: Any) -> Any:
        if isinstance(v, bool) or v is None or isinstance(v, str):
            return v
        if isinstance(v, float) and v.is_integer():
            return int(v)
        obj = as_object(v)
        if obj is not None:
            return {k: normalise(x) for k, x in obj.items()}
        if isinstance(v, list):
            return [normalise(x) for x in as_array(v)]
        return v

    return json.dumps(normalise(value), sort_keys=True)


def value_type(value: Any) -> str:
    """The JSON type of a decoded value (integral floats are integers)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int) or (isinstance(value, float) and value.is_integer()):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def matches(pattern: str, name: str) -> bool:
    """ECMA-262 search; a pattern the engine cannot compile matches nothing."""
    try:
        return search(pattern, name)
    except RegressError:
        return False
