"""Replay jobs (time range, selection, target, patch, status, progress) and the copies they make: the records
and the port (`ReplayStore`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, Protocol

from triggers_server.storage.ports.deliveries import PayloadOf
from triggers_server.storage.ports.events import EventDraft

STARTING: Final = "STARTING"
RUNNING: Final = "RUNNING"
COMPLETED: Final = "COMPLETED"
FAILED: Final = "FAILED"
CANCELLING: Final = "CANCELLING"
CANCELLED: Final = "CANCELLED"
ACTIVE: Final = (STARTING, RUNNING, CANCELLING)
FINAL: Final = (COMPLETED, FAILED, CANCELLED)


@dataclass(frozen=True)
class ReplayRecord:
    seq: int
    id: str
    account_id: str
    name: str | None
    range_from: datetime
    range_to: datetime
    event_types: list[str]
    filter: dict[str, Any] | None
    target: dict[str, Any]
    data_patch: dict[str, Any] | None
    dry_run: bool
    status: str
    matched: int
    processed: int
    delivered: int
    filtered: int
    error: str | None
    cursor_sequence: int
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


@dataclass(frozen=True)
class NewReplay:
    name: str | None
    range_from: datetime
    range_to: datetime
    event_types: list[str]
    filter_expression: dict[str, Any] | None
    target: dict[str, Any]
    data_patch: dict[str, Any] | None
    dry_run: bool


class ReplayStore(Protocol):
    async def get_event(self, account_id: str, event_id: str, *, now: datetime) -> dict[str, Any] | None:
        """A stored event (wire form), the original a replay copies."""
        ...

    async def store_copy(
        self,
        account_id: str,
        draft: EventDraft,
        *,
        inbox: bool,
        subscription_ids: Sequence[str],
        payload_of: PayloadOf,
        now: datetime,
        due_at: datetime,
    ) -> tuple[dict[str, Any], list[str]]:
        """Store the copy (in the inbox when `inbox`), a delivery of it to each subscription first due at
        `due_at`, and move the fan-out mark past it (catch-up never routes it again), in one transaction;
        returns the stored copy and the delivery ids in `subscription_ids` order."""
        ...

    async def create(self, account_id: str, replay: NewReplay, *, now: datetime) -> ReplayRecord: ...

    async def get(self, account_id: str, replay_id: str) -> ReplayRecord | None: ...

    async def list_page(
        self, account_id: str, *, limit: int, before_seq: int | None, status: str | None
    ) -> list[ReplayRecord]:
        """Newest first; `before_seq` continues a page."""
        ...

    async def active_ids(self) -> list[tuple[str, str]]:
        """(account_id, replay_id) of every job not yet final, oldest first."""
        ...

    async def claim_run(self, replay_id: str, *, runner: str, now: float, lease_until: float) -> bool:
        """Take (or renew) the right to run an unfinished job until `lease_until`: granted when nobody holds it,
        `runner` already does, or the holder's lease expired (it died); False otherwise."""
        ...

    async def release_run(self, replay_id: str, *, runner: str) -> None:
        """Give the job up (only when `runner` still holds it)."""
        ...

    async def set_status(
        self, replay_id: str, status: str, *, now: datetime, expected: tuple[str, ...], error: str | None = None
    ) -> bool:
        """Move a job to `status` only from one of `expected`; stamps started/finished times. False when its
        status was none of them."""
        ...

    async def next_event(self, job: ReplayRecord, *, end: datetime, now: datetime) -> dict[str, Any] | None:
        """The original event (never a copy) after the job's cursor in [`job.range_from`, `end`], any type."""
        ...

    async def add_progress(
        self, replay_id: str, *, cursor_sequence: int, matched: int, processed: int, delivered: int, filtered: int
    ) -> None: ...
