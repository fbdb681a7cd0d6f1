"""The running server's parts, built and wired once by the app factory (`app.open_services`).

Routes reach them from a request with `services_of`; middleware get narrow, typed views instead."""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

from fastapi import Request

from triggers_server.clock import Clock
from triggers_server.config import Settings
from triggers_server.domain.accounts import AccountService, Authenticator
from triggers_server.domain.deliveries import DeliveryLog
from triggers_server.domain.dlq import DlqService
from triggers_server.domain.events import EventService
from triggers_server.domain.idempotency import IdempotencyService
from triggers_server.domain.inbox import InboxService
from triggers_server.domain.registry.service import SchemaRegistry
from triggers_server.domain.replay import ReplayJobs, ReplayService
from triggers_server.domain.retention import Janitor
from triggers_server.domain.sign_in import SignInCodes
from triggers_server.domain.stats import StatsService
from triggers_server.domain.streaming import EventStreams, StreamHub
from triggers_server.domain.subscriptions import SubscriptionService
from triggers_server.domain.webhooks.service import DeliveryService
from triggers_server.http.ratelimit import RateLimiter
from triggers_server.metrics import Metrics
from triggers_server.storage.ports.accounts import BootstrapOutcome
from triggers_server.storage.ports.backend import Backend
from triggers_server.storage.ports.stores import Stores


@dataclass
class Services:
    settings: Settings
    clock: Clock
    backend: Backend
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
    events: EventService
    idempotency: IdempotencyService
    inbox: InboxService
    stream: EventStreams
    stats: StatsService
    janitor: Janitor
    sign_in: SignInCodes
    limiter: RateLimiter
    metrics: Metrics
    bootstrap: BootstrapOutcome | None = None  # what start-up did about the operator's admin key


def services_of(request: Request) -> Services:
    """The app's services, read at call time (so tests may swap parts)."""
    return cast(Services, request.app.state.services)
