"""Object keywords: content models (``properties``, ``patternProperties``, ``additionalProperties``),
``required``, dependencies (``dependentRequired``/``dependentSchemas``; draft-07 ``dependencies`` arrive translated),
``propertyNames`` and the property counts."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from referencing._core import Resolver

from triggers_server.domain.registry.compat.counts import check_counts
from triggers_server.domain.registry.compat.findings import Incompatibility, pointer
from triggers_server.domain.registry.compat.nodes import Comparison, Node, enter, keywords
from triggers_server.domain.registry.compat.values import as_mapping, as_strings, matches


def check_objects(
    compare: Comparison, writer: list[Node], reader: dict[str, Any], resolver: Resolver[Any], path: str
) -> list[Incompatibility]:
    problems = check_counts(writer, reader, "minProperties", "maxProperties", "property_count_narrowed", path)
    writer_required = {name for w in writer for name in as_strings(keywords(w).get("required"))}
    for name in as_strings(reader.get("required")):
        if name not in writer_required:
            problems.append(
                Incompatibility(pointer(path, "required"), "required_added", f"property {name!r} is now required")
            )
    problems += _check_properties(compare, writer, reader, resolver, path)
    problems += _check_dependencies(compare, writer, reader, resolver, path, writer_required)
    if "propertyNames" in reader:
        names = [Node(keywords(w)["propertyNames"], enter(w)) for w in writer if "propertyNames" in keywords(w)]
        if names:
            problems += compare.check(names, Node(reader["propertyNames"], resolver), pointer(path, "propertyNames"))
        else:
            problems.append(
                Incompatibility(
                    pointer(path, "propertyNames"),
                    "property_names_narrowed",
                    "property names are now constrained",
                )
            )
    return problems


def _check_properties(
    compare: Comparison, writer: list[Node], reader: dict[str, Any], resolver: Resolver[Any], path: str
) -> list[Incompatibility]:
    problems: list[Incompatibility] = []
    reader_properties = as_mapping(reader.get("properties"))
    reader_patterns = as_mapping(reader.get("patternProperties"))
    additional = (
        (compare.written_as(reader, "additionalProperties"), reader["additionalProperties"])
        if "additionalProperties" in reader
        else None
    )
    writer_declared = {name for w in writer for name in as_mapping(keywords(w).get("properties"))}
    for name in sorted(writer_declared | set(reader_properties)):
        writer_schemas = _writer_member_schemas(writer, name)
        name_path = pointer(path, "properties", name)
        targets: list[tuple[Any, str]] = []
        if name in reader_properties:
            targets.append((reader_properties[name], name_path))
        targets += [(s, pointer(path, "patternProperties", p)) for p, s in reader_patterns.items() if matches(p, name)]
        if not targets and additional is not None:
            targets.append((additional[1], pointer(path, additional[0])))
        for target, target_path in targets:
            found = (
                compare.check(writer_schemas, Node(target, resolver), target_path)
                if writer_schemas
                else compare.check_open(target, resolver, target_path)
            )
            if not found:
                continue
            if name not in writer_declared and not writer_schemas:
                problems.append(
                    Incompatibility(
                        name_path,
                        "property_added_to_open_model",
                        f"property {name!r} is now constrained, but the writer's open content model"
                        " allowed any value for it",
                    )
                )
            elif additional is not None and target_path == pointer(path, additional[0]):
                problems.append(
                    Incompatibility(
                        name_path,
                        "property_removed_from_closed_model",
                        f"property {name!r} was removed and the reader's {additional[0]} does not accept its values",
                    )
                )
            else:
                problems += found
    for pattern, target in reader_patterns.items():
        same = [
            Node(as_mapping(keywords(w).get("patternProperties"))[pattern], enter(w))
            for w in writer
            if pattern in as_mapping(keywords(w).get("patternProperties"))
        ]
        others = same or _writer_additional(writer)
        pattern_path = pointer(path, "patternProperties", pattern)
        found = (
            compare.check(others, Node(target, resolver), pattern_path)
            if others
            else compare.check_open(target, resolver, pattern_path)
        )
        if found:
            problems.append(
                Incompatibility(
                    pattern_path,
                    "pattern_property_narrowed",
                    f"properties matching {pattern!r} are now constrained more than the writer allowed",
                )
            )
    if additional is not None:
        keyword, additional_schema = additional
        kind = "unevaluated_narrowed" if keyword == "unevaluatedProperties" else "additional_properties_narrowed"
        additional_path = pointer(path, keyword)
        target_node = Node(additional_schema, resolver)
        for w in writer:
            for pattern, schema in as_mapping(keywords(w).get("patternProperties")).items():
                if pattern not in reader_patterns and compare.check(
                    [Node(schema, enter(w))], target_node, additional_path
                ):
                    problems.append(
                        Incompatibility(
                            additional_path,
                            kind,
                            f"properties matching {pattern!r} are no longer accepted as additional properties",
                        )
                    )
        others = _writer_additional(writer)
        found = (
            compare.check(others, target_node, additional_path)
            if others
            else compare.check_open(additional_schema, resolver, additional_path)
        )
        if found:
            problems.append(
                Incompatibility(
                    additional_path,
                    kind,
                    "additional properties the writer allowed are rejected or constrained",
                )
            )
    return problems


def _writer_member_schemas(writer: list[Node], name: str) -> list[Node]:
    """Every writer subschema that applies to property ``name`` (empty = any value allowed)."""
    out: list[Node] = []
    for node in writer:
        schema = keywords(node)
        resolver = enter(node)
        properties = as_mapping(schema.get("properties"))
        patterns = [s for p, s in as_mapping(schema.get("patternProperties")).items() if matches(p, name)]
        if name in properties:
            out.append(Node(properties[name], resolver))
        out += [Node(s, resolver) for s in patterns]
        if name not in properties and not patterns and "additionalProperties" in schema:
            out.append(Node(schema["additionalProperties"], resolver))
    return out


def _writer_additional(writer: list[Node]) -> list[Node]:
    """Writer subschemas for property names it does not declare (empty = any value allowed)."""
    return [
        Node(keywords(w)["additionalProperties"], enter(w)) for w in writer if "additionalProperties" in keywords(w)
    ]


def _check_dependencies(
    compare: Comparison,
    writer: list[Node],
    reader: dict[str, Any],
    resolver: Resolver[Any],
    path: str,
    writer_required: set[str],
) -> list[Incompatibility]:
    problems: list[Incompatibility] = []
    for keyword, trigger, requirement in _dependent_required(reader):
        have = set(writer_required)
        for w in writer:
            for _, w_trigger, w_requirement in _dependent_required(keywords(w)):
                if w_trigger == trigger:
                    have.update(w_requirement)
        missing = sorted(set(requirement) - have)
        if missing:
            problems.append(
                Incompatibility(
                    pointer(path, keyword, trigger),
                    "dependent_required_added",
                    f"when {trigger!r} is present, {missing} are now required",
                )
            )
    for keyword, trigger, schema in _dependent_schemas(reader):
        writer_schemas = [
            Node(s, enter(w)) for w in writer for _, t, s in _dependent_schemas(keywords(w)) if t == trigger
        ]
        dep_path = pointer(path, keyword, trigger)
        if not writer_schemas:
            problems.append(
                Incompatibility(dep_path, "dependent_schema_added", f"a schema now applies when {trigger!r} is present")
            )
        else:
            problems += compare.check(writer + writer_schemas, Node(schema, resolver), dep_path)
    return problems


def _dependent_required(schema: dict[str, Any]) -> Iterator[tuple[str, str, list[str]]]:
    for trigger, value in as_mapping(schema.get("dependentRequired")).items():
        if isinstance(value, list):
            yield "dependentRequired", trigger, as_strings(value)


def _dependent_schemas(schema: dict[str, Any]) -> Iterator[tuple[str, str, Any]]:
    for trigger, value in as_mapping(schema.get("dependentSchemas")).items():
        if isinstance(value, (dict, bool)):
            yield "dependentSchemas", trigger, value
