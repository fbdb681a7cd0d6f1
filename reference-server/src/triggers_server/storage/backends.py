"""Which backend a server runs on: the one place that names them (SQLite, the embedded default)."""

from __future__ import annotations

from triggers_server.config import Settings
from triggers_server.storage.ports.backend import Backend
from triggers_server.storage.sqlite.backend import SqliteBackend


async def open_backend(settings: Settings) -> Backend:
    """The backend `settings` select, open and migrated."""
    return await SqliteBackend.open(settings.db_path)
