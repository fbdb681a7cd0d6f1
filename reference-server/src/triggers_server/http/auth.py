"""Bearer API keys on the wire: reading the header, the resolved principal of a request, scope checks."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import Request

from triggers_server.domain.principal import Principal
from triggers_server.problems import ProblemError


def bearer_secret(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, value = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


def principal_of(request: Request) -> Principal:
    """The principal the middleware resolved, or 401."""
    principal = request.scope.get("state", {}).get("principal")
    if not isinstance(principal, Principal):
        raise ProblemError(
            401,
            "unauthenticated",
            "Missing or unknown API key; send `Authorization: Bearer <key>`.",
            headers={"WWW-Authenticate": 'Bearer realm="triggers"'},
        )
    return principal


def authorize(request: Request, scope: str) -> Principal:
    """The caller's principal: 401 without a valid key, 403 without `scope`. (Hot routes call this
    directly instead of going through FastAPI's dependency solver.)"""
    principal = principal_of(request)
    if not principal.allows(scope):
        raise ProblemError(403, "forbidden", f"This API key lacks the `{scope}` scope.")
    return principal


def require_scope(scope: str) -> Callable[[Request], Awaitable[Principal]]:
    """FastAPI dependency form of `authorize`."""

    async def dependency(request: Request) -> Principal:
        return authorize(request, scope)

    return dependency
