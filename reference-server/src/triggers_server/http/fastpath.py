"""Raw ASGI dispatch for the hottest operations (POST /events and POST /events/batch).

Profiled under bench/server_ingest.py, FastAPI's and Starlette's own layers (their middleware stack, the router's
linear match, the dependency solver, two exception wrappers and three async exit stacks per request) took
about half of the event loop's time for a single-event ingest. The operations listed in `FAST_PATH` skip them:
an exact (method, path) match hands the request to the same middleware classes in the same order
(`RequestContextMiddleware` → `RateLimitMiddleware` → `IdempotencyMiddleware`), then to the route's own
endpoint function (the very `APIRoute` the router would have matched, so metrics, logs and idempotency records
name the same route template), and an exception the endpoint raises goes to the same handler the app
registered for it (`problem_handlers.install_problem_handlers`). Every other request, and these operations
under a `root_path`, take FastAPI's path. The routes stay registered with FastAPI: the contract's route
coverage and the 405 `Allow` lists see one route per operation.

What the fast path does not run is FastAPI's own OpenTelemetry instrumentation, which the server never
configures.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any, Protocol, cast

from fastapi import FastAPI, Request
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from triggers_server.http.idempotency import IdempotencyMiddleware, IdempotencyParts
from triggers_server.http.middleware import RequestContextMiddleware, RequestContextParts
from triggers_server.http.ratelimit import RateLimitMiddleware, RateLimitParts

Endpoint = Callable[[Request], Awaitable[Response]]
Handler = Callable[[Request, Exception], Any]


class FastPathParts(RequestContextParts, IdempotencyParts, RateLimitParts, Protocol):
    """What the fast path's middleware need from the running server (all of theirs)."""


class FastPath:
    """Dispatches the (method, path) pairs of `routes` (mounted under `prefix`) through the app's middleware
    classes straight to their endpoints; `matches` says whether a request is one of them."""

    def __init__(self, app: FastAPI, routes: Iterable[APIRoute], prefix: str, services: FastPathParts) -> None:
        self._app = app
        self._routes: dict[tuple[str, str], APIRoute] = {}
        for route in routes:
            for method in route.methods or ():
                self._routes[(method, prefix + route.path)] = route
        self._handlers: dict[type[Exception], Handler] | None = None
        self._status_handlers: dict[int, Handler] = {}
        chain: ASGIApp = self._endpoint
        chain = IdempotencyMiddleware(chain, services=services)
        chain = RateLimitMiddleware(chain, services=services)
        self._chain: ASGIApp = RequestContextMiddleware(chain, services=services)

    def matches(self, scope: Scope) -> bool:
        return not scope.get("root_path") and (scope["method"], scope["path"]) in self._routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve a request `route_for` matched."""
        scope["app"] = self._app
        await self._chain(scope, receive, send)

    async def _endpoint(self, scope: Scope, receive: Receive, send: Send) -> None:
        # Here is where FastAPI's router would have matched: only now does the scope name the route (a 429 or
        # an idempotent replay answered by the middleware stays `unmatched` in metrics and logs, as there).
        route = self._routes[(scope["method"], scope["path"])]
        scope["route"] = route
        request = Request(scope, receive, send)
        endpoint: Endpoint = route.endpoint
        try:
            response = await endpoint(request)
        except Exception as error:
            handler = self._handler_for(error)
            if handler is None:
                raise
            answer = handler(request, error)
            response = cast(Response, await answer if inspect.isawaitable(answer) else answer)
            error.__traceback__ = None  # as Starlette does: a reused exception would keep every traceback
        await response(scope, receive, send)

    def _handler_for(self, error: Exception) -> Handler | None:
        """The handler Starlette's ExceptionMiddleware would pick: a status handler for an HTTPException,
        else the nearest registered class in the exception's MRO (500 / Exception are the crash handler's)."""
        if self._handlers is None:
            self._handlers, self._status_handlers = _split_handlers(self._app.exception_handlers)
        if isinstance(error, HTTPException) and error.status_code in self._status_handlers:
            return self._status_handlers[error.status_code]
        for cls in type(error).__mro__:
            handler = self._handlers.get(cls)
            if handler is not None:
                return handler
        return None


def _split_handlers(registered: Mapping[Any, Any]) -> tuple[dict[type[Exception], Handler], dict[int, Handler]]:
    by_class: dict[type[Exception], Handler] = {}
    by_status: dict[int, Handler] = {}
    for key, handler in registered.items():
        if key in (500, Exception):
            continue
        if isinstance(key, int):
            by_status[key] = handler
        else:
            by_class[key] = handler
    return by_class, by_status
