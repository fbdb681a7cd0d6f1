"""Bearer API keys → Principal (account + scopes), with scope checks as FastAPI dependencies."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from fastapi import Request

from triggers_server.clock import Clock
from triggers_server.problems import ProblemError
from triggers_server.storage.sqlite.accounts import find_active_key, hash_key
from triggers_server.storage.sqlite.engine import Database

ADMIN = "admin"


@dataclass(frozen=True)
class Principal:
    account_id: str
    key_id: str
    scopes: frozenset[str]
    bootstrap: bool = False

    def allows(self, scope: str) -> bool:
        return ADMIN in self.scopes or scope in self.scopes


class Authenticator:
    """Resolves bearer secrets to principals; caches by hash (revocation evicts) so a request costs no read."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock
        self._cache: dict[str, Principal] = {}
        self.last_used: dict[str, datetime] = {}

    async def resolve(self, authorization: str | None) -> Principal | None:
        secret = bearer_secret(authorization)
        if secret is None:
            return None
        digest = hash_key(secret)
        principal = self._cache.get(digest)
        if principal is None:
            record = await self._db.read(lambda conn: find_active_key(conn, digest))
            if record is None:
                return None
            principal = Principal(record.account_id, record.id, frozenset(record.scopes), record.bootstrap)
            if len(self._cache) > 10_000:
                self._cache.clear()
            self._cache[digest] = principal
        self.last_used[principal.key_id] = self._clock.now()
        return principal

    def take_last_used(self) -> dict[str, datetime]:
        """Usage times not yet persisted (the janitor writes them in one transaction)."""
        used, self.last_used = self.last_used, {}
        return used

    def evict(self, key_hash: str) -> None:
        self._cache.pop(key_hash, None)


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
