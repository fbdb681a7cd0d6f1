"""Prometheus metrics (one registry per app, so in-process test servers don't collide) and the rolling
windows behind `/stats`.

With `--workers N` the supervisor sets `PROMETHEUS_MULTIPROC_DIR` for its workers: every worker's counters and
histograms live in files there and `exposition()` sums them, so `/metrics` describes the whole machine
whichever worker answers the scrape. The inbox and DLQ gauges are read from the database at each scrape (the
whole deployment). Separate machines are separate scrape targets (Prometheus adds `instance`)."""

from __future__ import annotations

import math
import os
from collections import deque
from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

STATS_WINDOW_SECONDS = 300  # /stats without `window`
STATS_WINDOWS = (300, 900, 3600, 86400)  # the contract's `window` values
_CHILD_CACHE_LIMIT = 10_000  # distinct label sets remembered (routes are templates; event types are open-ended)
_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


@dataclass
class RollingWindow:
    """Timestamped samples of the last `span` seconds (bounded), for rates and percentiles in /stats."""

    span: float = 300.0
    capacity: int = 100_000
    samples: deque[tuple[float, float]] = field(default_factory=deque[tuple[float, float]])

    def add(self, at: float, value: float) -> None:
        self.samples.append((at, value))
        if len(self.samples) > self.capacity:
            self.samples.popleft()

    def _trim(self, now: float) -> None:
        while self.samples and self.samples[0][0] < now - self.span:
            self.samples.popleft()

    def percentiles(self, now: float, quantiles: tuple[float, ...], span: float | None = None) -> list[float | None]:
        """Nearest-rank percentiles of the samples of the last `span` seconds (default: the whole span kept)."""
        self._trim(now)
        since = now - (self.span if span is None else min(span, self.span))
        ordered = sorted(value for at, value in self.samples if at >= since)
        if not ordered:
            return [None for _ in quantiles]
        result: list[float | None] = []
        for quantile in quantiles:
            rank = max(1, math.ceil(quantile * len(ordered)))  # nearest-rank percentile
            result.append(ordered[min(rank, len(ordered)) - 1])
        return result


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "http_requests_total",
            "HTTP requests by route and status.",
            ["method", "route", "status"],
            namespace="triggers",
            registry=self.registry,
        )
        self.request_duration = Histogram(
            "http_request_duration_seconds",
            "HTTP request latency.",
            ["route"],
            buckets=_LATENCY_BUCKETS,
            namespace="triggers",
            registry=self.registry,
        )
        self.events_ingested = Counter(
            "events_ingested_total",
            "Events accepted, by type.",
            ["type"],
            namespace="triggers",
            registry=self.registry,
        )
        self.ingest_latency = Histogram(
            "ingest_latency_seconds",
            "Time from request start to durable commit of ingested events.",
            buckets=_LATENCY_BUCKETS,
            namespace="triggers",
            registry=self.registry,
        )
        self.inbox_depth = Gauge(
            "inbox_depth",
            "Inbox entries not yet acknowledged.",
            namespace="triggers",
            registry=self.registry,
            multiprocess_mode="mostrecent",
        )
        self.dlq_depth = Gauge(
            "dlq_depth",
            "Dead-letter queue entries.",
            namespace="triggers",
            registry=self.registry,
            multiprocess_mode="mostrecent",
        )
        self.pending_deliveries = Gauge(
            "pending_deliveries",
            "Webhook deliveries not yet succeeded or dead-lettered.",
            namespace="triggers",
            registry=self.registry,
            multiprocess_mode="mostrecent",
        )
        self.rate_limited = Counter(
            "rate_limited_total",
            "Requests refused by the rate limiter.",
            namespace="triggers",
            registry=self.registry,
        )
        self.deliveries = Counter(
            "deliveries_total",
            "Webhook delivery outcomes, by final status.",
            ["status"],
            namespace="triggers",
            registry=self.registry,
        )
        self.delivery_attempt_duration = Histogram(
            "delivery_attempt_duration_seconds",
            "Duration of one webhook attempt.",
            buckets=_LATENCY_BUCKETS,
            namespace="triggers",
            registry=self.registry,
        )
        self._latency_windows: dict[str, RollingWindow] = {}
        # Labelled children, looked up once: `labels(...)` takes a lock and builds a key on every call, which
        # showed in py-spy profiles of the ingest path (twice per request, once per ingested event).
        self._request_children: dict[tuple[str, str, str], tuple[Counter, Histogram]] = {}
        self._type_children: dict[str, Counter] = {}

    def record_request(self, method: str, route: str, status: int, duration: float) -> None:
        """One served request: `http_requests_total` and `http_request_duration_seconds`."""
        key = (method, route, str(status))
        children = self._request_children.get(key)
        if children is None:
            if len(self._request_children) > _CHILD_CACHE_LIMIT:
                self._request_children.clear()
            children = self._request_children[key] = (
                self.requests.labels(method=method, route=route, status=key[2]),
                self.request_duration.labels(route=route),
            )
        children[0].inc()
        children[1].observe(duration)

    def record_ingest(self, account_id: str, *, at: float, types: list[str], latency: float) -> None:
        counts: dict[str, int] = {}
        for event_type in types:
            counts[event_type] = counts.get(event_type, 0) + 1
        for event_type, count in counts.items():
            child = self._type_children.get(event_type)
            if child is None:
                if len(self._type_children) > _CHILD_CACHE_LIMIT:
                    self._type_children.clear()
                child = self._type_children[event_type] = self.events_ingested.labels(type=event_type)
            child.inc(count)
        self.ingest_latency.observe(latency)
        window = self._latency_windows.get(account_id)
        if window is None:
            window = self._latency_windows[account_id] = RollingWindow(span=max(STATS_WINDOWS), capacity=20_000)
        window.add(at, latency * 1000.0)

    def latency_percentiles(
        self, account_id: str, now: float, quantiles: tuple[float, ...], window: float = STATS_WINDOW_SECONDS
    ) -> list[float]:
        """Ingest latency percentiles in ms over the last `window` seconds (0.0 when nothing was ingested), from the
        account's most recent 20,000 ingests held in memory since the server started."""
        samples = self._latency_windows.get(account_id)
        if samples is None:
            return [0.0 for _ in quantiles]
        return [value if value is not None else 0.0 for value in samples.percentiles(now, quantiles, window)]

    def exposition(self) -> bytes:
        folder = os.environ.get(MULTIPROC_ENV)
        if folder:  # a `--workers` process: every worker's samples, summed
            combined = CollectorRegistry()
            MultiProcessCollector(combined, path=folder)  # type: ignore[no-untyped-call]  # untyped upstream
            return generate_latest(combined)
        return generate_latest(self.registry)
