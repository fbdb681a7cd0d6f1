"""Accounts and API keys: the records and the port (`AccountStore`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class AccountRecord:
    id: str
    name: str
    max_deliveries: int
    created_at: str
    purged_through_seq: int


@dataclass(frozen=True)
class ApiKeyRecord:
    id: str
    account_id: str
    name: str
    prefix: str
    scopes: tuple[str, ...]
    created_at: str
    revoked_at: str | None
    bootstrap: bool = False
    last_used_at: str | None = None


@dataclass(frozen=True)
class BootstrapOutcome:
    """What start-up did to give the operator an admin key (None from `ensure_bootstrap_key`: nothing)."""

    account_id: str
    generated_key: str | None  # a fresh key, to be shown once
    attached: bool  # the given key joined the existing bootstrap account instead of founding one


class AccountStore(Protocol):
    async def account_with_usage(
        self, account_id: str, *, day_start: str
    ) -> tuple[AccountRecord | None, dict[str, int]]:
        """The account and its usage counters, read in one snapshot."""
        ...

    async def create_key(
        self,
        *,
        account_id: str,
        new_account: str | None,
        max_deliveries: int,
        name: str,
        scopes: tuple[str, ...],
        now: datetime,
    ) -> tuple[ApiKeyRecord, str]:
        """A new key (and, with `new_account`, the account it belongs to); returns the record and the secret."""
        ...

    async def find_active_key(self, key_hash: str) -> ApiKeyRecord | None: ...

    async def bootstrap_account_id(self) -> str | None:
        """The account the bootstrap admin key belongs to (None before one exists)."""
        ...

    async def list_keys(self, account_id: str, *, limit: int, after_id: str | None) -> list[ApiKeyRecord]:
        """Active keys in id order after `after_id`."""
        ...

    async def revoke_key(self, account_id: str, key_id: str, now: datetime) -> str | None:
        """Revoke an active key of the account; returns its hash (to evict from caches), None when absent."""
        ...

    async def record_last_used(self, used: Mapping[str, datetime]) -> None: ...

    async def ensure_bootstrap_key(
        self, *, secret: str | None, max_deliveries: int, now: datetime
    ) -> BootstrapOutcome | None:
        """Make sure an admin key exists (a given secret joins the existing bootstrap account); None when
        nothing was done."""
        ...
