"""Which backend a server runs on: the one place that names them (SQLite, the embedded default, or
PostgreSQL when `Settings.database_url` is set)."""

from __future__ import annotations

from triggers_server.config import Settings
from triggers_server.storage.ports.backend import Backend
from triggers_server.storage.postgres.backend import PgBackend
from triggers_server.storage.postgres.engine import (
    DatabaseUnavailable,
    PgDatabase,
    SchemaTooNew,
    connect_pool,
    describe_failure,
    redact,
)
from triggers_server.storage.sqlite.backend import SqliteBackend
from triggers_server.storage.sqlite.engine import SchemaNewer, check_schema_version

__all__ = ["BackendUnavailable", "migrate", "open_backend", "probe", "redact"]

POSTGRES_SCHEMES = ("postgresql://", "postgres://")


class BackendUnavailable(Exception):
    """The selected database cannot be used (bad URL, unreachable, or a schema newer than this server); the
    message is one line for the operator."""


def check_url(url: str) -> None:
    if not url.startswith(POSTGRES_SCHEMES):
        raise BackendUnavailable(f"--database-url {url!r}: expected postgresql://user[:password]@host[:port]/database")


async def open_backend(settings: Settings) -> Backend:
    """The backend `settings` select, open and migrated."""
    if settings.database_url is not None:
        check_url(settings.database_url)
        try:
            return await PgBackend.open(settings.database_url, pool_size=settings.pool_size)
        except (DatabaseUnavailable, SchemaTooNew) as error:
            raise BackendUnavailable(str(error)) from error
    return await SqliteBackend.open(settings.db_path)


async def migrate(settings: Settings) -> list[str]:
    """Apply the selected backend's pending migrations; the names applied."""
    if settings.database_url is None:
        try:
            check_schema_version(settings.db_path)
        except SchemaNewer as error:
            raise BackendUnavailable(f"--db {settings.db_path}: {error}") from None
        backend = await SqliteBackend.open(settings.db_path)  # opening applies them
        applied = list(backend.db.applied_migrations)
        await backend.close()
        return applied
    check_url(settings.database_url)
    try:
        pool = await connect_pool(settings.database_url, pool_size=1)
    except DatabaseUnavailable as error:
        raise BackendUnavailable(str(error)) from error
    try:
        return await PgDatabase(pool, settings.database_url).migrate()
    except SchemaTooNew as error:
        raise BackendUnavailable(str(error)) from error
    except Exception as error:
        raise BackendUnavailable(describe_failure(settings.database_url, error)) from error
    finally:
        await pool.close()


async def probe(settings: Settings) -> None:
    """Fail fast, before serving, when the selected database cannot be reached or is newer than this server."""
    if settings.database_url is None:
        try:
            check_schema_version(settings.db_path)
        except SchemaNewer as error:
            raise BackendUnavailable(f"--db {settings.db_path}: {error}") from None
        return
    check_url(settings.database_url)
    try:
        pool = await connect_pool(settings.database_url, pool_size=1)
    except DatabaseUnavailable as error:
        raise BackendUnavailable(str(error)) from error
    try:
        await PgDatabase(pool, settings.database_url).check_schema()
    except SchemaTooNew as error:
        raise BackendUnavailable(str(error)) from error
    finally:
        await pool.close()
