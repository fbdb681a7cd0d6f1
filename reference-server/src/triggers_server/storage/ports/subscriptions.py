"""Webhook subscriptions: the record and the port (`SubscriptionStore`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol


@dataclass(frozen=True)
class SubscriptionRecord:
    seq: int
    id: str
    account_id: str
    url: str
    event_types: list[str]
    filter: dict[str, Any] | None
    enabled: bool
    disabled_reason: str | None
    max_rps: float | None
    description: str | None
    metadata: dict[str, str]
    secret: str
    previous_secret: str | None
    previous_secret_expires_at: datetime | None
    created_at: datetime
    updated_at: datetime

    def signing_secrets(self, now: datetime) -> list[str]:
        """The current secret, plus the previous one while its rotation overlap lasts."""
        active = [self.secret]
        if (
            self.previous_secret is not None
            and self.previous_secret_expires_at is not None
            and now < self.previous_secret_expires_at
        ):
            active.append(self.previous_secret)
        return active


@dataclass(frozen=True)
class NewSubscription:
    url: str
    event_types: list[str]
    filter_expression: dict[str, Any] | None
    enabled: bool
    max_rps: float | None
    description: str | None
    metadata: dict[str, str]
    secret: str


class SubscriptionStore(Protocol):
    async def create(self, account_id: str, subscription: NewSubscription, *, now: datetime) -> SubscriptionRecord:
        """Store a subscription; it receives only events stored after it (the account's fan-out mark starts at
        its latest event when not yet tracked)."""
        ...

    async def get(self, account_id: str, subscription_id: str) -> SubscriptionRecord | None: ...

    async def list_page(self, account_id: str, *, limit: int, before_seq: int | None) -> list[SubscriptionRecord]:
        """Newest first; `before_seq` continues a page."""
        ...

    async def enabled(self, account_id: str) -> list[SubscriptionRecord]:
        """The account's enabled subscriptions, oldest first."""
        ...

    async def update(
        self, account_id: str, subscription_id: str, changes: Mapping[str, Any], *, now: datetime, discard_reason: str
    ) -> SubscriptionRecord | None:
        """Apply a partial update (wire field names; re-enabling clears `disabled_reason`); when the result is
        disabled, its pending and retrying deliveries are discarded with `discard_reason`. None when absent."""
        ...

    async def delete(self, account_id: str, subscription_id: str, *, now: datetime, discard_reason: str) -> bool:
        """Delete it and discard its pending and retrying deliveries; False when absent."""
        ...

    async def rotate_secret(
        self, account_id: str, subscription_id: str, *, new_secret: str, overlap_until: datetime, now: datetime
    ) -> SubscriptionRecord | None:
        """Make `new_secret` current; the old one keeps signing until `overlap_until`. None when absent."""
        ...
