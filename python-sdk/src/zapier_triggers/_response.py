"""Raw responses (``client.with_raw_response``) and response parsing shared by every driver."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from typing import Any, Generic, ParamSpec, TypeVar, cast

import httpx
import pydantic

from ._constants import HEADER_IDEMPOTENT_REPLAYED, HEADER_REQUEST_ID
from ._exceptions import APIResponseValidationError
from ._models import find_drift

__all__ = ["APIResponse", "parse_response", "sync_to_raw_response_wrapper", "to_raw_response_wrapper"]

T = TypeVar("T")
P = ParamSpec("P")

# Set while a ``with_raw_response`` wrapper runs, so the driver returns the APIResponse itself.
raw_response_requested: ContextVar[bool] = ContextVar("zapier_triggers_raw_response", default=False)


def parse_response(response: httpx.Response, cast_to: type[T] | None, *, strict: bool) -> T:
    """Decode ``response`` into ``cast_to`` (a pydantic model), or ``None`` for empty responses."""
    if cast_to is None or response.status_code == 204 or not response.content:
        return cast(T, None)
    try:
        parsed = cast(Any, cast_to).model_validate_json(response.content)
    except pydantic.ValidationError as exc:
        raise APIResponseValidationError(
            f"Response did not match {cast_to.__name__}: {exc.errors(include_url=False)}",
            response=response,
        ) from exc
    if strict:
        drift = find_drift(parsed)
        if drift:
            raise APIResponseValidationError(
                "Response drifted from the contract: " + "; ".join(drift), response=response
            )
    return cast(T, parsed)


class APIResponse(Generic[T]):
    """The HTTP response of one call, with its idempotency facts; ``parse()`` gives the model."""

    def __init__(
        self,
        http_response: httpx.Response,
        *,
        cast_to: type[T] | None,
        idempotency_key: str | None,
        retries_taken: int,
        strict: bool,
    ) -> None:
        self.http_response = http_response
        self.idempotency_key = idempotency_key
        self.retries_taken = retries_taken
        self._cast_to = cast_to
        self._strict = strict
        self._parsed: T | None = None

    @property
    def status_code(self) -> int:
        return self.http_response.status_code

    @property
    def headers(self) -> httpx.Headers:
        return self.http_response.headers

    @property
    def request_id(self) -> str | None:
        value: str | None = self.http_response.headers.get(HEADER_REQUEST_ID)
        return value

    @property
    def idempotent_replayed(self) -> bool:
        """True when the server answered from its idempotency cache instead of executing again."""
        value: str = self.http_response.headers.get(HEADER_IDEMPOTENT_REPLAYED, "")
        return value.strip().lower() == "true"

    def parse(self) -> T:
        if self._parsed is None:
            self._parsed = parse_response(self.http_response, self._cast_to, strict=self._strict)
        return self._parsed

    def __repr__(self) -> str:
        return f"<APIResponse [{self.status_code}] {self.http_response.request.url}>"


def sync_to_raw_response_wrapper(func: Callable[P, T]) -> Callable[P, APIResponse[T]]:
    """Wrap a sync resource method so it returns the :class:`APIResponse` instead of the model."""

    @functools.wraps(func)
    def wrapped(*args: P.args, **kwargs: P.kwargs) -> APIResponse[T]:
        token = raw_response_requested.set(True)
        try:
            return cast(APIResponse[T], func(*args, **kwargs))
        finally:
            raw_response_requested.reset(token)

    return wrapped


def to_raw_response_wrapper(
    func: Callable[P, Awaitable[T]],
) -> Callable[P, Awaitable[APIResponse[T]]]:
    """Wrap an async resource method so it returns the :class:`APIResponse` instead of the model."""

    @functools.wraps(func)
    async def wrapped(*args: P.args, **kwargs: P.kwargs) -> APIResponse[T]:
        token = raw_response_requested.set(True)
        try:
            return cast(APIResponse[T], await func(*args, **kwargs))
        finally:
            raw_response_requested.reset(token)

    return wrapped
