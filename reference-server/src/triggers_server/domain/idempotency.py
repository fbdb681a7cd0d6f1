"""`Idempotency-Key` for POSTs, per draft-ietf-httpapi-idempotency-key-header: the rules.

Scope is (account, key, method, request path); the fingerprint is a SHA-256 over the path, the content type,
any `ce-*` headers and the canonicalised body. Outcomes:
- key malformed → `InvalidIdempotencyKey`;
- same key still executing → `IdempotencyInFlight` (retry after a second), on whichever instance it executes:
  the executing request holds a claim in the database (`IdempotencyStore.claim`) with a lease of
  `idempotency_lease_seconds`, so a claim left by a crashed instance expires instead of blocking the key;
- same key, different fingerprint → `IdempotencyKeyReuse`;
- same key after completion → the stored reply, replayed.
Stored: 2xx and the 4xx that execution itself produced (404 `not-found`, 409 `conflict`); never validation
failures, rate limits or 5xx, so a corrected or later retry executes. Records expire after
`idempotency_ttl_seconds` (24 h) of the injected clock.
A handler stores its reply inside its own write transaction (its port method takes the `KeyedRequest`), so the
effect and the record commit atomically (a crash can then never execute the request twice); the ASGI middleware
(`http/idempotency.py`) stores any other outcome afterwards."""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from triggers_server.clock import Clock, isoformat, parse_datetime
from triggers_server.config import Settings
from triggers_server.domain.errors import IdempotencyInFlight, IdempotencyKeyReuse, InvalidIdempotencyKey, NotFound
from triggers_server.domain.principal import Principal
from triggers_server.jsoncodec import loads
from triggers_server.storage.ports.idempotency import IdempotencyStore, KeyedRequest, Reply, StoredResponse


def parse_key(raw: str) -> str:
    """Accept a bare token or an RFC 8941 sf-string (`"..."`); 1-255 printable ASCII characters."""
    value = raw.strip()
    if len(value) >= 2 and value.startswith('"') and value.endswith('"'):
        inner = value[1:-1]
        if "\\" in inner.replace('\\"', "").replace("\\\\", ""):
            raise _invalid("has an invalid escape in its quoted form")
        value = inner.replace('\\"', '"').replace("\\\\", "\\")
    if not value:
        raise _invalid("is empty")
    if len(value) > 255:
        raise _invalid("is longer than 255 characters")
    if any(not (0x20 <= ord(char) <= 0x7E) for char in value):
        raise _invalid("contains characters other than printable ASCII")
    return value


def _invalid(why: str) -> InvalidIdempotencyKey:
    return InvalidIdempotencyKey(f"The Idempotency-Key {why}.")


def fingerprint(path: str, content_type: str | None, headers: Iterable[tuple[bytes, bytes]], body: bytes) -> str:
    """What makes two requests "the same": path, media type, `ce-*` headers and the body (JSON canonicalised)."""
    digest = hashlib.sha256()
    digest.update(path.encode())
    digest.update(b"\0")
    digest.update((content_type or "").split(";")[0].strip().lower().encode())
    for key, value in sorted(headers):
        if key.startswith(b"ce-"):
            digest.update(b"\0" + key + b":" + value)
    digest.update(b"\0")
    try:
        canonical = json.dumps(loads(body), sort_keys=True, separators=(",", ":")).encode()
    except (ValueError, UnicodeDecodeError):
        canonical = body
    digest.update(canonical)
    return digest.hexdigest()


def resource_id_of(body: bytes) -> str | None:
    try:
        parsed: Any = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(parsed, dict):
        return None
    identifier = cast("dict[str, Any]", parsed).get("id")
    return identifier if isinstance(identifier, str) else None


def should_store(status: int, body: bytes) -> bool:
    if 200 <= status < 300:
        return True
    return (status == 404 and b"/problems/not-found" in body) or (status == 409 and b"/problems/conflict" in body)


@dataclass
class Ticket:
    """A keyed POST while it executes: handed to its handler, which stores its reply in its own write."""

    account_id: str
    key: str
    method: str
    path: str
    fingerprint: str
    created_at: datetime
    expires_at: float
    route: str = ""
    recorded: bool = field(default=False)
    token: str = field(default_factory=lambda: secrets.token_hex(16))  # whose claim this is

    def claim(self) -> KeyedRequest:
        return KeyedRequest(
            self.account_id,
            self.key,
            self.method,
            self.path,
            self.route,
            self.fingerprint,
            self.created_at,
            self.expires_at,
        )


def keyed(ticket: Ticket | None) -> KeyedRequest | None:
    return ticket.claim() if ticket is not None else None


class IdempotencyService:
    def __init__(self, store: IdempotencyStore, clock: Clock, settings: Settings) -> None:
        self._store = store
        self._clock = clock
        self._ttl = settings.idempotency_ttl_seconds
        self._lease = settings.idempotency_lease_seconds

    async def begin(
        self, principal: Principal, key: str, *, method: str, path: str, fingerprint: str
    ) -> Ticket | StoredResponse:
        """Start executing a keyed POST (a `Ticket`; call `finish` after), or the stored reply to replay.
        `key` is already parsed (`parse_key`)."""
        now = self._clock.now()
        expires = now + timedelta(seconds=self._ttl)
        ticket = Ticket(principal.account_id, key, method, path, fingerprint, now, expires.timestamp())
        moment = now.timestamp()
        if not await self._store.claim(
            ticket.claim(), token=ticket.token, now=moment, lease_until=moment + self._lease
        ):
            raise _in_flight()
        try:
            stored = await self._store.lookup(principal.account_id, key, method, path, moment)
        except BaseException:
            await self.release(ticket)
            raise
        if stored is None:
            return ticket
        await self.release(ticket)
        if stored.fingerprint != fingerprint:
            raise IdempotencyKeyReuse("This Idempotency-Key was already used with a different request; use a new key.")
        return stored

    async def finish(self, ticket: Ticket, *, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
        """The handler answered: store the reply unless its own write did, or the outcome is not one to keep."""
        try:
            if not ticket.recorded and should_store(status, body):
                reply = Reply(status, tuple(headers), body, resource_id_of(body))
                await self._store.record(ticket.claim(), reply)
        finally:
            await self.release(ticket)

    async def release(self, ticket: Ticket) -> None:
        """End the ticket's claim (after its reply is stored, so a retry then finds the reply)."""
        await self._store.release(ticket.claim(), token=ticket.token)

    async def status(self, principal: Principal, key: str) -> dict[str, Any]:
        """What the server remembers of the key in the caller's account (the contract's `IdempotencyKeyStatus`)."""
        ttl = timedelta(seconds=self._ttl)
        now = self._clock.now().timestamp()
        claim = await self._store.in_flight_for_key(principal.account_id, key, now)
        if claim is not None:
            return {
                "key": key,
                "status": "in_progress",
                "method": claim.method,
                "route": claim.path.removeprefix("/v1"),
                "fingerprint": claim.fingerprint,
                "response_status": None,
                "resource_id": None,
                "created_at": claim.created_at,
                "expires_at": isoformat(parse_datetime(claim.created_at) + ttl),
            }
        stored = await self._store.latest_for_key(principal.account_id, key, now)
        if stored is None:
            raise NotFound("This Idempotency-Key is unknown or expired for this account.")
        return {
            "key": key,
            "status": "completed",
            "method": stored.method,
            "route": stored.route,
            "fingerprint": stored.fingerprint,
            "response_status": stored.status_code,
            "resource_id": stored.resource_id,
            "created_at": stored.created_at,
            "expires_at": isoformat(datetime.fromtimestamp(stored.expires_at, UTC)),
        }

    async def purge_expired(self) -> int:
        return await self._store.purge_expired(self._clock.now().timestamp())


def _in_flight() -> IdempotencyInFlight:
    return IdempotencyInFlight(
        "A request with this Idempotency-Key is still being processed; retry shortly.",
        retry_after_seconds=1,
        extra={"retry_after": 1},
    )
