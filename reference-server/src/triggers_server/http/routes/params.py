"""Query parameters every paginated list shares, bounded by the contract's generated facts."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

from triggers_server.contract_facts import PAGE_LIMIT_MAX, PAGE_LIMIT_MIN

PageLimit = Annotated[int, Query(ge=PAGE_LIMIT_MIN, le=PAGE_LIMIT_MAX)]
PageCursor = Annotated[str | None, Query(min_length=1)]
