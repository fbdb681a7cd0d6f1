"""The caller's account (limits, usage) and its API keys."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from triggers_server.clock import isoformat
from triggers_server.contract_facts import PAGE_LIMIT_DEFAULT
from triggers_server.domain.cursors import decode_cursor, encode_cursor, str_field
from triggers_server.http.auth import Principal, principal_of, require_scope
from triggers_server.http.contract_schemas import parse_contract_model
from triggers_server.http.responses import contract_json
from triggers_server.http.routes.params import PageCursor, PageLimit
from triggers_server.http.services import services_of
from triggers_server.models._generated import Account, ApiKey, ApiKeyCreate, ApiKeyList
from triggers_server.problems import ProblemError
from triggers_server.storage.sqlite import accounts as store

router = APIRouter()
Admin = Annotated[Principal, Depends(require_scope("admin"))]
KEYS_CURSOR = "api_keys"


def key_wire(record: store.ApiKeyRecord, *, secret: str | None, last_used: datetime | None) -> dict[str, Any]:
    used = record.last_used_at
    if last_used is not None and (used is None or isoformat(last_used) > used):
        used = isoformat(last_used)
    return {
        "id": record.id,
        "account_id": record.account_id,
        "name": record.name,
        "prefix": record.prefix,
        "scopes": list(record.scopes),
        "created_at": record.created_at,
        "last_used_at": used,
        "key": secret,
    }


@router.get("/account")
async def get_account(request: Request) -> Response:
    principal = principal_of(request)
    services = services_of(request)
    settings = services.settings
    now = services.clock.now()
    day_start = isoformat(now.replace(hour=0, minute=0, second=0, microsecond=0))
    account_id = principal.account_id

    def read(conn: Any) -> tuple[store.AccountRecord | None, dict[str, int]]:
        return store.get_account(conn, account_id), store.account_usage(conn, account_id, day_start=day_start)

    account, usage = await services.db.read(read)
    if account is None:
        raise ProblemError(404, "not-found", "The account of this key no longer exists.")
    return contract_json(
        Account,
        {
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
        },
    )


@router.post("/api-keys", status_code=201)
async def create_api_key(request: Request, principal: Admin) -> Response:
    services = services_of(request)
    body = await parse_contract_model(request, ApiKeyCreate)
    if body.new_account is not None and not principal.bootstrap:
        raise ProblemError(403, "forbidden", "Only the bootstrap admin key may create keys in a new account.")
    scopes = tuple(dict.fromkeys(scope.value for scope in body.scopes))
    now = services.clock.now()
    settings = services.settings

    def write(conn: Any) -> tuple[store.ApiKeyRecord, str]:
        account_id = principal.account_id
        if body.new_account is not None:
            account_id = store.create_account(
                conn, name=body.new_account, max_deliveries=settings.max_deliveries, now=now
            ).id
        return store.create_api_key(conn, account_id=account_id, name=body.name, scopes=scopes, now=now)

    record, secret = await services.db.write(write)
    return contract_json(
        ApiKey,
        key_wire(record, secret=secret, last_used=None),
        status=201,
        headers={"Location": f"/v1/api-keys/{record.id}"},
    )


@router.get("/api-keys")
async def list_api_keys(
    request: Request,
    principal: Admin,
    limit: PageLimit = PAGE_LIMIT_DEFAULT,
    cursor: PageCursor = None,
) -> Response:
    services = services_of(request)
    position = decode_cursor(KEYS_CURSOR, cursor)
    after = str_field(position, "id") if position is not None else None
    account_id = principal.account_id
    records = await services.db.read(
        lambda conn: store.list_api_keys(conn, account_id, limit=limit + 1, after_id=after)
    )
    next_cursor = None
    if len(records) > limit:
        records = records[:limit]
        next_cursor = encode_cursor(KEYS_CURSOR, {"id": records[-1].id})
    used = services.auth.last_used
    return contract_json(
        ApiKeyList,
        {
            "data": [key_wire(record, secret=None, last_used=used.get(record.id)) for record in records],
            "next_cursor": next_cursor,
        },
    )


@router.delete("/api-keys/{key_id}", status_code=204)
async def delete_api_key(request: Request, principal: Admin, key_id: str) -> Response:
    services = services_of(request)
    if key_id == principal.key_id:
        raise ProblemError(409, "conflict", "A key cannot revoke itself; use another admin key.")
    now = services.clock.now()
    account_id = principal.account_id
    revoked = await services.db.write(lambda conn: store.revoke_api_key(conn, account_id, key_id, now))
    if revoked is None:
        raise ProblemError(404, "not-found", f"No active API key {key_id!r} in this account.")
    services.auth.evict(revoked)
    return Response(status_code=204)
