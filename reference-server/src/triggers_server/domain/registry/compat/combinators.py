"""Combinators: ``anyOf``/``oneOf`` on either side, ``not`` and ``if``/``then``/``else``."""

from __future__ import annotations

from typing import Any

from referencing._core import Resolver

from triggers_server.domain.registry.compat.findings import Incompatibility, pointer
from triggers_server.domain.registry.compat.json_types import (
    admitted_types,
    provably_disjoint,
    split_by_type,
    type_covered,
    type_set,
    writer_types,
)
from triggers_server.domain.registry.compat.nodes import Comparison, Node, enter, keywords
from triggers_server.domain.registry.compat.values import as_array, as_object, canonical

ALTERNATIVES = ("anyOf", "oneOf")


def has_alternatives(schema: Any) -> bool:
    return isinstance(schema, dict) and ("anyOf" in schema or "oneOf" in schema)


def distribute_writer_alternatives(
    compare: Comparison, conjuncts: list[Node], reader: Node, path: str
) -> list[Incompatibility] | None:
    """If the writer is a union, it is compatible when every branch is (None = the writer is no union)."""
    for index, node in enumerate(conjuncts):
        schema = as_object(node.schema)
        if schema is None:
            continue
        for keyword in ALTERNATIVES:
            branches = as_array(schema.get(keyword))
            if not branches:
                continue
            rest = [
                *conjuncts[:index],
                Node(compare.without(schema, keyword), node.resolver),
                *conjuncts[index + 1 :],
            ]
            resolver = enter(node)
            problems: list[Incompatibility] = []
            for branch in branches:
                problems += compare.check([*rest, Node(branch, resolver)], reader, path)
            return problems if problems else []
    return None


def check_alternatives(
    compare: Comparison, writer: list[Node], keyword: str, branches: list[Node], path: str
) -> list[Incompatibility]:
    """The reader's ``keyword`` (anyOf/oneOf) ``branches`` must cover the writer, branch by branch.

    A ``oneOf`` whose branches are provably disjoint (no payload can match two) is an ``anyOf``; otherwise
    the writer's payloads (per writer branch) must match one branch and provably none of the others.
    """
    if _listed_by_writer(writer, keyword, branches):
        return []
    exclusive = keyword == "oneOf" and not _pairwise_disjoint(branches)
    exactly = "exactly one " if exclusive else ""
    for index, node in enumerate(writer):
        schema = as_object(node.schema)
        if schema is None:
            continue
        for writer_keyword in ALTERNATIVES:
            if writer_keyword not in schema:
                continue
            writer_branches = as_array(schema[writer_keyword])
            rest = [
                *writer[:index],
                Node(compare.without(schema, writer_keyword), node.resolver),
                *writer[index + 1 :],
            ]
            resolver = enter(node)
            problems: list[Incompatibility] = []
            for position, branch in enumerate(writer_branches):
                candidate = [*rest, Node(branch, resolver)]
                if not _covered(compare, candidate, branches, path, exclusive):
                    problems.append(
                        Incompatibility(
                            path,
                            "composition_narrowed",
                            f"{writer_keyword} branch {position} is not covered by {exactly or 'any '}{keyword} branch",
                        )
                    )
            return problems
    if _covered(compare, writer, branches, path, exclusive):
        return []
    return [
        Incompatibility(
            path,
            "composition_narrowed",
            f"the writer schema is not covered by {exactly or 'any '}{keyword} branch of the reader",
        )
    ]


def _listed_by_writer(writer: list[Node], keyword: str, branches: list[Node]) -> bool:
    """A writer conjunct has the same ``keyword`` list up to order (so the same constraint)."""
    texts = sorted(canonical(branch.schema) for branch in branches)
    if any('"$ref"' in text or '"$dynamicRef"' in text or '"$id"' in text for text in texts):
        return False  # equal text, but the meaning may depend on the document
    return any(
        sorted(canonical(b) for b in as_array(keywords(node).get(keyword))) == texts
        for node in writer
        if keyword in keywords(node)
    )


def _pairwise_disjoint(branches: list[Node]) -> bool:
    return all(
        provably_disjoint(first.schema, second.schema)
        for position, first in enumerate(branches)
        for second in branches[position + 1 :]
    )


def _covered(compare: Comparison, writer: list[Node], branches: list[Node], path: str, exclusive: bool) -> bool:
    """Some reader branch accepts every writer payload (and, when ``exclusive``, provably no other branch
    does), or, for a writer of several types, each type's payloads are covered so
    (``{"type": ["string", "null"]}`` is covered by string | null)."""
    if _covered_by_one(compare, writer, branches, path, exclusive):
        return True
    types = split_by_type(writer)
    if types is None:
        return False
    resolver = writer[0].resolver
    return all(
        _covered_by_one(compare, [*writer, Node({"type": t}, resolver)], branches, path, exclusive) for t in types
    )


def _covered_by_one(compare: Comparison, writer: list[Node], branches: list[Node], path: str, exclusive: bool) -> bool:
    types = writer_types(writer)
    for index, branch in enumerate(branches):
        if compare.check(writer, branch, path):
            continue
        if not exclusive or all(
            _excludes(types, other) for position, other in enumerate(branches) if position != index
        ):
            return True
    return False


def _excludes(writer: frozenset[str] | None, branch: Node) -> bool:
    """No payload of the writer's types can match ``branch``."""
    admitted = admitted_types(branch.schema)
    if writer is None or admitted is None:
        return False
    return not any(type_covered(w, admitted) or type_covered(a, writer) for w in writer for a in admitted)


def check_not(compare: Comparison, writer: list[Node], negated: Node, path: str) -> list[Incompatibility]:
    types = writer_types(writer)
    negated_types = type_set(keywords(negated))
    if types is not None and negated_types is not None:
        if not any(type_covered(w, negated_types) or type_covered(n, types) for w in types for n in negated_types):
            return []  # the writer's payloads can never match the negated schema
    for node in writer:
        schema = keywords(node)
        if "not" in schema:
            # not A implies not B exactly when B is contained in A
            if not compare.check([negated], Node(schema["not"], enter(node)), path):
                return []
    return [Incompatibility(path, "not_narrowed", "the reader's `not` excludes payloads the writer allows")]


def check_conditional(
    compare: Comparison, writer: list[Node], schema: dict[str, Any], resolver: Resolver[Any], path: str
) -> list[Incompatibility]:
    """With the same ``if`` on both sides, ``then`` and ``else`` are compared; otherwise incompatible."""
    condition = canonical(schema["if"])
    for node in writer:
        w = keywords(node)
        if "if" not in w or canonical(w["if"]) != condition:
            continue
        writer_resolver = enter(node)
        problems: list[Incompatibility] = []
        for branch in ("then", "else"):
            if branch in schema:
                writer_branch = [Node(w[branch], writer_resolver)] if branch in w else []
                problems += compare.check(writer + writer_branch, Node(schema[branch], resolver), pointer(path, branch))
        return problems
    return [
        Incompatibility(
            pointer(path, "if"),
            "conditional_changed",
            "the reader's if/then/else condition differs from the writer's",
        )
    ]
