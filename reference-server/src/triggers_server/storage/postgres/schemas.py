"""Schema registry rows on PostgreSQL (`SchemaStore`): subjects per (account, event type) and their numbered
versions; adding a version locks the subject row, so two instances never hand out one number twice."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from triggers_server.clock import isoformat
from triggers_server.storage.ports.schemas import NewVersion, SchemaVersionRecord, Stored, SubjectRecord
from triggers_server.storage.postgres.engine import Conn, PgDatabase, affected
from triggers_server.storage.records import schema_version_record, subject_record

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


async def get_subject(conn: Conn, account_id: str, event_type: str) -> SubjectRecord | None:
    row = await conn.fetchrow(_SUBJECT_QUERY + " WHERE s.account_id = $1 AND s.event_type = $2", account_id, event_type)
    return subject_record(row) if row is not None else None


async def live_versions(conn: Conn, account_id: str, event_type: str) -> list[SchemaVersionRecord]:
    rows = await conn.fetch(
        f"SELECT {_VERSION_COLUMNS} FROM schema_versions WHERE account_id = $1 AND event_type = $2"
        " AND deleted_at IS NULL ORDER BY version",
        account_id,
        event_type,
    )
    return [schema_version_record(row) for row in rows]


async def get_version(conn: Conn, account_id: str, event_type: str, version: int | None) -> SchemaVersionRecord | None:
    if version is None:
        row = await conn.fetchrow(
            f"SELECT {_VERSION_COLUMNS} FROM schema_versions WHERE account_id = $1 AND event_type = $2"
            " AND deleted_at IS NULL ORDER BY version DESC LIMIT 1",
            account_id,
            event_type,
        )
    else:
        row = await conn.fetchrow(
            f"SELECT {_VERSION_COLUMNS} FROM schema_versions WHERE account_id = $1 AND event_type = $2"
            " AND version = $3 AND deleted_at IS NULL",
            account_id,
            event_type,
            version,
        )
    return schema_version_record(row) if row is not None else None


async def _ensure_subject(conn: Conn, account_id: str, event_type: str, now: datetime) -> None:
    await conn.execute(
        "INSERT INTO schema_subjects (account_id, event_type, updated_at) VALUES ($1, $2, $3)"
        " ON CONFLICT (account_id, event_type) DO NOTHING",
        account_id,
        event_type,
        isoformat(now),
    )
    await conn.execute(
        "SELECT 1 FROM schema_subjects WHERE account_id = $1 AND event_type = $2 FOR UPDATE", account_id, event_type
    )


async def _insert_version(
    conn: Conn, account_id: str, event_type: str, json_schema: Any, fingerprint: str, dialect: str, now: datetime
) -> SchemaVersionRecord:
    number = await conn.fetchval(
        "UPDATE schema_subjects SET next_version = next_version + 1, updated_at = $1"
        " WHERE account_id = $2 AND event_type = $3 RETURNING next_version - 1",
        isoformat(now),
        account_id,
        event_type,
    )
    record = SchemaVersionRecord(event_type, int(number), json_schema, fingerprint, now, dialect)
    await conn.execute(
        "INSERT INTO schema_versions (account_id, event_type, version, json_schema, fingerprint, created_at, dialect)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7)",
        account_id,
        event_type,
        record.version,
        json.dumps(json_schema, ensure_ascii=False),
        record.fingerprint,
        isoformat(now),
        dialect,
    )
    return record


class PgSchemaStore:
    """``SchemaStore`` on PostgreSQL: each method is one read or one write transaction."""

    def __init__(self, db: PgDatabase) -> None:
        self._db = db

    async def get_version(self, account_id: str, event_type: str, version: int | None) -> SchemaVersionRecord | None:
        return await self._db.read(lambda conn: get_version(conn, account_id, event_type, version))

    async def subject_and_live_versions(
        self, account_id: str, event_type: str
    ) -> tuple[SubjectRecord | None, list[SchemaVersionRecord]]:
        async def read(conn: Conn) -> tuple[SubjectRecord | None, list[SchemaVersionRecord]]:
            return await get_subject(conn, account_id, event_type), await live_versions(conn, account_id, event_type)

        return await self._db.snapshot(read)

    async def get_subject(self, account_id: str, event_type: str) -> SubjectRecord | None:
        return await self._db.read(lambda conn: get_subject(conn, account_id, event_type))

    async def add_version(self, account_id: str, event_type: str, new: NewVersion, now: datetime) -> Stored:
        async def write(conn: Conn) -> Stored:
            existed = await get_subject(conn, account_id, event_type)
            await _ensure_subject(conn, account_id, event_type, now)  # and lock it
            live = await live_versions(conn, account_id, event_type)
            for record in live:
                if record.fingerprint == new.fingerprint:
                    return Stored(record, created=False)
            new.admit(existed if existed is None else await get_subject(conn, account_id, event_type), live)
            record = await _insert_version(
                conn, account_id, event_type, new.json_schema, new.fingerprint, new.dialect, now
            )
            return Stored(record, created=True)

        return await self._db.write(write)

    async def list_versions(
        self, account_id: str, event_type: str, *, limit: int, after_version: int
    ) -> list[SchemaVersionRecord] | None:
        async def read(conn: Conn) -> list[SchemaVersionRecord] | None:
            if await get_version(conn, account_id, event_type, None) is None:
                return None
            rows = await conn.fetch(
                f"SELECT {_VERSION_COLUMNS} FROM schema_versions WHERE account_id = $1 AND event_type = $2"
                " AND deleted_at IS NULL AND version > $3 ORDER BY version LIMIT $4",
                account_id,
                event_type,
                after_version,
                limit,
            )
            return [schema_version_record(row) for row in rows]

        return await self._db.snapshot(read)

    async def delete_version(self, account_id: str, event_type: str, version: int | None, now: datetime) -> bool:
        async def write(conn: Conn) -> bool:
            record = await get_version(conn, account_id, event_type, version)
            if record is None:
                return False
            status = await conn.execute(
                "UPDATE schema_versions SET deleted_at = $1 WHERE account_id = $2 AND event_type = $3"
                " AND version = $4 AND deleted_at IS NULL",
                isoformat(now),
                account_id,
                event_type,
                record.version,
            )
            return affected(status) == 1

        return await self._db.write(write)

    async def list_subjects(self, account_id: str, *, limit: int, after: str | None) -> list[SubjectRecord]:
        async def read(conn: Conn) -> list[SubjectRecord]:
            rows = await conn.fetch(
                "SELECT * FROM (" + _SUBJECT_QUERY + " WHERE s.account_id = $1 AND s.event_type > $2) AS subjects"
                " WHERE versions > 0 ORDER BY event_type LIMIT $3",
                account_id,
                after or "",
                limit,
            )
            return [subject_record(row) for row in rows]

        return await self._db.read(read)

    async def set_config(
        self, account_id: str, event_type: str, compatibility: str, default_dialect: str | None, now: datetime
    ) -> SubjectRecord:
        async def write(conn: Conn) -> SubjectRecord:
            await _ensure_subject(conn, account_id, event_type, now)
            await conn.execute(
                "UPDATE schema_subjects SET compatibility = $1, default_dialect = COALESCE($2, default_dialect)"
                " WHERE account_id = $3 AND event_type = $4",
                compatibility,
                default_dialect,
                account_id,
                event_type,
            )
            subject = await get_subject(conn, account_id, event_type)
            assert subject is not None  # ensured above, in this transaction
            return subject

        return await self._db.write(write)
