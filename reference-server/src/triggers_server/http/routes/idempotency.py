"""`GET /idempotency-keys/{key}`: what the server remembers about a key of the caller's account."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from triggers_server.clock import isoformat, parse_datetime
from triggers_server.domain.principal import Principal
from triggers_server.http.auth import require_scope
from triggers_server.http.idempotency import latest_for_key
from triggers_server.http.responses import contract_json
from triggers_server.http.services import services_of
from triggers_server.models._generated import IdempotencyKeyStatus
from triggers_server.problems import ProblemError

router = APIRouter()
Reader = Annotated[Principal, Depends(require_scope("events:read"))]


@router.get("/idempotency-keys/{key}")
async def get_idempotency_key(request: Request, principal: Reader, key: str) -> Response:
    services = services_of(request)
    ttl = timedelta(seconds=services.settings.idempotency_ttl_seconds)
    for (account_id, in_flight_key, method, path), entry in list(services.in_flight.items()):
        if account_id == principal.account_id and in_flight_key == key:
            created = parse_datetime(entry.created_at)
            return contract_json(
                IdempotencyKeyStatus,
                {
                    "key": key,
                    "status": "in_progress",
                    "method": method,
                    "route": path.removeprefix("/v1"),
                    "fingerprint": entry.fingerprint,
                    "response_status": None,
                    "resource_id": None,
                    "created_at": entry.created_at,
                    "expires_at": isoformat(created + ttl),
                },
            )
    now = services.clock.now().timestamp()
    account_id = principal.account_id
    stored = await services.db.read(lambda conn: latest_for_key(conn, account_id, key, now))
    if stored is None:
        raise ProblemError(404, "not-found", "This Idempotency-Key is unknown or expired for this account.")
    return contract_json(
        IdempotencyKeyStatus,
        {
            "key": key,
            "status": "completed",
            "method": stored.method,
            "route": stored.route,
            "fingerprint": stored.fingerprint,
            "response_status": stored.status_code,
            "resource_id": stored.resource_id,
            "created_at": stored.created_at,
            "expires_at": isoformat(datetime.fromtimestamp(stored.expires_at, UTC)),
        },
    )
