"""Bases of the generated resource classes: each holds the driver it sends requests through."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from ._types import NotGiven

if TYPE_CHECKING:
    from ._base_client import AsyncAPIClient, SyncAPIClient

__all__ = ["APIResource", "SyncAPIResource", "given"]


class SyncAPIResource:
    def __init__(self, client: SyncAPIClient) -> None:
        self._client = client


class APIResource:
    def __init__(self, client: AsyncAPIClient) -> None:
        self._client = client


def given(values: Mapping[str, object]) -> dict[str, object]:
    """Drop omitted (NOT_GIVEN) arguments; an explicit ``None`` is kept and sent as JSON null."""
    return {key: value for key, value in values.items() if not isinstance(value, NotGiven)}
