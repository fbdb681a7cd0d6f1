"""Every port of one backend, bundled: what the app factory hands the domain services."""

from __future__ import annotations

from dataclasses import dataclass

from triggers_server.storage.ports.accounts import AccountStore


@dataclass(frozen=True)
class Stores:
    accounts: AccountStore
