"""Events: ingest (one or a batch, each in one transaction), list, lookup and correlations.

Committed events are handed on to webhooks and the stream; that never undoes the (durable) ingest."""

from __future__ import annotations

import heapq
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from triggers_server.clock import Clock
from triggers_server.domain.cursors import decode_cursor, encode_cursor, int_field
from triggers_server.domain.errors import Conflict, DomainError, NotFound
from triggers_server.domain.idempotency import Ticket, keyed
from triggers_server.domain.ingest import BatchItem
from triggers_server.domain.principal import Principal
from triggers_server.domain.streaming import StreamHub
from triggers_server.metrics import Metrics
from triggers_server.storage.ports.events import DuplicateEvent, EventDraft, EventQuery, EventStore, Outcome
from triggers_server.storage.ports.idempotency import Reply

log = logging.getLogger("triggers_server.events")
EVENTS_CURSOR = "events"

# What rejects one entry of a batch: a domain rule, or the schema registry's check (which still answers
# with its own problem type until the registry raises domain errors).
Rejection = DomainError


class SchemaCheck(Protocol):
    """Validates a draft's data against the registry and records the schema version (the registry's
    `apply_schema`, bound to it); pointers of what it rejects start with `pointer`."""

    async def __call__(self, account_id: str, draft: EventDraft, *, pointer: str = "") -> None: ...


class IngestListener(Protocol):
    """Whoever acts on newly stored events (the webhook fan-out)."""

    async def on_ingested(self, account_id: str, events: list[dict[str, Any]]) -> object: ...


@dataclass(frozen=True)
class BatchResult:
    index: int
    status: str  # created | duplicate | rejected
    event: dict[str, Any] | None
    problem: Rejection | None


@dataclass(frozen=True)
class BatchOutcome:
    results: list[BatchResult]
    created: int
    duplicates: int
    rejected: int


@dataclass(frozen=True)
class EventPage:
    events: list[dict[str, Any]]
    next_cursor: str | None


class EventService:
    def __init__(
        self,
        store: EventStore,
        *,
        check_schema: SchemaCheck,
        listener: IngestListener,
        hub: StreamHub,
        metrics: Metrics,
        clock: Clock,
    ) -> None:
        self._store = store
        self._check_schema = check_schema
        self._listener = listener
        self._hub = hub
        self._metrics = metrics
        self._clock = clock

    async def ingest(
        self,
        principal: Principal,
        draft: EventDraft,
        *,
        respond: Callable[[dict[str, Any]], Reply],
        ticket: Ticket | None,
        started: float,
    ) -> tuple[dict[str, Any], Reply]:
        """Check the schema, store the event and its reply (`respond`, inside the transaction; with a keyed
        request also as its idempotency record), then hand it on. A duplicate `source` + `id` is a Conflict."""
        account_id = principal.account_id
        await self._check_schema(account_id, draft)
        try:
            event, reply = await self._store.create(
                account_id, draft, self._clock.now(), respond=respond, keyed=keyed(ticket)
            )
        except DuplicateEvent as duplicate:
            existing = duplicate.existing["id"]
            raise Conflict(
                f"An event with source {draft.source!r} and id {draft.external_id!r} already exists ({existing}).",
                extra={"existing_event_id": existing},
            ) from duplicate
        if ticket is not None:
            ticket.recorded = True
        await self._after_ingest(account_id, [event], started)
        return event, reply

    async def ingest_batch(
        self,
        principal: Principal,
        items: Sequence[BatchItem],
        *,
        pointer_prefix: str,
        respond: Callable[[BatchOutcome], Reply],
        ticket: Ticket | None,
        started: float,
    ) -> Reply:
        """Check each entry's schema, then store every acceptable one in one transaction; `respond` renders the
        per-entry outcome inside it (and with a keyed request it is stored as the idempotency record)."""
        account_id = principal.account_id
        rejections: dict[int, Rejection] = {}
        for index, item in enumerate(items):
            if item.draft is None:
                assert item.problem is not None
                rejections[index] = item.problem
                continue
            try:
                await self._check_schema(account_id, item.draft, pointer=f"{pointer_prefix}/{index}")
            except DomainError as problem:
                rejections[index] = problem
        drafts = [item.draft for index, item in enumerate(items) if item.draft is not None and index not in rejections]

        def outcome(stored: list[Outcome]) -> Reply:
            return respond(_batch_outcome(len(items), rejections, stored))

        stored, reply = await self._store.create_many(
            account_id, drafts, self._clock.now(), respond=outcome, keyed=keyed(ticket)
        )
        if ticket is not None:
            ticket.recorded = True
        created = [entry for entry in stored if not isinstance(entry, DuplicateEvent)]
        await self._after_ingest(account_id, created, started)
        return reply

    async def _after_ingest(self, account_id: str, events: list[dict[str, Any]], started: float) -> None:
        if not events:
            return
        try:
            await self._listener.on_ingested(account_id, events)
        except Exception:
            log.exception("scheduling deliveries failed", extra={"event_count": len(events)})
        self._hub.publish(account_id, events)
        self._metrics.record_ingest(
            account_id,
            at=self._clock.now().timestamp(),
            types=[event["type"] for event in events],
            latency=time.perf_counter() - started,
        )

    async def page(self, principal: Principal, query: EventQuery, *, limit: int, cursor: str | None) -> EventPage:
        """Newest first, a page of `limit`."""
        position = decode_cursor(EVENTS_CURSOR, cursor)
        before = int_field(position, "s") if position is not None else None
        events = await self._store.query(
            principal.account_id, query, now=self._clock.now(), limit=limit + 1, before_sequence=before
        )
        if len(events) <= limit:
            return EventPage(events, None)
        events = events[:limit]
        return EventPage(events, encode_cursor(EVENTS_CURSOR, {"s": events[-1]["sequence"]}))

    async def get(self, principal: Principal, event_id: str) -> dict[str, Any]:
        event = await self._store.get(principal.account_id, event_id, self._clock.now())
        if event is None:
            raise NotFound(f"No event {event_id!r} in this account.")
        return event

    async def correlation(
        self, principal: Principal, correlation_id: str
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """The correlation's events in causal order, and its causation forest."""
        events = await self._store.correlation(principal.account_id, correlation_id, self._clock.now())
        if not events:
            raise NotFound(f"No events with correlation id {correlation_id!r} in this account.")
        return causal_order(events)


def _batch_outcome(count: int, rejections: dict[int, Rejection], stored: list[Outcome]) -> BatchOutcome:
    outcomes = iter(stored)
    results: list[BatchResult] = []
    counts = {"created": 0, "duplicate": 0, "rejected": 0}
    for index in range(count):
        problem = rejections.get(index)
        if problem is not None:
            result = BatchResult(index, "rejected", None, problem)
        else:
            entry = next(outcomes)
            if isinstance(entry, DuplicateEvent):
                result = BatchResult(index, "duplicate", entry.existing, None)
            else:
                result = BatchResult(index, "created", entry, None)
        counts[result.status] += 1
        results.append(result)
    return BatchOutcome(results, counts["created"], counts["duplicate"], counts["rejected"])


def causal_order(events: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Events in causal order (every cause before its effects, ties by sequence) and the causation forest.
    A `causation_id` may name a cause by server id or by producer id; causes outside the set make roots;
    a cycle (possible with producer ids) is broken at its lowest sequence."""
    by_key: dict[str, dict[str, Any]] = {}
    for event in events:
        if event["external_id"] is not None:
            by_key.setdefault(event["external_id"], event)
    for event in events:
        by_key[event["id"]] = event
    parent: dict[str, str | None] = {}
    for event in events:
        cause = by_key.get(event["causation_id"]) if event["causation_id"] else None
        parent[event["id"]] = cause["id"] if cause is not None and cause["id"] != event["id"] else None
    children: dict[str, list[dict[str, Any]]] = {event["id"]: [] for event in events}
    for event in events:
        cause_id = parent[event["id"]]
        if cause_id is not None:
            children[cause_id].append(event)
    ordered: list[dict[str, Any]] = []
    placed: set[str] = set()
    pending = sorted(events, key=lambda event: event["sequence"])
    while len(placed) < len(events):
        heap = [
            (event["sequence"], event["id"])
            for event in pending
            if event["id"] not in placed and (parent[event["id"]] is None or parent[event["id"]] in placed)
        ]
        if not heap:  # only cycles remain: cut the lowest sequence loose
            lowest = next(event for event in pending if event["id"] not in placed)
            parent[lowest["id"]] = None
            continue
        heapq.heapify(heap)
        while heap:
            _, event_id = heapq.heappop(heap)
            if event_id in placed:
                continue
            placed.add(event_id)
            ordered.append(by_key[event_id])
            for child in children[event_id]:
                if child["id"] not in placed and parent[child["id"]] == event_id:
                    heapq.heappush(heap, (child["sequence"], child["id"]))

    nodes: dict[str, dict[str, Any]] = {
        event["id"]: {"event_id": event["id"], "type": event["type"], "children": []} for event in events
    }
    roots: list[dict[str, Any]] = []
    for event in ordered:  # causal order keeps every children list sorted by sequence among siblings
        cause_id = parent[event["id"]]
        (nodes[cause_id]["children"] if cause_id is not None else roots).append(nodes[event["id"]])
    return ordered, roots
