"""Domain errors: the rules of the API broken, named by the contract's problem type.

The domain raises these and knows nothing of HTTP; `http/` maps each kind to its status and renders it as
problem+json (`http/problem_handlers.py`). Pointers in `errors` are JSON pointers into the request."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import ClassVar


@dataclass(frozen=True)
class FieldError:
    """One broken rule at one place of the request (RFC 6901 pointer, e.g. `/data/amount`)."""

    pointer: str
    detail: str


class DomainError(Exception):
    """Base of every rule violation; `slug` is the contract's problem type (`contract_facts.PROBLEM_TITLES`)."""

    slug: ClassVar[str]

    def __init__(
        self,
        detail: str,
        *,
        errors: Sequence[FieldError] | None = None,
        retry_after_seconds: float | None = None,
        extra: Mapping[str, object] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = tuple(errors) if errors is not None else None
        self.retry_after_seconds = retry_after_seconds
        self.extra: Mapping[str, object] = extra or {}


class Malformed(DomainError):
    """The request cannot be read as the contract describes it (bad cursor, bad filter syntax, …)."""

    slug = "malformed-request"


class Invalid(DomainError):
    """The request is readable but breaks a rule of the data (schema, ranges); carries pointers."""

    slug = "validation"


class SchemaMismatch(DomainError):
    """An event's data breaks the registered schema of its type; carries pointers into the request."""

    slug = "schema-validation"


class NotFound(DomainError):
    """No such resource in the caller's account (other accounts' resources are indistinguishable)."""

    slug = "not-found"


class Conflict(DomainError):
    """The resource's state forbids the operation now (e.g. retrying a delivery that succeeded)."""

    slug = "conflict"


class Unauthenticated(DomainError):
    """No valid credential (an API key, or a one-time sign-in code) came with the request."""

    slug = "unauthenticated"


class Forbidden(DomainError):
    """The caller is known but may not do this (a scope is missing)."""

    slug = "forbidden"


class TooLarge(DomainError):
    """A body, batch or field is over a limit the contract sets."""

    slug = "payload-too-large"


class InvalidSchemaDocument(DomainError):
    """A submitted JSON Schema is not a valid schema of its dialect; pointers go into the request's schema."""

    slug = "invalid-schema"


class SchemaIncompatible(DomainError):
    """A schema version breaks its event type's compatibility mode; ``extra`` lists the incompatibilities."""

    slug = "schema-incompatible"


class UnsupportedMediaType(DomainError):
    """The body's media type is not one the operation accepts."""

    slug = "unsupported-media-type"


class Unavailable(DomainError):
    """A dependency of the server does not answer; retrying later may succeed."""

    slug = "unavailable"


class InvalidIdempotencyKey(DomainError):
    """The `Idempotency-Key` is not 1-255 printable ASCII characters (bare or as an sf-string)."""

    slug = "invalid-idempotency-key"


class IdempotencyInFlight(DomainError):
    """A request with the same key is still executing."""

    slug = "idempotency-in-flight"


class IdempotencyKeyReuse(DomainError):
    """The key was already used with a different request."""

    slug = "idempotency-key-reuse"
