"""Operations: health, the contract file, Prometheus metrics, per-account statistics."""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST

from triggers_server.contract import contract_text
from triggers_server.domain.principal import Principal
from triggers_server.http.auth import require_scope
from triggers_server.http.responses import contract_json
from triggers_server.http.services import services_of
from triggers_server.metrics import STATS_WINDOW_SECONDS
from triggers_server.models._generated import Health, Stats

router = APIRouter()


@lru_cache(maxsize=1)
def _contract() -> str:
    return contract_text()


@router.get("/health")
async def get_health(request: Request) -> Response:
    return contract_json(Health, await services_of(request).stats.health())


@router.get("/openapi.yaml", include_in_schema=False)
async def get_contract() -> Response:
    return Response(_contract(), media_type="application/yaml")


@router.get("/metrics")
async def get_metrics(request: Request, principal: Annotated[Principal, Depends(require_scope("admin"))]) -> Response:
    exposition = await services_of(request).stats.exposition()
    return Response(exposition, media_type=CONTENT_TYPE_LATEST.split(";")[0] + "; charset=utf-8")


@router.get("/stats")
async def get_stats(
    request: Request,
    principal: Annotated[Principal, Depends(require_scope("events:read"))],
    window: Annotated[int, Query()] = STATS_WINDOW_SECONDS,
) -> Response:
    return contract_json(Stats, await services_of(request).stats.stats(principal, window))
