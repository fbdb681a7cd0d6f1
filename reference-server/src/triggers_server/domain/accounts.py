"""Accounts and API keys: who a secret belongs to, the account's limits and usage, and the rules for keys."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from triggers_server.clock import Clock, isoformat
from triggers_server.config import Settings
from triggers_server.domain.cursors import decode_cursor, encode_cursor, str_field
from triggers_server.domain.errors import Conflict, Forbidden, NotFound
from triggers_server.domain.principal import Principal
from triggers_server.ids import hash_key
from triggers_server.storage.ports.accounts import AccountStore, ApiKeyRecord

KEYS_CURSOR = "api_keys"
_CACHE_LIMIT = 10_000


class Authenticator:
    """Resolves secrets to principals; caches by hash (revocation evicts) so a request costs no read."""

    def __init__(self, accounts: AccountStore, clock: Clock) -> None:
        self._accounts = accounts
        self._clock = clock
        self._cache: dict[str, Principal] = {}
        self.last_used: dict[str, datetime] = {}

    async def resolve(self, secret: str) -> Principal | None:
        digest = hash_key(secret)
        principal = self._cache.get(digest)
        if principal is None:
            record = await self._accounts.find_active_key(digest)
            if record is None:
                return None
            principal = Principal(record.account_id, record.id, frozenset(record.scopes), record.bootstrap)
            if len(self._cache) > _CACHE_LIMIT:
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


@dataclass(frozen=True)
class KeyPage:
    keys: list[ApiKeyRecord]
    next_cursor: str | None


class AccountService:
    def __init__(self, accounts: AccountStore, auth: Authenticator, clock: Clock, settings: Settings) -> None:
        self._accounts = accounts
        self._auth = auth
        self._clock = clock
        self._settings = settings

    async def overview(self, principal: Principal) -> dict[str, Any]:
        """The caller's account: limits (from the server's settings) and today's usage."""
        now = self._clock.now()
        day_start = isoformat(now.replace(hour=0, minute=0, second=0, microsecond=0))
        account, usage = await self._accounts.account_with_usage(principal.account_id, day_start=day_start)
        if account is None:
            raise NotFound("The account of this key no longer exists.")
        settings = self._settings
        return {
            "id": account.id,
            "name": account.name,
            "limits": {
                "requests_per_second": math.ceil(settings.rate_limit_per_second),
                "burst": settings.rate_limit_burst,
                "max_event_bytes": settings.max_event_bytes,
                "max_batch_events": settings.max_batch_events,
                "max_deliveries": account.max_deliveries,
                "retention_days": max(1, math.ceil(settings.retention_seconds / 86400)),
            },
            "usage": usage,
            "created_at": account.created_at,
        }

    async def create_key(
        self, principal: Principal, *, name: str, scopes: tuple[str, ...], new_account: str | None
    ) -> tuple[ApiKeyRecord, str]:
        if new_account is not None and not principal.bootstrap:
            raise Forbidden("Only the bootstrap admin key may create keys in a new account.")
        return await self._accounts.create_key(
            account_id=principal.account_id,
            new_account=new_account,
            max_deliveries=self._settings.max_deliveries,
            name=name,
            scopes=tuple(dict.fromkeys(scopes)),
            now=self._clock.now(),
        )

    async def list_keys(self, principal: Principal, *, limit: int, cursor: str | None) -> KeyPage:
        position = decode_cursor(KEYS_CURSOR, cursor)
        after = str_field(position, "id") if position is not None else None
        records = await self._accounts.list_keys(principal.account_id, limit=limit + 1, after_id=after)
        if len(records) <= limit:
            return KeyPage(records, None)
        records = records[:limit]
        return KeyPage(records, encode_cursor(KEYS_CURSOR, {"id": records[-1].id}))

    def last_used(self, key: ApiKeyRecord) -> str | None:
        """When the key was last used: the stored time, or a newer one not yet persisted."""
        pending = self._auth.last_used.get(key.id)
        if pending is not None and (key.last_used_at is None or isoformat(pending) > key.last_used_at):
            return isoformat(pending)
        return key.last_used_at

    async def revoke_key(self, principal: Principal, key_id: str) -> None:
        if key_id == principal.key_id:
            raise Conflict("A key cannot revoke itself; use another admin key.")
        revoked = await self._accounts.revoke_key(principal.account_id, key_id, self._clock.now())
        if revoked is None:
            raise NotFound(f"No active API key {key_id!r} in this account.")
        self._auth.evict(revoked)

    async def persist_last_used(self) -> None:
        used = self._auth.take_last_used()
        if used:
            await self._accounts.record_last_used(used)
