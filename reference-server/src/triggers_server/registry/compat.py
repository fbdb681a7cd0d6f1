"""Rule-based compatibility check between two JSON Schemas (the seven Confluent modes).

The core question is asymmetric: "can every payload a *writer* schema accepts be read by a *reader*
schema?". BACKWARD asks it with the previous version as writer and the candidate as reader; FORWARD the
other way round; FULL both. The answer is rule-based rather than a full language-inclusion proof: each
keyword of the reader must be implied by the writer (same or stricter constraint), combinators are
compared branch by branch, and anything the rules cannot prove is reported as an incompatibility.

Content models (see ``semantics.md`` §6): a property the reader constrains but the writer left open
("open content model") is an incompatibility, because old payloads may hold that name with any value;
a property the writer declared that the reader no longer lists is checked against the reader's
``patternProperties``/``additionalProperties`` ("partially open" / closed models).

Legacy keywords found in real-world schemas (draft-04..07 ``items`` arrays, ``additionalItems``,
``dependencies``, ``definitions``, boolean ``exclusiveMinimum``) are understood as well. ``$ref`` is
followed within the schema (cycles are cut), ``patternProperties`` names match by ECMA-262, and ``oneOf``
is compared branch-wise like ``anyOf`` (as Confluent and Apicurio do), except that anyOf → oneOf narrows.

Each finding's ``path`` is a JSON pointer along the keywords of the reader schema (the candidate for
BACKWARD, the registered version for FORWARD), through ``$ref`` as written, e.g.
``/properties/amount/type``. Comparisons that grow too large are reported as ``too_complex``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from fractions import Fraction
from typing import Any, cast

from referencing import Registry, Resource
from referencing._core import Resolver  # not re-exported by `referencing`; needed for annotations
from referencing.exceptions import Unresolvable
from referencing.jsonschema import DRAFT202012
from regress import RegressError

from .ecma import search

_ROOT_URI = "urn:triggers:compat-schema"


class CompatibilityMode(StrEnum):
    """The seven Confluent Schema Registry compatibility modes."""

    BACKWARD = "BACKWARD"
    BACKWARD_TRANSITIVE = "BACKWARD_TRANSITIVE"
    FORWARD = "FORWARD"
    FORWARD_TRANSITIVE = "FORWARD_TRANSITIVE"
    FULL = "FULL"
    FULL_TRANSITIVE = "FULL_TRANSITIVE"
    NONE = "NONE"

    @property
    def checks_backward(self) -> bool:
        return self in _BACKWARD_MODES

    @property
    def checks_forward(self) -> bool:
        return self in _FORWARD_MODES

    @property
    def transitive(self) -> bool:
        return self.value.endswith("_TRANSITIVE")


_BACKWARD_MODES = frozenset(
    {
        CompatibilityMode.BACKWARD,
        CompatibilityMode.BACKWARD_TRANSITIVE,
        CompatibilityMode.FULL,
        CompatibilityMode.FULL_TRANSITIVE,
    }
)
_FORWARD_MODES = frozenset(
    {
        CompatibilityMode.FORWARD,
        CompatibilityMode.FORWARD_TRANSITIVE,
        CompatibilityMode.FULL,
        CompatibilityMode.FULL_TRANSITIVE,
    }
)
DEFAULT_MODE = CompatibilityMode.BACKWARD


@dataclass(frozen=True)
class Incompatibility:
    """One reason a payload accepted by the writer schema may be rejected by the reader schema.

    ``path`` is a JSON pointer into the schema being checked (keywords and property names), ``kind`` a
    stable slug, ``detail`` a human sentence.
    """

    path: str
    kind: str
    detail: str
    against_version: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "kind": self.kind,
            "detail": self.detail,
            "against_version": self.against_version,
        }


@dataclass(frozen=True)
class _Node:
    """A subschema together with the resolver that knows its base URI (for ``$ref``)."""

    schema: Any
    resolver: Resolver[Any]


def _root(schema: Any) -> _Node:
    resource: Resource[Any] = Resource.from_contents(schema, default_specification=DRAFT202012)
    registry: Registry[Any] = Registry[Any]().with_resource(_ROOT_URI, resource)
    return _Node(schema, registry.resolver(_ROOT_URI))


def _pointer(path: str, *tokens: str | int) -> str:
    for token in tokens:
        path += "/" + str(token).replace("~", "~0").replace("/", "~1")
    return path


def _canonical(value: Any) -> str:
    """JSON text used for equality: key order ignored, 1 == 1.0, but true != 1."""

    def normalise(v: Any) -> Any:
        if isinstance(v, bool) or v is None or isinstance(v, str):
            return v
        if isinstance(v, float) and v.is_integer():
            return int(v)
        obj = _object(v)
        if obj is not None:
            return {k: normalise(x) for k, x in obj.items()}
        if isinstance(v, list):
            return [normalise(x) for x in _array(v)]
        return v

    return json.dumps(normalise(value), sort_keys=True)


def _type_set(schema: dict[str, Any]) -> frozenset[str] | None:
    declared = schema.get("type")
    if isinstance(declared, str):
        return frozenset({declared})
    if isinstance(declared, list):
        return frozenset(t for t in _array(declared) if isinstance(t, str))
    return None


def _type_covered(writer_type: str, reader_types: frozenset[str]) -> bool:
    return writer_type in reader_types or (writer_type == "integer" and "number" in reader_types)


def _may_be(types: frozenset[str] | None, *kinds: str) -> bool:
    if types is None:
        return True
    wanted = set(kinds)
    if "number" in wanted:
        wanted.add("integer")
    return bool(types & wanted)


def _as_number(value: Any) -> Fraction | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return Fraction(str(value)) if isinstance(value, float) else Fraction(value)


@dataclass(frozen=True)
class _Bound:
    value: Fraction
    exclusive: bool


def _lower_bound(schema: dict[str, Any]) -> _Bound | None:
    bounds: list[_Bound] = []
    minimum = _as_number(schema.get("minimum"))
    if minimum is not None:
        bounds.append(_Bound(minimum, schema.get("exclusiveMinimum") is True))
    exclusive = _as_number(schema.get("exclusiveMinimum"))
    if exclusive is not None:
        bounds.append(_Bound(exclusive, True))
    return max(bounds, key=lambda b: (b.value, b.exclusive), default=None)


def _upper_bound(schema: dict[str, Any]) -> _Bound | None:
    bounds: list[_Bound] = []
    maximum = _as_number(schema.get("maximum"))
    if maximum is not None:
        bounds.append(_Bound(maximum, schema.get("exclusiveMaximum") is True))
    exclusive = _as_number(schema.get("exclusiveMaximum"))
    if exclusive is not None:
        bounds.append(_Bound(exclusive, True))
    return min(bounds, key=lambda b: (b.value, not b.exclusive), default=None)


def _describe(bound: _Bound, lower: bool) -> str:
    op = (">" if bound.exclusive else ">=") if lower else ("<" if bound.exclusive else "<=")
    return f"{op} {bound.value}"


@dataclass(frozen=True)
class _Items:
    """Array item model: per-position schemas, then the schema for every further item (None = any)."""

    prefix: list[Any]
    rest: Any
    prefix_keyword: str = "prefixItems"


def _items_model(schema: dict[str, Any]) -> _Items | None:
    if "prefixItems" in schema and isinstance(schema["prefixItems"], list):
        return _Items(_array(schema["prefixItems"]), schema.get("items"))
    items = schema.get("items")
    if isinstance(items, list):
        return _Items(_array(items), schema.get("additionalItems"), "items")
    if "items" in schema:
        return _Items([], items)
    return None


def _string_values(schema: dict[str, Any], *keywords: str) -> Iterator[tuple[str, Any]]:
    for keyword in keywords:
        if keyword in schema:
            yield keyword, schema[keyword]


def _enter(node: _Node) -> Resolver[Any]:
    """The resolver for references inside ``node`` (a subschema ``$id`` changes the base URI)."""
    schema = _object(node.schema)
    identifier = schema.get("$id") if schema is not None else None
    if isinstance(identifier, str) and not identifier.startswith("#"):
        resource: Resource[Any] = Resource.from_contents(schema, default_specification=DRAFT202012)
        return node.resolver.in_subresource(resource)
    return node.resolver


CHECK_BUDGET = 50_000


class _TooComplex(Exception):
    """The comparison exceeded its budget of subschema comparisons."""


class _Checker:
    """Walks a writer schema (as a conjunction of subschemas) against one reader subschema."""

    def __init__(self, budget: int) -> None:
        self._active: set[tuple[tuple[int, ...], int]] = set()
        self._budget = budget
        self._stripped: dict[tuple[int, tuple[str, ...]], tuple[dict[str, Any], dict[str, Any]]] = {}
        self._texts: dict[int, tuple[Any, str]] = {}

    # -- conjunct expansion -------------------------------------------------------------------

    def _conjuncts(self, nodes: Sequence[_Node]) -> list[_Node]:
        """Flatten allOf and $ref so every listed subschema holds for each writer payload."""
        out: list[_Node] = []
        seen: set[int] = set()
        stack = list(reversed(nodes))
        while stack:
            node = stack.pop()
            if id(node.schema) in seen:
                continue
            seen.add(id(node.schema))
            schema = _object(node.schema)
            if schema is None:
                out.append(node)
                continue
            resolver = _enter(node)
            expanded: list[str] = []
            for ref_keyword in ("$ref", "$dynamicRef"):
                target = self._resolve(resolver, schema.get(ref_keyword))
                if target is not None:
                    stack.append(target)
                    expanded.append(ref_keyword)
            if "allOf" in schema:
                stack.extend(reversed([_Node(branch, resolver) for branch in _array(schema["allOf"])]))
                expanded.append("allOf")
            # keep the rest of the node without what was expanded, so a conjunct list never re-expands
            # a subschema that a caller has since replaced (e.g. one branch of a union)
            out.append(_Node(self._without(schema, *expanded), node.resolver) if expanded else node)
        return out

    def _same_schema(self, writer: _Node, reader: _Node) -> bool:
        """The very same subschema, or an equal one whose meaning cannot depend on its document."""
        if writer.schema is reader.schema and writer.resolver is reader.resolver:
            return True
        reader_text = self._text(reader.schema)
        if '"$ref"' in reader_text or '"$dynamicRef"' in reader_text or '"$id"' in reader_text:
            return False
        return writer.schema is reader.schema or self._text(writer.schema) == reader_text

    def _text(self, schema: Any) -> str:
        """Canonical JSON of ``schema``, computed once per object."""
        cached = self._texts.get(id(schema))
        if cached is None:
            cached = (schema, _canonical(schema))
            self._texts[id(schema)] = cached
        return cached[1]

    def _without(self, schema: dict[str, Any], *keywords: str) -> dict[str, Any]:
        """``schema`` minus ``keywords``; the same object for the same input, so cycle detection by
        identity keeps working."""
        key = (id(schema), keywords)
        cached = self._stripped.get(key)
        if cached is None:
            cached = (schema, {k: v for k, v in schema.items() if k not in keywords})
            self._stripped[key] = cached
        return cached[1]

    @staticmethod
    def _resolve(resolver: Resolver[Any], ref: Any) -> _Node | None:
        if not isinstance(ref, str):
            return None
        try:
            resolved = resolver.lookup(ref)
        except Unresolvable:
            return None
        return _Node(resolved.contents, resolved.resolver)

    # -- entry point --------------------------------------------------------------------------

    def check(self, writer: Sequence[_Node], reader: _Node, path: str) -> list[Incompatibility]:
        self._budget -= 1
        if self._budget < 0:
            raise _TooComplex
        conjuncts = self._conjuncts([*writer])
        if any(c.schema is False for c in conjuncts):
            return []  # the writer accepts nothing, so the reader can read everything it wrote
        if any(self._same_schema(c, reader) for c in [*writer, *conjuncts]):
            return []  # the writer includes the reader's own constraints
        key = (tuple(sorted(id(c.schema) for c in conjuncts)), id(reader.schema))
        if key in self._active:
            return []  # recursive schema: assume compatible on the cycle, judged by the other keywords
        self._active.add(key)
        try:
            problems = self._check_reader(conjuncts, reader, path)
            if problems and not _has_alternatives(reader.schema):
                distributed = self._distribute_writer_alternatives(conjuncts, reader, path)
                if distributed is not None:
                    return distributed
            return problems
        finally:
            self._active.discard(key)

    def _distribute_writer_alternatives(
        self, conjuncts: list[_Node], reader: _Node, path: str
    ) -> list[Incompatibility] | None:
        """If the writer is a union, it is compatible when every branch is."""
        for index, node in enumerate(conjuncts):
            schema = _object(node.schema)
            if schema is None:
                continue
            for keyword in ("anyOf", "oneOf"):
                branches = _array(schema.get(keyword))
                if not branches:
                    continue
                rest = [
                    *conjuncts[:index],
                    _Node(self._without(schema, keyword), node.resolver),
                    *conjuncts[index + 1 :],
                ]
                resolver = _enter(node)
                problems: list[Incompatibility] = []
                for branch in branches:
                    problems += self.check([*rest, _Node(branch, resolver)], reader, path)
                return problems if problems else []
        return None

    # -- reader decomposition -----------------------------------------------------------------

    def _check_reader(self, writer: list[_Node], reader: _Node, path: str) -> list[Incompatibility]:
        schema = reader.schema
        if schema is True or schema == {}:
            return []
        if schema is False:
            return [Incompatibility(path, "rejects_all", "the reader schema is `false` and rejects every payload")]
        schema = _object(schema)
        if schema is None:
            return []
        resolver = _enter(reader)
        problems: list[Incompatibility] = []
        for ref_keyword in ("$ref", "$dynamicRef"):
            if ref_keyword not in schema:
                continue
            target = self._resolve(resolver, schema[ref_keyword])
            if target is None:
                if not any(_dict(w).get(ref_keyword) == schema[ref_keyword] for w in writer):
                    problems.append(
                        Incompatibility(
                            _pointer(path, ref_keyword),
                            "reference_unresolvable",
                            f"cannot resolve {schema[ref_keyword]!r}; the writer uses another reference",
                        )
                    )
            else:
                problems += self.check(writer, target, path)
        if "allOf" in schema:
            for index, branch in enumerate(_array(schema["allOf"])):
                problems += self.check(writer, _Node(branch, resolver), _pointer(path, "allOf", index))
        for keyword in ("anyOf", "oneOf"):
            if keyword in schema:
                branches = _array(schema[keyword])
                problems += self._check_alternatives(
                    writer, keyword, [_Node(b, resolver) for b in branches], _pointer(path, keyword)
                )
        if "not" in schema:
            problems += self._check_not(writer, _Node(schema["not"], resolver), _pointer(path, "not"))
        if "if" in schema:
            problems += self._check_conditional(writer, schema, resolver, path)
        problems += self._check_keywords(writer, schema, resolver, path)
        return problems

    def _check_alternatives(
        self, writer: list[_Node], keyword: str, branches: list[_Node], path: str
    ) -> list[Incompatibility]:
        for index, node in enumerate(writer):
            schema = _object(node.schema)
            if schema is None:
                continue
            for writer_keyword in ("anyOf", "oneOf"):
                if writer_keyword not in schema:
                    continue
                writer_branches = _array(schema[writer_keyword])
                if keyword == "oneOf" and writer_keyword == "anyOf":
                    return [
                        Incompatibility(
                            path,
                            "composition_narrowed",
                            "anyOf became oneOf: payloads matching several branches are rejected",
                        )
                    ]
                rest = [
                    *writer[:index],
                    _Node(self._without(schema, writer_keyword), node.resolver),
                    *writer[index + 1 :],
                ]
                resolver = _enter(node)
                problems: list[Incompatibility] = []
                for position, branch in enumerate(writer_branches):
                    candidate = [*rest, _Node(branch, resolver)]
                    if not any(not self.check(candidate, reader_branch, path) for reader_branch in branches):
                        problems.append(
                            Incompatibility(
                                path,
                                "composition_narrowed",
                                f"{writer_keyword} branch {position} matches no {keyword} branch",
                            )
                        )
                return problems
        if any(not self.check(writer, branch, path) for branch in branches):
            return []
        return [
            Incompatibility(
                path,
                "composition_narrowed",
                f"the writer schema is not covered by any {keyword} branch of the reader",
            )
        ]

    def _check_not(self, writer: list[_Node], negated: _Node, path: str) -> list[Incompatibility]:
        writer_types = _writer_types(writer)
        negated_types = _type_set(_dict(negated))
        if writer_types is not None and negated_types is not None:
            if not any(
                _type_covered(w, negated_types) or _type_covered(n, writer_types)
                for w in writer_types
                for n in negated_types
            ):
                return []  # the writer's payloads can never match the negated schema
        for node in writer:
            schema = _dict(node)
            if "not" in schema:
                # not A implies not B exactly when B is contained in A
                if not self.check([negated], _Node(schema["not"], _enter(node)), path):
                    return []
        return [Incompatibility(path, "not_narrowed", "the reader's `not` excludes payloads the writer allows")]

    def _check_conditional(
        self, writer: list[_Node], schema: dict[str, Any], resolver: Resolver[Any], path: str
    ) -> list[Incompatibility]:
        condition = _canonical(schema["if"])
        for node in writer:
            w = _dict(node)
            if "if" not in w or _canonical(w["if"]) != condition:
                continue
            writer_resolver = _enter(node)
            problems: list[Incompatibility] = []
            for branch in ("then", "else"):
                if branch in schema:
                    writer_branch = [_Node(w[branch], writer_resolver)] if branch in w else []
                    problems += self.check(
                        writer + writer_branch, _Node(schema[branch], resolver), _pointer(path, branch)
                    )
            return problems
        return [
            Incompatibility(
                _pointer(path, "if"),
                "conditional_changed",
                "the reader's if/then/else condition differs from the writer's",
            )
        ]

    # -- plain keywords -----------------------------------------------------------------------

    def _check_keywords(
        self, writer: list[_Node], reader: dict[str, Any], resolver: Resolver[Any], path: str
    ) -> list[Incompatibility]:
        problems: list[Incompatibility] = []
        writer_types = _writer_types(writer)
        reader_types = _type_set(reader)
        if reader_types is not None:
            if writer_types is None:
                problems.append(
                    Incompatibility(
                        _pointer(path, "type"),
                        "type_narrowed",
                        f"type restricted to {sorted(reader_types)} (the writer allowed any type)",
                    )
                )
                writer_types = reader_types
            else:
                lost = sorted(t for t in writer_types if not _type_covered(t, reader_types))
                if lost:
                    problems.append(
                        Incompatibility(
                            _pointer(path, "type"),
                            "type_narrowed",
                            f"type {lost} no longer allowed (reader allows {sorted(reader_types)})",
                        )
                    )
        problems += self._check_enum(writer, reader, path)
        if _may_be(writer_types, "number"):
            problems += _check_numbers(writer, reader, writer_types, path)
        if _may_be(writer_types, "string"):
            problems += _check_strings(writer, reader, path)
        if _may_be(writer_types, "array"):
            problems += self._check_arrays(writer, reader, resolver, path)
        if _may_be(writer_types, "object"):
            problems += self._check_objects(writer, reader, resolver, path)
        for keyword in ("unevaluatedProperties", "unevaluatedItems"):
            if keyword in reader and reader[keyword] is not True:
                if not any(_canonical(_dict(w).get(keyword)) == _canonical(reader[keyword]) for w in writer):
                    problems.append(
                        Incompatibility(_pointer(path, keyword), "unevaluated_narrowed", f"{keyword} added or changed")
                    )
        return problems

    @staticmethod
    def _check_enum(writer: list[_Node], reader: dict[str, Any], path: str) -> list[Incompatibility]:
        allowed = _enum_values(reader)
        if allowed is None:
            return []
        keyword = "const" if "const" in reader else "enum"
        allowed_keys = {_canonical(v) for v in allowed}
        for node in writer:
            values = _enum_values(_dict(node))
            if values is not None and all(_canonical(v) in allowed_keys for v in values):
                return []
        return [
            Incompatibility(
                _pointer(path, keyword), "enum_narrowed", f"values restricted to {json.dumps(allowed)[:200]}"
            )
        ]

    def _check_arrays(
        self, writer: list[_Node], reader: dict[str, Any], resolver: Resolver[Any], path: str
    ) -> list[Incompatibility]:
        problems = _check_counts(writer, reader, "minItems", "maxItems", "array_length_narrowed", path)
        if reader.get("uniqueItems") is True and not any(_dict(w).get("uniqueItems") is True for w in writer):
            problems.append(
                Incompatibility(_pointer(path, "uniqueItems"), "unique_items_added", "items must now be unique")
            )
        reader_items = _items_model(reader)
        if reader_items is not None:
            problems += self._check_items(writer, reader_items, resolver, path)
        if "contains" in reader:
            problems += self._check_contains(writer, reader, resolver, path)
        return problems

    def _check_items(
        self, writer: list[_Node], reader: _Items, resolver: Resolver[Any], path: str
    ) -> list[Incompatibility]:
        models = [(model, _enter(w)) for w in writer if (model := _items_model(_dict(w))) is not None]
        max_items = min((int(m) for w in writer if isinstance(m := _dict(w).get("maxItems"), int)), default=None)
        longest_prefix = max((len(model.prefix) for model, _ in models), default=0)
        beyond = max(longest_prefix, len(reader.prefix))
        rest_keyword = "items" if reader.prefix_keyword == "prefixItems" else "additionalItems"
        problems: list[Incompatibility] = []
        for position in range(beyond + 1):
            if max_items is not None and position >= max_items:
                break
            writer_schemas = _writer_item_schemas(models, position)
            if writer_schemas is None:
                break  # the writer never produces an item at this position
            further = position == beyond
            if position < len(reader.prefix):
                reader_schema, reader_path = (
                    reader.prefix[position],
                    _pointer(path, reader.prefix_keyword, position),
                )
            else:
                reader_schema, reader_path = reader.rest, _pointer(path, rest_keyword)
            what = "further array items" if further else f"array item {position}"
            problems += self._check_member(writer_schemas, reader_schema, resolver, reader_path, what)
        return problems

    def _check_contains(
        self, writer: list[_Node], reader: dict[str, Any], resolver: Resolver[Any], path: str
    ) -> list[Incompatibility]:
        contains_path = _pointer(path, "contains")
        for node in writer:
            w = _dict(node)
            if "contains" not in w:
                continue
            problems = self.check(
                [_Node(w["contains"], _enter(node))], _Node(reader["contains"], resolver), contains_path
            )
            if problems:
                return problems
            return _check_counts([node], reader, "minContains", "maxContains", "contains_narrowed", path)
        return [Incompatibility(contains_path, "contains_added", "arrays must now contain a matching item")]

    def _check_objects(
        self, writer: list[_Node], reader: dict[str, Any], resolver: Resolver[Any], path: str
    ) -> list[Incompatibility]:
        problems = _check_counts(writer, reader, "minProperties", "maxProperties", "property_count_narrowed", path)
        writer_required = {name for w in writer for name in _list(_dict(w).get("required"))}
        for name in _list(reader.get("required")):
            if name not in writer_required:
                problems.append(
                    Incompatibility(_pointer(path, "required"), "required_added", f"property {name!r} is now required")
                )
        problems += self._check_properties(writer, reader, resolver, path)
        problems += self._check_dependencies(writer, reader, resolver, path, writer_required)
        if "propertyNames" in reader:
            names = [_Node(_dict(w)["propertyNames"], _enter(w)) for w in writer if "propertyNames" in _dict(w)]
            if names:
                problems += self.check(names, _Node(reader["propertyNames"], resolver), _pointer(path, "propertyNames"))
            else:
                problems.append(
                    Incompatibility(
                        _pointer(path, "propertyNames"),
                        "property_names_narrowed",
                        "property names are now constrained",
                    )
                )
        return problems

    def _check_properties(
        self, writer: list[_Node], reader: dict[str, Any], resolver: Resolver[Any], path: str
    ) -> list[Incompatibility]:
        problems: list[Incompatibility] = []
        reader_properties = _mapping(reader.get("properties"))
        reader_patterns = _mapping(reader.get("patternProperties"))
        writer_declared = {name for w in writer for name in _mapping(_dict(w).get("properties"))}
        for name in sorted(writer_declared | set(reader_properties)):
            writer_schemas = _writer_member_schemas(self, writer, name)
            name_path = _pointer(path, "properties", name)
            targets: list[tuple[Any, str]] = []
            if name in reader_properties:
                targets.append((reader_properties[name], name_path))
            targets += [
                (s, _pointer(path, "patternProperties", p)) for p, s in reader_patterns.items() if _matches(p, name)
            ]
            if not targets and "additionalProperties" in reader:
                targets.append((reader["additionalProperties"], _pointer(path, "additionalProperties")))
            for target, target_path in targets:
                found = (
                    self.check(writer_schemas, _Node(target, resolver), target_path)
                    if writer_schemas
                    else self._check_open(target, resolver, target_path)
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
                elif name not in reader_properties and target_path.endswith("/additionalProperties"):
                    problems.append(
                        Incompatibility(
                            name_path,
                            "property_removed_from_closed_model",
                            f"property {name!r} was removed and the reader's additionalProperties"
                            " does not accept its values",
                        )
                    )
                else:
                    problems += found
        for pattern, target in reader_patterns.items():
            same = [
                _Node(_mapping(_dict(w).get("patternProperties"))[pattern], _enter(w))
                for w in writer
                if pattern in _mapping(_dict(w).get("patternProperties"))
            ]
            others = same or _writer_additional(self, writer)
            pattern_path = _pointer(path, "patternProperties", pattern)
            found = (
                self.check(others, _Node(target, resolver), pattern_path)
                if others
                else self._check_open(target, resolver, pattern_path)
            )
            if found:
                problems.append(
                    Incompatibility(
                        pattern_path,
                        "pattern_property_narrowed",
                        f"properties matching {pattern!r} are now constrained more than the writer allowed",
                    )
                )
        if "additionalProperties" in reader:
            additional_path = _pointer(path, "additionalProperties")
            target_node = _Node(reader["additionalProperties"], resolver)
            for w in writer:
                for pattern, schema in _mapping(_dict(w).get("patternProperties")).items():
                    if pattern not in reader_patterns and self.check(
                        [_Node(schema, _enter(w))], target_node, additional_path
                    ):
                        problems.append(
                            Incompatibility(
                                additional_path,
                                "additional_properties_narrowed",
                                f"properties matching {pattern!r} are no longer accepted as additional properties",
                            )
                        )
            others = _writer_additional(self, writer)
            found = (
                self.check(others, target_node, additional_path)
                if others
                else self._check_open(reader["additionalProperties"], resolver, additional_path)
            )
            if found:
                problems.append(
                    Incompatibility(
                        additional_path,
                        "additional_properties_narrowed",
                        "additional properties the writer allowed are rejected or constrained",
                    )
                )
        return problems

    def _check_open(self, target: Any, resolver: Resolver[Any], path: str) -> list[Incompatibility]:
        """The writer allows any value here; the reader must too."""
        return self.check([_Node(True, resolver)], _Node(target, resolver), path)

    def _check_dependencies(
        self,
        writer: list[_Node],
        reader: dict[str, Any],
        resolver: Resolver[Any],
        path: str,
        writer_required: set[str],
    ) -> list[Incompatibility]:
        problems: list[Incompatibility] = []
        for keyword, trigger, requirement in _dependent_required(reader):
            have = set(writer_required)
            for w in writer:
                for _, w_trigger, w_requirement in _dependent_required(_dict(w)):
                    if w_trigger == trigger:
                        have.update(w_requirement)
            missing = sorted(set(requirement) - have)
            if missing:
                problems.append(
                    Incompatibility(
                        _pointer(path, keyword, trigger),
                        "dependent_required_added",
                        f"when {trigger!r} is present, {missing} are now required",
                    )
                )
        for keyword, trigger, schema in _dependent_schemas(reader):
            writer_schemas = [
                _Node(s, _enter(w)) for w in writer for _, t, s in _dependent_schemas(_dict(w)) if t == trigger
            ]
            dep_path = _pointer(path, keyword, trigger)
            if not writer_schemas:
                problems.append(
                    Incompatibility(
                        dep_path,
                        "dependent_schema_added",
                        f"a schema now applies when {trigger!r} is present",
                    )
                )
            else:
                problems += self.check(writer + writer_schemas, _Node(schema, resolver), dep_path)
        return problems

    def _check_member(
        self, writer: list[_Node], reader_schema: Any, resolver: Resolver[Any], path: str, what: str
    ) -> list[Incompatibility]:
        """Array members: ``writer`` holds every writer subschema for them (empty = any value)."""
        if reader_schema is None or reader_schema is True:
            return []
        if not writer:
            if self._check_open(reader_schema, resolver, path):
                return [
                    Incompatibility(
                        path, "items_narrowed", f"{what} are now constrained (the writer allowed any value)"
                    )
                ]
            return []
        return self.check(writer, _Node(reader_schema, resolver), path)


def _writer_item_schemas(models: list[tuple[_Items, Resolver[Any]]], position: int) -> list[_Node] | None:
    """Every writer subschema for the array item at ``position``; None when no such item can exist."""
    found: list[_Node] = []
    for model, resolver in models:
        schema = model.prefix[position] if position < len(model.prefix) else model.rest
        if schema is False:
            return None
        if schema is not None and schema is not True:
            found.append(_Node(schema, resolver))
    return found


def _has_alternatives(schema: Any) -> bool:
    return isinstance(schema, dict) and ("anyOf" in schema or "oneOf" in schema)


def _object(value: Any) -> dict[str, Any] | None:
    return cast("dict[str, Any]", value) if isinstance(value, dict) else None


def _array(value: Any) -> list[Any]:
    # list[object], not list[Any]: mypy calls a cast to list[Any] redundant, pyright needs one
    return cast("list[object]", value) if isinstance(value, list) else []


def _dict(node: _Node | Any) -> dict[str, Any]:
    schema: Any = node.schema if isinstance(node, _Node) else node
    return _object(schema) or {}


def _list(value: Any) -> list[str]:
    return [v for v in _array(value) if isinstance(v, str)]


def _mapping(value: Any) -> dict[str, Any]:
    return _object(value) or {}


def _matches(pattern: str, name: str) -> bool:
    try:
        return search(pattern, name)
    except RegressError:
        return False


def _value_type(value: Any) -> str:
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


def _writer_types(writer: list[_Node]) -> frozenset[str] | None:
    """The JSON types a writer payload can have (None = any), from ``type`` and ``enum``/``const``."""
    result: frozenset[str] | None = None
    for node in writer:
        values = _enum_values(_dict(node))
        for types in (
            _type_set(_dict(node)),
            frozenset(map(_value_type, values)) if values is not None else None,
        ):
            result = _intersect_types(result, types)
    return result


def _intersect_types(result: frozenset[str] | None, types: frozenset[str] | None) -> frozenset[str] | None:
    if types is None:
        return result
    if result is None:
        return types
    merged = {t for t in result if _type_covered(t, types)} | {t for t in types if _type_covered(t, result)}
    return frozenset(merged)


def _enum_values(schema: dict[str, Any]) -> list[Any] | None:
    if "const" in schema:
        return [schema["const"]]
    if isinstance(schema.get("enum"), list):
        return _array(schema["enum"])
    return None


def _writer_member_schemas(checker: _Checker, writer: list[_Node], name: str) -> list[_Node]:
    """Every writer subschema that applies to property ``name`` (empty = any value allowed)."""
    out: list[_Node] = []
    for node in writer:
        schema = _dict(node)
        resolver = _enter(node)
        properties = _mapping(schema.get("properties"))
        patterns = [s for p, s in _mapping(schema.get("patternProperties")).items() if _matches(p, name)]
        if name in properties:
            out.append(_Node(properties[name], resolver))
        out += [_Node(s, resolver) for s in patterns]
        if name not in properties and not patterns and "additionalProperties" in schema:
            out.append(_Node(schema["additionalProperties"], resolver))
    return out


def _writer_additional(checker: _Checker, writer: list[_Node]) -> list[_Node]:
    """Writer subschemas for property names it does not declare (empty = any value allowed)."""
    return [_Node(_dict(w)["additionalProperties"], _enter(w)) for w in writer if "additionalProperties" in _dict(w)]


def _dependent_required(schema: dict[str, Any]) -> Iterator[tuple[str, str, list[str]]]:
    for keyword in ("dependentRequired", "dependencies"):
        for trigger, value in _mapping(schema.get(keyword)).items():
            if isinstance(value, list):
                yield keyword, trigger, _list(value)


def _dependent_schemas(schema: dict[str, Any]) -> Iterator[tuple[str, str, Any]]:
    for keyword in ("dependentSchemas", "dependencies"):
        for trigger, value in _mapping(schema.get(keyword)).items():
            if isinstance(value, (dict, bool)):
                yield keyword, trigger, value


def _check_counts(
    writer: list[_Node], reader: dict[str, Any], low: str, high: str, kind: str, path: str
) -> list[Incompatibility]:
    problems: list[Incompatibility] = []
    reader_low = reader.get(low)
    if isinstance(reader_low, int) and not isinstance(reader_low, bool):
        writer_low = max((v for w in writer if isinstance(v := _dict(w).get(low), int)), default=0)
        if writer_low < reader_low:
            problems.append(
                Incompatibility(
                    _pointer(path, low), kind, f"{low} raised to {reader_low} (writer allowed {writer_low})"
                )
            )
    reader_high = reader.get(high)
    if isinstance(reader_high, int) and not isinstance(reader_high, bool):
        writer_high = min((v for w in writer if isinstance(v := _dict(w).get(high), int)), default=None)
        if writer_high is None or writer_high > reader_high:
            allowed = "no limit" if writer_high is None else str(writer_high)
            problems.append(
                Incompatibility(
                    _pointer(path, high), kind, f"{high} lowered to {reader_high} (writer allowed {allowed})"
                )
            )
    return problems


def _check_numbers(
    writer: list[_Node], reader: dict[str, Any], writer_types: frozenset[str] | None, path: str
) -> list[Incompatibility]:
    problems: list[Incompatibility] = []
    reader_low = _lower_bound(reader)
    if reader_low is not None:
        writer_low = max(
            [b for b in (_lower_bound(_dict(w)) for w in writer) if b is not None],
            key=lambda b: (b.value, b.exclusive),
            default=None,
        )
        if (
            writer_low is None
            or writer_low.value < reader_low.value
            or (writer_low.value == reader_low.value and reader_low.exclusive and not writer_low.exclusive)
        ):
            was = "no minimum" if writer_low is None else _describe(writer_low, lower=True)
            problems.append(
                Incompatibility(
                    _pointer(path, "minimum"),
                    "minimum_raised",
                    f"values must now be {_describe(reader_low, lower=True)} (writer allowed {was})",
                )
            )
    reader_high = _upper_bound(reader)
    if reader_high is not None:
        writer_high = min(
            [b for b in (_upper_bound(_dict(w)) for w in writer) if b is not None],
            key=lambda b: (b.value, not b.exclusive),
            default=None,
        )
        if (
            writer_high is None
            or writer_high.value > reader_high.value
            or (writer_high.value == reader_high.value and reader_high.exclusive and not writer_high.exclusive)
        ):
            was = "no maximum" if writer_high is None else _describe(writer_high, lower=False)
            problems.append(
                Incompatibility(
                    _pointer(path, "maximum"),
                    "maximum_lowered",
                    f"values must now be {_describe(reader_high, lower=False)} (writer allowed {was})",
                )
            )
    divisor = _as_number(reader.get("multipleOf"))
    if divisor is not None and divisor > 0:
        writer_multiples = [m for w in writer if (m := _as_number(_dict(w).get("multipleOf"))) is not None]
        integers_only = writer_types is not None and writer_types <= {"integer"}
        implied = any((m / divisor).denominator == 1 for m in writer_multiples) or (
            integers_only and divisor.denominator == 1 and divisor == 1
        )
        if not implied:
            problems.append(
                Incompatibility(
                    _pointer(path, "multipleOf"),
                    "multiple_of_changed",
                    f"values must now be a multiple of {reader['multipleOf']}",
                )
            )
    return problems


_KEYWORD_KINDS = {
    "pattern": "pattern_changed",
    "format": "format_changed",
    "contentEncoding": "content_encoding_changed",
    "contentMediaType": "content_media_type_changed",
    "contentSchema": "content_schema_changed",
}


def _check_strings(writer: list[_Node], reader: dict[str, Any], path: str) -> list[Incompatibility]:
    problems = _check_counts(writer, reader, "minLength", "maxLength", "string_length_narrowed", path)
    for keyword, value in _string_values(
        reader, "pattern", "format", "contentEncoding", "contentMediaType", "contentSchema"
    ):
        if not any(keyword in _dict(w) and _canonical(_dict(w)[keyword]) == _canonical(value) for w in writer):
            problems.append(
                Incompatibility(
                    _pointer(path, keyword),
                    _KEYWORD_KINDS[keyword],
                    f"{keyword} {json.dumps(value)[:120]} added or changed",
                )
            )
    return problems


# -- public API ---------------------------------------------------------------------------------


def find_incompatibilities(writer: Any, reader: Any, *, budget: int = CHECK_BUDGET) -> list[Incompatibility]:
    """Reasons a payload valid under ``writer`` may be rejected by ``reader`` (empty = compatible).

    Comparing unions of unions can grow combinatorially; past ``budget`` subschema comparisons (or
    Python's recursion limit) the pair is reported as incompatible rather than compared further.
    """
    try:
        return _Checker(budget).check([_root(writer)], _root(reader), "")
    except (_TooComplex, RecursionError):
        return [Incompatibility("", "too_complex", "the schemas are too large or deeply nested to compare")]


@dataclass(frozen=True)
class PreviousVersion:
    version: int
    schema: Any


def check_compatibility(
    candidate: Any, previous: Sequence[PreviousVersion], mode: CompatibilityMode
) -> list[Incompatibility]:
    """Incompatibilities of ``candidate`` against ``previous`` (oldest first) under ``mode``.

    Non-transitive modes compare with the latest version only; each finding's detail names the
    direction and the version it was found against.
    """
    if mode is CompatibilityMode.NONE or not previous:
        return []
    targets = previous if mode.transitive else previous[-1:]
    problems: list[Incompatibility] = []
    for target in reversed(targets):
        if mode.checks_backward:
            for found in find_incompatibilities(target.schema, candidate):
                problems.append(_label(found, "backward", target.version))
        if mode.checks_forward:
            for found in find_incompatibilities(candidate, target.schema):
                problems.append(_label(found, "forward", target.version))
    return problems


def _label(found: Incompatibility, direction: str, version: int) -> Incompatibility:
    detail = f"{direction} check against version {version}: {found.detail}"
    return Incompatibility(found.path, found.kind, detail, version)


__all__ = [
    "DEFAULT_MODE",
    "CompatibilityMode",
    "Incompatibility",
    "PreviousVersion",
    "check_compatibility",
    "find_incompatibilities",
]
