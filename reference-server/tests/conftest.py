"""Suite-wide: the backend dimension (see backend_harness.py) and the `sqlite_only` marker."""

from __future__ import annotations

from collections.abc import Iterator

import backend_harness
import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "sqlite_only(reason): about SQLite internals; skipped on PostgreSQL")


def pytest_report_header(config: pytest.Config) -> str:
    return f"triggers backend: {backend_harness.BACKEND}"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not backend_harness.on_postgres():
        return
    for item in items:
        marker = item.get_closest_marker("sqlite_only")
        if marker is not None:
            reason = marker.kwargs.get("reason") or (marker.args[0] if marker.args else "SQLite internals")
            item.add_marker(pytest.mark.skip(reason=f"SQLite only: {reason}"))


@pytest.fixture(autouse=True)
def _backend_database() -> Iterator[None]:
    """On PostgreSQL, a fresh migrated database for every test."""
    if not backend_harness.on_postgres():
        yield
        return
    backend_harness.new_database()
    try:
        yield
    finally:
        backend_harness.drop_database()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    backend_harness.stop_session()
