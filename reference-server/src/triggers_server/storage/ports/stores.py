"""Every port of one backend, bundled: what the app factory hands the domain services."""

from __future__ import annotations

from dataclasses import dataclass

from triggers_server.storage.ports.accounts import AccountStore
from triggers_server.storage.ports.deliveries import DeliveryStore
from triggers_server.storage.ports.dlq import DlqStore
from triggers_server.storage.ports.replays import ReplayStore
from triggers_server.storage.ports.schemas import SchemaStore
from triggers_server.storage.ports.subscriptions import SubscriptionStore


@dataclass(frozen=True)
class Stores:
    accounts: AccountStore
    schemas: SchemaStore
    subscriptions: SubscriptionStore
    deliveries: DeliveryStore
    dlq: DlqStore
    replays: ReplayStore
