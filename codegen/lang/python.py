"""Jinja filters for the Python SDK templates: contract types as Python annotations.

Output types name the generated pydantic models (``types.Event``); input types are what a caller may
pass, so object refs also accept plain mappings and open enums also accept any string.
"""

from __future__ import annotations

import keyword
from collections.abc import Callable
from typing import Any

_SCALARS = {
    "string": "str",
    "integer": "int",
    "number": "float",
    "boolean": "bool",
    "any": "Any",
}


def _schema_kind(schema: dict[str, Any]) -> str:
    if "enum" in schema:
        return "enum"
    if schema.get("type") == "object" and "properties" in schema:
        return "model"
    if "oneOf" in schema or "anyOf" in schema or schema.get("type") == "object":
        return "mapping"
    raw = schema.get("type")
    return raw if isinstance(raw, str) else "any"


def py_type(tref: dict[str, Any], schemas: dict[str, Any] | None = None) -> str:
    """Annotation for a value the SDK returns."""
    return _render(tref, schemas or {}, as_input=False)


def py_input_type(tref: dict[str, Any], schemas: dict[str, Any] | None = None) -> str:
    """Annotation for a value the caller passes (mappings for models, str for open enums)."""
    return _render(tref, schemas or {}, as_input=True)


def _render(tref: dict[str, Any], schemas: dict[str, Any], *, as_input: bool) -> str:
    kind = tref["kind"]
    if kind == "ref":
        text = _ref(tref["ref"], schemas, as_input=as_input)
    elif kind == "array":
        inner = _render(tref["items"], schemas, as_input=as_input) if tref.get("items") else "Any"
        text = f"Sequence[{inner}]" if as_input else f"list[{inner}]"
    elif kind == "object":
        values = _render(tref["values"], schemas, as_input=as_input) if tref.get("values") else "Any"
        text = f"Mapping[str, {values}]" if as_input else f"dict[str, {values}]"
    elif kind == "string" and tref.get("format") == "date-time":
        text = "datetime | str" if as_input else "datetime"
    else:
        text = _SCALARS[kind]
    return f"{text} | None" if tref.get("nullable") and text != "Any" else text


def _ref(name: str, schemas: dict[str, Any], *, as_input: bool) -> str:
    schema = schemas.get(name, {})
    kind = _schema_kind(schema)
    if kind == "enum":
        return "str" if as_input else f"api_types.{name}"
    if kind == "model":
        return f"api_types.{name} | Mapping[str, Any]" if as_input else f"api_types.{name}"
    if kind == "mapping":
        return "Mapping[str, Any]" if as_input else "dict[str, Any]"
    return _SCALARS.get(kind, "Any")


def py_name(name: str) -> str:
    """A parameter name that is a valid identifier (``from`` → ``from_``)."""
    return name + "_" if keyword.iskeyword(name) else name


def py_repr(value: Any) -> str:
    """A Python literal for a JSON default value."""
    return repr(value)


def filters() -> dict[str, Callable[..., Any]]:
    return {
        "py_type": py_type,
        "py_input_type": py_input_type,
        "py_name": py_name,
        "py_repr": py_repr,
    }
