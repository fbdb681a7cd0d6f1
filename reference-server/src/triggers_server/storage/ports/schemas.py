"""The schema registry's storage port: subjects (per account and event type) and their numbered versions.

Each method is one transaction. Versions are immutable; deleting one is soft, so numbers are never reused.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol


@dataclass(frozen=True)
class SchemaVersionRecord:
    event_type: str
    version: int
    json_schema: Any
    fingerprint: str
    created_at: datetime
    dialect: str


@dataclass(frozen=True)
class SubjectRecord:
    event_type: str
    compatibility: str | None  # None: the default mode
    default_dialect: str | None  # None: the default dialect
    latest_version: int | None
    versions: int  # live ones
    updated_at: datetime


@dataclass(frozen=True)
class NewVersion:
    """A version to store; ``admit`` runs inside the transaction and raises to refuse it."""

    json_schema: Any
    fingerprint: str
    dialect: str
    admit: Callable[[SubjectRecord | None, list[SchemaVersionRecord]], None]


@dataclass(frozen=True)
class Stored:
    record: SchemaVersionRecord
    created: bool  # False: a live version with the same fingerprint already existed and is returned


class SchemaStore(Protocol):
    async def get_version(self, account_id: str, event_type: str, version: int | None) -> SchemaVersionRecord | None:
        """A live version by number, or the latest live one when ``version`` is None."""
        ...

    async def subject_and_live_versions(
        self, account_id: str, event_type: str
    ) -> tuple[SubjectRecord | None, list[SchemaVersionRecord]]:
        """The subject (None before any version or config) and its live versions, oldest first."""
        ...

    async def get_subject(self, account_id: str, event_type: str) -> SubjectRecord | None: ...

    async def add_version(self, account_id: str, event_type: str, new: NewVersion, now: datetime) -> Stored:
        """Store ``new`` as the next version number, unless a live version has its fingerprint."""
        ...

    async def list_versions(
        self, account_id: str, event_type: str, *, limit: int, after_version: int
    ) -> list[SchemaVersionRecord] | None:
        """A page of live versions, None when the subject has no live version at all."""
        ...

    async def delete_version(self, account_id: str, event_type: str, version: int | None, now: datetime) -> bool:
        """Soft-delete a live version (the latest when ``version`` is None); False when there is none."""
        ...

    async def list_subjects(self, account_id: str, *, limit: int, after: str | None) -> list[SubjectRecord]:
        """Subjects with at least one live version, by event type, after ``after``."""
        ...

    async def set_config(
        self, account_id: str, event_type: str, compatibility: str, default_dialect: str | None, now: datetime
    ) -> SubjectRecord:
        """Set the mode, and the default dialect unless it is None (left as it was)."""
        ...
