"""Jinja filters for TypeScript templates: contract types as TypeScript types."""

from __future__ import annotations

from typing import Any, Callable

_SCALARS = {"string": "string", "integer": "number", "number": "number", "boolean": "boolean", "any": "unknown"}


def ts_type(tref: dict[str, Any]) -> str:
    kind = tref["kind"]
    if kind == "ref":
        text = f'components["schemas"]["{tref["ref"]}"]'
    elif kind == "array":
        inner = ts_type(tref["items"]) if tref.get("items") else "unknown"
        text = f"Array<{inner}>"
    elif kind == "object":
        text = f"Record<string, {ts_type(tref['values'])}>" if tref.get("values") else "Record<string, unknown>"
    else:
        text = _SCALARS[kind]
    return f"{text} | null" if tref.get("nullable") and text != "unknown" else text


def filters() -> dict[str, Callable[..., Any]]:
    return {"ts_type": ts_type}
