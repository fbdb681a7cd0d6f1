"""Jinja filters for Python templates: contract types as Python annotations."""

from __future__ import annotations

from typing import Any, Callable

_SCALARS = {"string": "str", "integer": "int", "number": "float", "boolean": "bool", "any": "object"}


def py_type(tref: dict[str, Any]) -> str:
    kind = tref["kind"]
    if kind == "ref":
        text = tref["ref"]
    elif kind == "array":
        text = f"list[{py_type(tref['items'])}]" if tref.get("items") else "list[object]"
    elif kind == "object":
        text = f"dict[str, {py_type(tref['values'])}]" if tref.get("values") else "dict[str, object]"
    elif kind == "string" and tref.get("format") == "date-time":
        text = "datetime"
    else:
        text = _SCALARS[kind]
    return f"{text} | None" if tref.get("nullable") and text != "object" else text


def filters() -> dict[str, Callable[..., Any]]:
    return {"py_type": py_type}
