"""Schema evolution docs: what changed, field by field, from each version of a type's schema to the next.

The fields of a JSON Schema are its `properties`, walked recursively (array items as `field[]`); for each one
the page records its type, whether it is required, its enum/const values and its format, and names what
changed between consecutive versions: the console's schema view, as Markdown for a repository."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast


@dataclass(frozen=True)
class Field:
    type: str
    required: bool
    values: tuple[str, ...] | None  # enum or const, as JSON text
    format: str | None


@dataclass(frozen=True)
class Change:
    field: str
    what: str


@dataclass(frozen=True)
class Version:
    number: int
    created_at: str
    schema: Mapping[str, Any]


def _mapping(value: object) -> Mapping[str, Any]:
    return cast("Mapping[str, Any]", value) if isinstance(value, Mapping) else {}


def _type_of(schema: Mapping[str, Any]) -> str:
    declared = schema.get("type")
    if isinstance(declared, list):
        return " | ".join(str(name) for name in cast("list[object]", declared))
    if isinstance(declared, str):
        return declared
    return "object" if "properties" in schema else "any"


def _values(schema: Mapping[str, Any]) -> tuple[str, ...] | None:
    if "const" in schema:
        return (json.dumps(schema["const"]),)
    enum = schema.get("enum")
    if isinstance(enum, list):
        return tuple(json.dumps(value) for value in cast("list[object]", enum))
    return None


def fields(schema: Mapping[str, Any], prefix: str = "") -> dict[str, Field]:
    """Every field of `schema`, by dotted path (`customer.email`, `items[].sku`)."""
    found: dict[str, Field] = {}
    required = {str(name) for name in cast("list[object]", schema.get("required") or [])}
    for name, raw in _mapping(schema.get("properties")).items():
        child = _mapping(raw)
        path = f"{prefix}{name}"
        found[path] = Field(_type_of(child), name in required, _values(child), child.get("format"))
        found.update(fields(child, path + "."))
        items = _mapping(child.get("items"))
        if items:
            found.update(fields(items, path + "[]."))
    return found


def _describe(field: Field) -> str:
    parts = [("required" if field.required else "optional"), f"`{field.type}`"]
    if field.format:
        parts.append(f"format `{field.format}`")
    if field.values is not None:
        parts.append("one of " + ", ".join(f"`{value}`" for value in field.values))
    return ", ".join(parts)


def changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[Change]:
    """What changed from `old` to `new`, field by field, in field order."""
    before, after = fields(old), fields(new)
    found: list[Change] = []
    for path in sorted(before.keys() | after.keys()):
        was, now = before.get(path), after.get(path)
        if was is None and now is not None:
            found.append(Change(path, "added: " + _describe(now)))
        elif now is None and was is not None:
            found.append(Change(path, "removed"))
        elif was is not None and now is not None:
            if was.type != now.type:
                found.append(Change(path, f"type `{was.type}` → `{now.type}`"))
            if was.required != now.required:
                found.append(Change(path, "now required" if now.required else "no longer required"))
            if was.values != now.values:
                found.append(Change(path, _values_change(was.values, now.values)))
            if was.format != now.format:
                found.append(Change(path, f"format `{was.format or 'none'}` → `{now.format or 'none'}`"))
    return found


def _values_change(was: tuple[str, ...] | None, now: tuple[str, ...] | None) -> str:
    if was is None:
        return "now restricted to " + ", ".join(f"`{value}`" for value in now or ())
    if now is None:
        return "no longer restricted to listed values"
    added = [value for value in now if value not in was]
    removed = [value for value in was if value not in now]
    parts = (["added " + ", ".join(f"`{v}`" for v in added)] if added else []) + (
        ["removed " + ", ".join(f"`{v}`" for v in removed)] if removed else []
    )
    return "values: " + "; ".join(parts)


def _cell(text: str) -> str:
    """Markdown table cell text: a literal pipe would end the cell."""
    return text.replace("|", "\\|")


def _table(rows: Iterable[tuple[str, str]]) -> list[str]:
    lines = ["| field | change |", "| --- | --- |"]
    lines += [f"| `{field}` | {_cell(what)} |" for field, what in rows]
    return lines


def markdown(event_type: str, versions: Sequence[Version]) -> str:
    """The evolution page: version 1's fields, then each later version's changes against the one before."""
    ordered = sorted(versions, key=lambda version: version.number)
    lines = [f"# `{event_type}`: schema evolution", ""]
    if not ordered:
        return "\n".join([*lines, "No schema versions are registered.", ""])
    first = ordered[0]
    lines += [f"## Version {first.number} ({first.created_at})", ""]
    lines += _table((path, _describe(field)) for path, field in fields(first.schema).items())
    for previous, version in itertools.pairwise(ordered):
        lines += ["", f"## Version {version.number} ({version.created_at})", ""]
        found = changes(previous.schema, version.schema)
        lines += _table((change.field, change.what) for change in found) if found else ["No field changes."]
    return "\n".join(lines) + "\n"
