"""`Idempotency-Key` on the wire: the ASGI middleware around keyed POSTs (the rules are `domain/idempotency.py`).

It reads the key and the body, asks the domain to begin (or replays the stored reply), runs the app with the
body replayed, and hands the captured response back to the domain to store. Handlers whose writes store their
own reply atomically reach the `Ticket` with `ticket_of(request)`."""

from __future__ import annotations

from typing import Protocol

from fastapi import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from triggers_server.config import Settings
from triggers_server.contract_facts import HEADER_IDEMPOTENCY_KEY, HEADER_IDEMPOTENT_REPLAYED
from triggers_server.domain.errors import DomainError
from triggers_server.domain.idempotency import IdempotencyService, Ticket, fingerprint, parse_key
from triggers_server.domain.principal import Principal
from triggers_server.http.middleware import header, route_template, send_problem
from triggers_server.http.problem_handlers import domain_problem
from triggers_server.problems import ProblemError
from triggers_server.storage.ports.idempotency import StoredResponse

HEADER = HEADER_IDEMPOTENCY_KEY.lower().encode()
REPLAYED_HEADER = (HEADER_IDEMPOTENT_REPLAYED.lower().encode(), b"true")
_STORED_HEADERS = {b"content-type", b"location"}
_STATE = "idempotency"


class IdempotencyParts(Protocol):
    """What keyed POSTs need from the running server."""

    @property
    def settings(self) -> Settings: ...
    @property
    def idempotency(self) -> IdempotencyService: ...


def ticket_of(request: Request) -> Ticket | None:
    """The executing keyed POST's ticket (its route known now that routing has run), or None."""
    ticket = request.scope.get("state", {}).get(_STATE)
    if not isinstance(ticket, Ticket):
        return None
    ticket.route = route_template(request.scope)
    return ticket


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
        except DomainError as error:
            await send_problem(scope, send, domain_problem(error), [])
            return
        body, more = await _read_body(receive, self.services.settings.max_batch_bytes + 1)
        if more:
            await send_problem(
                scope, send, ProblemError(413, "payload-too-large", "The request body is too large."), []
            )
            return
        service = self.services.idempotency
        path = str(scope["path"])
        print_ = fingerprint(path, header(scope, b"content-type"), scope.get("headers", ()), body)
        try:
            begun = await service.begin(principal, key, method=scope["method"], path=path, fingerprint=print_)
        except DomainError as error:
            await send_problem(scope, send, domain_problem(error), [])
            return
        if isinstance(begun, StoredResponse):
            await _replay(send, begun)
            return
        try:
            scope.setdefault("state", {})[_STATE] = begun
            start, chunks = await _capture(self.app, scope, _replaying_receive(body, receive))
        except BaseException:
            await service.release(begun)
            raise
        response_body = b"".join(chunks)
        kept = [
            (bytes(k).decode("latin-1"), bytes(v).decode("latin-1"))
            for k, v in start.get("headers", [])
            if bytes(k).lower() in _STORED_HEADERS
        ]
        begun.route = route_template(scope)
        await service.finish(begun, status=int(start["status"]), headers=kept, body=response_body)
        await send(start)
        await send({"type": "http.response.body", "body": response_body})


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
