"""Fixtures of the registry tests (the harness itself lives in registry_harness.py)."""

from registry_harness import admin, anyio_backend, server

__all__ = ["admin", "anyio_backend", "server"]
