"""Replays: copy stored events (``replay_of`` set, never an original) to the inbox and/or subscriptions.

``Replayer.replay_event`` serves ``POST /events/{id}/replay`` (JSON merge patch, time override, dry run
with per-subscription filter traces). ``ReplayJobs`` runs time-range jobs: STARTING → RUNNING →
COMPLETED | FAILED, or CANCELLING → CANCELLED, resumable from the last processed sequence. With the
background worker off (tests), ``ReplayJobs.run`` / ``run_pending`` drive jobs deterministically.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any, Final

from triggers_server.clock import Clock, isoformat, parse_datetime
from triggers_server.domain.filters import json_object, subscription_matches
from triggers_server.domain.registry.service import SchemaRegistry, apply_schema
from triggers_server.domain.streaming import StreamHub
from triggers_server.domain.webhooks.service import DeliveryService, payload_of
from triggers_server.problems import ProblemError
from triggers_server.storage.ports.events import EventDraft
from triggers_server.storage.sqlite import deliveries as delivery_store
from triggers_server.storage.sqlite import replays as replay_store
from triggers_server.storage.sqlite import subscriptions as subscription_store
from triggers_server.storage.sqlite.deliveries import NewDelivery
from triggers_server.storage.sqlite.engine import Database, Transaction
from triggers_server.storage.sqlite.events import events_in_range, insert_event
from triggers_server.storage.sqlite.replays import ReplayRecord
from triggers_server.storage.sqlite.subscriptions import SubscriptionRecord

log = logging.getLogger("triggers_server.domain.replay")

SNAPSHOT_RESOLUTION: Final = timedelta(microseconds=1)  # created_at is stored to the microsecond
TARGET_INBOX: Final = "inbox"
TARGET_SUBSCRIPTION: Final = "subscription"
TARGET_ALL: Final = "all"


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON Merge Patch: objects merge recursively, null deletes, anything else replaces."""
    changes = json_object(patch)
    if changes is None:
        return patch
    result = dict(json_object(target) or {})
    for key, value in changes.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def copy_draft(
    original: Mapping[str, Any], data_patch: Mapping[str, Any] | None, time_override: datetime | None
) -> EventDraft:
    """The draft of a replayed copy of ``original`` (a wire Event)."""
    if data_patch is not None and original.get("data_base64") is not None:
        raise ProblemError(
            422,
            "validation",
            "`data_patch` cannot patch a binary (data_base64) event.",
            errors=[{"pointer": "/data_patch", "detail": "the event's payload is binary"}],
        )
    has_data = original.get("data_base64") is None
    data = merge_patch(original.get("data"), data_patch) if data_patch is not None else original.get("data")
    return EventDraft(
        type=original["type"],
        source=original["source"],
        external_id=original.get("external_id"),
        subject=original.get("subject"),
        time=time_override or parse_datetime(original["time"]),
        has_data=has_data,
        data=data if has_data else None,
        data_base64=original.get("data_base64"),
        datacontenttype=original.get("datacontenttype"),
        dataschema=original.get("dataschema"),
        correlation_id=original.get("correlation_id"),
        causation_id=original.get("causation_id"),
        metadata=dict(original.get("metadata") or {}),
        extensions=dict(original.get("extensions") or {}),
        schema_version=original.get("schema_version"),
        replay_of=original["id"],
    )


def preview_of(draft: EventDraft) -> dict[str, Any]:
    """The attributes a filter sees on the copy before it is stored."""
    return {
        "external_id": draft.external_id,
        "type": draft.type,
        "source": draft.source,
        "subject": draft.subject,
        "time": isoformat(draft.time) if draft.time else None,
        "data": draft.data,
        "datacontenttype": draft.datacontenttype,
        "dataschema": draft.dataschema,
        "specversion": "1.0",
        "correlation_id": draft.correlation_id,
        "causation_id": draft.causation_id,
        "metadata": draft.metadata,
        "extensions": draft.extensions,
    }


@dataclass(frozen=True)
class ReplayTarget:
    """Where copies go: the inbox, and these subscriptions (their globs and filters still apply)."""

    inbox: bool
    subscriptions: tuple[SubscriptionRecord, ...]


@dataclass(frozen=True)
class ReplayOutcome:
    event: dict[str, Any] | None
    outcomes: list[dict[str, Any]]

    @property
    def routed(self) -> bool:
        """Whether the copy went (or would go) anywhere."""
        return any(outcome["decision"] != "filtered" for outcome in self.outcomes)


class Replayer:
    """Makes replayed copies for one account at a time."""

    def __init__(
        self, *, clock: Clock, db: Database, hub: StreamHub, registry: SchemaRegistry, delivery: DeliveryService
    ) -> None:
        self.clock = clock
        self.db = db
        self.hub = hub
        self.registry = registry
        self.delivery = delivery

    async def resolve_target(self, account_id: str, target: Mapping[str, Any]) -> ReplayTarget:
        """404 for an unknown subscription, 409 for a disabled one."""
        kind = target["kind"]
        if kind == TARGET_SUBSCRIPTION:
            subscription_id = str(target["subscription_id"])
            found = await self.db.read(
                lambda conn: subscription_store.get_subscription(conn, account_id, subscription_id)
            )
            if found is None:
                raise ProblemError(404, "not-found", f"No subscription {subscription_id!r} in this account.")
            if not found.enabled:
                raise ProblemError(409, "conflict", f"Subscription {subscription_id!r} is disabled.")
            return ReplayTarget(inbox=False, subscriptions=(found,))
        enabled = await self.delivery.enabled_subscriptions(account_id)
        if kind == TARGET_ALL:
            return ReplayTarget(inbox=True, subscriptions=tuple(enabled))
        return ReplayTarget(inbox=True, subscriptions=())

    async def replay_event(
        self,
        account_id: str,
        original: Mapping[str, Any],
        target: ReplayTarget,
        *,
        data_patch: Mapping[str, Any] | None = None,
        time_override: datetime | None = None,
        dry_run: bool = False,
        store_unrouted: bool = True,
    ) -> ReplayOutcome:
        """Copy ``original`` to ``target`` (or, on a dry run, say what would happen)."""
        draft = copy_draft(original, data_patch, time_override)
        if data_patch is not None:
            await apply_schema(self.registry, account_id, draft, pointer="/data_patch")
        preview = preview_of(draft)
        verdicts = [
            (subscription, subscription_matches(subscription.event_types, subscription.filter, preview))
            for subscription in target.subscriptions
        ]
        matched = tuple(subscription.id for subscription, result in verdicts if result.matched)
        if dry_run or (not store_unrouted and not matched and not target.inbox):
            decision = "would_deliver" if dry_run else "filtered"
            outcomes = self._outcomes(target, verdicts, {}, decision)
            return ReplayOutcome(None, outcomes)
        now = self.clock.now()

        def write(conn: Transaction) -> tuple[dict[str, Any], list[str]]:
            event = insert_event(conn, account_id, draft, now, inbox=target.inbox)
            planned = [NewDelivery(event["id"], event["type"], sid, payload_of(event)) for sid in matched]
            due = self.delivery.policy.first_attempt_at(now)
            ids = delivery_store.insert_deliveries(conn, account_id, planned, now=now, due_at=due) if planned else []
            delivery_store.advance_fanout_mark(conn, account_id, int(event["sequence"]))  # routed here, not by catch_up
            return event, ids

        event, delivery_ids = await self.db.write(write)
        self.hub.publish(account_id, [event])
        if delivery_ids:
            self.delivery.notify()
        outcomes = self._outcomes(target, verdicts, dict(zip(matched, delivery_ids, strict=True)), "delivered")
        return ReplayOutcome(event, outcomes)

    @staticmethod
    def _outcomes(
        target: ReplayTarget, verdicts: list[Any], delivery_ids: dict[str, str], positive: str
    ) -> list[dict[str, Any]]:
        outcomes: list[dict[str, Any]] = []
        if target.inbox:
            outcomes.append(
                {
                    "target": TARGET_INBOX,
                    "subscription_id": None,
                    "decision": "would_deliver" if positive == "would_deliver" else "queued",
                    "delivery_id": None,
                    "trace": [],
                }
            )
        for subscription, result in verdicts:
            outcomes.append(
                {
                    "target": TARGET_SUBSCRIPTION,
                    "subscription_id": subscription.id,
                    "decision": positive if result.matched else "filtered",
                    "delivery_id": delivery_ids.get(subscription.id),
                    "trace": [entry.as_dict() for entry in result.trace],
                }
            )
        return outcomes


class ReplayJobs:
    """Runs time-range replay jobs; in the background when the worker is on, on demand otherwise."""

    def __init__(self, replayer: Replayer, *, background: bool) -> None:
        self.replayer = replayer
        self.clock = replayer.clock
        self.db = replayer.db
        self.delivery = replayer.delivery
        self.background = background
        self._resumed = False
        self._claimed: set[str] = set()  # jobs a runner of this process is processing right now

    def launch(self, account_id: str, replay_id: str) -> None:
        """Start processing a new job in the background (no-op when the worker is off)."""
        if self.background:
            self.delivery.spawn(self.run(account_id, replay_id))

    async def resume(self) -> None:
        """Once per process: relaunch jobs a previous process left unfinished."""
        if self._resumed or not self.background:
            return
        self._resumed = True
        for account_id, replay_id in await self.db.read(replay_store.active_replay_ids):
            self.launch(account_id, replay_id)

    async def run_pending(self) -> int:
        """Run every unfinished job to its end; returns how many were run."""
        jobs = await self.db.read(replay_store.active_replay_ids)
        for account_id, replay_id in jobs:
            await self.run(account_id, replay_id)
        return len(jobs)

    async def _load(self, account_id: str, replay_id: str) -> ReplayRecord:
        found = await self.db.read(lambda conn: replay_store.get_replay(conn, account_id, replay_id))
        assert found is not None, replay_id
        return found

    async def _set(self, replay_id: str, status: str, expected: tuple[str, ...], error: str | None = None) -> bool:
        now = self.clock.now()
        return await self.db.write(
            lambda conn: replay_store.set_status(conn, replay_id, status, now=now, error=error, expected=expected)
        )

    async def run(self, account_id: str, replay_id: str, *, max_events: int | None = None) -> ReplayRecord:
        """Process the job until it ends (or ``max_events`` events were handled); returns its state.

        One runner per job: the claim is taken before the first ``await``, so a second runner (a resumed
        launch, a test's ``run_pending``) returns at once instead of copying the same events again."""
        if replay_id in self._claimed:
            return await self._load(account_id, replay_id)
        self._claimed.add(replay_id)
        try:
            job = await self._load(account_id, replay_id)
            if job.status == replay_store.STARTING:
                await self._set(replay_id, replay_store.RUNNING, (replay_store.STARTING,))
            await self._process(account_id, replay_id, max_events)
        except ProblemError as problem:
            await self._set(replay_id, replay_store.FAILED, replay_store.ACTIVE, error=problem.detail)
        except Exception as error:
            log.exception("replay job failed", extra={"replay_id": replay_id})
            await self._set(replay_id, replay_store.FAILED, replay_store.ACTIVE, error=f"internal error: {error}")
        finally:
            self._claimed.discard(replay_id)
        return await self._load(account_id, replay_id)

    async def _process(self, account_id: str, replay_id: str, max_events: int | None) -> None:
        job = await self._load(account_id, replay_id)
        target = await self.replayer.resolve_target(account_id, job.target)
        handled = 0
        while True:
            job = await self._load(account_id, replay_id)
            if job.status == replay_store.CANCELLING:
                await self._set(replay_id, replay_store.CANCELLED, (replay_store.CANCELLING,))
                return
            if job.status != replay_store.RUNNING:
                return
            if max_events is not None and handled >= max_events:
                return
            batch = await self.db.read(partial(self._next_event, job, self.clock.now()))
            if not batch:
                finished = await self._set(replay_id, replay_store.COMPLETED, (replay_store.RUNNING,))
                if not finished:
                    await self._set(replay_id, replay_store.CANCELLED, (replay_store.CANCELLING,))
                return
            await self._handle(job, target, batch[0])
            handled += 1

    @staticmethod
    def _next_event(job: ReplayRecord, now: datetime, conn: Transaction) -> list[dict[str, Any]]:
        """The event after the job's cursor in its range (every type: globs and filter count as filtered).

        The range is snapshotted at the job's creation: originals created later (and every copy, since
        ``events_in_range`` returns originals only) are never replayed by it."""
        return events_in_range(
            conn,
            job.account_id,
            start=job.range_from,
            end=min(job.range_to, job.created_at + SNAPSHOT_RESOLUTION),
            types=[],
            after_sequence=job.cursor_sequence,
            limit=1,
            now=now,
        )

    async def _handle(self, job: ReplayRecord, target: ReplayTarget, event: Mapping[str, Any]) -> None:
        """One event of the range: count it as filtered, or copy it (count only on a dry run)."""
        selected = subscription_matches(job.event_types, job.filter, event).matched
        delivered = 0
        if selected:
            outcome = await self.replayer.replay_event(
                job.account_id,
                event,
                target,
                data_patch=job.data_patch,
                dry_run=job.dry_run,
                store_unrouted=False,
            )
            delivered = int(outcome.routed)
        sequence = int(event["sequence"])
        await self.db.write(
            lambda conn: replay_store.add_progress(
                conn,
                job.id,
                cursor_sequence=sequence,
                matched=int(selected),
                processed=1,
                delivered=delivered,
                filtered=int(not selected),
            )
        )
