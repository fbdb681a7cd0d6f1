"""Token-bucket rate limiting per API key, advertised with the IETF RateLimit-Policy / RateLimit headers
on every response; an empty bucket answers 429 `rate-limited` with Retry-After."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from triggers_server.clock import Clock
from triggers_server.domain.principal import Principal
from triggers_server.http.middleware import RATE_LIMIT_HEADERS_STATE, send_problem
from triggers_server.metrics import Metrics
from triggers_server.problems import ProblemError

POLICY_NAME = "default"


@dataclass
class TokenBucket:
    capacity: float
    refill_per_second: float
    tokens: float
    updated: float

    def refill(self, now: float) -> None:
        elapsed = max(0.0, now - self.updated)
        self.tokens = min(self.capacity, self.tokens + elapsed * self.refill_per_second)
        self.updated = now

    def take(self, now: float) -> bool:
        self.refill(now)
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False

    def seconds_until_token(self) -> int:
        return max(1, math.ceil((1.0 - self.tokens) / self.refill_per_second))

    def seconds_until_full(self) -> int:
        return max(0, math.ceil((self.capacity - self.tokens) / self.refill_per_second))


class RateLimiter:
    """One bucket per partition (API key id, or client address for unauthenticated calls)."""

    def __init__(self, clock: Clock, *, per_second: float, burst: int) -> None:
        self._clock = clock
        self.per_second = per_second
        self.burst = burst
        self._buckets: dict[str, TokenBucket] = {}

    @property
    def window_seconds(self) -> int:
        return max(1, math.ceil(self.burst / self.per_second))

    def check(self, partition: str) -> tuple[bool, TokenBucket]:
        now = self._clock.now().timestamp()
        bucket = self._buckets.get(partition)
        if bucket is None:
            if len(self._buckets) > 100_000:
                self._buckets.clear()
            bucket = self._buckets[partition] = TokenBucket(self.burst, self.per_second, float(self.burst), now)
        return bucket.take(now), bucket

    def headers(self, bucket: TokenBucket) -> list[tuple[bytes, bytes]]:
        policy = f'"{POLICY_NAME}";q={self.burst};w={self.window_seconds}'
        state = f'"{POLICY_NAME}";r={math.floor(bucket.tokens)};t={bucket.seconds_until_full()}'
        return [(b"ratelimit-policy", policy.encode()), (b"ratelimit", state.encode())]


def partition_of(scope: Scope) -> str:
    principal = scope.get("state", {}).get("principal")
    if isinstance(principal, Principal):
        return "key:" + principal.key_id
    client = scope.get("client")
    return "addr:" + (client[0] if client else "unknown")


class RateLimitParts(Protocol):
    """What rate limiting needs from the running server."""

    @property
    def limiter(self) -> RateLimiter: ...
    @property
    def metrics(self) -> Metrics: ...


class RateLimitMiddleware:
    def __init__(self, app: ASGIApp, services: RateLimitParts) -> None:
        self.app = app
        self.services = services

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limiter = self.services.limiter
        allowed, bucket = limiter.check(partition_of(scope))
        headers = limiter.headers(bucket)
        if not allowed:
            self.services.metrics.rate_limited.inc()
            retry_after = bucket.seconds_until_token()
            error = ProblemError(
                429,
                "rate-limited",
                f"Rate limit of {limiter.per_second:g} requests/s (burst {limiter.burst}) exceeded; "
                f"retry in {retry_after} s.",
                headers={"Retry-After": str(retry_after)},
                extra={"violated_policies": [POLICY_NAME], "retry_after": retry_after},
            )
            await send_problem(scope, send, error, headers)
            return

        scope.setdefault("state", {})[RATE_LIMIT_HEADERS_STATE] = headers

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *headers]
            await send(message)

        await self.app(scope, receive, send_with_headers)
