"""Payload validation with the `jsonschema` library (in the schema's dialect, formats asserted).

Schemas are checked against their metaschema and every ``$ref`` is resolved once, at registration,
so ingestion never meets a broken schema. Patterns are ECMA-262 (see ``ecma``). References resolve
only against the schema itself, the bundled metaschemas and the documents the operator preloads:
nothing is fetched from the network.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, cast

from jsonschema.exceptions import ValidationError
from jsonschema.protocols import Validator
from jsonschema_specifications import REGISTRY as METASCHEMAS  # type: ignore[import-untyped]
from referencing import Registry, Resource
from referencing.exceptions import Unresolvable
from referencing.jsonschema import DRAFT202012

from triggers_server.domain.registry.dialect import Dialect, dialect_of
from triggers_server.domain.registry.ecma import ecma_validator, unsupported_pattern_combinations

MAX_ERRORS = 50
_MAX_DETAIL = 300


class SchemaValidationFailed(Exception):
    """An event's ``data`` does not match its schema; ``errors`` point into ``/data``."""

    def __init__(self, errors: list[dict[str, str]]) -> None:
        super().__init__(f"{len(errors)} schema violation(s)")
        self.errors = errors


class InvalidSchema(Exception):
    """A submitted JSON Schema is not valid; ``errors`` point into the schema document."""

    def __init__(self, errors: list[dict[str, str]]) -> None:
        super().__init__(errors[0]["detail"] if errors else "invalid schema")
        self.errors = errors


def document_registry(documents: Mapping[str, Any] | None = None) -> Registry[Any]:
    """The bundled metaschemas plus ``documents`` (URI → JSON) that a ``$ref`` may point to."""
    resources = [
        (uri, Resource.from_contents(contents, default_specification=DRAFT202012))
        for uri, contents in (documents or {}).items()
    ]
    registry: Registry[Any] = METASCHEMAS.with_resources(resources).crawl()
    return registry


def pointer(base: str, path: Iterable[Any]) -> str:
    """RFC 6901 pointer: ``base`` followed by the escaped path tokens."""
    return base + "".join("/" + str(token).replace("~", "~0").replace("/", "~1") for token in path)


def _detail(error: ValidationError) -> str:
    message = str(error.message)
    return message if len(message) <= _MAX_DETAIL else message[: _MAX_DETAIL - 1] + "…"


def compile_schema(schema: Any, documents: Registry[Any], default_dialect: Dialect) -> Validator:
    """A validator for ``schema`` read in the dialect its ``$schema`` names (else ``default_dialect``), after
    checking it is a valid schema of that dialect whose references all resolve.

    Raises ``InvalidSchema`` with pointers relative to the schema document.
    """
    try:
        return _compile(schema, documents, dialect_of(schema, default_dialect))
    except RecursionError:
        raise InvalidSchema([{"pointer": "", "detail": "the schema is nested too deeply"}]) from None


def _compile(schema: Any, documents: Registry[Any], dialect: Dialect) -> Validator:
    cls = ecma_validator(dialect.validator_class)
    meta = cls(cls.META_SCHEMA, format_checker=cls.FORMAT_CHECKER)
    problems = [
        {"pointer": pointer("", error.absolute_path), "detail": _detail(error)}
        for error in sorted(meta.iter_errors(schema), key=lambda e: list(map(str, e.absolute_path)))
    ]
    if problems:
        raise InvalidSchema(problems[:MAX_ERRORS])
    unsupported = unsupported_pattern_combinations(schema)
    if unsupported:
        raise InvalidSchema(
            [
                {
                    "pointer": pointer("", location),
                    "detail": "this pattern cannot be combined with unevaluatedProperties",
                }
                for location in unsupported
            ]
        )
    unresolved = _unresolvable_references(schema, documents, dialect)
    if unresolved:
        raise InvalidSchema(unresolved[:MAX_ERRORS])
    return cls(schema, registry=documents, format_checker=cls.FORMAT_CHECKER)


def _unresolvable_references(schema: Any, documents: Registry[Any], dialect: Dialect) -> list[dict[str, str]]:
    root: Resource[Any] = Resource.from_contents(schema, default_specification=dialect.specification)
    registry: Registry[Any] = documents.with_resource(root.id() or "", root)
    found: list[dict[str, str]] = []

    def walk(resource: Resource[Any], resolver: Any) -> None:
        contents: Any = resource.contents
        if isinstance(contents, dict):
            ref = cast("dict[str, Any]", contents).get("$ref")
            if isinstance(ref, str):
                try:
                    resolver.lookup(ref)
                except Unresolvable:
                    found.append(
                        {
                            "pointer": "",
                            "detail": f"$ref {ref!r} cannot be resolved (remote documents are never fetched)",
                        }
                    )
        for sub in resource.subresources():
            walk(sub, resolver.in_subresource(sub))

    walk(root, registry.resolver_with_root(root))
    return found


def payload_errors(validator: Validator, data: Any, base: str = "/data") -> list[dict[str, str]]:
    """Every violation of ``data`` as ``{pointer, detail}``, pointers rooted at ``base``."""
    try:
        errors = sorted(validator.iter_errors(data), key=lambda e: (list(map(str, e.absolute_path)), e.message))
    except RecursionError:
        return [{"pointer": base, "detail": "the payload is nested too deeply to validate"}]
    return [{"pointer": pointer(base, error.absolute_path), "detail": _detail(error)} for error in errors[:MAX_ERRORS]]


@dataclass(frozen=True)
class CompiledSchema:
    """A registered version ready to validate payloads."""

    version: int
    validator: Validator

    def check(self, data: Any) -> None:
        errors = payload_errors(self.validator, data)
        if errors:
            raise SchemaValidationFailed(errors)
