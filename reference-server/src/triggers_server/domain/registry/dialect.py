"""JSON Schema dialects: the one a schema names in ``$schema``, else its subject's default (2020-12 unless set).

Schemas written for Confluent Schema Registry usually omit ``$schema`` and use draft-07 forms (``items``
arrays, ``definitions``, ``dependencies``); a subject whose default dialect is draft-07 reads them as such.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, cast

from jsonschema import Draft4Validator, Draft6Validator, Draft7Validator, Draft201909Validator, Draft202012Validator
from jsonschema.protocols import Validator
from referencing import Specification
from referencing.jsonschema import DRAFT4, DRAFT6, DRAFT7, DRAFT201909, DRAFT202012


class Dialect(StrEnum):
    """A JSON Schema dialect, by the short name the contract uses."""

    DRAFT_2020_12 = "2020-12"
    DRAFT_2019_09 = "2019-09"
    DRAFT_07 = "draft-07"
    DRAFT_06 = "draft-06"
    DRAFT_04 = "draft-04"

    @property
    def ignores_ref_siblings(self) -> bool:
        """Up to draft-07, keywords next to ``$ref`` are ignored."""
        return self in (Dialect.DRAFT_07, Dialect.DRAFT_06, Dialect.DRAFT_04)

    @property
    def validator_class(self) -> type[Validator]:
        return _VALIDATORS[self]

    @property
    def specification(self) -> Specification[Any]:
        """How ``referencing`` finds ``$id``s and subresources in this dialect."""
        return _SPECIFICATIONS[self]


DEFAULT_DIALECT = Dialect.DRAFT_2020_12

_VALIDATORS: dict[Dialect, type[Validator]] = {
    Dialect.DRAFT_2020_12: Draft202012Validator,
    Dialect.DRAFT_2019_09: Draft201909Validator,
    Dialect.DRAFT_07: Draft7Validator,
    Dialect.DRAFT_06: Draft6Validator,
    Dialect.DRAFT_04: Draft4Validator,
}
_SPECIFICATIONS: dict[Dialect, Specification[Any]] = {
    Dialect.DRAFT_2020_12: DRAFT202012,
    Dialect.DRAFT_2019_09: DRAFT201909,
    Dialect.DRAFT_07: DRAFT7,
    Dialect.DRAFT_06: DRAFT6,
    Dialect.DRAFT_04: DRAFT4,
}
_URIS = {
    "json-schema.org/draft/2020-12/schema": Dialect.DRAFT_2020_12,
    "json-schema.org/draft/2019-09/schema": Dialect.DRAFT_2019_09,
    "json-schema.org/draft-07/schema": Dialect.DRAFT_07,
    "json-schema.org/draft-06/schema": Dialect.DRAFT_06,
    "json-schema.org/draft-04/schema": Dialect.DRAFT_04,
}


def named_dialect(schema: Any) -> Dialect | None:
    """The dialect ``schema``'s ``$schema`` names (http or https, with or without the empty fragment)."""
    if not isinstance(schema, dict):
        return None
    uri = cast("dict[str, Any]", schema).get("$schema")
    if not isinstance(uri, str):
        return None
    for scheme in ("https://", "http://"):
        if uri.startswith(scheme):
            return _URIS.get(uri[len(scheme) :].removesuffix("#"))
    return None


def dialect_of(schema: Any, default: Dialect) -> Dialect:
    """The dialect ``schema`` is read in: the one its ``$schema`` names, else ``default``."""
    return named_dialect(schema) or default
