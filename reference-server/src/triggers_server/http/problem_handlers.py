"""The handlers that make every 4xx problem+json: ours, the domain's errors, FastAPI's validation and
Starlette's 404/405. Crashes (500) have one handler, `middleware.answer_crash`."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from starlette.routing import compile_path

from triggers_server.contract_facts import PROBLEM_TITLES
from triggers_server.domain.errors import DomainError
from triggers_server.globs import InvalidGlob
from triggers_server.problems import ProblemError, problem_response, validation_problem

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
    "invalid-idempotency-key": 400,
    "unauthenticated": 401,
    "forbidden": 403,
    "not-found": 404,
    "conflict": 409,
    "idempotency-in-flight": 409,
    "payload-too-large": 413,
    "unsupported-media-type": 415,
    "validation": 422,
    "invalid-schema": 422,
    "schema-incompatible": 409,
    "schema-validation": 422,
    "idempotency-key-reuse": 422,
    "unavailable": 503,
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


@dataclass(frozen=True)
class RouteTemplate:
    """One path template the app serves and every method it serves there."""

    template: str
    pattern: re.Pattern[str]
    methods: frozenset[str]


def route_templates(routers: Sequence[APIRouter], prefix: str) -> list[RouteTemplate]:
    methods: dict[str, set[str]] = {}
    for router in routers:
        for route in router.routes:
            if isinstance(route, APIRoute):
                methods.setdefault(prefix + route.path, set()).update(route.methods or ())
    return [RouteTemplate(t, compile_path(t)[0], frozenset(m)) for t, m in methods.items()]


def allowed_methods(templates: Sequence[RouteTemplate], path: str) -> list[str]:
    """The methods of the route that matched the path: of the templates matching it, the most specific one
    (fewest parameters: `/events/batch`, not `/events/{event_id}`)."""
    matching = [t for t in templates if t.pattern.match(path)]
    if not matching:
        return []
    chosen = min(matching, key=lambda t: t.template.count("{"))
    return [method for method in _METHODS if method in chosen.methods]


def install_problem_handlers(app: FastAPI, routers: Sequence[APIRouter], prefix: str) -> None:
    """Every error leaves as problem+json: ours, the domain's, FastAPI's validation and Starlette's 404/405.
    Crashes pass through to the one crash handler, `middleware.answer_crash` (a route's and a middleware's alike).
    `routers` (mounted under `prefix`) name the methods a 405's `Allow` lists."""
    templates = route_templates(routers, prefix)

    async def on_problem(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ProblemError)
        return problem_response(request, exc)

    async def on_domain(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, DomainError)
        return problem_response(request, domain_problem(exc))

    async def on_invalid_glob(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, InvalidGlob)
        return problem_response(request, ProblemError(400, "malformed-request", str(exc)))

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
            headers["Allow"] = ", ".join(allowed_methods(templates, request.url.path))
        return problem_response(request, ProblemError(exc.status_code, slug, detail, headers=headers))

    app.add_exception_handler(ProblemError, on_problem)
    app.add_exception_handler(DomainError, on_domain)
    app.add_exception_handler(InvalidGlob, on_invalid_glob)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
