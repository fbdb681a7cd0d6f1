"""The outermost ASGI layer: request ids, caller resolution, access logs, request metrics, and the one
crash handler (`answer_crash`): whatever crashes below it, a route or a middleware, answers the same
problem+json 500 with the request id."""

from __future__ import annotations

import logging
import time
from typing import Any, Protocol

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from triggers_server.contract_facts import API_PREFIX, HEADER_X_REQUEST_ID
from triggers_server.domain.accounts import Authenticator
from triggers_server.http.auth import bearer_secret
from triggers_server.ids import new_id
from triggers_server.metrics import Metrics
from triggers_server.problems import PROBLEM_MEDIA_TYPE, ProblemError, problem_bytes


class RequestContextParts(Protocol):
    """What the outermost layer needs from the running server."""

    @property
    def auth(self) -> Authenticator: ...
    @property
    def metrics(self) -> Metrics: ...


access_log = logging.getLogger("triggers_server.access")
error_log = logging.getLogger("triggers_server.errors")
_REQUEST_ID_HEADER = HEADER_X_REQUEST_ID.lower().encode()


def route_template(scope: Scope) -> str:
    """The matched route's template relative to the API base (`/events/{event_id}/replay`, as in the
    contract's paths), known once routing has run."""
    template = getattr(scope.get("route"), "path", None)
    if not isinstance(template, str):
        template = str(scope.get("path", ""))
    return template.removeprefix(API_PREFIX) if template.startswith(API_PREFIX + "/") else template


def header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return bytes(value).decode("latin-1")
    return None


async def send_problem(scope: Scope, send: Send, error: ProblemError, extra_headers: list[tuple[bytes, bytes]]) -> None:
    """Answer with a problem+json response from middleware (outside FastAPI's exception handlers)."""
    state = scope.setdefault("state", {})
    request_id = str(state.get("request_id", ""))
    body = problem_bytes(error.body(instance=f"{scope.get('path', '')}#{request_id}", request_id=request_id))
    headers = [
        (b"content-type", PROBLEM_MEDIA_TYPE.encode()),
        (b"content-length", str(len(body)).encode()),
        *[(k.lower().encode(), v.encode()) for k, v in error.headers.items()],
        *extra_headers,
    ]
    await send({"type": "http.response.start", "status": error.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


RATE_LIMIT_HEADERS_STATE = "rate_limit_headers"  # set by the rate limiter so even a crash carries them


def internal_error() -> ProblemError:
    """The 500 every crash answers (nothing about the failure leaves the server; the log has it)."""
    return ProblemError(500, "internal", "An unexpected error occurred.")


async def answer_crash(scope: Scope, send: Send) -> None:
    """The one crash handler: log the exception being handled with the request id, answer problem+json 500
    (with the RateLimit headers when the limiter ran). `send` adds the X-Request-Id header."""
    state = scope.setdefault("state", {})
    error_log.exception("unhandled error", extra={"request_id": state.get("request_id")})
    await send_problem(scope, send, internal_error(), list(state.get(RATE_LIMIT_HEADERS_STATE, ())))


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp, services: RequestContextParts) -> None:
        self.app = app
        self.services = services

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = new_id("req")
        state: dict[str, Any] = scope.setdefault("state", {})
        state["request_id"] = request_id
        state["started"] = started
        principal = None
        status_holder = {"status": 500, "started": False}
        request_id_header = (_REQUEST_ID_HEADER, request_id.encode())

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_holder["status"] = message["status"]
                status_holder["started"] = True
                message["headers"] = [*message.get("headers", []), request_id_header]
            await send(message)

        try:
            secret = bearer_secret(header(scope, b"authorization"))
            principal = None if secret is None else await self.services.auth.resolve(secret)
            state["principal"] = principal
            await self.app(scope, receive, send_with_id)
        except Exception:
            if status_holder["started"]:
                raise  # the response is under way: nothing else can be said; the server drops the connection
            await answer_crash(scope, send_with_id)
        finally:
            duration = time.perf_counter() - started
            template = route_template(scope) if scope.get("route") is not None else "unmatched"
            status = int(status_holder["status"])
            self.services.metrics.record_request(scope["method"], template, status, duration)
            if access_log.isEnabledFor(logging.INFO):
                access_log.info(
                    "request",
                    extra={
                        "request_id": request_id,
                        "method": scope["method"],
                        "path": scope.get("path", ""),
                        "route": template,
                        "status": status,
                        "duration_ms": round(duration * 1000, 3),
                        "account_id": principal.account_id if principal else None,
                        "key_id": principal.key_id if principal else None,
                    },
                )
