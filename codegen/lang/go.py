"""Jinja filters for Go templates: contract types as Go types."""

from __future__ import annotations

from typing import Any, Callable

_SCALARS = {"string": "string", "integer": "int", "number": "float64", "boolean": "bool", "any": "any"}


def go_type(tref: dict[str, Any]) -> str:
    kind = tref["kind"]
    if kind == "ref":
        text = tref["ref"]
    elif kind == "array":
        text = "[]" + (go_type(tref["items"]) if tref.get("items") else "any")
    elif kind == "object":
        text = "map[string]" + (go_type(tref["values"]) if tref.get("values") else "any")
    elif kind == "string" and tref.get("format") == "date-time":
        text = "time.Time"
    else:
        text = _SCALARS[kind]
    if tref.get("nullable") and not text.startswith(("[]", "map[")) and text != "any":
        return "*" + text
    return text


def filters() -> dict[str, Callable[..., Any]]:
    return {"go_type": go_type}
