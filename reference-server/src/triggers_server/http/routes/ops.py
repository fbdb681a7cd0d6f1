"""Operations: health, the contract file, Prometheus metrics, per-account statistics."""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST

from triggers_server import __version__
from triggers_server.clock import isoformat
from triggers_server.contract import contract_text
from triggers_server.domain.principal import Principal
from triggers_server.http.auth import require_scope
from triggers_server.http.responses import contract_json
from triggers_server.http.services import services_of
from triggers_server.models._generated import Health, Stats
from triggers_server.problems import ProblemError
from triggers_server.storage.sqlite.engine import Transaction

router = APIRouter()

STATS_WINDOW_SECONDS = 300
TOP_TYPES = 10


@lru_cache(maxsize=1)
def _contract() -> str:
    return contract_text()


@router.get("/health")
async def get_health(request: Request) -> Response:
    services = services_of(request)
    try:
        await services.db.read(lambda conn: conn.execute("SELECT 1").fetchone())
    except Exception as error:
        raise ProblemError(
            503,
            "unavailable",
            f"The database does not answer: {type(error).__name__}.",
            headers={"Retry-After": "1"},
            extra={"retry_after": 1},
        ) from error
    return contract_json(Health, {"status": "ok", "version": __version__, "time": isoformat(services.clock.now())})


@router.get("/openapi.yaml", include_in_schema=False)
async def get_contract() -> Response:
    return Response(_contract(), media_type="application/yaml")


def _depths(conn: Transaction, account_id: str | None) -> tuple[int, int]:
    where, params = ("WHERE account_id = ?", (account_id,)) if account_id else ("", ())
    inbox = conn.execute(
        f"SELECT count(*) FROM inbox {where} {'AND' if where else 'WHERE'} state IN ('pending', 'leased')",
        params,
    ).fetchone()[0]
    dlq = conn.execute(f"SELECT count(*) FROM dlq_entries {where}", params).fetchone()[0]
    return int(inbox), int(dlq)


@router.get("/metrics")
async def get_metrics(request: Request, principal: Annotated[Principal, Depends(require_scope("admin"))]) -> Response:
    services = services_of(request)
    inbox, dlq = await services.db.read(lambda conn: _depths(conn, None))
    services.metrics.inbox_depth.set(inbox)
    services.metrics.dlq_depth.set(dlq)
    return Response(services.metrics.exposition(), media_type=CONTENT_TYPE_LATEST.split(";")[0] + "; charset=utf-8")


@router.get("/stats")
async def get_stats(
    request: Request, principal: Annotated[Principal, Depends(require_scope("events:read"))]
) -> Response:
    services = services_of(request)
    now = services.clock.now()
    since = isoformat(now.fromtimestamp(now.timestamp() - STATS_WINDOW_SECONDS, now.tzinfo))
    account_id = principal.account_id

    def read(conn: Transaction) -> dict[str, Any]:
        inbox, dlq = _depths(conn, account_id)
        total = conn.execute(
            "SELECT count(*) FROM events WHERE account_id = ? AND created_at >= ?", (account_id, since)
        ).fetchone()[0]
        types = conn.execute(
            "SELECT type, count(*) AS n FROM events"
            " WHERE account_id = ? AND created_at >= ? GROUP BY type ORDER BY n DESC, type LIMIT ?",
            (account_id, since, TOP_TYPES),
        ).fetchall()
        attempts = conn.execute(
            "SELECT count(*), sum(outcome = 'succeeded') FROM delivery_attempts"
            " WHERE account_id = ? AND started_at >= ?",
            (account_id, since),
        ).fetchone()
        return {
            "total": int(total),
            "types": [{"type": row["type"], "count": int(row["n"])} for row in types],
            "attempts": int(attempts[0] or 0),
            "succeeded": int(attempts[1] or 0),
            "inbox": inbox,
            "dlq": dlq,
        }

    facts = await services.db.read(read)
    p50, p95, p99 = services.metrics.latency_percentiles(account_id, now.timestamp(), (0.5, 0.95, 0.99))
    return contract_json(
        Stats,
        {
            "window_seconds": STATS_WINDOW_SECONDS,
            "ingest_rate_per_second": facts["total"] / STATS_WINDOW_SECONDS,
            "ingest_latency_ms": {"p50": p50, "p95": p95, "p99": p99},
            "delivery_success_rate": facts["succeeded"] / facts["attempts"] if facts["attempts"] else None,
            "inbox_depth": facts["inbox"],
            "dlq_depth": facts["dlq"],
            "top_event_types": facts["types"],
        },
    )
