"""Operations: health, the Prometheus exposition (with the backlog gauges fresh), per-account statistics."""

from __future__ import annotations

from typing import Any

from triggers_server import __version__
from triggers_server.clock import Clock, isoformat
from triggers_server.domain.errors import Unavailable
from triggers_server.domain.principal import Principal
from triggers_server.metrics import STATS_WINDOW_SECONDS, Metrics
from triggers_server.storage.ports.stats import StatsStore

TOP_TYPES = 10


class StatsService:
    def __init__(self, store: StatsStore, *, metrics: Metrics, clock: Clock) -> None:
        self._store = store
        self._metrics = metrics
        self._clock = clock

    async def health(self) -> dict[str, Any]:
        """The contract's `Health`; Unavailable when storage does not answer."""
        try:
            await self._store.ping()
        except Exception as error:
            raise Unavailable(
                f"The database does not answer: {type(error).__name__}.",
                retry_after_seconds=1,
                extra={"retry_after": 1},
            ) from error
        return {"status": "ok", "version": __version__, "time": isoformat(self._clock.now())}

    async def exposition(self) -> bytes:
        """Every metric in the Prometheus text format, the inbox and DLQ depths read now."""
        backlog = await self._store.backlog(None)
        self._metrics.inbox_depth.set(backlog.inbox)
        self._metrics.dlq_depth.set(backlog.dlq)
        return self._metrics.exposition()

    async def stats(self, principal: Principal) -> dict[str, Any]:
        """The contract's `Stats` of the caller's account over the last window."""
        now = self._clock.now()
        since = isoformat(now.fromtimestamp(now.timestamp() - STATS_WINDOW_SECONDS, now.tzinfo))
        account_id = principal.account_id
        window = await self._store.activity(account_id, since=since, top=TOP_TYPES)
        p50, p95, p99 = self._metrics.latency_percentiles(account_id, now.timestamp(), (0.5, 0.95, 0.99))
        return {
            "window_seconds": STATS_WINDOW_SECONDS,
            "ingest_rate_per_second": window.events / STATS_WINDOW_SECONDS,
            "ingest_latency_ms": {"p50": p50, "p95": p95, "p99": p99},
            "delivery_success_rate": window.succeeded / window.attempts if window.attempts else None,
            "inbox_depth": window.backlog.inbox,
            "dlq_depth": window.backlog.dlq,
            "top_event_types": [{"type": entry.type, "count": entry.count} for entry in window.top_types],
        }
