"""``events.create_cloud_event``: ingest one CloudEvent in structured mode (``application/cloudevents+json``);
``events.subscribe``: live events over the WebSocket (``_websocket.py``).

The contract's ``POST /events`` takes three encodings; the generated ``create`` sends the native
envelope, this helper the CloudEvents one, with the same retries and idempotency key as every POST.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .._base_client import RequestOptions
from .._types import NOT_GIVEN, NotGiven, Timeout
from .._websocket import EventSubscription, SyncEventSubscription
from ..types import CloudEvent, Event

if TYPE_CHECKING:
    from .._base_client import AsyncAPIClient, SyncAPIClient

__all__ = ["EventsHelpers", "SyncEventsHelpers"]

CLOUDEVENTS_JSON = "application/cloudevents+json"


def _options(
    cloud_event: CloudEvent | Mapping[str, Any],
    idempotency_key: str | None,
    extra_headers: Mapping[str, str] | None,
    timeout: Timeout | NotGiven,
) -> RequestOptions:
    body = (
        dict(cloud_event)
        if isinstance(cloud_event, Mapping)
        else cloud_event.model_dump(mode="json", by_alias=True, exclude_none=True)
    )
    body.setdefault("specversion", "1.0")
    return RequestOptions(
        method="POST",
        path="/events",
        body=body,
        content_type=CLOUDEVENTS_JSON,
        idempotency_key=idempotency_key,
        extra_headers=extra_headers,
        timeout=timeout,
    )


class EventsHelpers:
    """CloudEvents ingestion mixed into the generated ``Events`` resource."""

    _client: AsyncAPIClient

    async def create_cloud_event(
        self,
        cloud_event: CloudEvent | Mapping[str, Any],
        *,
        idempotency_key: str | None = None,
        extra_headers: Mapping[str, str] | None = None,
        timeout: Timeout | NotGiven = NOT_GIVEN,
    ) -> Event:
        """Ingest ``cloud_event`` (``specversion`` defaults to 1.0); its ``id`` becomes ``external_id``."""
        return await self._client.request(
            _options(cloud_event, idempotency_key, extra_headers, timeout), Event
        )

    def subscribe(
        self,
        *,
        types: Sequence[str] | None = None,
        filter: Mapping[str, Any] | None = None,
        since: str | int | None = None,
    ) -> EventSubscription:
        """Live events over the WebSocket (``GET /events/ws``), in commit order, as an async iterator.

        It reconnects with the stream backoff of codegen/policy.yaml and resumes strictly after the last
        event it yielded (``subscription.cursor``): no gap, no duplicate. ``since`` starts after a cursor
        (an event's ``sequence``); without it, new events only. Use ``async with`` to close it."""
        return EventSubscription(self._client, types=types, filter=filter, since=since)


class SyncEventsHelpers:
    """CloudEvents ingestion mixed into the generated blocking ``SyncEvents`` resource."""

    _client: SyncAPIClient

    def create_cloud_event(
        self,
        cloud_event: CloudEvent | Mapping[str, Any],
        *,
        idempotency_key: str | None = None,
        extra_headers: Mapping[str, str] | None = None,
        timeout: Timeout | NotGiven = NOT_GIVEN,
    ) -> Event:
        """Ingest ``cloud_event`` (``specversion`` defaults to 1.0); its ``id`` becomes ``external_id``."""
        return self._client.request(_options(cloud_event, idempotency_key, extra_headers, timeout), Event)

    def subscribe(
        self,
        *,
        types: Sequence[str] | None = None,
        filter: Mapping[str, Any] | None = None,
        since: str | int | None = None,
    ) -> SyncEventSubscription:
        """Live events over the WebSocket, in commit order, resuming after reconnects (blocking iterator)."""
        return SyncEventSubscription(self._client, types=types, filter=filter, since=since)
