"""Who is calling: the account an API key belongs to and the scopes it carries."""

from __future__ import annotations

from dataclasses import dataclass

ADMIN = "admin"


@dataclass(frozen=True)
class Principal:
    account_id: str
    key_id: str
    scopes: frozenset[str]
    bootstrap: bool = False

    def allows(self, scope: str) -> bool:
        return ADMIN in self.scopes or scope in self.scopes
