"""The registry service runs on any ``SchemaStore``: here an in-memory one, with no SQL and no database.

It shows the port carries everything the domain needs (a second backend touches neither ``domain`` nor
``http``) and that the domain answers with domain errors, whatever the store.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime

import pytest
from registry_harness import START

from triggers_server.clock import ManualClock
from triggers_server.domain.errors import NotFound, SchemaIncompatible
from triggers_server.domain.registry.compat import CompatibilityMode
from triggers_server.domain.registry.dialect import Dialect
from triggers_server.domain.registry.service import SchemaRegistry
from triggers_server.storage.ports.schemas import NewVersion, SchemaStore, SchemaVersionRecord, Stored, SubjectRecord

pytestmark = pytest.mark.anyio


@dataclasses.dataclass
class _Subject:
    compatibility: str | None = None
    default_dialect: str | None = None
    versions: dict[int, SchemaVersionRecord] = dataclasses.field(default_factory=dict[int, SchemaVersionRecord])
    deleted: set[int] = dataclasses.field(default_factory=set[int])
    updated_at: datetime = START


class MemoryStore:
    def __init__(self) -> None:
        self.subjects: dict[tuple[str, str], _Subject] = {}

    def _live(self, key: tuple[str, str]) -> list[SchemaVersionRecord]:
        subject = self.subjects.get(key)
        if subject is None:
            return []
        return [v for n, v in sorted(subject.versions.items()) if n not in subject.deleted]

    def _record(self, key: tuple[str, str]) -> SubjectRecord | None:
        subject = self.subjects.get(key)
        if subject is None:
            return None
        live = self._live(key)
        latest = live[-1].version if live else None
        return SubjectRecord(
            key[1], subject.compatibility, subject.default_dialect, latest, len(live), subject.updated_at
        )

    async def get_version(self, account_id: str, event_type: str, version: int | None) -> SchemaVersionRecord | None:
        live = self._live((account_id, event_type))
        if version is None:
            return live[-1] if live else None
        return next((v for v in live if v.version == version), None)

    async def subject_and_live_versions(
        self, account_id: str, event_type: str
    ) -> tuple[SubjectRecord | None, list[SchemaVersionRecord]]:
        key = (account_id, event_type)
        return self._record(key), self._live(key)

    async def get_subject(self, account_id: str, event_type: str) -> SubjectRecord | None:
        return self._record((account_id, event_type))

    async def add_version(self, account_id: str, event_type: str, new: NewVersion, now: datetime) -> Stored:
        key = (account_id, event_type)
        live = self._live(key)
        for record in live:
            if record.fingerprint == new.fingerprint:
                return Stored(record, created=False)
        new.admit(self._record(key), live)
        subject = self.subjects.setdefault(key, _Subject())
        number = max(subject.versions, default=0) + 1
        record = SchemaVersionRecord(event_type, number, new.json_schema, new.fingerprint, now, new.dialect)
        subject.versions[number] = record
        return Stored(record, created=True)

    async def list_versions(
        self, account_id: str, event_type: str, *, limit: int, after_version: int
    ) -> list[SchemaVersionRecord] | None:
        live = self._live((account_id, event_type))
        return [v for v in live if v.version > after_version][:limit] if live else None

    async def delete_version(self, account_id: str, event_type: str, version: int | None, now: datetime) -> bool:
        record = await self.get_version(account_id, event_type, version)
        if record is None:
            return False
        self.subjects[(account_id, event_type)].deleted.add(record.version)
        return True

    async def list_subjects(self, account_id: str, *, limit: int, after: str | None) -> list[SubjectRecord]:
        records = [self._record(key) for key in sorted(self.subjects) if key[0] == account_id]
        live = [r for r in records if r is not None and r.versions and r.event_type > (after or "")]
        return live[:limit]

    async def set_config(
        self, account_id: str, event_type: str, compatibility: str, default_dialect: str | None, now: datetime
    ) -> SubjectRecord:
        subject = self.subjects.setdefault((account_id, event_type), _Subject())
        subject.compatibility = compatibility
        subject.default_dialect = default_dialect or subject.default_dialect
        record = self._record((account_id, event_type))
        assert record is not None
        return record


async def test_the_registry_runs_on_another_store() -> None:
    store: SchemaStore = MemoryStore()
    registry = SchemaRegistry(store, ManualClock(START))
    await registry.set_config("a", "pay", CompatibilityMode.BACKWARD, Dialect.DRAFT_07)
    first = await registry.register("a", "pay", {"type": "array", "items": [{"type": "string"}]})
    assert first.created and first.record.dialect == "draft-07"
    again = await registry.register("a", "pay", {"type": "array", "items": [{"type": "string"}]})
    assert not again.created and again.record.version == 1
    with pytest.raises(SchemaIncompatible) as refused:
        await registry.register("a", "pay", {"type": "array", "items": [{"type": "integer"}]})
    assert refused.value.extra["mode"] == "BACKWARD"
    assert await registry.validate("a", "pay", ["x", 1], None) == 1
    assert [s.event_type for s in await registry.list_subjects("a", limit=10, after=None)] == ["pay"]
    await registry.delete_version("a", "pay", "1")
    with pytest.raises(NotFound):
        await registry.get_version("a", "pay", "1")
