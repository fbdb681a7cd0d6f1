"""Replays: copy stored events (``replay_of`` set, never an original) to the inbox and/or subscriptions.

``Replayer.replay_event`` serves ``POST /events/{id}/replay`` (JSON merge patch, time override, dry run
with per-subscription filter traces). ``ReplayJobs`` runs time-range jobs: STARTING → RUNNING →
COMPLETED | FAILED, or CANCELLING → CANCELLED, resumable from the last processed sequence.
A job runs on one runner at a time, whichever instance it is on: the runner holds a lease in the database
(``ReplayStore.claim_run``), renews it as it progresses and stops when it lost it; every instance's
``adopt()`` (run periodically) picks up unfinished jobs whose runner's lease expired (it died). With the
background worker off (tests), ``ReplayJobs.run`` / ``run_pending`` drive jobs deterministically.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final, Protocol

from triggers_server.clock import Clock, isoformat, parse_datetime
from triggers_server.domain.errors import Conflict, DomainError, FieldError, Invalid, NotFound, SchemaMismatch
from triggers_server.domain.filters import (
    json_object,
    raise_for_errors,
    subscription_matches,
    validate_filter,
    validate_type_globs,
)
from triggers_server.domain.paging import Page, before_seq, page_of
from triggers_server.domain.registry import SchemaValidationFailed
from triggers_server.domain.webhooks.service import DeliveryService, payload_of
from triggers_server.storage.ports.events import EventDraft
from triggers_server.storage.ports.replays import (
    ACTIVE,
    CANCELLED,
    CANCELLING,
    COMPLETED,
    FAILED,
    RUNNING,
    STARTING,
    NewReplay,
    ReplayRecord,
    ReplayStore,
)
from triggers_server.storage.ports.subscriptions import SubscriptionRecord, SubscriptionStore

log = logging.getLogger("triggers_server.domain.replay")

SNAPSHOT_RESOLUTION: Final = timedelta(microseconds=1)  # created_at is stored to the microsecond
TARGET_INBOX: Final = "inbox"
TARGET_SUBSCRIPTION: Final = "subscription"
TARGET_ALL: Final = "all"
CURSOR: Final = "replays"


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


def patch_pointer(data_pointer: str) -> str:
    """A pointer into the event's `data` (`/data/n`) as one into the request's `data_patch` (`/data_patch/n`)."""
    rest = data_pointer.removeprefix("/data")
    return "/data_patch" + rest if rest == "" or rest.startswith("/") else "/data_patch"


def copy_draft(
    original: Mapping[str, Any], data_patch: Mapping[str, Any] | None, time_override: datetime | None
) -> EventDraft:
    """The draft of a replayed copy of ``original`` (a wire Event)."""
    if data_patch is not None and original.get("data_base64") is not None:
        raise Invalid(
            "`data_patch` cannot patch a binary (data_base64) event.",
            errors=[FieldError("/data_patch", "the event's payload is binary")],
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


class SchemaValidator(Protocol):
    """The schema registry as replays use it (`registry.service.SchemaRegistry`)."""

    async def validate(self, account_id: str, event_type: str, data: Any, dataschema: str | None) -> int | None:
        """The version `data` was validated against (None without a schema); `SchemaValidationFailed` else."""
        ...


class Waker(Protocol):
    """The live-stream hub as replays use it (`streaming.StreamHub`)."""

    def publish(self, account_id: str, events: Sequence[Any]) -> None: ...


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
        self,
        *,
        clock: Clock,
        replays: ReplayStore,
        subscriptions: SubscriptionStore,
        hub: Waker,
        registry: SchemaValidator,
        delivery: DeliveryService,
    ) -> None:
        self.clock = clock
        self.replays = replays
        self.subscriptions = subscriptions
        self.hub = hub
        self.registry = registry
        self.delivery = delivery

    async def resolve_target(self, account_id: str, target: Mapping[str, Any]) -> ReplayTarget:
        """NotFound for an unknown subscription, Conflict for a disabled one."""
        kind = target["kind"]
        if kind == TARGET_SUBSCRIPTION:
            subscription_id = str(target["subscription_id"])
            found = await self.subscriptions.get(account_id, subscription_id)
            if found is None:
                raise NotFound(f"No subscription {subscription_id!r} in this account.")
            if not found.enabled:
                raise Conflict(f"Subscription {subscription_id!r} is disabled.")
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
            await self._validate_patched(account_id, draft)
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
        event, delivery_ids = await self.replays.store_copy(
            account_id,
            draft,
            inbox=target.inbox,
            subscription_ids=matched,
            payload_of=payload_of,
            now=now,
            due_at=self.delivery.policy.first_attempt_at(now),
        )
        self.hub.publish(account_id, [event])
        if delivery_ids:
            self.delivery.notify()
        outcomes = self._outcomes(target, verdicts, dict(zip(matched, delivery_ids, strict=True)), "delivered")
        return ReplayOutcome(event, outcomes)

    async def _validate_patched(self, account_id: str, draft: EventDraft) -> None:
        """Validate the patched copy against its type's schema; pointers point into the request's `data_patch`
        (the registry's point into the event's `data`)."""
        try:
            draft.schema_version = await self.registry.validate(account_id, draft.type, draft.data, draft.dataschema)
        except SchemaValidationFailed as failure:
            errors = [FieldError(patch_pointer(entry["pointer"]), entry["detail"]) for entry in failure.errors]
            detail = "; ".join(f"{error.pointer}: {error.detail}" for error in errors[:3]) or "schema validation failed"
            raise SchemaMismatch(
                f"the patched `data` does not match the schema of `{draft.type}`: {detail}", errors=errors
            ) from failure

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

    def __init__(self, replayer: Replayer, *, background: bool, lease_seconds: float = 30.0) -> None:
        self.replayer = replayer
        self.lease_seconds = lease_seconds
        self.runner = secrets.token_hex(8)  # this process's runner identity in the database
        self.clock = replayer.clock
        self.replays = replayer.replays
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
        for account_id, replay_id in await self.replays.active_ids():
            self.launch(account_id, replay_id)

    async def adopt(self) -> int:
        """Launch every unfinished job nobody runs (its runner's lease expired, or it never started here);
        jobs another runner holds are left alone by `run`. Returns how many were launched."""
        launched = 0
        for account_id, replay_id in await self.replays.active_ids():
            if replay_id not in self._claimed:
                self.launch(account_id, replay_id)
                launched += 1
        return launched

    async def _claim(self, replay_id: str) -> bool:
        now = self.clock.now().timestamp()
        lease_until = now + self.lease_seconds
        return await self.replays.claim_run(replay_id, runner=self.runner, now=now, lease_until=lease_until)

    async def run_pending(self) -> int:
        """Run every unfinished job to its end; returns how many were run."""
        jobs = await self.replays.active_ids()
        for account_id, replay_id in jobs:
            await self.run(account_id, replay_id)
        return len(jobs)

    async def _load(self, account_id: str, replay_id: str) -> ReplayRecord:
        found = await self.replays.get(account_id, replay_id)
        assert found is not None, replay_id
        return found

    async def _set(self, replay_id: str, status: str, expected: tuple[str, ...], error: str | None = None) -> bool:
        return await self.replays.set_status(replay_id, status, now=self.clock.now(), expected=expected, error=error)

    async def run(self, account_id: str, replay_id: str, *, max_events: int | None = None) -> ReplayRecord:
        """Process the job until it ends (or ``max_events`` events were handled); returns its state.

        One runner per job: the claim is taken before the first ``await``, so a second runner (a resumed
        launch, a test's ``run_pending``) returns at once instead of copying the same events again."""
        if replay_id in self._claimed:
            return await self._load(account_id, replay_id)
        self._claimed.add(replay_id)
        held = False
        try:
            held = await self._claim(replay_id)
            if not held:  # another instance runs it (or it ended)
                return await self._load(account_id, replay_id)
            job = await self._load(account_id, replay_id)
            if job.status == STARTING:
                await self._set(replay_id, RUNNING, (STARTING,))
            await self._process(account_id, replay_id, max_events)
        except DomainError as problem:
            await self._set(replay_id, FAILED, ACTIVE, error=problem.detail)
        except Exception as error:
            log.exception("replay job failed", extra={"replay_id": replay_id})
            await self._set(replay_id, FAILED, ACTIVE, error=f"internal error: {error}")
        finally:
            self._claimed.discard(replay_id)
            if held:
                await self.replays.release_run(replay_id, runner=self.runner)
        return await self._load(account_id, replay_id)

    async def _process(self, account_id: str, replay_id: str, max_events: int | None) -> None:
        job = await self._load(account_id, replay_id)
        target = await self.replayer.resolve_target(account_id, job.target)
        handled = 0
        renew_at = self.clock.now().timestamp() + self.lease_seconds / 3
        while True:
            if self.clock.now().timestamp() >= renew_at:
                if not await self._claim(replay_id):
                    return  # the lease lapsed and another runner took the job over
                renew_at = self.clock.now().timestamp() + self.lease_seconds / 3
            job = await self._load(account_id, replay_id)
            if job.status == CANCELLING:
                await self._set(replay_id, CANCELLED, (CANCELLING,))
                return
            if job.status != RUNNING:
                return
            if max_events is not None and handled >= max_events:
                return
            # The range is snapshotted at the job's creation: originals created later are never replayed by it.
            end = min(job.range_to, job.created_at + SNAPSHOT_RESOLUTION)
            event = await self.replays.next_event(job, end=end, now=self.clock.now())
            if event is None:
                finished = await self._set(replay_id, COMPLETED, (RUNNING,))
                if not finished:
                    await self._set(replay_id, CANCELLED, (CANCELLING,))
                return
            await self._handle(job, target, event)
            handled += 1

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
        await self.replays.add_progress(
            job.id,
            cursor_sequence=sequence,
            matched=int(selected),
            processed=1,
            delivered=delivered,
            filtered=int(not selected),
        )


class ReplayService:
    """The replay operations of the API: one event now, and time-range jobs."""

    def __init__(self, jobs: ReplayJobs) -> None:
        self._jobs = jobs
        self._replayer = jobs.replayer
        self._replays = jobs.replays
        self._clock = jobs.clock

    async def replay_event(
        self,
        account_id: str,
        event_id: str,
        target: Mapping[str, Any],
        *,
        data_patch: Mapping[str, Any] | None,
        time_override: datetime | None,
        dry_run: bool,
    ) -> ReplayOutcome:
        original = await self._replays.get_event(account_id, event_id, now=self._clock.now())
        if original is None:
            raise NotFound(f"No event {event_id!r} in this account.")
        resolved = await self._replayer.resolve_target(account_id, target)
        return await self._replayer.replay_event(
            account_id, original, resolved, data_patch=data_patch, time_override=time_override, dry_run=dry_run
        )

    async def create(self, account_id: str, replay: NewReplay) -> ReplayRecord:
        errors: list[FieldError] = validate_type_globs(replay.event_types, "/event_types")
        if replay.filter_expression is not None:
            errors.extend(validate_filter(replay.filter_expression))
        if replay.range_to <= replay.range_from:
            errors.append(FieldError("/to", "must be after `from`"))
        raise_for_errors(errors)
        await self._replayer.resolve_target(account_id, replay.target)
        record = await self._replays.create(account_id, replay, now=self._clock.now())
        self._jobs.launch(account_id, record.id)
        return record

    async def list_page(
        self, account_id: str, *, status: str | None, limit: int, cursor: str | None
    ) -> Page[ReplayRecord]:
        before = before_seq(CURSOR, cursor)
        await self._jobs.resume()
        records = await self._replays.list_page(account_id, limit=limit + 1, before_seq=before, status=status)
        return page_of(CURSOR, records, limit, lambda record: record.seq)

    async def get(self, account_id: str, replay_id: str) -> ReplayRecord:
        await self._jobs.resume()
        return await self._found(account_id, replay_id)

    async def cancel(self, account_id: str, replay_id: str) -> ReplayRecord:
        """A running job is asked to stop (CANCELLING; its runner ends it CANCELLED); an ended one is a
        Conflict, except one already cancelled."""
        record = await self._found(account_id, replay_id)
        if record.status in (STARTING, RUNNING):
            # Guarded: a job that ended meanwhile keeps its end, and the re-read shows it.
            await self._replays.set_status(replay_id, CANCELLING, now=self._clock.now(), expected=(STARTING, RUNNING))
            record = await self._found(account_id, replay_id)
        if record.status in (COMPLETED, FAILED):
            raise Conflict(f"Replay {replay_id!r} already ended {record.status}.")
        return record

    async def _found(self, account_id: str, replay_id: str) -> ReplayRecord:
        record = await self._replays.get(account_id, replay_id)
        if record is None:
            raise NotFound(f"No replay {replay_id!r} in this account.")
        return record
