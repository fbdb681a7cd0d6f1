"""Every port of one backend, bundled: what the app factory hands the domain services."""

from __future__ import annotations

from dataclasses import dataclass

from triggers_server.storage.ports.accounts import AccountStore
from triggers_server.storage.ports.schemas import SchemaStore


@dataclass(frozen=True)
class Stores:
    accounts: AccountStore
    schemas: SchemaStore
