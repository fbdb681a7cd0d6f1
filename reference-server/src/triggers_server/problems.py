"""RFC 9457 problem+json: the one error shape of the API (`http/problem_handlers.py` makes every 4xx/5xx one)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, cast

from fastapi import Request
from starlette.responses import Response

from triggers_server.contract_facts import PROBLEM_TITLES, PROBLEM_TYPE_BASE

PROBLEM_MEDIA_TYPE = "application/problem+json"


class ProblemError(Exception):
    """Raise anywhere in a request to answer with a problem+json response."""

    def __init__(
        self,
        status: int,
        slug: str,
        detail: str,
        *,
        title: str | None = None,
        errors: list[dict[str, str]] | None = None,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.slug = slug
        self.detail = detail
        self.title = title or PROBLEM_TITLES.get(slug, slug.replace("-", " ").capitalize())
        self.errors = errors
        self.headers = headers or {}
        self.extra = extra or {}

    def body(self, *, instance: str, request_id: str) -> dict[str, Any]:
        return problem_body(
            self.status,
            self.slug,
            self.detail,
            instance=instance,
            request_id=request_id,
            title=self.title,
            errors=self.errors,
            extra=self.extra,
        )


def problem_body(
    status: int,
    slug: str,
    detail: str,
    *,
    instance: str,
    request_id: str,
    title: str | None = None,
    errors: list[dict[str, str]] | None = None,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_BASE + slug,
        "title": title or PROBLEM_TITLES.get(slug, slug),
        "status": status,
        "detail": detail,
        "instance": instance,
        "request_id": request_id,
    }
    if errors is not None:
        body["errors"] = errors
    if extra:
        body.update(extra)
    return body


def problem_bytes(body: dict[str, Any]) -> bytes:
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()


def request_id_of(request: Request) -> str:
    return str(request.scope.get("state", {}).get("request_id", ""))


def problem_response(request: Request, error: ProblemError) -> Response:
    rid = request_id_of(request)
    body = error.body(instance=f"{request.url.path}#{rid}", request_id=rid)
    return Response(problem_bytes(body), status_code=error.status, media_type=PROBLEM_MEDIA_TYPE, headers=error.headers)


def json_pointer(location: Sequence[Any]) -> str:
    """A JSON pointer (RFC 6901) for a validation error: body fields are rooted at the body
    (`/data/x`); query, path and header parameters at `/query/<name>`, `/path/<name>`, `/header/<name>`."""
    parts = list(location)
    if parts and parts[0] == "body":
        parts = parts[1:]
    escaped = [str(part).replace("~", "~0").replace("/", "~1") for part in parts]
    return "".join("/" + part for part in escaped)


def validation_problem(errors: Sequence[Any]) -> ProblemError:
    """Map pydantic/FastAPI validation errors: 422 `validation` for body fields; 400 `malformed-request`
    when the body is not JSON at all or only query/path/header parameters are wrong."""
    items: list[dict[str, str]] = []
    in_body = False
    for raw in errors:
        if not isinstance(raw, dict):
            continue
        error = cast("dict[str, Any]", raw)
        if error.get("type") == "json_invalid":
            return ProblemError(400, "malformed-request", "The request body is not valid JSON.")
        location: tuple[Any, ...] = tuple(error.get("loc", ()))
        in_body = in_body or not location or location[0] not in ("query", "path", "header", "cookie")
        items.append({"pointer": json_pointer(location), "detail": str(error.get("msg", "invalid"))})
    detail = "; ".join(f"{item['pointer'] or '/'}: {item['detail']}" for item in items[:5]) or "Invalid request."
    if not in_body:
        return ProblemError(400, "malformed-request", detail, errors=items)
    return ProblemError(422, "validation", detail, errors=items)
