"""The one way a route reads its request body: bytes up to a limit (`read_body`, 413), then JSON
(`parse_json`: 400 for what does not parse, nests deeper than the contract's `MAX_JSON_DEPTH` or holds a lone
surrogate; 422 with a pointer for a number outside the double range), or both at once for a JSON-only route
(`read_json`, 415 for another media type), then the generated contract model (`validate_model`: 422
`validation` with JSON pointers; `contract_schemas.parse_contract_model` adds the contract's own schema)."""

from __future__ import annotations

from typing import Any, TypeVar

from fastapi import Request
from pydantic import BaseModel, ValidationError

from triggers_server.domain.ingest import is_json_media_type
from triggers_server.jsoncodec import JsonRefused, NumberOutOfRange, loads
from triggers_server.problems import ProblemError, validation_problem

M = TypeVar("M", bound=BaseModel)
MAX_BODY_BYTES = 1024 * 1024


def _too_large(limit: int) -> ProblemError:
    return ProblemError(413, "payload-too-large", f"The body exceeds the {limit}-byte limit.")


async def read_body(request: Request, limit: int = MAX_BODY_BYTES) -> bytes:
    """The request body, or 413 as soon as it exceeds `limit` bytes (a body is read once)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


def json_problem(error: ValueError) -> ProblemError:
    """The problem for a body `jsoncodec.loads` refused."""
    if isinstance(error, NumberOutOfRange):
        pointer = error.pointer or ""
        return ProblemError(
            422,
            "validation",
            f"{pointer or '/'}: {error.detail}.",
            errors=[{"pointer": pointer, "detail": error.detail}],
        )
    if isinstance(error, JsonRefused):
        errors = None if error.pointer is None else [{"pointer": error.pointer, "detail": error.detail}]
        return ProblemError(400, "malformed-request", f"The request body is refused: {error.detail}.", errors=errors)
    return ProblemError(400, "malformed-request", f"The request body is not valid JSON: {error}.")


def parse_json(body: bytes) -> Any:
    """The body as JSON the API accepts, or the problem that says why not."""
    try:
        return loads(body)
    except ValueError as error:  # UnicodeDecodeError is a ValueError too
        raise json_problem(error) from error


ABSENT: Any = object()  # what `read_json(optional=True)` returns for an empty body


async def read_json(request: Request, *, optional: bool = False, limit: int = MAX_BODY_BYTES) -> Any:
    """A JSON body (415 for another media type); an empty body is 422, or `ABSENT` when `optional`."""
    body = await read_body(request, limit)
    if not body.strip():
        if optional:
            return ABSENT
        raise ProblemError(
            422,
            "validation",
            "A JSON body is required.",
            errors=[{"pointer": "", "detail": "body is required"}],
        )
    content_type = request.headers.get("content-type")
    if content_type is not None and not is_json_media_type(content_type):
        raise ProblemError(415, "unsupported-media-type", f"Send application/json, not {content_type}.")
    return parse_json(body)


def validate_model(model: type[M], payload: Any) -> M:
    try:
        return model.model_validate(payload)
    except ValidationError as error:
        raise validation_problem(error.errors()) from error
