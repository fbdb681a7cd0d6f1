"""Fixtures of the delivery tests (the harness lives in delivery_harness.py)."""

from delivery_harness import anyio_backend, server

__all__ = ["anyio_backend", "server"]
