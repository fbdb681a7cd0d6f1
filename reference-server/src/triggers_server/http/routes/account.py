"""The caller's account (limits, usage) and its API keys."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from triggers_server.contract_facts import PAGE_LIMIT_DEFAULT
from triggers_server.domain.accounts import AccountService
from triggers_server.domain.principal import Principal
from triggers_server.http.auth import principal_of, require_scope
from triggers_server.http.contract_schemas import parse_contract_model
from triggers_server.http.responses import contract_json
from triggers_server.http.routes.params import PageCursor, PageLimit
from triggers_server.http.services import services_of
from triggers_server.models._generated import Account, ApiKey, ApiKeyCreate, ApiKeyList, SignInCodeRedeem
from triggers_server.storage.ports.accounts import ApiKeyRecord

router = APIRouter()
Admin = Annotated[Principal, Depends(require_scope("admin"))]


def key_wire(record: ApiKeyRecord, accounts: AccountService, *, secret: str | None) -> dict[str, Any]:
    return {
        "id": record.id,
        "account_id": record.account_id,
        "name": record.name,
        "prefix": record.prefix,
        "scopes": list(record.scopes),
        "created_at": record.created_at,
        "last_used_at": accounts.last_used(record),
        "key": secret,
    }


@router.get("/account")
async def get_account(request: Request) -> Response:
    overview = await services_of(request).accounts.overview(principal_of(request))
    return contract_json(Account, overview)


@router.post("/api-keys", status_code=201)
async def create_api_key(request: Request, principal: Admin) -> Response:
    accounts = services_of(request).accounts
    body = await parse_contract_model(request, ApiKeyCreate)
    scopes = tuple(scope.value for scope in body.scopes)
    record, secret = await accounts.create_key(principal, name=body.name, scopes=scopes, new_account=body.new_account)
    return contract_json(
        ApiKey,
        key_wire(record, accounts, secret=secret),
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
    accounts = services_of(request).accounts
    page = await accounts.list_keys(principal, limit=limit, cursor=cursor)
    return contract_json(
        ApiKeyList,
        {"data": [key_wire(record, accounts, secret=None) for record in page.keys], "next_cursor": page.next_cursor},
    )


@router.delete("/api-keys/{key_id}", status_code=204)
async def delete_api_key(request: Request, principal: Admin, key_id: str) -> Response:
    await services_of(request).accounts.revoke_key(principal, key_id)
    return Response(status_code=204)


@router.post("/sign-in-codes/redeem", status_code=201)
async def redeem_sign_in_code(request: Request) -> Response:
    """No API key here: the one-time code is the credential."""
    services = services_of(request)
    body = await parse_contract_model(request, SignInCodeRedeem)
    record, secret = await services.sign_in.redeem(body.code)
    return contract_json(ApiKey, key_wire(record, services.accounts, secret=secret), status=201)
