"""Every port of one backend, bundled: what the app factory hands the domain services."""

from __future__ import annotations

from dataclasses import dataclass

from triggers_server.storage.ports.accounts import AccountStore
from triggers_server.storage.ports.events import EventStore
from triggers_server.storage.ports.idempotency import IdempotencyStore
from triggers_server.storage.ports.inbox import InboxStore
from triggers_server.storage.ports.stats import StatsStore


@dataclass(frozen=True)
class Stores:
    accounts: AccountStore
    events: EventStore
    idempotency: IdempotencyStore
    inbox: InboxStore
    stats: StatsStore
