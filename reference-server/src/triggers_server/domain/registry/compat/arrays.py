"""Array keywords: item models (``prefixItems``/``items``; draft-07 ``items`` arrays arrive translated),
``contains``, ``uniqueItems`` and the item counts."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from referencing._core import Resolver

from triggers_server.domain.registry.compat.counts import check_counts
from triggers_server.domain.registry.compat.findings import Incompatibility, pointer
from triggers_server.domain.registry.compat.nodes import Comparison, Node, enter, keywords
from triggers_server.domain.registry.compat.values import as_array


@dataclass(frozen=True)
class _Items:
    """Array item model: per-position schemas, then the schema for every further item (None = any)."""

    prefix: list[Any]
    rest: Any
    rest_keyword: str = "items"


def _items_model(schema: dict[str, Any]) -> _Items | None:
    if "prefixItems" in schema and isinstance(schema["prefixItems"], list):
        return _Items(as_array(schema["prefixItems"]), schema.get("items"))
    if "items" in schema:
        return _Items([], schema["items"])
    return None


def check_arrays(
    compare: Comparison, writer: list[Node], reader: dict[str, Any], resolver: Resolver[Any], path: str
) -> list[Incompatibility]:
    problems = check_counts(writer, reader, "minItems", "maxItems", "array_length_narrowed", path)
    if reader.get("uniqueItems") is True and not any(keywords(w).get("uniqueItems") is True for w in writer):
        problems.append(Incompatibility(pointer(path, "uniqueItems"), "unique_items_added", "items must now be unique"))
    reader_items = _items_model(reader)
    if reader_items is not None:
        # findings name the keyword as written (`unevaluatedItems` read as `items`)
        written = replace(reader_items, rest_keyword=compare.written_as(reader, reader_items.rest_keyword))
        problems += _check_items(compare, writer, written, resolver, path)
    if "contains" in reader:
        problems += _check_contains(compare, writer, reader, resolver, path)
    return problems


def _check_items(
    compare: Comparison, writer: list[Node], reader: _Items, resolver: Resolver[Any], path: str
) -> list[Incompatibility]:
    models = [(model, enter(w)) for w in writer if (model := _items_model(keywords(w))) is not None]
    max_items = min((int(m) for w in writer if isinstance(m := keywords(w).get("maxItems"), int)), default=None)
    longest_prefix = max((len(model.prefix) for model, _ in models), default=0)
    beyond = max(longest_prefix, len(reader.prefix))
    problems: list[Incompatibility] = []
    for position in range(beyond + 1):
        if max_items is not None and position >= max_items:
            break
        writer_schemas = _writer_item_schemas(models, position)
        if writer_schemas is None:
            break  # the writer never produces an item at this position
        further = position == beyond
        if position < len(reader.prefix):
            reader_schema, reader_path = reader.prefix[position], pointer(path, "prefixItems", position)
        else:
            reader_schema, reader_path = reader.rest, pointer(path, reader.rest_keyword)
        what = "further array items" if further else f"array item {position}"
        problems += _check_member(compare, writer_schemas, reader_schema, resolver, reader_path, what)
    return problems


def _writer_item_schemas(models: list[tuple[_Items, Resolver[Any]]], position: int) -> list[Node] | None:
    """Every writer subschema for the array item at ``position``; None when no such item can exist."""
    found: list[Node] = []
    for model, resolver in models:
        schema = model.prefix[position] if position < len(model.prefix) else model.rest
        if schema is False:
            return None
        if schema is not None and schema is not True:
            found.append(Node(schema, resolver))
    return found


def _check_member(
    compare: Comparison, writer: list[Node], reader_schema: Any, resolver: Resolver[Any], path: str, what: str
) -> list[Incompatibility]:
    """Array members: ``writer`` holds every writer subschema for them (empty = any value)."""
    if reader_schema is None or reader_schema is True:
        return []
    if not writer:
        if compare.check_open(reader_schema, resolver, path):
            return [
                Incompatibility(path, "items_narrowed", f"{what} are now constrained (the writer allowed any value)")
            ]
        return []
    return compare.check(writer, Node(reader_schema, resolver), path)


def _check_contains(
    compare: Comparison, writer: list[Node], reader: dict[str, Any], resolver: Resolver[Any], path: str
) -> list[Incompatibility]:
    contains_path = pointer(path, "contains")
    for node in writer:
        w = keywords(node)
        if "contains" not in w:
            continue
        problems = compare.check([Node(w["contains"], enter(node))], Node(reader["contains"], resolver), contains_path)
        if problems:
            return problems
        return check_counts([node], reader, "minContains", "maxContains", "contains_narrowed", path)
    return [Incompatibility(contains_path, "contains_added", "arrays must now contain a matching item")]
