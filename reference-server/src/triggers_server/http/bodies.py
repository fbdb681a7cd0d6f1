"""Request bodies through the generated contract models: 415 for non-JSON, 400 for unparseable JSON,
422 `validation` (with JSON pointers) for fields that break the contract."""

from __future__ import annotations

from typing import Any, TypeVar

from fastapi import Request
from pydantic import BaseModel, ValidationError

from triggers_server.domain.ingest import is_json_media_type
from triggers_server.jsoncodec import loads
from triggers_server.problems import ProblemError, validation_problem

M = TypeVar("M", bound=BaseModel)
MAX_BODY_BYTES = 1024 * 1024


async def parse_model(request: Request, model: type[M], *, optional: bool = False) -> M:
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        raise ProblemError(413, "payload-too-large", f"The body exceeds {MAX_BODY_BYTES} bytes.")
    if not body.strip():
        if optional:
            return model()
        raise ProblemError(
            422,
            "validation",
            "A JSON body is required.",
            errors=[{"pointer": "", "detail": "body is required"}],
        )
    content_type = request.headers.get("content-type")
    if content_type is not None and not is_json_media_type(content_type):
        raise ProblemError(415, "unsupported-media-type", f"Send application/json, not {content_type}.")
    try:
        payload: Any = loads(body)
    except (ValueError, UnicodeDecodeError) as error:
        raise ProblemError(400, "malformed-request", f"The request body is not valid JSON: {error}.") from error
    try:
        return model.model_validate(payload)
    except ValidationError as error:
        raise validation_problem(error.errors()) from error
