"""Schema registry rows: subjects (per account and event type) and their numbered versions, and the
``SchemaStore`` port implemented on them."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from triggers_server.clock import isoformat
from triggers_server.storage.ports.schemas import NewVersion, SchemaVersionRecord, Stored, SubjectRecord
from triggers_server.storage.records import schema_version_record, subject_record
from triggers_server.storage.sqlite.engine import Database, Transaction

_VERSION_COLUMNS = "event_type, version, json_schema, fingerprint, created_at, dialect"
_SUBJECT_QUERY = """
    SELECT s.event_type, s.compatibility, s.default_dialect, s.updated_at,
           (SELECT MAX(v.version) FROM schema_versions v
             WHERE v.account_id = s.account_id AND v.event_type = s.event_type AND v.deleted_at IS NULL)
             AS latest_version,
           (SELECT COUNT(*) FROM schema_versions v
             WHERE v.account_id = s.account_id AND v.event_type = s.event_type AND v.deleted_at IS NULL)
             AS versions
      FROM schema_subjects s
"""


def get_subject(tx: Transaction, account_id: str, event_type: str) -> SubjectRecord | None:
    row = tx.execute(
        _SUBJECT_QUERY + " WHERE s.account_id = ? AND s.event_type = ?", (account_id, event_type)
    ).fetchone()
    return subject_record(row) if row is not None else None


def list_subjects(tx: Transaction, account_id: str, *, limit: int, after: str | None = None) -> list[SubjectRecord]:
    """Subjects with at least one live version, by event type, after ``after``."""
    rows = tx.execute(
        "SELECT * FROM (" + _SUBJECT_QUERY + " WHERE s.account_id = ? AND s.event_type > ?)"
        " WHERE versions > 0 ORDER BY event_type LIMIT ?",
        (account_id, after or "", limit),
    ).fetchall()
    return [subject_record(row) for row in rows]


def live_versions(tx: Transaction, account_id: str, event_type: str) -> list[SchemaVersionRecord]:
    """Every live version, oldest first."""
    rows = tx.execute(
        f"SELECT {_VERSION_COLUMNS} FROM schema_versions WHERE account_id = ? AND event_type = ?"
        " AND deleted_at IS NULL ORDER BY version",
        (account_id, event_type),
    ).fetchall()
    return [schema_version_record(row) for row in rows]


def list_versions(
    tx: Transaction, account_id: str, event_type: str, *, limit: int, after_version: int = 0
) -> list[SchemaVersionRecord]:
    rows = tx.execute(
        f"SELECT {_VERSION_COLUMNS} FROM schema_versions WHERE account_id = ? AND event_type = ?"
        " AND deleted_at IS NULL AND version > ? ORDER BY version LIMIT ?",
        (account_id, event_type, after_version, limit),
    ).fetchall()
    return [schema_version_record(row) for row in rows]


def get_version(tx: Transaction, account_id: str, event_type: str, version: int | None) -> SchemaVersionRecord | None:
    """A live version by number, or the latest live one when ``version`` is None."""
    if version is None:
        row = tx.execute(
            f"SELECT {_VERSION_COLUMNS} FROM schema_versions WHERE account_id = ? AND event_type = ?"
            " AND deleted_at IS NULL ORDER BY version DESC LIMIT 1",
            (account_id, event_type),
        ).fetchone()
    else:
        row = tx.execute(
            f"SELECT {_VERSION_COLUMNS} FROM schema_versions WHERE account_id = ? AND event_type = ?"
            " AND version = ? AND deleted_at IS NULL",
            (account_id, event_type, version),
        ).fetchone()
    return schema_version_record(row) if row is not None else None


def _ensure_subject(tx: Transaction, account_id: str, event_type: str, now: datetime) -> None:
    tx.execute(
        "INSERT INTO schema_subjects (account_id, event_type, updated_at) VALUES (?, ?, ?)"
        " ON CONFLICT (account_id, event_type) DO NOTHING",
        (account_id, event_type, isoformat(now)),
    )


def insert_version(
    tx: Transaction,
    account_id: str,
    event_type: str,
    json_schema: Any,
    fingerprint: str,
    dialect: str,
    now: datetime,
) -> SchemaVersionRecord:
    """Store ``json_schema``, read in ``dialect``, as the subject's next version number (creating the subject)."""
    _ensure_subject(tx, account_id, event_type, now)
    row = tx.execute(
        "UPDATE schema_subjects SET next_version = next_version + 1, updated_at = ?"
        " WHERE account_id = ? AND event_type = ? RETURNING next_version - 1 AS version",
        (isoformat(now), account_id, event_type),
    ).fetchone()
    record = SchemaVersionRecord(event_type, int(row["version"]), json_schema, fingerprint, now, dialect)
    tx.execute(
        "INSERT INTO schema_versions"
        " (account_id, event_type, version, json_schema, fingerprint, created_at, dialect)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            account_id,
            event_type,
            record.version,
            json.dumps(json_schema, ensure_ascii=False),
            record.fingerprint,
            isoformat(now),
            dialect,
        ),
    )
    return record


def delete_version(tx: Transaction, account_id: str, event_type: str, version: int, now: datetime) -> bool:
    """Soft-delete a live version; False when there is none with that number."""
    cursor = tx.execute(
        "UPDATE schema_versions SET deleted_at = ? WHERE account_id = ? AND event_type = ? AND version = ?"
        " AND deleted_at IS NULL",
        (isoformat(now), account_id, event_type, version),
    )
    return cursor.rowcount == 1


def set_config(
    tx: Transaction, account_id: str, event_type: str, mode: str, default_dialect: str | None, now: datetime
) -> SubjectRecord:
    """Set the subject's mode, and its default dialect unless ``default_dialect`` is None (left as it was)."""
    _ensure_subject(tx, account_id, event_type, now)
    tx.execute(
        "UPDATE schema_subjects SET compatibility = ?, default_dialect = COALESCE(?, default_dialect)"
        " WHERE account_id = ? AND event_type = ?",
        (mode, default_dialect, account_id, event_type),
    )
    subject = get_subject(tx, account_id, event_type)
    assert subject is not None  # ensured above, in this transaction
    return subject


class SqliteSchemaStore:
    """``SchemaStore`` on the SQLite database: each method is one read or one write transaction."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def get_version(self, account_id: str, event_type: str, version: int | None) -> SchemaVersionRecord | None:
        return await self._db.read(lambda tx: get_version(tx, account_id, event_type, version))

    async def subject_and_live_versions(
        self, account_id: str, event_type: str
    ) -> tuple[SubjectRecord | None, list[SchemaVersionRecord]]:
        def read(tx: Transaction) -> tuple[SubjectRecord | None, list[SchemaVersionRecord]]:
            return get_subject(tx, account_id, event_type), live_versions(tx, account_id, event_type)

        return await self._db.read(read)

    async def get_subject(self, account_id: str, event_type: str) -> SubjectRecord | None:
        return await self._db.read(lambda tx: get_subject(tx, account_id, event_type))

    async def add_version(self, account_id: str, event_type: str, new: NewVersion, now: datetime) -> Stored:
        def transaction(tx: Transaction) -> Stored:
            live = live_versions(tx, account_id, event_type)
            for record in live:
                if record.fingerprint == new.fingerprint:
                    return Stored(record, created=False)
            new.admit(get_subject(tx, account_id, event_type), live)
            record = insert_version(tx, account_id, event_type, new.json_schema, new.fingerprint, new.dialect, now)
            return Stored(record, created=True)

        return await self._db.write(transaction)

    async def list_versions(
        self, account_id: str, event_type: str, *, limit: int, after_version: int
    ) -> list[SchemaVersionRecord] | None:
        def read(tx: Transaction) -> list[SchemaVersionRecord] | None:
            if get_version(tx, account_id, event_type, None) is None:
                return None
            return list_versions(tx, account_id, event_type, limit=limit, after_version=after_version)

        return await self._db.read(read)

    async def delete_version(self, account_id: str, event_type: str, version: int | None, now: datetime) -> bool:
        def transaction(tx: Transaction) -> bool:
            record = get_version(tx, account_id, event_type, version)
            return record is not None and delete_version(tx, account_id, event_type, record.version, now)

        return await self._db.write(transaction)

    async def list_subjects(self, account_id: str, *, limit: int, after: str | None) -> list[SubjectRecord]:
        return await self._db.read(lambda tx: list_subjects(tx, account_id, limit=limit, after=after))

    async def set_config(
        self, account_id: str, event_type: str, compatibility: str, default_dialect: str | None, now: datetime
    ) -> SubjectRecord:
        return await self._db.write(
            lambda tx: set_config(tx, account_id, event_type, compatibility, default_dialect, now)
        )
