"""Shared fixtures: both anyio backends, a fake clock, and clients wired to in-process transports."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
CONFORMANCE = REPO_ROOT.parent / "shared" / "conformance"


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def conformance_file(*parts: str) -> Path:
    """A shared conformance vector file, or skip the test with the reason when it is absent."""
    path = CONFORMANCE.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"conformance vectors not found at {path} (the shared/ folder is absent)")
    return path
