"""`Idempotency-Key` for POSTs, per draft-ietf-httpapi-idempotency-key-header.

Scope is (account, key, method, request path); the fingerprint is a SHA-256 over the path, the
content type, any `ce-*` headers and the canonicalised body. Outcomes:
- key malformed → 400 `invalid-idempotency-key`;
- same key still executing → 409 `idempotency-in-flight` with `Retry-After: 1`;
- same key, different fingerprint → 422 `idempotency-key-reuse`;
- same key after completion → the stored status, headers and body plus `Idempotent-Replayed: true`.
Stored: 2xx and the 4xx that execution itself produced (404 `not-found`, 409 `conflict`); never
validation failures, rate limits or 5xx, so a corrected or later retry executes. Records expire after
`idempotency_ttl_seconds` (24 h) of the injected clock.
A handler may store its response inside its own write transaction via `IdempotencyContext.record`, so the
effect and the record commit atomically (a crash can then never execute the request twice).
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol, cast

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from triggers_server.clock import Clock, isoformat
from triggers_server.config import Settings
from triggers_server.contract_facts import HEADER_IDEMPOTENCY_KEY, HEADER_IDEMPOTENT_REPLAYED
from triggers_server.domain.principal import Principal
from triggers_server.http.middleware import header, route_template, send_problem
from triggers_server.jsoncodec import loads
from triggers_server.problems import ProblemError
from triggers_server.storage.sqlite.engine import Database, Transaction

HEADER = HEADER_IDEMPOTENCY_KEY.lower().encode()
REPLAYED_HEADER = (HEADER_IDEMPOTENT_REPLAYED.lower().encode(), b"true")
_STORED_HEADERS = {b"content-type", b"location"}


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


def _invalid(why: str) -> ProblemError:
    return ProblemError(400, "invalid-idempotency-key", f"The Idempotency-Key {why}.")


def fingerprint(scope: Scope, body: bytes) -> str:
    digest = hashlib.sha256()
    digest.update(scope.get("path", "").encode())
    digest.update(b"\0")
    digest.update((header(scope, b"content-type") or "").split(";")[0].strip().lower().encode())
    for key, value in sorted(scope.get("headers", ())):
        if key.startswith(b"ce-"):
            digest.update(b"\0" + key + b":" + value)
    digest.update(b"\0")
    try:
        canonical = json.dumps(loads(body), sort_keys=True, separators=(",", ":")).encode()
    except ValueError:  # not JSON the API accepts (the route refuses it): the bytes themselves
        canonical = body
    digest.update(canonical)
    return digest.hexdigest()


@dataclass
class StoredResponse:
    fingerprint: str
    status_code: int
    headers: list[tuple[str, str]]
    body: bytes
    route: str
    method: str
    resource_id: str | None
    created_at: str
    expires_at: float
    replay_status: int | None = None


@dataclass
class InFlight:
    fingerprint: str
    route: str
    method: str
    created_at: str


@dataclass
class IdempotencyContext:
    """Handed to the handler via `request.state.idempotency` while a keyed POST executes."""

    account_id: str
    key: str
    method: str
    path: str
    fingerprint: str
    created_at: datetime
    ttl_seconds: float
    scope: Scope = field(repr=False)
    stored: bool = field(default=False)

    def record(
        self,
        conn: Transaction,
        *,
        status_code: int,
        headers: list[tuple[str, str]],
        body: bytes,
        resource_id: str | None,
        replay_status: int | None = None,
    ) -> None:
        """Store the outcome (inside the caller's transaction, or its own); `replay_status` is the status a
        replay answers with when it differs from the first response's."""
        expires = self.created_at + timedelta(seconds=self.ttl_seconds)
        conn.execute(
            "INSERT OR REPLACE INTO idempotency_keys (account_id, key, method, path, route, fingerprint, "
            "status_code, response_headers, response_body, resource_id, created_at, expires_at, replay_status) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                self.account_id,
                self.key,
                self.method,
                self.path,
                route_template(self.scope),
                self.fingerprint,
                status_code,
                json.dumps(headers),
                body,
                resource_id,
                isoformat(self.created_at),
                expires.timestamp(),
                replay_status,
            ),
        )
        self.stored = True


def _stored(row: sqlite3.Row) -> StoredResponse:
    return StoredResponse(
        fingerprint=row["fingerprint"],
        status_code=row["status_code"],
        headers=[(str(k), str(v)) for k, v in json.loads(row["response_headers"])],
        body=bytes(row["response_body"]),
        route=row["route"],
        method=row["method"],
        resource_id=row["resource_id"],
        created_at=row["created_at"],
        expires_at=row["expires_at"],
        replay_status=row["replay_status"],
    )


def lookup(conn: Transaction, account_id: str, key: str, method: str, path: str, now: float) -> StoredResponse | None:
    row = conn.execute(
        "SELECT * FROM idempotency_keys"
        " WHERE account_id = ? AND key = ? AND method = ? AND path = ? AND expires_at > ?",
        (account_id, key, method, path, now),
    ).fetchone()
    return _stored(row) if row else None


def latest_for_key(conn: Transaction, account_id: str, key: str, now: float) -> StoredResponse | None:
    row = conn.execute(
        "SELECT * FROM idempotency_keys"
        " WHERE account_id = ? AND key = ? AND expires_at > ? ORDER BY created_at DESC LIMIT 1",
        (account_id, key, now),
    ).fetchone()
    return _stored(row) if row else None


def purge_expired(conn: Transaction, now: float) -> int:
    return conn.execute("DELETE FROM idempotency_keys WHERE expires_at <= ?", (now,)).rowcount


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


class IdempotencyParts(Protocol):
    """What keyed POSTs need from the running server."""

    @property
    def settings(self) -> Settings: ...
    @property
    def clock(self) -> Clock: ...
    @property
    def db(self) -> Database: ...
    @property
    def in_flight(self) -> dict[tuple[str, str, str, str], InFlight]: ...


class IdempotencyMiddleware:
    def __init__(self, app: ASGIApp, services: IdempotencyParts) -> None:
        self.app = app
        self.services = services

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        raw_key = header(scope, HEADER)
        principal = scope.get("state", {}).get("principal")
        if raw_key is None or not isinstance(principal, Principal):
            await self.app(scope, receive, send)
            return
        try:
            key = parse_key(raw_key)
        except ProblemError as error:
            await send_problem(scope, send, error, [])
            return
        body, more = await _read_body(receive, self.services.settings.max_batch_bytes + 1)
        if more:
            await send_problem(
                scope, send, ProblemError(413, "payload-too-large", "The request body is too large."), []
            )
            return
        services = self.services
        now = services.clock.now()
        path = str(scope["path"])
        method = scope["method"]
        print_ = fingerprint(scope, body)
        scope_key = (principal.account_id, key, method, path)
        if scope_key in self.services.in_flight:
            await send_problem(scope, send, _in_flight(), [])
            return
        stored = await services.db.read(
            lambda conn: lookup(conn, principal.account_id, key, method, path, now.timestamp())
        )
        if scope_key in self.services.in_flight:
            await send_problem(scope, send, _in_flight(), [])
            return
        if stored is not None:
            if stored.fingerprint != print_:
                await send_problem(
                    scope,
                    send,
                    ProblemError(
                        422,
                        "idempotency-key-reuse",
                        "This Idempotency-Key was already used with a different request; use a new key.",
                    ),
                    [],
                )
                return
            await _replay(send, stored)
            return
        context = IdempotencyContext(
            principal.account_id,
            key,
            method,
            path,
            print_,
            now,
            services.settings.idempotency_ttl_seconds,
            scope,
        )
        self.services.in_flight[scope_key] = InFlight(print_, path, method, isoformat(now))
        try:
            scope.setdefault("state", {})["idempotency"] = context
            start, chunks = await _capture(self.app, scope, _replaying_receive(body, receive))
            response_body = b"".join(chunks)
            status = int(start["status"])
            if not context.stored and should_store(status, response_body):
                kept = [
                    (bytes(k).decode("latin-1"), bytes(v).decode("latin-1"))
                    for k, v in start.get("headers", [])
                    if bytes(k).lower() in _STORED_HEADERS
                ]
                await services.db.write(
                    lambda conn: context.record(
                        conn,
                        status_code=status,
                        headers=kept,
                        body=response_body,
                        resource_id=resource_id_of(response_body),
                    )
                )
            await send(start)
            await send({"type": "http.response.body", "body": response_body})
        finally:
            self.services.in_flight.pop(scope_key, None)


def _in_flight() -> ProblemError:
    return ProblemError(
        409,
        "idempotency-in-flight",
        "A request with this Idempotency-Key is still being processed; retry shortly.",
        headers={"Retry-After": "1"},
        extra={"retry_after": 1},
    )


async def _read_body(receive: Receive, limit: int) -> tuple[bytes, bool]:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return b"".join(chunks), False
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return b"", True
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks), False


def _replaying_receive(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


async def _capture(app: ASGIApp, scope: Scope, receive: Receive) -> tuple[Message, list[bytes]]:
    start: Message = {"type": "http.response.start", "status": 500, "headers": []}
    chunks: list[bytes] = []

    async def capture(message: Message) -> None:
        nonlocal start
        if message["type"] == "http.response.start":
            start = message
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, capture)
    return start, chunks


async def _replay(send: Send, stored: StoredResponse) -> None:
    headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in stored.headers]
    headers.append((b"content-length", str(len(stored.body)).encode()))
    headers.append(REPLAYED_HEADER)
    status = stored.replay_status or stored.status_code
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": stored.body})
