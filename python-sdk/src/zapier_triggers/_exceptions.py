"""The error taxonomy shared by every Triggers SDK (docs/runtime-policy.md, "Errors").

Status errors carry the RFC 9457 problem fields so callers can branch on ``type`` and show ``detail``
without parsing bodies themselves.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, cast

import httpx

from ._constants import (
    HEADER_REQUEST_ID,
    PROBLEM_IDEMPOTENCY_IN_FLIGHT,
    PROBLEM_IDEMPOTENCY_KEY_REUSE,
    PROBLEM_SCHEMA_VALIDATION,
)

__all__ = [
    "APIConnectionError",
    "APIError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "ConflictError",
    "IdempotencyInProgressError",
    "IdempotencyKeyReusedError",
    "InternalServerError",
    "NotFoundError",
    "PermissionDeniedError",
    "ProblemDetail",
    "RateLimitError",
    "SchemaValidationError",
    "StreamRedirectError",
    "TriggersError",
    "UnprocessableEntityError",
    "WebhookVerificationError",
]


class TriggersError(Exception):
    """Base of every exception this SDK raises."""


@dataclass(frozen=True)
class ProblemDetail:
    """One entry of a problem's ``errors[]``: where the input was wrong and why."""

    pointer: str
    detail: str


class APIError(TriggersError):
    """A request to the API failed; ``idempotency_key`` lets the caller retry the same call safely."""

    message: str
    request: httpx.Request | None
    request_id: str | None
    idempotency_key: str | None

    def __init__(
        self,
        message: str,
        *,
        request: httpx.Request | None,
        request_id: str | None = None,
        idempotency_key: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.request = request
        self.request_id = request_id
        self.idempotency_key = idempotency_key


class APIConnectionError(APIError):
    """No response was received (DNS, refused connection, reset, TLS...)."""

    def __init__(
        self,
        message: str = "Connection error.",
        *,
        request: httpx.Request | None,
        idempotency_key: str | None = None,
    ) -> None:
        super().__init__(message, request=request, idempotency_key=idempotency_key)


class APITimeoutError(APIConnectionError):
    """The request timed out before a response arrived."""

    def __init__(self, *, request: httpx.Request | None, idempotency_key: str | None = None) -> None:
        super().__init__("Request timed out.", request=request, idempotency_key=idempotency_key)


class APIResponseValidationError(APIError):
    """The response did not match the contract (raised only by clients built with ``strict=True``)."""

    def __init__(
        self,
        message: str,
        *,
        response: httpx.Response | None = None,
        request: httpx.Request | None = None,
    ) -> None:
        super().__init__(
            message,
            request=response.request if response is not None else request,
            request_id=response.headers.get(HEADER_REQUEST_ID) if response is not None else None,
        )
        self.response = response


class APIStatusError(APIError):
    """The API answered with a 4xx/5xx status; the problem+json fields are exposed as attributes."""

    response: httpx.Response
    status_code: int
    headers: httpx.Headers
    body: object
    type: str | None
    title: str | None
    detail: str | None
    instance: str | None
    errors: list[ProblemDetail]

    def __init__(
        self,
        message: str,
        *,
        response: httpx.Response,
        body: object,
        idempotency_key: str | None = None,
    ) -> None:
        problem = as_object(body)
        request_id = _str_or_none(problem.get("request_id")) or response.headers.get(HEADER_REQUEST_ID)
        super().__init__(
            message,
            request=response.request,
            request_id=request_id,
            idempotency_key=idempotency_key,
        )
        self.response = response
        self.status_code = response.status_code
        self.headers = response.headers
        self.body = body
        self.type = _str_or_none(problem.get("type"))
        self.title = _str_or_none(problem.get("title"))
        self.detail = _str_or_none(problem.get("detail"))
        self.instance = _str_or_none(problem.get("instance"))
        self.errors = _problem_details(problem.get("errors"))

    @property
    def extensions(self) -> dict[str, Any]:
        """Problem members beyond the RFC 9457 core (e.g. ``violated_policies``)."""
        core = {"type", "title", "status", "detail", "instance", "request_id", "errors"}
        return {k: v for k, v in as_object(self.body).items() if k not in core}


class StreamRedirectError(APIError):
    """A 3xx on an event stream that cannot be followed: no usable ``Location``, or too many hops."""

    def __init__(
        self, message: str, *, request: httpx.Request, status_code: int | None, location: str | None
    ) -> None:
        super().__init__(message, request=request)
        self.status_code = status_code
        self.location = location


class BadRequestError(APIStatusError):
    """400: the request could not be parsed."""


class AuthenticationError(APIStatusError):
    """401: missing or unknown API key."""


class PermissionDeniedError(APIStatusError):
    """403: the API key lacks the required scope."""


class NotFoundError(APIStatusError):
    """404: unknown route or resource."""


class ConflictError(APIStatusError):
    """409: the resource is in a state that conflicts with the request."""


class IdempotencyInProgressError(ConflictError):
    """409: a request with the same Idempotency-Key is still executing (retried automatically)."""


class UnprocessableEntityError(APIStatusError):
    """422: the request was understood but its content is invalid."""


class IdempotencyKeyReusedError(UnprocessableEntityError):
    """422: the Idempotency-Key was already used with a different request body."""


class SchemaValidationError(UnprocessableEntityError):
    """422: event ``data`` fails the registered schema; ``errors`` holds JSON pointers."""


class RateLimitError(APIStatusError):
    """429: rate limited; ``retry_after`` is how long the server asked the caller to wait."""

    retry_after: float | None

    def __init__(
        self,
        message: str,
        *,
        response: httpx.Response,
        body: object,
        idempotency_key: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, response=response, body=body, idempotency_key=idempotency_key)
        self.retry_after = retry_after


class InternalServerError(APIStatusError):
    """5xx: the server failed."""


class WebhookVerificationError(TriggersError):
    """A webhook's signature, timestamp or headers did not verify."""


_BY_STATUS: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: UnprocessableEntityError,
    429: RateLimitError,
}

_BY_PROBLEM_TYPE: dict[str, type[APIStatusError]] = {
    PROBLEM_IDEMPOTENCY_IN_FLIGHT: IdempotencyInProgressError,
    PROBLEM_IDEMPOTENCY_KEY_REUSE: IdempotencyKeyReusedError,
    PROBLEM_SCHEMA_VALIDATION: SchemaValidationError,
}


def decode_body(response: httpx.Response) -> object:
    """The JSON body if there is one, else the text (errors must survive non-JSON proxies)."""
    if not response.content:
        return None
    try:
        return json.loads(response.content)
    except ValueError:
        return response.text


def error_class_for(status: int, problem_type: str | None) -> type[APIStatusError]:
    """Pick the most specific error class; a subtype only applies under its own status."""
    cls = _BY_PROBLEM_TYPE.get(problem_type or "")
    if cls is not None and status in _status_range(cls):
        return cls
    if status >= 500:
        return InternalServerError
    return _BY_STATUS.get(status, APIStatusError)


def make_status_error(
    response: httpx.Response,
    *,
    idempotency_key: str | None,
    retry_after: float | None,
) -> APIStatusError:
    """Build the typed error for an error response whose body has already been read."""
    body = decode_body(response)
    problem = as_object(body)
    problem_type = _str_or_none(problem.get("type"))
    cls = error_class_for(response.status_code, problem_type)
    summary = _str_or_none(problem.get("detail")) or _str_or_none(problem.get("title"))
    message = f"Error code: {response.status_code}" + (f" - {summary}" if summary else "")
    if cls is RateLimitError:
        return RateLimitError(
            message,
            response=response,
            body=body,
            idempotency_key=idempotency_key,
            retry_after=retry_after,
        )
    return cls(message, response=response, body=body, idempotency_key=idempotency_key)


def _status_range(cls: type[APIStatusError]) -> range:
    if issubclass(cls, ConflictError):
        return range(409, 410)
    return range(422, 423)


def _str_or_none(value: object) -> str | None:
    return value if isinstance(value, str) else None


def as_object(value: object) -> dict[str, object]:
    """``value`` if it is a JSON object, else an empty one (bodies are untrusted)."""
    return cast("dict[str, object]", value) if isinstance(value, dict) else {}


def _problem_details(raw: object) -> list[ProblemDetail]:
    if not isinstance(raw, list):
        return []
    details: list[ProblemDetail] = []
    for item in cast("list[object]", raw):
        entry = as_object(item)
        if entry:
            details.append(
                ProblemDetail(
                    pointer=str(entry.get("pointer", "")),
                    detail=str(entry.get("detail", "")),
                )
            )
    return details
