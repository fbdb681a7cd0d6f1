"""The handlers that make every 4xx/5xx problem+json: ours, the domain's errors, FastAPI's validation,
Starlette's 404/405, and crashes (the one crash handler)."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from starlette.routing import Match

from triggers_server.contract_facts import PROBLEM_TITLES
from triggers_server.domain.errors import DomainError
from triggers_server.problems import ProblemError, problem_response, request_id_of, validation_problem

log = logging.getLogger("triggers_server.problems")

_STATUS_SLUGS: dict[int, str] = {
    400: "malformed-request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    409: "conflict",
    413: "payload-too-large",
    415: "unsupported-media-type",
    422: "validation",
    429: "rate-limited",
    503: "unavailable",
}

# The HTTP status of each domain error kind; the domain names the kind, only HTTP knows the status.
_DOMAIN_STATUS: dict[str, int] = {
    "malformed-request": 400,
    "unauthenticated": 401,
    "forbidden": 403,
    "not-found": 404,
    "conflict": 409,
    "payload-too-large": 413,
    "validation": 422,
}


def domain_problem(error: DomainError) -> ProblemError:
    """The problem+json a domain error answers with."""
    headers: dict[str, str] = {}
    if error.slug == "unauthenticated":
        headers["WWW-Authenticate"] = 'Bearer realm="triggers"'
    if error.retry_after_seconds is not None:
        headers["Retry-After"] = str(max(1, round(error.retry_after_seconds)))
    errors = None if error.errors is None else [{"pointer": e.pointer, "detail": e.detail} for e in error.errors]
    return ProblemError(
        _DOMAIN_STATUS[error.slug], error.slug, error.detail, errors=errors, headers=headers, extra=dict(error.extra)
    )


_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def allowed_methods(request: Request) -> list[str]:
    """Every method some route serves at this path (Starlette names only the first route's)."""
    allowed: list[str] = []
    for method in _METHODS:
        probe = {**request.scope, "method": method}
        if any(route.matches(probe)[0] == Match.FULL for route in request.app.router.routes):
            allowed.append(method)
    return allowed


def install_problem_handlers(app: FastAPI) -> None:
    """Every error leaves as problem+json: ours, FastAPI's validation, Starlette's 404/405, and crashes."""

    async def on_problem(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ProblemError)
        return problem_response(request, exc)

    async def on_domain(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, DomainError)
        return problem_response(request, domain_problem(exc))

    async def on_validation(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        return problem_response(request, validation_problem(exc.errors()))

    async def on_http(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        slug = _STATUS_SLUGS.get(exc.status_code, "internal" if exc.status_code >= 500 else "malformed-request")
        detail = exc.detail or PROBLEM_TITLES.get(slug, "Error")
        if exc.status_code == 404:
            detail = f"No route or resource at {request.url.path}."
        elif exc.status_code == 405:
            detail = f"{request.method} is not allowed on {request.url.path}."
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            headers["Allow"] = ", ".join(allowed_methods(request))
        return problem_response(request, ProblemError(exc.status_code, slug, detail, headers=headers))

    async def on_crash(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error", extra={"request_id": request_id_of(request)})
        return problem_response(request, ProblemError(500, "internal", "An unexpected error occurred."))

    app.add_exception_handler(ProblemError, on_problem)
    app.add_exception_handler(DomainError, on_domain)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(Exception, on_crash)
