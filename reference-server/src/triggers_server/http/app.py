"""App factory: wires storage, services, middleware and every route module into one FastAPI app."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncGenerator, Callable
from functools import partial
from typing import Any, cast

import anyio
import httpx
from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute
from starlette.types import Receive, Scope, Send

from triggers_server.clock import Clock, SystemClock
from triggers_server.config import Settings
from triggers_server.contract_facts import API_PREFIX
from triggers_server.domain.accounts import AccountService, Authenticator
from triggers_server.domain.deliveries import DeliveryLog
from triggers_server.domain.dlq import DlqService
from triggers_server.domain.events import EventService
from triggers_server.domain.idempotency import IdempotencyService
from triggers_server.domain.inbox import InboxService
from triggers_server.domain.registry.service import SchemaRegistry, apply_schema
from triggers_server.domain.replay import Replayer, ReplayJobs, ReplayService
from triggers_server.domain.retention import Janitor
from triggers_server.domain.sign_in import SignInCodes
from triggers_server.domain.stats import StatsService
from triggers_server.domain.streaming import EventStreams, StreamHub
from triggers_server.domain.subscriptions import SubscriptionService
from triggers_server.domain.webhooks.service import DeliveryService
from triggers_server.http.fastpath import FastPath
from triggers_server.http.idempotency import IdempotencyMiddleware
from triggers_server.http.middleware import RequestContextMiddleware
from triggers_server.http.problem_handlers import install_problem_handlers
from triggers_server.http.ratelimit import RateLimiter, RateLimitMiddleware
from triggers_server.http.routes import (
    account,
    console,
    deliveries,
    dlq,
    docs,
    events,
    filters,
    idempotency,
    inbox,
    ops,
    replays,
    schemas,
    stream,
    subscriptions,
    ws,
)
from triggers_server.http.services import Services
from triggers_server.metrics import Metrics
from triggers_server.storage.backends import open_backend
from triggers_server.storage.ports.accounts import BootstrapOutcome

log = logging.getLogger("triggers_server.http.app")

JANITOR_INTERVAL_SECONDS = 60.0
# Every route module, imported explicitly; `/events/stream` comes before `/events/{event_id}`.
ROUTERS: tuple[APIRouter, ...] = (
    stream.router,
    ws.router,  # before events: `/events/ws` is not an `/events/{event_id}`
    events.router,
    inbox.router,
    idempotency.router,
    account.router,
    ops.router,
    subscriptions.router,
    deliveries.router,
    dlq.router,
    replays.router,
    filters.router,
    schemas.router,
)
# The hottest operations, dispatched past FastAPI's routing and dependency solving (http/fastpath.py).
FAST_PATH_ENDPOINTS = (events.create_event, events.create_events_batch)


async def open_services(
    settings: Settings, clock: Clock, *, webhook_client: httpx.AsyncClient | None = None
) -> Services:
    backend = await open_backend(settings)
    stores = backend.stores
    bootstrap = await stores.accounts.ensure_bootstrap_key(
        secret=settings.bootstrap_admin_key, max_deliveries=settings.max_deliveries, now=clock.now()
    )
    # Nothing else writes before the app serves, so no commit falls between this read and the hook.
    start_sequence = await stores.events.max_sequence()
    hub = StreamHub(start_sequence)
    backend.listen(hub.on_commit)
    registry = SchemaRegistry(stores.schemas, clock)
    metrics = Metrics()
    delivery = DeliveryService(
        settings, clock, stores.deliveries, stores.subscriptions, metrics=metrics, http_client=webhook_client
    )
    replayer = Replayer(
        clock=clock,
        replays=stores.replays,
        subscriptions=stores.subscriptions,
        hub=hub,
        registry=registry,
        delivery=delivery,
    )
    replay_jobs = ReplayJobs(replayer, background=settings.delivery_worker, lease_seconds=settings.replay_lease_seconds)
    auth = Authenticator(stores.accounts, clock)
    accounts = AccountService(stores.accounts, auth, clock, settings)
    idempotency = IdempotencyService(stores.idempotency, clock, settings)
    return Services(
        settings=settings,
        clock=clock,
        backend=backend,
        stores=stores,
        hub=hub,
        registry=registry,
        delivery=delivery,
        replays=replay_jobs,
        replay_service=ReplayService(replay_jobs),
        subscriptions=SubscriptionService(stores.subscriptions, delivery, clock, settings),
        deliveries=DeliveryLog(stores.deliveries, delivery, clock),
        dlq=DlqService(stores.dlq, delivery, clock),
        auth=auth,
        accounts=accounts,
        sign_in=SignInCodes(
            stores.accounts,
            clock,
            ttl_seconds=settings.sign_in_code_ttl_seconds,
            max_deliveries=settings.max_deliveries,
        ),
        events=EventService(
            stores.events,
            check_schema=partial(apply_schema, registry),
            listener=delivery,
            hub=hub,
            metrics=metrics,
            clock=clock,
        ),
        idempotency=idempotency,
        inbox=InboxService(stores.inbox, hub=hub, clock=clock, settings=settings),
        stream=EventStreams(stores.events, hub=hub, clock=clock, heartbeat_seconds=settings.heartbeat_seconds),
        stats=StatsService(stores.stats, metrics=metrics, clock=clock),
        janitor=Janitor(
            accounts=accounts,
            idempotency=idempotency,
            events=stores.events,
            clock=clock,
            retention_seconds=settings.retention_seconds,
        ),
        limiter=RateLimiter(clock, per_second=settings.rate_limit_per_second, burst=settings.rate_limit_burst),
        metrics=metrics,
        bootstrap=bootstrap,
    )


async def _replay_adopter(services: Services) -> None:
    """Shared database: pick up replay jobs whose runner (on any instance) stopped renewing its lease."""
    interval = services.settings.replay_lease_seconds / 2
    while True:
        try:
            await services.replays.adopt()
        except Exception:
            log.exception("replay adoption failed")
        await services.clock.sleep(interval)


async def _janitor(services: Services) -> None:
    while True:
        await services.clock.sleep(JANITOR_INTERVAL_SECONDS)
        try:
            await services.janitor.run_once()
        except Exception:
            log.exception("janitor pass failed")


def create_app(
    settings: Settings,
    clock: Clock | None = None,
    *,
    webhook_client: httpx.AsyncClient | None = None,
    announce: Callable[[BootstrapOutcome], None] | None = None,
    announce_sign_in: Callable[[str], None] | None = None,
) -> FastAPI:
    """The ASGI app. Services open in the lifespan; in-process tests enter `app.router.lifespan_context(app)`.
    `announce` hears what start-up did about the operator's admin key (the CLI prints it once serving)."""
    the_clock = clock or SystemClock()
    holder: dict[str, Services] = {}

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncGenerator[None]:
        services = await open_services(settings, the_clock, webhook_client=webhook_client)
        holder["services"] = services
        app.state.services = services
        if services.bootstrap is not None and announce is not None:
            announce(services.bootstrap)
        if announce_sign_in is not None:
            announce_sign_in(services.sign_in.issue())
        if settings.delivery_worker:
            await services.delivery.start()
        try:
            async with anyio.create_task_group() as group:
                group.start_soon(_janitor, services)
                if settings.delivery_worker and settings.shared_database:
                    group.start_soon(_replay_adopter, services)
                try:
                    yield
                finally:
                    group.cancel_scope.cancel()
        finally:
            await services.delivery.stop()
            if not services.backend.closed:
                await services.accounts.persist_last_used()
            await services.backend.close()

    app = TriggersApp(
        title="Triggers reference server",
        lifespan=lifespan,
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
    )
    install_problem_handlers(app, ROUTERS, API_PREFIX)
    for router in ROUTERS:
        app.include_router(router, prefix=API_PREFIX)
    app.include_router(console.router)  # the web console at /console/ (outside the API prefix)
    app.include_router(docs.router)  # the API reference and playground at /docs (outside the API prefix)
    proxy = cast(Services, _ServicesProxy(holder))
    app.add_middleware(IdempotencyMiddleware, services=proxy)
    app.add_middleware(RateLimitMiddleware, services=proxy)
    app.add_middleware(RequestContextMiddleware, services=proxy)
    fast_routes = [
        route for route in events.router.routes if isinstance(route, APIRoute) and route.endpoint in FAST_PATH_ENDPOINTS
    ]
    app.fast_path = FastPath(app, fast_routes, API_PREFIX, proxy)
    return app


class TriggersApp(FastAPI):
    """FastAPI, with the operations of `FAST_PATH_ENDPOINTS` answered by `fast_path` (same middleware, same
    endpoint functions, same exception handlers; see http/fastpath.py)."""

    fast_path: FastPath | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        fast = self.fast_path
        if fast is not None and scope["type"] == "http" and fast.matches(scope):
            await fast(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


class _ServicesProxy:
    """Lets middleware built at app-construction time reach the services opened later by the lifespan."""

    def __init__(self, holder: dict[str, Services]) -> None:
        self._holder = holder

    def __getattr__(self, name: str) -> Any:
        try:
            services = self._holder["services"]
        except KeyError:
            raise RuntimeError("the app's lifespan has not started") from None
        return getattr(services, name)
