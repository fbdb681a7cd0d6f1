"""``events.create_cloud_event``: ingest one CloudEvent in structured mode (``application/cloudevents+json``).

The contract's ``POST /events`` takes three encodings; the generated ``create`` sends the native
envelope, this helper the CloudEvents one, with the same retries and idempotency key as every POST.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .._base_client import RequestOptions
from .._types import NOT_GIVEN, NotGiven, Timeout
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
