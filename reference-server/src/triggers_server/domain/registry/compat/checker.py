"""The recursive comparison: writer conjuncts against one reader subschema, keyword by keyword.

The writer side is a conjunction (``allOf`` and ``$ref`` flattened); the reader side is decomposed by
keyword and each keyword family is judged by its own module. Cycles through recursive ``$ref`` are cut,
and the number of subschema comparisons is bounded.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from referencing._core import Resolver

from triggers_server.domain.registry.compat.arrays import check_arrays
from triggers_server.domain.registry.compat.combinators import (
    ALTERNATIVES,
    check_alternatives,
    check_conditional,
    check_not,
    distribute_writer_alternatives,
    has_alternatives,
)
from triggers_server.domain.registry.compat.findings import Incompatibility, pointer
from triggers_server.domain.registry.compat.instances import accepts_all, listed_values
from triggers_server.domain.registry.compat.json_types import check_enum, may_be, type_covered, type_set, writer_types
from triggers_server.domain.registry.compat.nodes import Node, enter, keywords, resolve, root
from triggers_server.domain.registry.compat.numbers import check_numbers
from triggers_server.domain.registry.compat.objects import check_objects
from triggers_server.domain.registry.compat.strings import check_strings
from triggers_server.domain.registry.compat.translate import to_2020_12
from triggers_server.domain.registry.compat.unevaluated import Aliases, is_no_op
from triggers_server.domain.registry.compat.unevaluated import lower as lower_unevaluated
from triggers_server.domain.registry.compat.values import as_array, as_object, canonical
from triggers_server.domain.registry.dialect import Dialect

CHECK_BUDGET = 50_000
_REFERENCES = ("$ref", "$dynamicRef")


class _TooComplex(Exception):
    """The comparison exceeded its budget of subschema comparisons."""


class _Checker:
    """Walks a writer schema (as a conjunction of subschemas) against one reader subschema."""

    def __init__(self, budget: int, aliases: Aliases) -> None:
        self._aliases = aliases
        self._active: set[tuple[tuple[int, ...], int]] = set()
        self._budget = budget
        self._stripped: dict[tuple[int, tuple[str, ...]], tuple[dict[str, Any], dict[str, Any]]] = {}
        self._texts: dict[int, tuple[Any, str]] = {}

    # -- the Comparison interface -----------------------------------------------------------------

    def check(self, writer: Sequence[Node], reader: Node, path: str) -> list[Incompatibility]:
        self._budget -= 1
        if self._budget < 0:
            raise _TooComplex
        conjuncts = self._conjuncts([*writer])
        if any(c.schema is False for c in conjuncts):
            return []  # the writer accepts nothing, so the reader can read everything it wrote
        values = listed_values(conjuncts)
        if values is not None and accepts_all(values, reader):
            return []  # the writer's payloads are known, and the reader accepts each of them
        if any(self._same_schema(c, reader) for c in [*writer, *conjuncts]):
            return []  # the writer includes the reader's own constraints
        key = (tuple(sorted(id(c.schema) for c in conjuncts)), id(reader.schema))
        if key in self._active:
            return []  # recursive schema: assume compatible on the cycle, judged by the other keywords
        self._active.add(key)
        try:
            problems = self._check_reader(conjuncts, reader, path)
            if problems and not has_alternatives(reader.schema):
                distributed = distribute_writer_alternatives(self, conjuncts, reader, path)
                if distributed is not None:
                    return distributed
            return problems
        finally:
            self._active.discard(key)

    def check_open(self, target: Any, resolver: Resolver[Any], path: str) -> list[Incompatibility]:
        return self.check([Node(True, resolver)], Node(target, resolver), path)

    def written_as(self, schema: dict[str, Any], keyword: str) -> str:
        found = self._aliases.get(id(schema))
        return found[1].get(keyword, keyword) if found is not None and found[0] is schema else keyword

    def without(self, schema: dict[str, Any], *keywords: str) -> dict[str, Any]:
        key = (id(schema), keywords)
        cached = self._stripped.get(key)
        if cached is None:
            cached = (schema, {k: v for k, v in schema.items() if k not in keywords})
            self._stripped[key] = cached
        return cached[1]

    # -- writer conjuncts ---------------------------------------------------------------------------

    def _conjuncts(self, nodes: Sequence[Node]) -> list[Node]:
        """Flatten allOf and $ref so every listed subschema holds for each writer payload."""
        out: list[Node] = []
        seen: set[int] = set()
        stack = list(reversed(nodes))
        while stack:
            node = stack.pop()
            if id(node.schema) in seen:
                continue
            seen.add(id(node.schema))
            schema = as_object(node.schema)
            if schema is None:
                out.append(node)
                continue
            resolver = enter(node)
            expanded: list[str] = []
            for ref_keyword in _REFERENCES:
                target = resolve(resolver, schema.get(ref_keyword))
                if target is not None:
                    stack.append(target)
                    expanded.append(ref_keyword)
            if "allOf" in schema:
                stack.extend(reversed([Node(branch, resolver) for branch in as_array(schema["allOf"])]))
                expanded.append("allOf")
            # keep the rest of the node without what was expanded, so a conjunct list never re-expands
            # a subschema that a caller has since replaced (e.g. one branch of a union)
            out.append(Node(self.without(schema, *expanded), node.resolver) if expanded else node)
        return out

    def _same_schema(self, writer: Node, reader: Node) -> bool:
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
            cached = (schema, canonical(schema))
            self._texts[id(schema)] = cached
        return cached[1]

    # -- reader decomposition -----------------------------------------------------------------------

    def _check_reader(self, writer: list[Node], reader: Node, path: str) -> list[Incompatibility]:
        schema = reader.schema
        if schema is True or schema == {}:
            return []
        if schema is False:
            return [Incompatibility(path, "rejects_all", "the reader schema is `false` and rejects every payload")]
        schema = as_object(schema)
        if schema is None:
            return []
        resolver = enter(reader)
        problems: list[Incompatibility] = []
        for ref_keyword in _REFERENCES:
            if ref_keyword not in schema:
                continue
            target = resolve(resolver, schema[ref_keyword])
            if target is None:
                if not any(keywords(w).get(ref_keyword) == schema[ref_keyword] for w in writer):
                    problems.append(
                        Incompatibility(
                            pointer(path, ref_keyword),
                            "reference_unresolvable",
                            f"cannot resolve {schema[ref_keyword]!r}; the writer uses another reference",
                        )
                    )
            else:
                problems += self.check(writer, target, path)
        if "allOf" in schema:
            for index, branch in enumerate(as_array(schema["allOf"])):
                problems += self.check(writer, Node(branch, resolver), pointer(path, "allOf", index))
        for keyword in ALTERNATIVES:
            if keyword in schema:
                branches = [Node(b, resolver) for b in as_array(schema[keyword])]
                problems += check_alternatives(self, writer, keyword, branches, pointer(path, keyword))
        if "not" in schema:
            problems += check_not(self, writer, Node(schema["not"], resolver), pointer(path, "not"))
        if "if" in schema:
            problems += check_conditional(self, writer, schema, resolver, path)
        problems += self._check_keywords(writer, schema, resolver, path)
        return problems

    def _check_keywords(
        self, writer: list[Node], reader: dict[str, Any], resolver: Resolver[Any], path: str
    ) -> list[Incompatibility]:
        problems: list[Incompatibility] = []
        types = writer_types(writer)
        reader_types = type_set(reader)
        if reader_types is not None:
            if types is None:
                problems.append(
                    Incompatibility(
                        pointer(path, "type"),
                        "type_narrowed",
                        f"type restricted to {sorted(reader_types)} (the writer allowed any type)",
                    )
                )
                types = reader_types
            else:
                lost = sorted(t for t in types if not type_covered(t, reader_types))
                if lost:
                    problems.append(
                        Incompatibility(
                            pointer(path, "type"),
                            "type_narrowed",
                            f"type {lost} no longer allowed (reader allows {sorted(reader_types)})",
                        )
                    )
        problems += check_enum(writer, reader, path)
        if may_be(types, "number"):
            problems += check_numbers(writer, reader, types, path)
        if may_be(types, "string"):
            problems += check_strings(writer, reader, path)
        if may_be(types, "array"):
            problems += check_arrays(self, writer, reader, resolver, path)
        if may_be(types, "object"):
            problems += check_objects(self, writer, reader, resolver, path)
        for keyword in ("unevaluatedProperties", "unevaluatedItems"):
            if keyword in reader and reader[keyword] is not True and not is_no_op(reader, keyword):
                if not any(canonical(keywords(w).get(keyword)) == canonical(reader[keyword]) for w in writer):
                    problems.append(
                        Incompatibility(pointer(path, keyword), "unevaluated_narrowed", f"{keyword} added or changed")
                    )
        return problems


def find_incompatibilities(
    writer: Any,
    reader: Any,
    *,
    writer_dialect: Dialect | None = None,
    reader_dialect: Dialect | None = None,
    budget: int = CHECK_BUDGET,
) -> list[Incompatibility]:
    """Reasons a payload valid under ``writer`` may be rejected by ``reader`` (empty = compatible).

    Each schema is read in its dialect (None: every keyword it uses is honoured, older forms included).
    Comparing unions of unions can grow combinatorially; past ``budget`` subschema comparisons (or
    Python's recursion limit) the pair is reported as incompatible rather than compared further.
    """
    try:
        aliases: Aliases = {}
        writer_root = root(lower_unevaluated(to_2020_12(writer, writer_dialect), aliases))
        reader_root = root(lower_unevaluated(to_2020_12(reader, reader_dialect), aliases))
        return _Checker(budget, aliases).check([writer_root], reader_root, "")
    except (_TooComplex, RecursionError):
        return [Incompatibility("", "too_complex", "the schemas are too large or deeply nested to compare")]
