"""Operations: health, the Prometheus exposition (with the backlog gauges fresh), per-account statistics."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any, Final

from triggers_server import __version__
from triggers_server.clock import Clock, isoformat
from triggers_server.domain.errors import Malformed, Unavailable
from triggers_server.domain.principal import Principal
from triggers_server.metrics import STATS_WINDOW_SECONDS, STATS_WINDOWS, Metrics
from triggers_server.storage.ports.stats import StatsStore

TOP_TYPES = 10
SERIES_BUCKETS: Final = 30  # a window's buckets are this many times narrower than it (30 or 31 of them, aligned)


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
        """Every metric in the Prometheus text format, the inbox, DLQ and pending-delivery depths read now."""
        backlog = await self._store.backlog(None)
        self._metrics.inbox_depth.set(backlog.inbox)
        self._metrics.dlq_depth.set(backlog.dlq)
        self._metrics.pending_deliveries.set(backlog.deliveries)
        return self._metrics.exposition()

    async def stats(self, principal: Principal, window_seconds: int = STATS_WINDOW_SECONDS) -> dict[str, Any]:
        """The contract's `Stats` of the caller's account over the last `window_seconds` (one of `STATS_WINDOWS`)."""
        if window_seconds not in STATS_WINDOWS:
            allowed = ", ".join(str(window) for window in STATS_WINDOWS)
            raise Malformed(f"window must be one of {allowed} (seconds), not {window_seconds}.")
        now = self._clock.now()
        since_epoch = now.timestamp() - window_seconds
        since = isoformat(now.fromtimestamp(since_epoch, now.tzinfo))
        account_id = principal.account_id
        window = await self._store.activity(account_id, since=since, top=TOP_TYPES)
        series, bucket_seconds = await self._series(account_id, since, since_epoch, now.timestamp(), window_seconds)
        p50, p95, p99 = self._metrics.latency_percentiles(
            account_id, now.timestamp(), (0.5, 0.95, 0.99), window=window_seconds
        )
        return {
            "window_seconds": window_seconds,
            "ingest_rate_per_second": window.events / window_seconds,
            "ingest_latency_ms": {"p50": p50, "p95": p95, "p99": p99},
            "delivery_success_rate": window.succeeded / window.attempts if window.attempts else None,
            "inbox_depth": window.backlog.inbox,
            "dlq_depth": window.backlog.dlq,
            "pending_deliveries": window.backlog.deliveries,
            "delivery_errors": [{"cause": entry.cause, "count": entry.count} for entry in window.errors],
            "top_event_types": [{"type": entry.type, "count": entry.count} for entry in window.top_types],
            "bucket_seconds": bucket_seconds,
            "series": series,
        }

    async def _series(
        self, account_id: str, since: str, since_epoch: float, now_epoch: float, window_seconds: int
    ) -> tuple[list[dict[str, Any]], int]:
        """The window's throughput in buckets aligned to multiples of their width since the Unix epoch (so two
        reads of one window agree on them): the first holds the window's start, the last holds now."""
        width = window_seconds // SERIES_BUCKETS
        first = math.floor(since_epoch / width) * width
        count = math.floor(now_epoch / width) - first // width + 1
        found = {
            bucket.index: bucket
            for bucket in await self._store.series(
                account_id, since=since, start_epoch=first, bucket_seconds=width, buckets=count
            )
        }
        series: list[dict[str, Any]] = []
        for index in range(count):
            bucket = found.get(index)
            series.append(
                {
                    "start": isoformat(datetime.fromtimestamp(first + index * width, UTC)),
                    "events": bucket.events if bucket else 0,
                    "delivery_attempts": bucket.attempts if bucket else 0,
                    "deliveries_succeeded": bucket.succeeded if bucket else 0,
                }
            )
        return series, width
