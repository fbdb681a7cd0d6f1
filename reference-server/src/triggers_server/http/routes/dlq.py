"""The dead-letter queue: list/get (with the event), dismiss, retry one, retry in bulk by filter."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response

from triggers_server.contract_facts import PAGE_LIMIT_DEFAULT
from triggers_server.domain.principal import Principal
from triggers_server.globs import validate_globs
from triggers_server.http.auth import require_scope
from triggers_server.http.contract_schemas import parse_contract_model
from triggers_server.http.responses import json_response
from triggers_server.http.routes.params import PageCursor, PageLimit
from triggers_server.http.routes.wire import dead_letter_wire
from triggers_server.http.services import services_of
from triggers_server.models._generated import DlqBulkRetryRequest, DlqOrigin, DlqReason
from triggers_server.storage.ports.dlq import DlqFilter

router = APIRouter()

Consumer = Annotated[Principal, Depends(require_scope("inbox:consume"))]
EntryId = Annotated[str, Path(min_length=1, max_length=255, description="Dead-letter id (`dlq_…`).")]
Text = Annotated[str | None, Query(min_length=1)]


def _query(
    event_type: str | None, subscription_id: str | None, origin: DlqOrigin | None, reason: DlqReason | None
) -> DlqFilter:
    if event_type is not None:
        validate_globs([event_type], field="event_type")
    return DlqFilter(
        event_type=event_type,
        subscription_id=subscription_id,
        origin=origin.value if origin is not None else None,
        reason=reason.value if reason is not None else None,
    )


@router.get("/dlq")
async def list_dlq(
    request: Request,
    principal: Consumer,
    event_type: Text = None,
    subscription_id: Text = None,
    origin: DlqOrigin | None = None,
    reason: DlqReason | None = None,
    limit: PageLimit = PAGE_LIMIT_DEFAULT,
    cursor: PageCursor = None,
) -> Response:
    query = _query(event_type, subscription_id, origin, reason)
    page = await services_of(request).dlq.list_page(principal.account_id, query, limit=limit, cursor=cursor)
    return json_response({"data": [dead_letter_wire(letter) for letter in page.items], "next_cursor": page.next_cursor})


@router.post("/dlq/retry")
async def retry_dlq_bulk(request: Request, principal: Consumer) -> Response:
    """Retry every matching dead letter that can be retried; entries of a gone/disabled subscription stay."""
    options = await parse_contract_model(request, DlqBulkRetryRequest, optional=True)
    query = _query(options.event_type, options.subscription_id, options.origin, options.reason)
    retried = await services_of(request).dlq.retry_matching(principal.account_id, query)
    return json_response({"retried": retried})


@router.get("/dlq/{entry_id}")
async def get_dlq_entry(request: Request, principal: Consumer, entry_id: EntryId) -> Response:
    return json_response(dead_letter_wire(await services_of(request).dlq.get(principal.account_id, entry_id)))


@router.delete("/dlq/{entry_id}")
async def dismiss_dlq_entry(request: Request, principal: Consumer, entry_id: EntryId) -> Response:
    await services_of(request).dlq.dismiss(principal.account_id, entry_id)
    return Response(status_code=204)


@router.post("/dlq/{entry_id}/retry")
async def retry_dlq_entry(request: Request, principal: Consumer, entry_id: EntryId) -> Response:
    retried = await services_of(request).dlq.retry(principal.account_id, entry_id)
    return json_response(
        {"entry_id": retried.entry_id, "event_id": retried.event_id, "delivery_id": retried.delivery_id}
    )
