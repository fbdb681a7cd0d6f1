"""`GET /idempotency-keys/{key}`: what the server remembers about a key of the caller's account."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from triggers_server.domain.principal import Principal
from triggers_server.http.auth import require_scope
from triggers_server.http.responses import contract_json
from triggers_server.http.services import services_of
from triggers_server.models._generated import IdempotencyKeyStatus

router = APIRouter()
Reader = Annotated[Principal, Depends(require_scope("events:read"))]


@router.get("/idempotency-keys/{key}")
async def get_idempotency_key(request: Request, principal: Reader, key: str) -> Response:
    return contract_json(IdempotencyKeyStatus, await services_of(request).idempotency.status(principal, key))
