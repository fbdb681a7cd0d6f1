"""Jinja filters for the Python SDK templates: contract types as Python annotations.

Output types name the generated pydantic models (``types.Event``); input types are what a caller may
pass, so object refs also accept plain mappings and open enums also accept any string.
"""

from __future__ import annotations

import keyword
import re
import sys
from collections.abc import Callable
from pathlib import Path
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


# A discriminated union field as datamodel-code-generator writes it: the member list, then its Field(...)
# naming the discriminator.
_DISCRIMINATED_UNION = re.compile(
    r"(?P<head>Annotated\[\s*)(?P<members>\w+(?:\s*\|\s*\w+)+)(?P<field>,\s*Field\([^()]*?)"
    r"discriminator=(?P<quote>['\"])\w+(?P=quote)"
)


def open_unions(source: str) -> str:
    """Make generated discriminated unions forward compatible.

    A response carrying a variant added to the contract later must still decode, so every
    ``A | B`` with ``discriminator=`` becomes ``A | B | UnknownVariant`` tried left to right (each
    known member has a ``Literal`` tag, so the first match is the tagged one).
    """
    rewritten, count = _DISCRIMINATED_UNION.subn(
        lambda m: f'{m["head"]}{m["members"]} | UnknownVariant{m["field"]}union_mode="left_to_right"', source
    )
    if count and "UnknownVariant" not in source.split("\nclass ", 1)[0]:
        rewritten = rewritten.replace(
            "from zapier_triggers._models import BaseModel",
            "from zapier_triggers._models import BaseModel, UnknownVariant",
            1,
        )
    return rewritten


def filters() -> dict[str, Callable[..., Any]]:
    return {
        "py_type": py_type,
        "py_input_type": py_input_type,
        "py_name": py_name,
        "py_repr": py_repr,
    }


if __name__ == "__main__":
    # Post-processing step of the Python models generator (codegen/config/python.yaml):
    #   python codegen/lang/python.py open-unions <generated models file>
    command, target = sys.argv[1:3]
    if command != "open-unions":
        sys.exit(f"unknown command {command!r}")
    path = Path(target)
    path.write_text(open_unions(path.read_text()))
