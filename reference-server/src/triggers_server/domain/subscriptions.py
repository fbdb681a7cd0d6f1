"""Webhook subscriptions: the rules of creating, changing, rotating and test-sending them."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any, Final

from triggers_server.clock import Clock
from triggers_server.config import Settings
from triggers_server.domain import filters
from triggers_server.domain.errors import Conflict, FieldError, NotFound
from triggers_server.domain.paging import Page, before_seq, page_of
from triggers_server.domain.webhooks.service import DeliveryService
from triggers_server.domain.webhooks.signing import generate_secret, is_valid_secret
from triggers_server.storage.ports.deliveries import DeliveryRecord
from triggers_server.storage.ports.events import EventDraft
from triggers_server.storage.ports.subscriptions import NewSubscription, SubscriptionRecord, SubscriptionStore

MAX_METADATA_KEYS: Final = 50
MAX_URL_LENGTH: Final = 2048
TEST_EVENT_SOURCE: Final = "triggers-server"
CURSOR: Final = "subscriptions"
NOT_NULL: Final = ("url", "event_types", "enabled", "description", "metadata")


def check_fields(body: Mapping[str, Any]) -> None:
    """The rules the JSON Schema cannot express, over the wire fields sent; `Invalid` with pointers."""
    errors: list[FieldError] = []
    url = body.get("url")
    if url is not None and not str(url).startswith(("https://", "http://")):
        errors.append(FieldError("/url", "must be an http:// or https:// URL"))
    elif url is not None and len(str(url)) > MAX_URL_LENGTH:
        errors.append(FieldError("/url", f"at most {MAX_URL_LENGTH} characters"))
    errors.extend(filters.validate_type_globs(body.get("event_types"), "/event_types"))
    if body.get("filter") is not None:
        errors.extend(filters.validate_filter(body["filter"]))
    metadata = filters.json_object(body.get("metadata"))
    if metadata is not None and len(metadata) > MAX_METADATA_KEYS:
        errors.append(FieldError("/metadata", f"at most {MAX_METADATA_KEYS} keys"))
    secret = body.get("secret")
    if secret is not None and not is_valid_secret(secret):
        errors.append(FieldError("/secret", "must be whsec_ followed by valid base64"))
    filters.raise_for_errors(errors)


def _not_found(subscription_id: str) -> NotFound:
    return NotFound(f"No subscription {subscription_id!r} in this account.")


class SubscriptionService:
    def __init__(
        self, subscriptions: SubscriptionStore, delivery: DeliveryService, clock: Clock, settings: Settings
    ) -> None:
        self._subscriptions = subscriptions
        self._delivery = delivery
        self._clock = clock
        self._settings = settings

    async def create(self, account_id: str, body: Mapping[str, Any]) -> SubscriptionRecord:
        """`body`: the wire fields sent (so `filter: null` differs from no filter)."""
        check_fields(body)
        subscription = NewSubscription(
            url=body["url"],
            event_types=list(body.get("event_types") or []),
            filter_expression=body.get("filter"),
            enabled=bool(body.get("enabled", True)),
            max_rps=body.get("max_rps"),
            description=body.get("description"),
            metadata=dict(body.get("metadata") or {}),
            secret=body.get("secret") or generate_secret(),
        )
        record = await self._subscriptions.create(account_id, subscription, now=self._clock.now())
        self._delivery.invalidate(account_id)
        return record

    async def list_page(self, account_id: str, *, limit: int, cursor: str | None) -> Page[SubscriptionRecord]:
        before = before_seq(CURSOR, cursor)
        records = await self._subscriptions.list_page(account_id, limit=limit + 1, before_seq=before)
        return page_of(CURSOR, records, limit, lambda record: record.seq)

    async def get(self, account_id: str, subscription_id: str) -> SubscriptionRecord:
        found = await self._subscriptions.get(account_id, subscription_id)
        if found is None:
            raise _not_found(subscription_id)
        return found

    async def update(self, account_id: str, subscription_id: str, changes: Mapping[str, Any]) -> SubscriptionRecord:
        """`changes`: the wire fields sent; disabling discards the pending and retrying deliveries."""
        check_fields(changes)
        filters.raise_for_errors(
            [
                FieldError(f"/{name}", "may not be null")
                for name in NOT_NULL
                if name in changes and changes[name] is None
            ]
        )
        record = await self._subscriptions.update(
            account_id, subscription_id, changes, now=self._clock.now(), discard_reason="subscription disabled"
        )
        if record is None:
            raise _not_found(subscription_id)
        self._delivery.invalidate(account_id)
        return record

    async def delete(self, account_id: str, subscription_id: str) -> None:
        deleted = await self._subscriptions.delete(
            account_id, subscription_id, now=self._clock.now(), discard_reason="subscription deleted"
        )
        if not deleted:
            raise _not_found(subscription_id)
        self._delivery.invalidate(account_id)

    async def rotate_secret(
        self, account_id: str, subscription_id: str, *, secret: str | None, overlap_seconds: float | None
    ) -> SubscriptionRecord:
        """A new current secret (given or generated); the old one keeps signing for the overlap (the server's
        default unless given)."""
        check_fields({"secret": secret})
        now = self._clock.now()
        overlap = self._settings.secret_rotation_overlap if overlap_seconds is None else overlap_seconds
        record = await self._subscriptions.rotate_secret(
            account_id,
            subscription_id,
            new_secret=secret or generate_secret(),
            overlap_until=now + timedelta(seconds=overlap),
            now=now,
        )
        if record is None:
            raise _not_found(subscription_id)
        self._delivery.invalidate(account_id)
        return record

    async def send_test(self, account_id: str, subscription_id: str, *, event_type: str, data: Any) -> DeliveryRecord:
        """Store a test event and one delivery of it to this (enabled) subscription, whatever its filters."""
        subscription = await self.get(account_id, subscription_id)
        if not subscription.enabled:
            raise Conflict(f"Subscription {subscription_id!r} is disabled; enable it to test it.")
        draft = EventDraft(type=event_type, source=TEST_EVENT_SOURCE, has_data=True, data=data)
        return await self._delivery.send_test_event(subscription, draft)
