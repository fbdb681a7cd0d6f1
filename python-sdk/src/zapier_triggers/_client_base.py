"""Construction and lifecycle shared by the generated client facades.

The facades (``_client.py``) only add one lazily-imported property per resource, so importing the
package does not import every resource and model module.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import TypeVar

import anyio
import httpx
from typing_extensions import Self

from ._base_client import AsyncAPIClient, ClientCore, RequestOptions, RetryPolicy, SyncAPIClient
from ._constants import DEFAULT_MAX_RETRIES
from ._response import APIResponse
from ._types import NOT_GIVEN, NotGiven, Timeout

__all__ = ["ClientBase", "SyncClientBase"]

T = TypeVar("T")

_RUNTIME = f"CPython {sys.version_info.major}.{sys.version_info.minor}"


def _http_limits() -> httpx.Limits:
    return httpx.Limits(max_connections=100, max_keepalive_connections=20)


def _raw_options(
    method: str,
    path: str,
    *,
    body: object,
    content: bytes | None,
    content_type: str | None,
    query: Mapping[str, object] | None,
    headers: Mapping[str, str] | None,
    idempotency_key: str | None,
    timeout: Timeout | NotGiven,
) -> RequestOptions:
    return RequestOptions(
        method=method.upper(),
        path=path,
        body=body,
        content=content,
        content_type=content_type,
        query=query,
        extra_headers=headers,
        idempotency_key=idempotency_key,
        timeout=timeout,
    )


class SyncClientBase:
    """Blocking client: configuration, the httpx client and the driver."""

    def __init__(
        self,
        *,
        api_key: str | None = None,
        base_url: str | httpx.URL | None = None,
        timeout: Timeout | NotGiven = NOT_GIVEN,
        max_retries: int = DEFAULT_MAX_RETRIES,
        http_client: httpx.Client | None = None,
        default_headers: Mapping[str, str] | None = None,
        strict: bool = False,
        retry_policy: RetryPolicy | None = None,
        sleep: Callable[[float], None] | None = None,
        clock: Callable[[], float] | None = None,
        wall_clock: Callable[[], float] | None = None,
        random: Callable[[], float] | None = None,
    ) -> None:
        """Arguments default to ``TRIGGERS_API_KEY`` / ``TRIGGERS_BASE_URL`` and docs/runtime-policy.md.

        ``sleep``, ``clock``, ``wall_clock`` and ``random`` exist so tests never wait for real.
        """
        core = ClientCore(
            api_key=api_key,
            base_url=base_url,
            timeout=timeout,
            max_retries=max_retries,
            default_headers=default_headers,
            strict=strict,
            retry_policy=retry_policy,
            clock=clock,
            wall_clock=wall_clock,
            random=random,
            runtime=_RUNTIME,
        )
        self._owns_http = http_client is None
        http = http_client or httpx.Client(limits=_http_limits(), timeout=core.timeout)
        self._api = SyncAPIClient(core, http, sleep or time.sleep)

    @property
    def base_url(self) -> httpx.URL:
        return self._api.core.base_url

    @property
    def max_retries(self) -> int:
        return self._api.core.retry_policy.max_retries

    def request(
        self,
        method: str,
        path: str,
        *,
        cast_to: type[T] | None = None,
        body: object = NOT_GIVEN,
        content: bytes | None = None,
        content_type: str | None = None,
        query: Mapping[str, object] | None = None,
        headers: Mapping[str, str] | None = None,
        idempotency_key: str | None = None,
        timeout: Timeout | NotGiven = NOT_GIVEN,
    ) -> APIResponse[T]:
        """Low-level escape hatch: any path (relative to the base URL) with the full retry policy.

        ``body`` is sent as JSON; ``content`` + ``content_type`` send raw bytes (e.g. CloudEvents).
        """
        options = _raw_options(
            method,
            path,
            body=body,
            content=content,
            content_type=content_type,
            query=query,
            headers=headers,
            idempotency_key=idempotency_key,
            timeout=timeout,
        )
        return self._api.core.raw_response(self._api.send(options), cast_to)

    def close(self) -> None:
        """Close the underlying connections (only if this client created the httpx client)."""
        if self._owns_http:
            self._api.http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class ClientBase:
    """Async client (asyncio or trio): configuration, the httpx client and the driver."""

    def __init__(
        self,
        *,
        api_key: str | None = None,
        base_url: str | httpx.URL | None = None,
        timeout: Timeout | NotGiven = NOT_GIVEN,
        max_retries: int = DEFAULT_MAX_RETRIES,
        http_client: httpx.AsyncClient | None = None,
        default_headers: Mapping[str, str] | None = None,
        strict: bool = False,
        retry_policy: RetryPolicy | None = None,
        sleep: Callable[[float], Awaitable[None]] | None = None,
        clock: Callable[[], float] | None = None,
        wall_clock: Callable[[], float] | None = None,
        random: Callable[[], float] | None = None,
    ) -> None:
        """Arguments default to ``TRIGGERS_API_KEY`` / ``TRIGGERS_BASE_URL`` and docs/runtime-policy.md.

        ``sleep``, ``clock``, ``wall_clock`` and ``random`` exist so tests never wait for real.
        """
        core = ClientCore(
            api_key=api_key,
            base_url=base_url,
            timeout=timeout,
            max_retries=max_retries,
            default_headers=default_headers,
            strict=strict,
            retry_policy=retry_policy,
            clock=clock,
            wall_clock=wall_clock,
            random=random,
            runtime=_RUNTIME,
        )
        self._owns_http = http_client is None
        http = http_client or httpx.AsyncClient(limits=_http_limits(), timeout=core.timeout)
        self._api = AsyncAPIClient(core, http, sleep or anyio.sleep)

    @property
    def base_url(self) -> httpx.URL:
        return self._api.core.base_url

    @property
    def max_retries(self) -> int:
        return self._api.core.retry_policy.max_retries

    async def request(
        self,
        method: str,
        path: str,
        *,
        cast_to: type[T] | None = None,
        body: object = NOT_GIVEN,
        content: bytes | None = None,
        content_type: str | None = None,
        query: Mapping[str, object] | None = None,
        headers: Mapping[str, str] | None = None,
        idempotency_key: str | None = None,
        timeout: Timeout | NotGiven = NOT_GIVEN,
    ) -> APIResponse[T]:
        """Low-level escape hatch: any path (relative to the base URL) with the full retry policy.

        ``body`` is sent as JSON; ``content`` + ``content_type`` send raw bytes (e.g. CloudEvents).
        """
        options = _raw_options(
            method,
            path,
            body=body,
            content=content,
            content_type=content_type,
            query=query,
            headers=headers,
            idempotency_key=idempotency_key,
            timeout=timeout,
        )
        return self._api.core.raw_response(await self._api.send(options), cast_to)

    async def close(self) -> None:
        """Close the underlying connections (only if this client created the httpx client)."""
        if self._owns_http:
            await self._api.http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
