"""Bearer API keys → Principal (account + scopes), with scope checks as FastAPI dependencies."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from fastapi import Request

from .problems import ProblemError
from .storage.accounts import find_active_key, hash_key
from .storage.engine import Database

ADMIN = "admin"


@dataclass(frozen=True)
class Principal:
    account_id: str
    key_id: str
    scopes: frozenset[str]

    def allows(self, scope: str) -> bool:
        return ADMIN in self.scopes or scope in self.scopes


class Authenticator:
    """Resolves bearer secrets to principals; caches by hash (revocation evicts) so a request costs no read."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._cache: dict[str, Principal] = {}

    async def resolve(self, authorization: str | None) -> Principal | None:
        secret = bearer_secret(authorization)
        if secret is None:
            return None
        digest = hash_key(secret)
        cached = self._cache.get(digest)
        if cached is not None:
            return cached
        record = await self._db.read(lambda conn: find_active_key(conn, digest))
        if record is None:
            return None
        principal = Principal(record.account_id, record.id, frozenset(record.scopes))
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[digest] = principal
        return principal

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


def require_scope(scope: str) -> Callable[[Request], Awaitable[Principal]]:
    """FastAPI dependency: the caller's principal, 401 without a valid key, 403 without `scope`."""

    async def dependency(request: Request) -> Principal:
        principal = principal_of(request)
        if not principal.allows(scope):
            raise ProblemError(403, "forbidden", f"This API key lacks the `{scope}` scope.")
        return principal

    return dependency
