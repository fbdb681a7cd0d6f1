"""Fixtures for the CORE tests (see core_harness.py)."""

from core_harness import anyio_backend, server

__all__ = ["anyio_backend", "server"]
