"""Small shared types: the NOT_GIVEN sentinel and the per-call option aliases."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final, TypeAlias

import httpx

__all__ = ["NOT_GIVEN", "Headers", "NotGiven", "Query", "Timeout"]


class NotGiven:
    """Marks "argument omitted" where ``None`` is a meaningful value (e.g. ``timeout=None``)."""

    _instance: NotGiven | None = None

    def __new__(cls) -> NotGiven:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __bool__(self) -> bool:
        return False

    def __repr__(self) -> str:
        return "NOT_GIVEN"


NOT_GIVEN: Final = NotGiven()

Timeout: TypeAlias = float | httpx.Timeout | None
Headers: TypeAlias = Mapping[str, str]
Query: TypeAlias = Mapping[str, object]
