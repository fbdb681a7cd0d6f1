"""The running server's parts, built and wired once by the app factory (`app.open_services`).

Routes reach them from a request with `services_of`; middleware get narrow, typed views instead."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import cast

from fastapi import Request

from triggers_server.clock import Clock
from triggers_server.config import Settings
from triggers_server.domain.accounts import AccountService, Authenticator
from triggers_server.domain.deliveries import DeliveryLog
from triggers_server.domain.dlq import DlqService
from triggers_server.domain.registry.service import SchemaRegistry
from triggers_server.domain.replay import ReplayJobs, ReplayService
from triggers_server.domain.sign_in import SignInCodes
from triggers_server.domain.streaming import StreamHub
from triggers_server.domain.subscriptions import SubscriptionService
from triggers_server.domain.webhooks.service import DeliveryService
from triggers_server.http.idempotency import InFlight
from triggers_server.http.ratelimit import RateLimiter
from triggers_server.metrics import Metrics
from triggers_server.storage.ports.accounts import BootstrapOutcome
from triggers_server.storage.ports.stores import Stores
from triggers_server.storage.sqlite.engine import Database


@dataclass
class Services:
    settings: Settings
    clock: Clock
    db: Database
    stores: Stores
    hub: StreamHub
    registry: SchemaRegistry
    delivery: DeliveryService
    replays: ReplayJobs
    replay_service: ReplayService
    subscriptions: SubscriptionService
    deliveries: DeliveryLog
    dlq: DlqService
    auth: Authenticator
    accounts: AccountService
    sign_in: SignInCodes
    limiter: RateLimiter
    metrics: Metrics
    bootstrap: BootstrapOutcome | None = None  # what start-up did about the operator's admin key
    in_flight: dict[tuple[str, str, str, str], InFlight] = field(
        default_factory=dict[tuple[str, str, str, str], InFlight]
    )


def services_of(request: Request) -> Services:
    """The app's services, read at call time (so tests may swap parts)."""
    return cast(Services, request.app.state.services)
