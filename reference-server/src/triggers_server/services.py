"""The running server's parts, built and wired once by the app factory (`app.open_services`).

Routes reach them from a request with `services_of`; middleware get narrow, typed views instead."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import cast

from fastapi import Request

from .auth import Authenticator
from .clock import Clock
from .config import Settings
from .idempotency import InFlight
from .metrics import Metrics
from .ratelimit import RateLimiter
from .registry.service import SchemaRegistry
from .replay import ReplayJobs
from .storage.engine import Database
from .streaming import StreamHub
from .webhooks.service import DeliveryService


@dataclass
class Services:
    settings: Settings
    clock: Clock
    db: Database
    hub: StreamHub
    registry: SchemaRegistry
    delivery: DeliveryService
    replays: ReplayJobs
    auth: Authenticator
    limiter: RateLimiter
    metrics: Metrics
    bootstrap_key: str | None = None
    in_flight: dict[tuple[str, str, str, str], InFlight] = field(
        default_factory=dict[tuple[str, str, str, str], InFlight]
    )


def services_of(request: Request) -> Services:
    """The app's services, read at call time (so tests may swap parts)."""
    return cast(Services, request.app.state.services)
