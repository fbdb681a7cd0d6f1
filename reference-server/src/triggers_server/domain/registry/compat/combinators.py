"""Combinators: ``anyOf``/``oneOf`` on either side, ``not`` and ``if``/``then``/``else``."""

from __future__ import annotations

from typing import Any

from referencing._core import Resolver

from triggers_server.domain.registry.compat.findings import Incompatibility, pointer
from triggers_server.domain.registry.compat.json_types import type_covered, type_set, writer_types
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
    """The reader's ``keyword`` (anyOf/oneOf) ``branches`` must cover the writer, branch by branch."""
    for index, node in enumerate(writer):
        schema = as_object(node.schema)
        if schema is None:
            continue
        for writer_keyword in ALTERNATIVES:
            if writer_keyword not in schema:
                continue
            writer_branches = as_array(schema[writer_keyword])
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
                Node(compare.without(schema, writer_keyword), node.resolver),
                *writer[index + 1 :],
            ]
            resolver = enter(node)
            problems: list[Incompatibility] = []
            for position, branch in enumerate(writer_branches):
                candidate = [*rest, Node(branch, resolver)]
                if not any(not compare.check(candidate, reader_branch, path) for reader_branch in branches):
                    problems.append(
                        Incompatibility(
                            path,
                            "composition_narrowed",
                            f"{writer_keyword} branch {position} matches no {keyword} branch",
                        )
                    )
            return problems
    if any(not compare.check(writer, branch, path) for branch in branches):
        return []
    return [
        Incompatibility(
            path,
            "composition_narrowed",
            f"the writer schema is not covered by any {keyword} branch of the reader",
        )
    ]


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
