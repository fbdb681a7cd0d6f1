"""Idempotency records: the stored outcome of a keyed POST, and the port (`IdempotencyStore`).

A write that answers a keyed POST stores its reply in its own transaction (`KeyedRequest` + `Reply`, passed to
the area's port method), so the effect and the record commit together and a retry can never execute twice.

While a keyed POST executes, its (account, key, method, path) is *claimed* (`claim`): a second request with
the key, on this instance or any other, finds the claim and is told to retry (the in-flight `409`). A claim
carries a lease, so the claim of an instance that died mid-request expires instead of blocking the key; only
the claimer's own token releases it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class KeyedRequest:
    """Where a keyed POST's outcome is stored: (account, key, method, path) plus what identifies the request."""

    account_id: str
    key: str
    method: str
    path: str
    route: str
    fingerprint: str
    created_at: datetime
    expires_at: float


@dataclass(frozen=True)
class Reply:
    """A response to remember; `replay_status` is what a replay answers when it differs from `status_code`."""

    status_code: int
    headers: tuple[tuple[str, str], ...]
    body: bytes
    resource_id: str | None
    replay_status: int | None = None


@dataclass(frozen=True)
class StoredResponse:
    fingerprint: str
    status_code: int
    headers: tuple[tuple[str, str], ...]
    body: bytes
    route: str
    method: str
    resource_id: str | None
    created_at: str
    expires_at: float
    replay_status: int | None = None


@dataclass(frozen=True)
class InFlightClaim:
    """A keyed POST still executing (somewhere in the deployment)."""

    account_id: str
    key: str
    method: str
    path: str
    fingerprint: str
    created_at: str
    lease_until: float


class IdempotencyStore(Protocol):
    async def claim(self, keyed: KeyedRequest, *, token: str, now: float, lease_until: float) -> bool:
        """Claim the scope of `keyed` for the request identified by `token` until `lease_until`; False when
        another request holds an unexpired claim on it (an expired one is taken over)."""
        ...

    async def release(self, keyed: KeyedRequest, *, token: str) -> None:
        """Drop the claim `token` holds (nothing when it expired and someone else claimed the scope since)."""
        ...

    async def in_flight_for_key(self, account_id: str, key: str, now: float) -> InFlightClaim | None:
        """The newest unexpired claim on the key, whatever the method and path."""
        ...

    async def lookup(self, account_id: str, key: str, method: str, path: str, now: float) -> StoredResponse | None:
        """The unexpired record of exactly this (account, key, method, path)."""
        ...

    async def latest_for_key(self, account_id: str, key: str, now: float) -> StoredResponse | None:
        """The newest unexpired record of the key, whatever the method and path."""
        ...

    async def record(self, keyed: KeyedRequest, reply: Reply) -> None:
        """Store a reply on its own (for outcomes no area's write stored)."""
        ...

    async def purge_expired(self, now: float) -> int: ...
