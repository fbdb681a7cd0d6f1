"""Subschemas with the resolver of their document, and the comparison the rule modules call back into."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from referencing import Registry, Resource
from referencing._core import Resolver  # not re-exported by `referencing`; needed for annotations
from referencing.exceptions import Unresolvable
from referencing.jsonschema import DRAFT202012

from triggers_server.domain.registry.compat.findings import Incompatibility
from triggers_server.domain.registry.compat.values import as_object

_ROOT_URI = "urn:triggers:compat-schema"


@dataclass(frozen=True)
class Node:
    """A subschema together with the resolver that knows its base URI (for ``$ref``)."""

    schema: Any
    resolver: Resolver[Any]


def root(schema: Any) -> Node:
    resource: Resource[Any] = Resource.from_contents(schema, default_specification=DRAFT202012)
    registry: Registry[Any] = Registry[Any]().with_resource(_ROOT_URI, resource)
    return Node(schema, registry.resolver(_ROOT_URI))


def enter(node: Node) -> Resolver[Any]:
    """The resolver for references inside ``node`` (a subschema ``$id`` changes the base URI)."""
    schema = as_object(node.schema)
    identifier = schema.get("$id") if schema is not None else None
    if isinstance(identifier, str) and not identifier.startswith("#"):
        resource: Resource[Any] = Resource.from_contents(schema, default_specification=DRAFT202012)
        return node.resolver.in_subresource(resource)
    return node.resolver


def resolve(resolver: Resolver[Any], ref: Any) -> Node | None:
    """The subschema ``ref`` points to, or None when it is not a string or does not resolve."""
    if not isinstance(ref, str):
        return None
    try:
        resolved = resolver.lookup(ref)
    except Unresolvable:
        return None
    return Node(resolved.contents, resolved.resolver)


def keywords(node: Node) -> dict[str, Any]:
    """The node's schema as an object (a boolean schema has no keywords)."""
    return as_object(node.schema) or {}


class Comparison(Protocol):
    """The recursive comparison, as the per-keyword rule modules see it."""

    def check(self, writer: Sequence[Node], reader: Node, path: str) -> list[Incompatibility]:
        """Reasons a payload valid under every ``writer`` subschema may be rejected by ``reader``."""
        ...

    def check_open(self, target: Any, resolver: Resolver[Any], path: str) -> list[Incompatibility]:
        """The writer allows any value here; the reader (``target``) must too."""
        ...

    def written_as(self, schema: dict[str, Any], keyword: str) -> str:
        """The keyword as the user wrote it (``unevaluatedProperties`` read as ``additionalProperties``)."""
        ...

    def without(self, schema: dict[str, Any], *keywords: str) -> dict[str, Any]:
        """``schema`` minus ``keywords``, the same object for the same input (cycle detection is by identity)."""
        ...
