"""Cursor auto-pagination: ``for``/``async for`` over items, ``.pages()`` for page-wise access."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast

import pydantic

from ._base_client import RequestOptions
from ._deprecation import deprecated_aliases

if TYPE_CHECKING:
    from ._base_client import AsyncAPIClient, SyncAPIClient

__all__ = ["Page", "Paginator", "SyncPaginator"]

T = TypeVar("T")


class Page(pydantic.BaseModel, Generic[T]):
    """One page of a list response: ``{"data": [...], "next_cursor": "…" | null}``."""

    model_config = pydantic.ConfigDict(extra="allow")

    data: list[T]
    next_cursor: str | None = None


def _next_options(options: RequestOptions, page: Page[Any]) -> RequestOptions | None:
    """The request for the page after ``page``, or None when the server says there is none."""
    if not page.next_cursor or not page.data:
        return None
    return replace(options, query={**(options.query or {}), "cursor": page.next_cursor})


class SyncPaginator(Generic[T]):
    """Iterate every item across pages; each page is fetched only when needed."""

    def __init__(self, client: SyncAPIClient, options: RequestOptions, item_type: type[T]) -> None:
        self._client = client
        self._options = options
        self._page_type = cast(type[Page[T]], Page[item_type])  # type: ignore[valid-type]

    def pages(self) -> Iterator[Page[T]]:
        options: RequestOptions | None = self._options
        while options is not None:
            page = self._client.request(options, self._page_type)
            yield page
            options = _next_options(options, page)

    def first_page(self) -> Page[T]:
        return self._client.request(self._options, self._page_type)

    def __iter__(self) -> Iterator[T]:
        for page in self.pages():
            yield from page.data


class Paginator(Generic[T]):
    """``async for`` every item across pages; each page is fetched only when needed."""

    def __init__(self, client: AsyncAPIClient, options: RequestOptions, item_type: type[T]) -> None:
        self._client = client
        self._options = options
        self._page_type = cast(type[Page[T]], Page[item_type])  # type: ignore[valid-type]

    async def pages(self) -> AsyncIterator[Page[T]]:
        options: RequestOptions | None = self._options
        while options is not None:
            page = await self._client.request(options, self._page_type)
            yield page
            options = _next_options(options, page)

    async def first_page(self) -> Page[T]:
        return await self._client.request(self._options, self._page_type)

    async def __aiter__(self) -> AsyncIterator[T]:
        async for page in self.pages():
            for item in page.data:
                yield item


__getattr__ = deprecated_aliases(__name__, globals(), {"AsyncPaginator": "Paginator"})
