"""One sans-IO core for every request, driven by thin sync and async drivers.

The core (:class:`ClientCore.request_flow`) is a generator: it yields :class:`Send` and :class:`Sleep`
actions and receives each outcome. It owns request building, retry decisions, backoff and
``Retry-After``, idempotency keys and error mapping. The drivers only perform the I/O the core asks
for, so sync and async behave identically by construction.
"""

from __future__ import annotations

import email.utils
import logging
import math
import os
import random as _random
import time
import uuid
from collections.abc import Callable, Generator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, TypeAlias, TypeVar, cast
from urllib.parse import quote

import anyio
import httpx
import pydantic_core

from ._constants import (
    DEFAULT_BASE_URL,
    DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_MAX_RETRIES,
    DEFAULT_TIMEOUT,
    ENV_API_KEY,
    ENV_BASE_URL,
    HEADER_IDEMPOTENCY_KEY,
    HEADER_RETRY_AFTER,
    HEADER_RETRY_AFTER_MS,
    HEADER_RETRY_COUNT,
    HEADER_SDK,
    HEADER_SHOULD_RETRY,
    INITIAL_RETRY_DELAY,
    MAX_RETRY_DELAY,
    PROBLEM_IDEMPOTENCY_IN_FLIGHT,
    RETRY_AFTER_CAP,
    RETRY_BUDGET,
    RETRY_JITTER,
    RETRYABLE_STATUSES,
    SDK_VERSION,
)
from ._exceptions import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    TriggersError,
    as_object,
    decode_body,
    make_status_error,
)
from ._logging import logger, redact, redact_headers, setup_logging
from ._response import APIResponse, raw_response_requested
from ._types import NOT_GIVEN, NotGiven, Timeout

__all__ = [
    "AsyncAPIClient",
    "ClientCore",
    "RequestOptions",
    "RetryPolicy",
    "Send",
    "Sleep",
    "SyncAPIClient",
    "backoff_delay",
    "path_template",
    "retry_after_seconds",
]

T = TypeVar("T")

_SAFE_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})


@dataclass(frozen=True)
class RequestOptions:
    """Everything one API call needs; built by the generated resources."""

    method: str
    path: str
    query: Mapping[str, object] | None = None
    body: object = NOT_GIVEN
    content: bytes | None = None
    content_type: str | None = None
    headers: Mapping[str, str] | None = None
    extra_headers: Mapping[str, str] | None = None
    extra_query: Mapping[str, object] | None = None
    timeout: Timeout | NotGiven = NOT_GIVEN
    idempotency_key: str | None = None
    max_retries: int | None = None
    stream: bool = False
    accept: str = "application/json"


@dataclass(frozen=True)
class RetryPolicy:
    """The retry numbers of docs/runtime-policy.md; defaults come from ``_constants``."""

    max_retries: int = DEFAULT_MAX_RETRIES
    budget: float = RETRY_BUDGET
    initial_delay: float = INITIAL_RETRY_DELAY
    max_delay: float = MAX_RETRY_DELAY
    jitter: float = RETRY_JITTER
    retry_after_cap: float = RETRY_AFTER_CAP


@dataclass(frozen=True)
class Send:
    """Core → driver: send this request (``stream``: leave the body unread on success)."""

    request: httpx.Request
    stream: bool


@dataclass(frozen=True)
class Sleep:
    """Core → driver: sleep this many seconds without blocking the event loop."""

    seconds: float


Action: TypeAlias = Send | Sleep
# Driver → core: the response, the transport error, or None after a Sleep.
Outcome: TypeAlias = httpx.Response | httpx.TransportError | None


@dataclass(frozen=True)
class CallResult:
    """A successful response with the facts the caller may want (raw responses expose them)."""

    response: httpx.Response
    idempotency_key: str | None
    retries_taken: int


def backoff_delay(retry_number: int, policy: RetryPolicy, random: Callable[[], float]) -> float:
    """``min(initial * 2**(n-1), max) * (1 - jitter * random())`` for retry number ``n`` ≥ 1."""
    base = min(policy.initial_delay * 2.0 ** (retry_number - 1), policy.max_delay)
    return base * (1 - policy.jitter * random())


def retry_after_seconds(headers: httpx.Headers, now: float) -> float | None:
    """Seconds the server asked us to wait (``retry-after-ms``, then ``Retry-After`` secs or date)."""
    raw_ms = headers.get(HEADER_RETRY_AFTER_MS)
    if raw_ms is not None:
        try:
            value = float(raw_ms) / 1000.0
        except ValueError:
            value = math.nan
        if math.isfinite(value) and value >= 0:
            return value
    raw = headers.get(HEADER_RETRY_AFTER)
    if raw is None:
        return None
    try:
        seconds = float(raw)
    except ValueError:
        try:
            moment = email.utils.parsedate_to_datetime(raw)
        except (TypeError, ValueError, IndexError):
            return None
        return max(moment.timestamp() - now, 0.0)
    return seconds if math.isfinite(seconds) and seconds >= 0 else None


def path_template(template: str, **params: object) -> str:
    """Fill ``/events/{event_id}`` safely: every value is percent-encoded as one path segment."""
    for name, value in params.items():
        if value is None or value == "":
            raise ValueError(f"path parameter {name!r} must be a non-empty value")
        template = template.replace("{" + name + "}", quote(str(value), safe=""))
    return template


def _problem_type(response: httpx.Response) -> str | None:
    value = as_object(decode_body(response)).get("type")
    return value if isinstance(value, str) else None


def _encode_query(query: Mapping[str, object]) -> list[tuple[str, str | int | float | bool | None]]:
    pairs: list[tuple[str, str | int | float | bool | None]] = []
    for key, value in query.items():
        if value is None or isinstance(value, NotGiven):
            continue
        values = cast("Sequence[object]", value) if isinstance(value, (list, tuple)) else [value]
        for item in values:
            if isinstance(item, bool):
                pairs.append((key, "true" if item else "false"))
            elif hasattr(item, "isoformat"):
                pairs.append((key, cast(Any, item).isoformat()))
            else:
                pairs.append((key, str(item)))
    return pairs


class ClientCore:
    """Configuration plus the pure request/retry logic shared by both drivers."""

    def __init__(
        self,
        *,
        api_key: str | None,
        base_url: str | httpx.URL | None,
        timeout: Timeout | NotGiven,
        max_retries: int,
        default_headers: Mapping[str, str] | None,
        strict: bool,
        retry_policy: RetryPolicy | None,
        clock: Callable[[], float] | None,
        wall_clock: Callable[[], float] | None,
        random: Callable[[], float] | None,
        runtime: str,
    ) -> None:
        setup_logging()
        api_key = api_key if api_key is not None else os.environ.get(ENV_API_KEY)
        if not api_key:
            raise TriggersError(
                f"No API key: pass api_key=... or set the {ENV_API_KEY} environment variable."
            )
        if max_retries < 0:
            raise ValueError("max_retries must be >= 0")
        self.api_key = api_key
        self.base_url = httpx.URL(
            str(base_url or os.environ.get(ENV_BASE_URL) or DEFAULT_BASE_URL).rstrip("/") + "/"
        )
        self.timeout = self.to_timeout(
            httpx.Timeout(DEFAULT_TIMEOUT, connect=DEFAULT_CONNECT_TIMEOUT)
            if isinstance(timeout, NotGiven)
            else timeout
        )
        self._base_url_text = str(self.base_url)
        self.retry_policy = replace(retry_policy or RetryPolicy(), max_retries=max_retries)
        self.strict = strict
        self.clock = clock or time.monotonic
        self.wall_clock = wall_clock or time.time
        self.random = random or _random.random
        self.default_headers = {
            "Authorization": f"Bearer {api_key}",
            "User-Agent": f"zapier-triggers-python/{SDK_VERSION}",
            HEADER_SDK: f"python/{SDK_VERSION} ({runtime})",
            **(default_headers or {}),
        }

    @staticmethod
    def to_timeout(timeout: Timeout) -> httpx.Timeout:
        if isinstance(timeout, httpx.Timeout):
            return timeout
        if timeout is None:
            return httpx.Timeout(None)
        return httpx.Timeout(timeout, connect=min(timeout, DEFAULT_CONNECT_TIMEOUT))

    def build_request(
        self,
        options: RequestOptions,
        *,
        idempotency_key: str | None,
        retry_count: int,
        client_headers: Mapping[str, str],
    ) -> httpx.Request:
        """One attempt's request, built directly (``httpx.Client.build_request`` costs ~40 µs a call).

        ``client_headers`` are the httpx client's default headers; every layer after it wins,
        compared case-insensitively, and the caller's ``extra_headers`` win over everything.
        """
        layers: list[Mapping[str, str]] = [
            client_headers,
            self.default_headers,
            {"Accept": options.accept, HEADER_RETRY_COUNT: str(retry_count)},
            options.headers or {},
        ]
        if idempotency_key is not None:
            layers.append({HEADER_IDEMPOTENCY_KEY: idempotency_key})
        query = _encode_query({**(options.query or {}), **(options.extra_query or {})})
        content = options.content
        if content is not None:
            layers.append({"Content-Type": options.content_type or "application/octet-stream"})
        elif not isinstance(options.body, NotGiven):
            content = pydantic_core.to_json(options.body, by_alias=True)
            layers.append({"Content-Type": options.content_type or "application/json"})
        layers.append(options.extra_headers or {})
        merged: dict[str, tuple[str, str]] = {}
        for layer in layers:
            for name, value in layer.items():
                merged[name.lower()] = (name, value)
        timeout = self.timeout if isinstance(options.timeout, NotGiven) else self.to_timeout(options.timeout)
        return httpx.Request(
            options.method,
            self._base_url_text + options.path.lstrip("/"),
            params=query or None,
            headers=list(merged.values()),
            content=content,
            extensions={"timeout": timeout.as_dict()},
        )

    def idempotency_key_for(self, options: RequestOptions) -> str | None:
        """Every POST carries a key (caller's or a fresh UUID4) that stays the same across retries."""
        if options.idempotency_key is not None:
            return options.idempotency_key
        for name, value in (options.extra_headers or {}).items():
            if name.lower() == HEADER_IDEMPOTENCY_KEY.lower():
                return value
        return str(uuid.uuid4()) if options.method.upper() == "POST" else None

    def retry_delay(
        self,
        *,
        method: str,
        has_idempotency_key: bool,
        retries_so_far: int,
        max_retries: int,
        elapsed: float,
        response: httpx.Response | None,
    ) -> float | None:
        """Seconds to wait before the next attempt, or None when the policy says stop."""
        policy = self.retry_policy
        if retries_so_far >= max_retries:
            return None
        if not (method.upper() in _SAFE_METHODS or has_idempotency_key):
            return None
        if response is not None and not self.is_retryable_response(response):
            return None
        delay: float | None = None
        if response is not None:
            asked = retry_after_seconds(response.headers, self.wall_clock())
            if asked is not None:
                if asked > policy.retry_after_cap:
                    return None
                delay = asked
        if delay is None:
            delay = backoff_delay(retries_so_far + 1, policy, self.random)
        if elapsed + delay > policy.budget:
            return None
        return delay

    @staticmethod
    def is_retryable_response(response: httpx.Response) -> bool:
        should = response.headers.get(HEADER_SHOULD_RETRY, "").strip().lower()
        if should == "false":
            return False
        if should == "true":
            return True
        status = response.status_code
        if status in RETRYABLE_STATUSES or status >= 500:
            return True
        return status == 409 and _problem_type(response) == PROBLEM_IDEMPOTENCY_IN_FLIGHT

    def request_flow(
        self, options: RequestOptions, client_headers: Mapping[str, str]
    ) -> Generator[Action, Outcome, CallResult]:
        """The whole life of one call, as actions for a driver to perform."""
        key = self.idempotency_key_for(options)
        max_retries = self.retry_policy.max_retries if options.max_retries is None else options.max_retries
        started = self.clock()
        retries = 0
        while True:
            request = self.build_request(
                options, idempotency_key=key, retry_count=retries, client_headers=client_headers
            )
            _log_request(request, options)
            outcome = yield Send(request, options.stream)
            response = outcome if isinstance(outcome, httpx.Response) else None
            if response is not None:
                _log_response(response)
                if response.status_code < 400:
                    return CallResult(response, key, retries)
            delay = self.retry_delay(
                method=options.method,
                has_idempotency_key=key is not None,
                retries_so_far=retries,
                max_retries=max_retries,
                elapsed=self.clock() - started,
                response=response,
            )
            if delay is None:
                raise self._final_error(outcome, request, key)
            logger.info(
                "Retrying %s %s in %.3fs (retry %d of %d)",
                request.method,
                request.url.path,
                delay,
                retries + 1,
                max_retries,
            )
            yield Sleep(delay)
            retries += 1

    def _final_error(self, outcome: Outcome, request: httpx.Request, key: str | None) -> APIError:
        if isinstance(outcome, httpx.Response):
            return make_status_error(
                outcome,
                idempotency_key=key,
                retry_after=retry_after_seconds(outcome.headers, self.wall_clock()),
            )
        if isinstance(outcome, httpx.TimeoutException):
            return APITimeoutError(request=request, idempotency_key=key)
        return APIConnectionError(
            f"Connection error: {outcome}" if outcome else "Connection error.",
            request=request,
            idempotency_key=key,
        )

    def raw_response(self, result: CallResult, cast_to: type[T] | None) -> APIResponse[T]:
        return APIResponse(
            result.response,
            cast_to=cast_to,
            idempotency_key=result.idempotency_key,
            retries_taken=result.retries_taken,
            strict=self.strict,
        )

    def finish(self, result: CallResult, cast_to: type[T] | None) -> T:
        """Parse, or hand back the raw response when ``with_raw_response`` asked for it."""
        raw = self.raw_response(result, cast_to)
        if raw_response_requested.get():
            return cast(T, raw)
        return raw.parse()


def _log_request(request: httpx.Request, options: RequestOptions) -> None:
    if logger.isEnabledFor(logging.DEBUG):
        body = redact(options.body) if not isinstance(options.body, NotGiven) else None
        logger.debug(
            "Request %s %s headers=%s body=%s",
            request.method,
            request.url,
            redact_headers(dict(request.headers)),
            body,
        )


def _log_response(response: httpx.Response) -> None:
    if logger.isEnabledFor(logging.DEBUG):
        logger.debug(
            "Response %s %s -> %d headers=%s",
            response.request.method,
            response.request.url,
            response.status_code,
            redact_headers(dict(response.headers)),
        )


@dataclass
class SyncAPIClient:
    """Blocking driver: performs the core's actions with ``httpx.Client`` and ``time.sleep``."""

    core: ClientCore
    http: httpx.Client
    sleep: Callable[[float], None] = field(default=time.sleep)

    def __post_init__(self) -> None:
        # The httpx client's default headers, read once (changing them later has no effect).
        self.client_headers = dict(self.http.headers.items())

    def send(self, options: RequestOptions) -> CallResult:
        flow = self.core.request_flow(options, self.client_headers)
        action = next(flow)
        while True:
            outcome: Outcome
            if isinstance(action, Sleep):
                self.sleep(action.seconds)
                outcome = None
            else:
                outcome = self._perform(action)
            try:
                action = flow.send(outcome)
            except StopIteration as stop:
                return cast(CallResult, stop.value)

    def _perform(self, action: Send) -> Outcome:
        try:
            response = self.http.send(action.request, stream=True)
        except httpx.TransportError as exc:
            return exc
        try:
            if response.status_code >= 400 or not action.stream:
                response.read()
        except httpx.TransportError as exc:
            response.close()
            return exc
        return response

    def request(self, options: RequestOptions, cast_to: type[T] | None) -> T:
        return self.core.finish(self.send(options), cast_to)


@dataclass
class AsyncAPIClient:
    """Async driver (asyncio or trio): ``httpx.AsyncClient`` and ``anyio.sleep``."""

    core: ClientCore
    http: httpx.AsyncClient
    sleep: Callable[[float], Any] = field(default=anyio.sleep)

    def __post_init__(self) -> None:
        # The httpx client's default headers, read once (changing them later has no effect).
        self.client_headers = dict(self.http.headers.items())

    async def send(self, options: RequestOptions) -> CallResult:
        flow = self.core.request_flow(options, self.client_headers)
        action = next(flow)
        while True:
            outcome: Outcome
            if isinstance(action, Sleep):
                await self.sleep(action.seconds)
                outcome = None
            else:
                outcome = await self._perform(action)
            try:
                action = flow.send(outcome)
            except StopIteration as stop:
                return cast(CallResult, stop.value)

    async def _perform(self, action: Send) -> Outcome:
        try:
            response = await self.http.send(action.request, stream=True)
        except httpx.TransportError as exc:
            return exc
        try:
            if response.status_code >= 400 or not action.stream:
                await response.aread()
        except httpx.TransportError as exc:
            await response.aclose()
            return exc
        return response

    async def request(self, options: RequestOptions, cast_to: type[T] | None) -> T:
        return self.core.finish(await self.send(options), cast_to)
